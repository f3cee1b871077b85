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


# --------------------------------------------------------------------------- PostgreSQL pass
# SALESSELECT_TEST_BACKEND=postgresql runs the suite against the cluster at $SALESSELECT_TEST_PG (a superuser
# URL; .ci/pg-cluster starts one): every test gets a fresh database (from a template database when a fixture
# built one) and each user a test names logs in as a role of that name, as a recruiter would.
BACKEND = os.environ.get("SALESSELECT_TEST_BACKEND", "sqlite")
ON_POSTGRES = BACKEND == "postgresql"


def pytest_configure(config):
    config.addinivalue_line("markers", "long_running: takes seconds of its own; started first, so no worker ends on it")


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than the cores this process may use. Some tests spend seconds waiting (a
    hook's time limit, a killed run's moment, the board's live update), and meanwhile a core would sit idle:
    on 2 cores, 3 workers finish the suite in ~57 s where 2 take ~65 s (same CPU)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores + 1


@pytest.hookimpl(trylast=True)  # after any shuffling: the order among the rest stays as it was
def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)
    if ON_POSTGRES:
        skip = pytest.mark.skip(reason="about SQLite files; the PostgreSQL pass skips it")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A test module's rewritten asserts are cached (tests/__pycache__, ignored by git) even under
    PYTHONDONTWRITEBYTECODE: else every worker rewrites every module again on every run (~2.5 s CPU each)."""
    import sys

    saved = sys.dont_write_bytecode
    if isinstance(collector, pytest.Module):
        sys.dont_write_bytecode = False
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


class PgCluster:
    """The test cluster: an admin connection, roles made on demand, databases per test."""

    def __init__(self, url: str):
        import psycopg

        self.url = url
        self.admin = psycopg.connect(url, autocommit=True)
        self.roles: set[str] = set()
        self.counter = 0
        self.made: set[str] = set()

    def role(self, name: str) -> None:
        if name not in self.roles:
            from psycopg import sql

            from psycopg import errors

            exists = self.admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
            if not exists:
                try:
                    self.admin.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(sql.Identifier(name)))
                except (errors.DuplicateObject, errors.UniqueViolation):  # another xdist worker made it first
                    pass
            self.roles.add(name)

    def url_for(self, database: str, user: str = "postgres") -> str:
        from urllib.parse import quote, urlsplit

        parts = urlsplit(self.url)
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        return f"postgresql://{quote(user, safe='')}@{host}/{database}"

    def new_database(self) -> str:
        """A name for the test's database; it is made when first used (ensure), or from a template."""
        self.counter += 1
        return f"t_{os.getpid()}_{self.counter}"

    def ensure(self, database: str) -> None:
        if database.startswith("t_") and database not in self.made:
            self.create(database)

    def create(self, database: str, template: str = "template0") -> None:
        self.admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        self.made.add(database)

    def drop(self, database: str) -> None:
        if database in self.made:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            self.made.discard(database)


_PG: list[PgCluster] = []


def pg_cluster() -> PgCluster:
    if not _PG:
        url = os.environ.get("SALESSELECT_TEST_PG")
        if not url:
            pytest.exit("SALESSELECT_TEST_BACKEND=postgresql needs SALESSELECT_TEST_PG (see .ci/pg-cluster)", 2)
        _PG.append(PgCluster(url))
    return _PG[0]


@pytest.fixture(scope="session", autouse=True)
def pg_templates_dropped():
    """The session's template databases go when it ends."""
    yield
    if _PG:
        for path, _ in _TEMPLATES.values():
            _PG[0].drop(str(path))
        _PG[0].admin.close()


