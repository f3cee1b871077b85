"""PostgreSQL as a second backend: the driver is loaded only for a URL, `db copy` keeps every answer, and
(on the PostgreSQL pass) refusals that leave a database untouched, the login as identity, many writers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ON_POSTGRES, login_url, raw_connect

REPORTS = [("board",), ("export",), ("report", "winloss"), ("report", "sources"), ("report", "pipeline"),
           ("report", "stages"), ("followup", "list"), ("opp", "list", "--status", "all"), ("config", "show"),
           ("workflow", "list"), ("user", "list")]
on_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL pass (SALESSELECT_TEST_BACKEND)")


def test_sqlite_never_loads_the_driver(tmp_path):
    code = (
        "import sys; from salesselect_cli.main import app\n"
        f"app(['--db', {str(tmp_path / 'x.db')!r}, 'init'], standalone_mode=False)\n"
        f"app(['--db', {str(tmp_path / 'x.db')!r}, 'user', 'list'], standalone_mode=False)\n"
        "print('psycopg' in sys.modules)"
    )
    env = {**os.environ, "SALESSELECT_USER": "anna"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().endswith("False")


def test_a_url_without_the_driver_names_the_extra(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    run = cli("--db", "postgresql://nobody@127.0.0.1:1/none", "board")
    assert run.exit_code == 1
    assert run.stderr == "Error: PostgreSQL needs the psycopg driver: pip install 'salesselect[postgres]'\n"


def answers(ok, location: str) -> list[str]:
    return [ok("--db", location, *command, "--format", "json").stdout for command in REPORTS]


def test_db_copy_keeps_every_answer_both_ways(ok, cli, tmp_path):
    """A demo agency copied to this pass's backend and back: export and every report's JSON are identical."""
    source, back = str(tmp_path / "demo.db"), str(tmp_path / "back.db")
    ok("--db", source, "init", "--demo")
    target = os.environ["SALESSELECT_DB"]
    target = login_url(target, "anna") if ON_POSTGRES else target
    ok("db", "copy", source, target)
    ok("db", "copy", target, back)
    expected = answers(ok, source)
    assert answers(ok, target) == expected
    assert answers(ok, back) == expected
    new = int(ok("--db", target, "opp", "add", "New", "--company", "C", "--type", "Staffing", "--source",
                  "HubSpot").stdout)
    assert new == 301  # ids continue after the copied ones
    run = cli("db", "copy", source, back)
    assert run.exit_code == 1 and "already exists" in run.stderr


@on_postgres
def test_copy_into_a_database_with_tables_is_refused(db, ok, cli, tmp_path):
    source = str(tmp_path / "demo.db")
    ok("--db", source, "init")
    run = cli("db", "copy", source, login_url(os.environ["SALESSELECT_DB"], "anna"))
    assert run.exit_code == 1 and "already has tables" in run.stderr


@on_postgres
def test_init_refuses_a_database_with_foreign_tables_and_leaves_it(cli):
    conn = raw_connect()
    conn.execute("CREATE TABLE payroll (id integer)")
    conn.commit()
    conn.close()
    run = cli("init")
    assert run.exit_code == 1 and "already has tables" in run.stderr
    run = cli("board")
    assert run.exit_code == 1 and "is not a salesselect database; it was left untouched" in run.stderr
    conn = raw_connect()
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    conn.close()
    assert tables == ["payroll"]


@on_postgres
def test_an_empty_database_says_run_init(cli):
    run = cli("board")
    assert run.exit_code == 1 and "is an empty database; run 'salesselect --db URL init' first" in run.stderr


@on_postgres
def test_a_newer_schema_is_refused_untouched(db, cli):
    conn = raw_connect()
    conn.execute("INSERT INTO salesselect_migrations (id, name, applied) VALUES (999, 'm999_future', 'x')")
    conn.commit()
    conn.close()
    run = cli("board")
    assert run.exit_code == 1 and "newer than this salesselect knows" in run.stderr


@on_postgres
def test_init_makes_the_login_the_first_key_user(cli):
    run = cli("init", env={"SALESSELECT_USER": "sanne"})
    assert run.exit_code == 0, run.stderr
    assert "'sanne' is its first key user" in run.stderr
    conn = raw_connect()
    assert [tuple(r) for r in conn.execute("SELECT name, key_user FROM users")] == [("sanne", 1)]
    conn.close()


@on_postgres
def test_the_login_is_the_user(agency, ok, cli):
    url = os.environ["SALESSELECT_DB"]
    # a login that is no salesselect user
    run = cli("--db", login_url(url, "mallory"), "board")
    assert run.exit_code == 3
    assert "your database login 'mallory' is not a user of this database" in run.stderr
    assert "salesselect user add mallory" in run.stderr
    # a recruiter may not act as a colleague
    run = cli("--db", login_url(url, "bob"), "--user", "anna", "opp", "add", "X", "--company", "C",
              "--type", "Staffing", "--source", "HubSpot")
    assert run.exit_code == 3 and "only a key user may act for another user" in run.stderr
    # a key user may, and the history says who acted for whom
    opp = ok("--db", login_url(url, "kim"), "--user", "bob", "opp", "add", "X", "--company", "C",
             "--type", "Staffing", "--source", "HubSpot").stdout.strip()
    record = ok("opp", "show", opp, "--format", "json").json()
    assert record["owner"] == "bob"
    assert record["history"][0]["actor"] == "kim for bob"


WRITER = """
import sys
import typer.main
from salesselect_cli.main import app
command = typer.main.get_command(app)  # built once, as a long-lived process would
process, opp = sys.argv[1], sys.argv[2]
for i in range(50):
    try:
        command.main(["opp", "edit", opp, "--note", f"p{process}-{i}"], standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            raise
"""


@on_postgres
def test_twelve_writers_lose_nothing(agency, ok):
    opp = ok("opp", "add", "Busy", "--company", "C", "--type", "Staffing", "--source", "HubSpot").stdout.strip()
    env = {**os.environ, "SALESSELECT_DB": login_url(os.environ["SALESSELECT_DB"], "anna")}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(n), opp], env=env, stderr=subprocess.PIPE, text=True)
             for n in range(12)]
    errors = [proc.communicate()[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 12, errors
    conn = raw_connect()
    notes = [r[0] for r in conn.execute(
        "SELECT to_value FROM history WHERE opportunity_id = ? AND field = 'note' ORDER BY id", [int(opp)])]
    conn.close()
    assert sorted(notes) == sorted(f"p{n}-{i}" for n in range(12) for i in range(50))
    for n in range(12):  # each writer's notes landed in its own order
        mine = [note for note in notes if note.startswith(f"p{n}-")]
        assert mine == [f"p{n}-{i}" for i in range(50)]


def test_statements_are_translated_once_for_postgresql():
    from salesselect_cli.sql.dialect import to_postgres

    assert to_postgres("SELECT 1 FROM t WHERE a = ? AND b LIKE 'x%?' ORDER BY u.name COLLATE NOCASE") == (
        "SELECT 1 FROM t WHERE a = %s AND b LIKE 'x%%?' ORDER BY "
        "translate(u.name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\""
    )
    assert to_postgres("WHERE x AND +o.owner_id = ? AND a + b > 1") == "WHERE x AND o.owner_id = %s AND a + b > 1"


def test_numbers_come_back_as_sqlite_gives_them():
    from decimal import Decimal

    from salesselect_cli.sql.dialect import _number

    assert _number(Decimal("1234")) == 1234 and isinstance(_number(Decimal("1234")), int)
    assert _number(Decimal("33.3")) == 33.3 and isinstance(_number(Decimal("50.0")), float)
    assert _number(None) is None


def test_messages_never_show_a_password():
    from salesselect_cli.sql.dialect import safe_location

    assert safe_location("postgresql://bob:s3cret@db/agency") == "postgresql://bob:***@db/agency"
    assert safe_location("postgresql://bob@db/agency") == "postgresql://bob@db/agency"
