"""Every test gets its own database file, a fixed today and a fixed user."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesselect_cli.main import app

TODAY = dt.date(2026, 11, 27)  # a Friday
ROOT = Path(__file__).resolve().parent.parent
SETUP_JSON = ROOT / "examples" / "setup.json"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test touches a real database, the clock or the login name."""
    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "sales.db"))
    monkeypatch.setenv("SALESSELECT_TODAY", TODAY.isoformat())
    monkeypatch.setenv("SALESSELECT_USER", "anna")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SALESSELECT_DEBUG", raising=False)
    for name in ("SALESSELECT_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):  # English, whatever the machine speaks
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.chdir(tmp_path)  # a relative --output or backup name lands here, never in the checkout
    return tmp_path


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture(scope="session", autouse=True)
def built_once():
    """Typer turns the app into click commands on every CliRunner.invoke (about 85% of a call's time);
    the tests build them once and reuse them, as a long-lived process would."""
    import typer.testing

    build = typer.testing._get_command
    built: dict = {}

    def cached(typer_instance):
        if typer_instance not in built:
            built[typer_instance] = build(typer_instance)
        return built[typer_instance]

    typer.testing._get_command = cached
    yield
    typer.testing._get_command = build


@pytest.fixture
def cli():
    """cli('opp', 'list', ...) -> Run(exit_code, stdout, stderr). Never raises for a non-zero exit."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict | None = None) -> Run:
        result = runner.invoke(app, [str(a) for a in args], input=input, env=env, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def ok(cli):
    """Like cli, but asserts exit 0 and returns the Run."""

    def invoke(*args: str, **kwargs) -> Run:
        run = cli(*args, **kwargs)
        assert run.exit_code == 0, f"{args} exited {run.exit_code}: {run.stderr}"
        return run

    return invoke


# Databases the fixtures build are built once per test session (through the CLI, as a user would) and
# copied into each test's tmp_path: `from_template` runs `build` against a template file the first time
# and copies that file (with its -wal/-shm) to $SALESSELECT_DB every time.
_TEMPLATES: dict[str, tuple[Path, object]] = {}


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("templates")


def _copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
        origin = Path(str(source) + suffix)
        if origin.exists():
            shutil.copyfile(origin, Path(str(target) + suffix))


def from_template(name: str, template_dir: Path, build):
    """The database `build()` makes from the test's current one, copied in; returns build's result."""
    target = Path(os.environ["SALESSELECT_DB"])
    if name not in _TEMPLATES:
        path = template_dir / f"{name}.db"
        if target.exists():
            _copy_database(target, path)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SALESSELECT_DB", str(path))
            result = build()
        _TEMPLATES[name] = (path, result)
    path, result = _TEMPLATES[name]
    _copy_database(path, target)
    return result


@pytest.fixture
def db(cli, isolated, template_dir):
    """An initialised database (anna is the key user), no setup yet."""

    def build():
        run = cli("init")
        assert run.exit_code == 0, run.stderr
        return run

    return from_template("db", template_dir, build)


@pytest.fixture
def agency(db, ok, template_dir):
    """The example agency's setup (examples/setup.json) plus users bob (recruiter) and kim (key user)."""

    def build():
        ok("config", "import", str(SETUP_JSON))
        ok("user", "add", "bob")
        ok("user", "add", "kim", "--key-user")

    from_template("agency", template_dir, build)
    return ok


def add_opp(ok, title="Deal", company="Acme", type_="Staffing", source="HubSpot", *extra) -> int:
    """Add an opportunity through the CLI and return its id."""
    run = ok("opp", "add", title, "--company", company, "--type", type_, "--source", source, *extra)
    return int(run.stdout.strip())