def pg_database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def login_url(url: str, user: str) -> str:
    """The test database's URL with `user` as the login (the role is made when missing)."""
    cluster = pg_cluster()
    cluster.role(user)
    cluster.ensure(pg_database_of(url))
    return cluster.url_for(pg_database_of(url), user)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test touches a real database, config folder, the clock or the login name."""
    database = None
    if ON_POSTGRES:
        cluster = pg_cluster()
        database = cluster.new_database()
        cluster.role("anna")  # the default user's login: code that reads $SALESSELECT_DB itself logs in as her
        monkeypatch.setenv("SALESSELECT_DB", cluster.url_for(database, "anna"))
    else:
        monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "sales.db"))
    monkeypatch.setenv("SALESSELECT_TODAY", TODAY.isoformat())
    monkeypatch.setenv("SALESSELECT_USER", "anna")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the workflows allowed on 'this machine'
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SALESSELECT_DEBUG", raising=False)
    for name in ("SALESSELECT_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):  # English, whatever the machine speaks
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)  # a relative --output or backup name lands here, never in the checkout
    yield tmp_path
    if database is not None:  # the test may have pointed $SALESSELECT_DB elsewhere (the README tour does)
        pg_cluster().drop(database)


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
        args = [str(a) for a in args]
        if ON_POSTGRES:
            env = pg_env(args, env)
        result = runner.invoke(app, args, input=input, env=env, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return invoke


def pg_env(args: list[str], env: dict | None) -> dict | None:
    """On PostgreSQL the login is the user: log in as the user the command names (--user, else
    $SALESSELECT_USER), as each recruiter would with their own role."""
    database = (env or {}).get("SALESSELECT_DB") or os.environ["SALESSELECT_DB"]
    if "--db" in args or not database.startswith("postgresql://"):
        return env
    user = (env or {}).get("SALESSELECT_USER") or os.environ.get("SALESSELECT_USER") or "anna"
    index = 0
    while index + 1 < len(args) and args[index].startswith("--"):  # the root options only
        if args[index] == "--user" and args[index + 1].strip():
            user = args[index + 1].strip()
        index += 2
    if not user.isprintable() or user != user.encode("utf-8", "replace").decode("utf-8"):
        return env  # not a name a login can have: the command refuses it before it connects
    return {**(env or {}), "SALESSELECT_DB": login_url(database, user)}


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
    if ON_POSTGRES:
        return _from_pg_template(name, build)
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


def _from_pg_template(name: str, build):
    """PostgreSQL: build in the test's database once and keep a template database of it; later tests
    get CREATE DATABASE ... TEMPLATE, which copies it in milliseconds."""
    cluster = pg_cluster()
    database = pg_database_of(os.environ["SALESSELECT_DB"])
    template = f"tpl_{os.getpid()}_{name}"
    if name not in _TEMPLATES:
        cluster.ensure(database)
        result = build()
        cluster.create(template, database)
        _TEMPLATES[name] = (Path(template), result)
    else:
        cluster.drop(database)
        cluster.create(database, template)
        _members_again(cluster, database)
    return _TEMPLATES[name][1]


def _members_again(cluster, database: str) -> None:
    """A template's copies share its group roles (cluster-wide, named at install): a test that removed a user or
    changed a role in an earlier copy changed the shared memberships, so each copy gives its users theirs again
    (as the tables' owner would: sql/pg_security.py's salesselect_sync_member)."""
    import psycopg

    with psycopg.connect(cluster.url_for(database), autocommit=True) as conn:
        if conn.execute("SELECT to_regproc('salesselect_sync_member')").fetchone()[0]:
            conn.execute("SELECT salesselect_sync_member(name) FROM users")


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


@pytest.fixture
def demo_db(cli, isolated, template_dir):
    """The demo agency (init --demo, built once per session as of the fixed TODAY) at $SALESSELECT_DB, as anna
    (a key user): the file's Path on SQLite, the database's URL on PostgreSQL."""

    def build():
        run = cli("init", "--demo")
        assert run.exit_code == 0, run.stderr

    from_template("demo", template_dir, build)
    location = os.environ["SALESSELECT_DB"]
    return location if ON_POSTGRES else Path(location)


def add_opp(ok, title="Deal", company="Acme", type_="Staffing", source="HubSpot", *extra) -> int:
    """Add an opportunity through the CLI and return its id."""
    run = ok("opp", "add", title, "--company", company, "--type", type_, "--source", source, *extra)
    return int(run.stdout.strip())


class _PgRaw:
    """A test's direct line to its PostgreSQL database, with sqlite3's `?` placeholders."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url)

    def execute(self, sql: str, params=()):
        from salesselect_cli.sql.dialect import to_postgres

        return self.conn.execute(to_postgres(sql), list(params))

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def raw_connect(location=None):
    """sqlite3.connect on the test's database, or the same on PostgreSQL: for tests that look inside."""
    location = str(location or os.environ["SALESSELECT_DB"])
    if location.startswith("postgresql://"):
        pg_cluster().ensure(pg_database_of(location))
        return _PgRaw(location)
    import sqlite3

    return sqlite3.connect(location)


