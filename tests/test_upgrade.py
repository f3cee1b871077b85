"""A file made by salesselect 0.1.0 opens with today's code and keeps every deal, history row and
follow-up, and every report says what 0.1.0 printed.

tests/fixtures/v0.1.0-demo.db is the demo agency exactly as 0.1.0 (commit 7334fac) wrote it on
2026-11-27 as `anna`; tests/fixtures/v0.1.0-expected/ holds what 0.1.0 printed for it, made by
tests/fixtures/record_v010.py (its docstring has the commands).

Output formats grew since 0.1.0, so the comparison is of data, not of layout:
- JSON and CSV records may carry fields 0.1.0 did not have (closed_from, external_key, a follow-up's
  status and workflow, winloss's opportunity_ids); every field 0.1.0 printed must be there with the
  same value, and every list must have the same records in the same order.
- Tables changed layout (column widths, wrapping, winloss's drill-down hint), so a table is compared
  by its figures in order (reports) or by its rows' ids in order (lists), not character by character.

On PostgreSQL (the PostgreSQL pass only): tests/fixtures/pg-097c436-demo.sql.gz is the same demo agency
made by the first PostgreSQL-capable version, 097c436 ("Open PostgreSQL URLs through one dialect layer"),
in a database owned by `anna` as the README of that time set one up, dumped with
`pg_dump --no-owner --no-privileges` (PostgreSQL 15) and gzipped. 097c436 printed exactly what 0.1.0
printed for every command in the manifest (checked when the dump was made), so both backends are held
to the same expected files.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesselect_cli.main import app
from tests.conftest import ON_POSTGRES, TODAY, pg_cluster

sqlite_only = pytest.mark.sqlite_only
postgresql_only = pytest.mark.skipif(not ON_POSTGRES, reason="upgrades a PostgreSQL database: the PostgreSQL pass only")

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V010_DB = FIXTURES / "v0.1.0-demo.db"
EXPECTED = FIXTURES / "v0.1.0-expected"
MANIFEST = json.loads((EXPECTED / "manifest.json").read_text())
PG_DUMP = FIXTURES / "pg-097c436-demo.sql.gz"
MEMBERS = ("sanne", "daan", "noor")  # the demo's other users: team members logging in with their own roles
V010_MIGRATIONS = ["m001_initial", "m002_report_indexes", "m003_stage_visits", "m004_bulk_load_and_lighter_indexes"]
# bookkeeping, not agency data: how migrations are recorded is the migration runner's business
NOT_DATA = {"_sqlite_migrations", "salesselect_migrations"}
# derived from the history (the funnel's visits); a rebuild may number them afresh, so compared without ids
DERIVED = {"stage_visits": "id"}
ENV = {"SALESSELECT_TODAY": MANIFEST["today"], "SALESSELECT_USER": MANIFEST["user"], "NO_COLOR": "1",
       "COLUMNS": str(MANIFEST["columns"]), "LANG": "C.UTF-8", "SALESSELECT_LANG": None, "LC_ALL": None,
       "LC_MESSAGES": None, "LANGUAGE": None, "FORCE_COLOR": None, "SALESSELECT_DEBUG": None}


class Upgraded:
    """An old agency, read as the old version left it (`before`), then opened once with today's code as anna."""

    def __init__(self, db: str, before: dict, connect, url_for=None):
        self.db = db  # what --db takes: the file, or anna's URL (she owns the tables and runs the first command)
        self.before = before
        self.connect = connect  # a DB-API connection to read the tables directly
        self.url_for = url_for  # PostgreSQL: a member's login URL


