"""The database file: creation, migrations, refusals that leave files untouched, concurrent writers."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


from salesselect_cli.store import _known_migration_names


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_init_creates_migrated_wal_database(db, isolated):
    path = isolated / "sales.db"
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM salesselect_migrations ORDER BY id")]  # applied order
    assert names == _known_migration_names()
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "_sqlite_migrations" not in tables  # one record of applied migrations
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "business_types", "stages", "sources", "reasons", "opportunities", "history",
            "followups", "workflows", "settings"} <= tables


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_reopen_applies_nothing_new(db, ok, isolated):
    ok("user", "list")
    conn = sqlite3.connect(isolated / "sales.db")
    count = conn.execute("SELECT COUNT(*) FROM salesselect_migrations").fetchone()[0]
    assert count == len(_known_migration_names())


def test_init_makes_first_key_user_and_module_on(db, ok):
    users = ok("user", "list", "--format", "json").json()
    assert users == [{"name": "anna", "role": "recruiter", "key_user": True, "module": "inherit", "module_effective": True,
                      "open_opportunities": 0, "created": "2026-11-27"}]


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_init_refuses_existing_file(db, cli, isolated):
    before = digest(isolated / "sales.db")
    run = cli("init")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ") and "already exists" in run.stderr
    assert digest(isolated / "sales.db") == before


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_missing_database_says_run_init(cli):
    run = cli("opp", "list")
    assert run.exit_code == 1
    assert run.stderr.strip().startswith("Error: no database at")
    assert "salesselect init" in run.stderr
    assert run.stderr.count("\n") == 1


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_junk_file_is_refused_and_untouched(cli, isolated):
    junk = isolated / "junk.db"
    junk.write_bytes(b"this is a spreadsheet, not a database\n" * 100)
    before = digest(junk)
    run = cli("--db", junk, "opp", "list")
    assert run.exit_code == 1
    assert "not a SQLite database" in run.stderr
    assert digest(junk) == before
    assert not Path(str(junk) + "-wal").exists()


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_foreign_sqlite_file_is_refused(cli, isolated):
    other = isolated / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    before = digest(other)
    run = cli("--db", other, "opp", "list")
    assert run.exit_code == 1
    assert "not a salesselect database" in run.stderr
    assert digest(other) == before


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_newer_schema_is_refused_untouched(db, cli, isolated):
    path = isolated / "sales.db"
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO salesselect_migrations (id, name, applied) VALUES (999, 'm999_future', 'x')")
    conn.commit()
    conn.close()
    before = digest(path)
    run = cli("opp", "list")
    assert run.exit_code == 1
    assert "newer than this salesselect" in run.stderr
    assert digest(path) == before


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_directory_as_database(cli, isolated):
    run = cli("--db", isolated, "opp", "list")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ") and "is a directory" in run.stderr


WRITER = """
import os, sys
from typer.testing import CliRunner
from salesselect_cli.main import app
runner = CliRunner()
for i in range(int(sys.argv[1])):
    r = runner.invoke(app, ["opp", "add", f"Deal {sys.argv[2]}-{i}", "--company", "Acme", "--type", "Staffing",
                            "--source", "HubSpot", "--value", "100"])
    if r.exit_code != 0:
        print(r.stderr, file=sys.stderr)
        sys.exit(1)
"""


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_two_processes_writing_at_once_both_succeed(agency, ok, isolated):
    env = dict(os.environ)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, "25", name], env=env, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    rows = ok("opp", "list", "--format", "json").json()
    assert len(rows) == 50
    assert len({row["id"] for row in rows}) == 50


def test_env_and_option_choose_the_database(cli, isolated, monkeypatch):
    other = isolated / "second.db"
    assert cli("--db", other, "init").exit_code == 0
    assert other.exists()
    monkeypatch.setenv("SALESSELECT_DB", str(other))
    assert cli("user", "list").exit_code == 0


def test_bad_today_is_one_line(db, cli):
    run = cli("opp", "list", env={"SALESSELECT_TODAY": "tomorrow"})
    assert run.exit_code == 1
    assert run.stderr == "Error: SALESSELECT_TODAY must be YYYY-MM-DD, not 'tomorrow'\n"


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_pending_migration_is_applied_on_open(db, ok, isolated, monkeypatch):
    from salesselect_cli.sql import schema as store

    def m900_test_column(database):
        database.execute("ALTER TABLE sources ADD COLUMN note TEXT")

    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [("m900_test_column", m900_test_column)])
    ok("config", "list-sources")
    conn = sqlite3.connect(isolated / "sales.db")
    columns = [r[1] for r in conn.execute("PRAGMA table_info(sources)")]
    assert "note" in columns
    names = [r[0] for r in conn.execute("SELECT name FROM salesselect_migrations ORDER BY id")]
    assert names[-1] == "m900_test_column"


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_failing_migration_leaves_database_as_it_was(db, cli, isolated, monkeypatch):
    from salesselect_cli.sql import schema as store

    def m901_broken(database):
        database.execute("ALTER TABLE sources ADD COLUMN half TEXT")
        raise sqlite3.OperationalError("disk on fire")

    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [("m901_broken", m901_broken)])
    run = cli("config", "list-sources")
    assert run.exit_code == 1 and run.stderr.startswith("Error: ")
    conn = sqlite3.connect(isolated / "sales.db")
    assert "half" not in [r[1] for r in conn.execute("PRAGMA table_info(sources)")]
    assert conn.execute("SELECT COUNT(*) FROM salesselect_migrations").fetchone()[0] == len(store.MIGRATIONS) - 1


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_init_with_a_bad_user_name_leaves_no_file(cli, isolated):
    path = isolated / "h.db"
    run = cli("--db", path, "--user", "ann\x01a", "init")
    assert run.exit_code == 1 and "control characters" in run.stderr
    assert not path.exists()
    assert cli("--db", path, "init").exit_code == 0


@pytest.mark.sqlite_only  # a file; tests/test_postgres.py has PostgreSQL's own
def test_init_under_a_file_is_one_line(cli, isolated):
    (isolated / "afile").write_text("x")
    run = cli("--db", isolated / "afile" / "x.db", "init")
    assert run.exit_code == 1 and run.stderr.startswith("Error: cannot create")


def test_empty_db_option_is_refused(cli):
    run = cli("--db", "", "user", "list")
    assert run.exit_code == 1 and "--db needs a file path" in run.stderr