# --------------------------------------------------------------------------- salesselect forked warm
# Tests that kill salesselect at spread moments need many real processes; each would spend most of its time
# starting Python and importing the app. A warm process (a "zygote") imports the app once and forks one child
# per command: the child runs the console script's own entry point (`salesselect_cli.entry.run`, as
# __main__.py does) and ends the way a started process ends, so signals, exit codes and left-over files are
# those of a real `salesselect` process, minus the start-up before salesselect's own code runs.
ZYGOTE = r"""
import importlib, json, os, select, signal, sys

for name in sys.argv[1:]:  # what every child would import first: imported once, here
    importlib.import_module(name)
from salesselect_cli import entry
children = set()


def say(line):
    os.write(1, (line + "\n").encode())


def ctrl_c_from_salesselect_code(frame, event, arg):
    # a Ctrl-C during this file's own lines is held until entry._run starts, inside salesselect's handler
    if event == "call" and frame.f_code is entry._run.__code__:
        sys.setprofile(None)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def serve():
    pending = b""
    while True:
        while children:  # the parent reaps its children, so a pid is never signalled after it was reused
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            children.discard(pid)
            say(f"exit {pid} {os.waitstatus_to_exitcode(status)}")
        ready, _, _ = select.select([0], [], [], 0.002 if children else None)
        if not ready:
            continue
        data = os.read(0, 65536)
        if not data:
            os._exit(0)
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            if request["do"] == "kill":
                if request["pid"] in children:
                    os.kill(request["pid"], request["signal"])
                continue
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # the child starts with Ctrl-C held
            pid = os.fork()
            if pid == 0:  # the child: its own streams, the command's argv, then out of this loop
                for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, os.devnull, os.O_WRONLY),
                                        (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
                    os.dup2(os.open(path, flags, 0o644), fd)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                sys.argv = ["salesselect", *request["argv"]]
                sys.setprofile(ctrl_c_from_salesselect_code)
                return
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            children.add(pid)
            say(f"pid {pid}")


serve()
entry.run()  # as __main__.py does
"""


class Zygote:
    """start(args, stderr_file) -> pid of a forked `salesselect args`; kill(pid, signal); wait(pid) -> exit code
    (negative: the signal that ended it), as subprocess reports it."""

    def __init__(self, warm: list[str]):
        import subprocess
        import sys

        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE, *warm], stdin=subprocess.PIPE,  # unbuffered:
                                        stdout=subprocess.PIPE, bufsize=0,  # select() sees every line
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.exits: dict[int, int] = {}

    def _send(self, request: dict) -> None:
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()

    def _line(self, timeout: float) -> list[str]:
        import select

        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, f"no word from the warm salesselect process in {timeout:.0f} s"
        line = self.process.stdout.readline().decode()
        assert line, "the warm salesselect process ended"
        words = line.split()
        if words[0] == "exit":
            self.exits[int(words[1])] = int(words[2])
        return words

    def start(self, args, stderr: Path) -> int:
        self._send({"do": "run", "argv": [str(a) for a in args], "stderr": str(stderr)})
        while (words := self._line(300))[0] != "pid":
            pass
        return int(words[1])

    def kill(self, pid: int, number: int) -> None:
        """Signal the child unless it has ended (its parent reaps it, so the pid is still its own)."""
        self._send({"do": "kill", "pid": pid, "signal": int(number)})

    def wait(self, pid: int, timeout: float = 300) -> int:  # a safety net for a stuck run, not a speed limit
        import time

        deadline = time.monotonic() + timeout
        while pid not in self.exits:
            assert time.monotonic() < deadline, f"salesselect {pid} still runs after {timeout} s"
            self._line(max(0.0, deadline - time.monotonic()))
        return self.exits.pop(pid)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture
def warm_salesselect():
    """warm_salesselect(*modules) -> a Zygote that imported the app and `modules`; stopped when the test ends."""
    made: list[Zygote] = []

    def make(*modules: str) -> Zygote:
        made.append(Zygote(["salesselect_cli.entry", "salesselect_cli.main", "salesselect_cli.store", *modules]))
        return made[-1]

    yield make
    for zygote in made:
        zygote.close()
