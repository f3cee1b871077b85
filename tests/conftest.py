"""Every test gets its own database file, a fixed today and a fixed user."""

from __future__ import annotations

import datetime as dt
import json
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
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    from salesselect_cli import render

    monkeypatch.setattr(render, "COLOR_MODE", "auto")  # --color is set per command; never carried to the next test
    return tmp_path


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


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


@pytest.fixture
def db(cli):
    """An initialised database (anna is the key user), no setup yet."""
    run = cli("init")
    assert run.exit_code == 0, run.stderr
    return run


@pytest.fixture
def agency(db, ok):
    """The example agency's setup (examples/setup.json) plus users bob (recruiter) and kim (key user)."""
    ok("config", "import", str(SETUP_JSON))
    ok("user", "add", "bob")
    ok("user", "add", "kim", "--key-user")
    return ok


def add_opp(ok, title="Deal", company="Acme", type_="Staffing", source="HubSpot", *extra) -> int:
    """Add an opportunity through the CLI and return its id."""
    run = ok("opp", "add", title, "--company", company, "--type", type_, "--source", source, *extra)
    return int(run.stdout.strip())