def tables_of(connection) -> dict[str, list[str]]:
    """The agency's tables and their columns (SQLite or PostgreSQL), bookkeeping and derived ids left out."""
    if isinstance(connection, sqlite3.Connection):
        names = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        columns = {name: [row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')] for name in names}
    else:
        columns = {}
        for table, column in connection.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY table_name, ordinal_position").fetchall():
            columns.setdefault(table, []).append(column)
    return {table: [column for column in listed if column != DERIVED.get(table)]
            for table, listed in sorted(columns.items()) if table not in NOT_DATA}


def read(connection, table: str, columns: list[str]) -> list[tuple]:
    """The rows, sorted: the order rows are stored in is not data."""
    listed = ", ".join(f'"{column}"' for column in columns)
    return sorted((tuple(row) for row in connection.execute(f'SELECT {listed} FROM "{table}"').fetchall()), key=repr)


def snapshot(connection) -> dict[str, tuple[list[str], list[tuple]]]:
    return {table: (columns, read(connection, table, columns)) for table, columns in tables_of(connection).items()}


def migrations_of(connection, table: str) -> list[str]:
    return [name for (name,) in connection.execute(f"SELECT name FROM {table} ORDER BY id").fetchall()]


def open_with_todays_code(db: str) -> None:
    """Any command opens (and so migrates) it; as after an upgrade, the owner runs the first one."""
    result = CliRunner().invoke(app, ["--db", db, "opp", "list"], env=ENV, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "6 mechanics" in result.stdout


def restore(url: str, dump: Path) -> None:
    """Load a plain pg_dump file through psycopg: its SQL as is, its COPY blocks through COPY FROM STDIN.
    (Not psql: a PostgreSQL 15.14+ dump starts with `\\restrict`, which an older psql refuses.)"""
    import psycopg

    statements: list[str] = []
    with psycopg.connect(url, autocommit=True) as connection, gzip.open(dump, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("\\"):  # psql's own meta-commands, not SQL
                continue
            if line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
                connection.execute("".join(statements))
                statements = []
                with connection.cursor().copy(line) as copy:
                    for row in lines:
                        if row == "\\.\n":
                            break
                        copy.write(row)
            else:
                statements.append(line)
        connection.execute("".join(statements))


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    if ON_POSTGRES:
        yield from upgraded_postgresql()
        return
    path = tmp_path_factory.mktemp("upgrade") / "v010.db"
    shutil.copy(V010_DB, path)
    connection = sqlite3.connect(path)
    assert migrations_of(connection, "_sqlite_migrations") == V010_MIGRATIONS, "the fixture must stay as 0.1.0 wrote it"
    before = snapshot(connection)
    connection.close()
    open_with_todays_code(str(path))
    yield Upgraded(str(path), before, lambda: sqlite3.connect(path))


def upgraded_postgresql():
    """The database as the README of 097c436's time set one up: a database owned by the key user anna,
    who ran `init`; the team's logins given the rows by hand (the GRANTs below)."""
    import psycopg

    cluster = pg_cluster()
    database = f"upgrade_{os.getpid()}"
    for login in ("anna", *MEMBERS):
        cluster.role(login)
    cluster.create(database)
    cluster.admin.execute(f'ALTER DATABASE "{database}" OWNER TO anna')
    try:
        restore(cluster.url_for(database, "anna"), PG_DUMP)
        members = ", ".join(MEMBERS)
        with psycopg.connect(cluster.url_for(database, "anna"), autocommit=True) as owner:
            owner.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {members}")
            owner.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {members}")
        with psycopg.connect(cluster.url_for(database)) as connection:
            assert migrations_of(connection, "salesselect_migrations") == V010_MIGRATIONS
            before = snapshot(connection)
        open_with_todays_code(cluster.url_for(database, "anna"))
        yield Upgraded(cluster.url_for(database, "anna"), before,
                       lambda: psycopg.connect(cluster.url_for(database)),
                       lambda login: cluster.url_for(database, login))
    finally:
        cluster.drop(database)


@sqlite_only
def test_the_fixture_is_what_0_1_0_made():
    assert MANIFEST["version"] == "salesselect 0.1.0"
    assert MANIFEST["today"] == TODAY.isoformat()  # the suite's fixed day: relative periods mean the same
    assert V010_DB.stat().st_size < 2_000_000


def test_opening_migrates_it(upgraded, cli):
    listed = cli("--db", upgraded.db, "user", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "recruiter" in listed.stdout  # the roles migration ran: every existing user a recruiter


def test_every_deal_history_row_and_follow_up_is_kept(upgraded):
    before = upgraded.before
    assert [len(before[table][1]) for table in ("opportunities", "history", "followups")] == [300, 5201, 1729]
    with upgraded.connect() as connection:
        for table in ("opportunities", "history", "followups"):
            columns, rows = before[table]
            ids = sorted(row[columns.index("id")] for row in rows)
            assert [row[0] for row in connection.execute(f"SELECT id FROM {table} ORDER BY id").fetchall()] == ids, table
            assert read(connection, table, columns) == rows, f"{table}: a value the old version wrote changed"


def test_every_table_the_old_version_wrote_keeps_its_rows(upgraded):
    """Users, settings lists, workflows and the rest: every old column of every row is unchanged
    (migrations may add columns and tables, never alter or drop what was there)."""
    assert len(upgraded.before) >= 12
    with upgraded.connect() as connection:
        for table, (columns, rows) in upgraded.before.items():
            assert read(connection, table, columns) == rows, table


def assert_kept(old, new, where="$"):
    """Every value 0.1.0 printed is in `new` at the same place; `new` may add fields to a record."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} is gone"
            assert_kept(value, new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list), where
        assert len(new) == len(old), f"{where}: {len(old)} entries in 0.1.0, {len(new)} now"
        for index, (was, now) in enumerate(zip(old, new)):
            assert_kept(was, now, f"{where}[{index}]")
    else:
        assert new == old, f"{where}: 0.1.0 printed {old!r}, now {new!r}"


FIGURE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?|-?€?\d[\d,.]*%?")  # a date is one figure
ROW_ID = re.compile(r"^\s{1,6}(\d+)\s", re.MULTILINE)  # a list row's id; a wrapped cell's next line is indented deeper


def test_assert_kept_allows_new_fields_and_nothing_else():
    assert_kept([{"a": 1}], [{"a": 1, "new": 2}])
    for changed in ([{"a": 2}], [{"b": 1}], [{"a": 1}, {"a": 1}], []):
        with pytest.raises(AssertionError):
            assert_kept([{"a": 1}], changed)


COMMANDS = MANIFEST["commands"]


@pytest.mark.parametrize("command", COMMANDS, ids=[command["file"] for command in COMMANDS])
def test_output_matches_what_0_1_0_printed(upgraded, cli, command):
    result = cli("--db", upgraded.db, *command["args"], env={"COLUMNS": str(MANIFEST["columns"])})
    assert result.exit_code == 0, result.stderr
    printed = (EXPECTED / command["file"]).read_text()
    if command["file"].endswith(".json"):
        assert_kept(json.loads(printed), result.json())
    elif command["file"].endswith(".csv"):
        old = list(csv.DictReader(io.StringIO(printed)))
        assert_kept(old, list(csv.DictReader(io.StringIO(result.stdout))))
    elif command["args"][0] == "report":
        assert FIGURE.findall(result.stdout) == FIGURE.findall(printed)
    else:  # a list: the same rows in the same order
        assert ROW_ID.findall(printed)
        assert ROW_ID.findall(result.stdout) == ROW_ID.findall(printed)


def test_every_deal_shows_the_history_and_follow_ups_0_1_0_showed(upgraded, cli):
    counts = json.loads((EXPECTED / "per_deal_counts.json").read_text())
    assert len(counts) == 300
    with upgraded.connect() as connection:
        history = dict(connection.execute(
            "SELECT opportunity_id, COUNT(*) FROM history GROUP BY opportunity_id").fetchall())
        followups = dict(connection.execute(
            "SELECT opportunity_id, COUNT(*) FROM followups GROUP BY opportunity_id").fetchall())
    for deal, expected in counts.items():
        found = (history.get(int(deal), 0), followups.get(int(deal), 0))
        assert found == (expected["history"], expected["followups"]), deal
    for deal in list(counts)[::25]:  # and as `opp show` prints them, for a spread of deals
        shown = cli("--db", upgraded.db, "opp", "show", deal, "--format", "json").json()
        assert (len(shown["history"]), len(shown["followups"])) == (counts[deal]["history"], counts[deal]["followups"])


@postgresql_only
def test_members_rights_after_the_upgrade(upgraded, cli):
    """MEMBERS' RIGHTS AFTER AN UPGRADE (issue 24): the migrations gave each member's login its role's group
    (sql/pg_security.py), took the GRANTs made by hand under the old README, and the tables added since 097c436
    (goals, undo steps, ...) are the groups' like the old ones, under forced row security. (The suite's logins
    are superusers, so the rights are read from the catalogue; test_pg_security uses ordinary logins.) And
    each member logs in with their own role and sees exactly the deals 0.1.0 listed as theirs."""
    from salesselect_cli.sql import pg_security

    every = json.loads((EXPECTED / "opp_list_status_all.json").read_text())
    for member in MEMBERS:
        mine = cli("--db", upgraded.url_for(member), "opp", "list", "--mine", "--status", "all", "--format", "json",
                   env={"SALESSELECT_USER": member})
        assert mine.exit_code == 0, mine.stderr
        expected = sorted(record["id"] for record in every if record["owner"] == member)
        assert expected
        assert sorted(record["id"] for record in mine.json()) == expected
    with upgraded.connect() as connection:
        database = connection.execute("SELECT current_database()").fetchone()[0]
        groups = {role: pg_security.group_role(database, role) for role in pg_security.ROLES}
        roles = dict(connection.execute("SELECT name, CASE WHEN key_user = 1 THEN 'keyuser' ELSE role END FROM users"))
        member_of = {(member, group) for member, group in connection.execute(
            """SELECT r.rolname, g.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                 JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = ANY(%s)""", [list(groups.values())])}
        assert member_of == {(member, groups[roles[member]]) for member in MEMBERS}
        by_hand = connection.execute(
            """SELECT c.relname, r.rolname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
                 JOIN pg_roles r ON r.oid = a.grantee
                WHERE c.relnamespace = 'public'::regnamespace AND r.rolname = ANY(%s)""", [list(MEMBERS)]).fetchall()
        assert by_hand == []
        tables = [name for (name,) in connection.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")]
        assert {"goals", "undo_log"} <= set(tables) and set(tables) == set(pg_security.ALL_TABLES)
        for table in tables:
            assert connection.execute("SELECT has_table_privilege(%s, %s, 'SELECT'), relrowsecurity FROM pg_class "
                                      "WHERE oid = %s::regclass", [groups["recruiter"], table, table]).fetchone() == (
                True, True), table
        assert connection.execute("SELECT has_table_privilege(%s, 'undo_log', 'INSERT'), "
                                  "has_table_privilege(%s, 'goals', 'INSERT'), has_table_privilege(%s, 'goals', 'INSERT')",
                                  [groups["recruiter"], groups["recruiter"], groups["manager"]]).fetchone() == (
            True, False, True)
