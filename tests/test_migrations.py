"""One migration runner and one record of applied migrations on both backends; older records keep working."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from tests.conftest import ON_POSTGRES, add_opp, raw_connect

# The order the releases before the shared record applied them (m010 and m017 landed last).
OLD_ORDER = ["m001_initial", "m002_report_indexes", "m003_stage_visits", "m004_bulk_load_and_lighter_indexes",
             "m005_workflow_env", "m016_stage_visit_days", "m020_followup_status", "m021_stage_archived",
             "m030_external_keys", "m031_undo_log", "m010_team_roles", "m017_funnel_counts"]
# Migrations released after the shared record: an old-record file predates them unless a test says otherwise.
NEWER = ["m040_forecast", "m045_forecast_counts", "m050_pg_security", "m055_bulk_load_lasts_one_transaction"]
FUNNEL_TRIGGERS = ("funnel_counts_visit_added", "funnel_counts_visit_removed", "funnel_counts_visit_changed")


def record(conn) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM salesselect_migrations ORDER BY id")]


def make_old(path, applied: list[str]) -> None:
    """Turn the test's database into one recorded the way releases before the shared record did, with
    m017 (funnel_counts) not applied yet: sqlite-utils' table and user_version on SQLite, ids by
    registration position on PostgreSQL."""
    conn = raw_connect(path)
    if "m040_forecast" not in applied:  # undo what m040 made: an old file never had it
        conn.execute("DROP TABLE goals")
        conn.execute("ALTER TABLE stages DROP COLUMN probability")
        conn.execute("ALTER TABLE opportunities DROP COLUMN probability")
    if "m045_forecast_counts" not in applied:
        conn.execute("DROP INDEX idx_stage_visits_reached")
    if ON_POSTGRES:
        conn.execute("DROP FUNCTION funnel_counts_on_visit() CASCADE")
        conn.execute("DROP TABLE funnel_counts")
        conn.execute("DROP TABLE salesselect_migrations")
        conn.execute("CREATE TABLE salesselect_migrations (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                     "applied TEXT NOT NULL)")
        for number, name in enumerate(applied, start=1):
            conn.execute("INSERT INTO salesselect_migrations (id, name, applied) VALUES (?, ?, '2026-01-01 10:00:00')",
                         [number, name])
    else:
        for trigger in FUNNEL_TRIGGERS:
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE funnel_counts")
        conn.execute("DROP TABLE salesselect_migrations")
        conn.execute('CREATE TABLE "_sqlite_migrations" ("id" INTEGER PRIMARY KEY, "migration_set" TEXT, "name" TEXT, '
                     '"applied_at" TEXT)')
        conn.execute('CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name" '
                     'ON "_sqlite_migrations" ("migration_set", "name")')
        conn.executemany("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                         "VALUES ('salesselect', ?, '2026-01-01 10:00:00.000000')", [[name] for name in applied])
        conn.execute(f"PRAGMA user_version = {len(applied)}")
    conn.commit()
    conn.close()


def funnel_counts(path) -> list[tuple]:
    conn = raw_connect(path)
    try:
        return [tuple(row) for row in conn.execute(
            "SELECT entered, stage_id, days, outcome, next_stage_id, n, won FROM funnel_counts ORDER BY 1, 2, 3, 4, 5")]
    finally:
        conn.close()


def test_a_database_recorded_the_old_way_migrates_and_keeps_its_data(agency, ok):
    from salesselect_cli.sql.schema import known_migration_names

    path = os.environ["SALESSELECT_DB"]
    deal = add_opp(ok, "Old deal")
    ok("opp", "move", str(deal), "Proposal")
    before = ok("opp", "list", "--format", "json").json()
    counts = funnel_counts(path)
    assert counts
    make_old(path, OLD_ORDER[:-1])

    assert ok("opp", "list", "--format", "json").json() == before  # opening applies m017, keeps every row
    ok("opp", "move", str(deal), "Negotiation")
    conn = raw_connect(path)
    try:
        names = record(conn)
        if not ON_POSTGRES:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert "_sqlite_migrations" not in tables
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    finally:
        conn.close()
    assert names == OLD_ORDER + NEWER  # the old names kept in their order, m017 and the newer ones recorded after them
    assert sorted(names) == sorted(known_migration_names())
    assert [row["title"] for row in ok("opp", "list", "--format", "json").json()] == [row["title"] for row in before]
    assert sum(row[5] for row in funnel_counts(path)) == sum(row[5] for row in counts) + 1  # the new visit counted


def test_m055_takes_away_a_bulk_load_flag_left_committed_so_visits_are_counted_again(agency, ok):
    path = os.environ["SALESSELECT_DB"]
    deal = add_opp(ok, "Flagged deal")
    conn = raw_connect(path)
    try:
        if ON_POSTGRES:  # as it was before m055: nothing refused committing the flag
            conn.execute("DROP TRIGGER salesselect_bulk_load_ends ON settings")
        conn.execute("INSERT INTO settings (key, value) VALUES ('bulk_load', '1')")
        conn.execute("DELETE FROM salesselect_migrations WHERE name = 'm055_bulk_load_lasts_one_transaction'")
        conn.commit()
    finally:
        conn.close()
    ok("opp", "move", str(deal), "Proposal")  # its opening applies m055 first
    conn = raw_connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM settings WHERE key = 'bulk_load'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM stage_visits v JOIN stages s ON s.id = v.stage_id "
                            "WHERE v.opportunity_id = ? AND s.name = 'Proposal'", [deal]).fetchone()[0] == 1
        assert record(conn)[-1] == "m055_bulk_load_lasts_one_transaction"
    finally:
        conn.close()


@pytest.mark.sqlite_only  # the old record was SQLite's own
def test_a_complete_old_record_is_read_as_it_is_and_moved_by_the_first_write(agency, ok):
    path = os.environ["SALESSELECT_DB"]
    add_opp(ok, "Kept")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = ok("opp", "list", "--format", "json").json()
    make_old(path, OLD_ORDER[:-1] + NEWER)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('salesselect', ?, 'x')",
                 [OLD_ORDER[-1]])
    conn.execute(f"PRAGMA user_version = {len(OLD_ORDER)}")
    from salesselect_cli.sql.schema import FUNNEL_COUNTS_TABLE

    conn.execute(FUNNEL_COUNTS_TABLE + " WITHOUT ROWID")  # what m017 made; its triggers do not matter to a read
    conn.commit()
    conn.close()
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()

    assert ok("opp", "list", "--format", "json").json() == before
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == digest  # a read writes nothing

    ok("opp", "add", "New", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot")
    conn = sqlite3.connect(path)
    assert record(conn) == OLD_ORDER[:-1] + NEWER + OLD_ORDER[-1:]
    conn.close()


@pytest.mark.sqlite_only  # names an unknown migration in the old record
def test_an_old_record_naming_a_newer_migration_is_refused_untouched(agency, cli):
    path = os.environ["SALESSELECT_DB"]
    make_old(path, OLD_ORDER[:-1] + ["m999_future"])
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    run = cli("opp", "list")
    assert run.exit_code == 1 and "newer than this salesselect" in run.stderr
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == digest


def test_migrations_are_registered_in_numeric_order(monkeypatch):
    from salesselect_cli.sql import schema

    names = schema.known_migration_names()
    assert [schema.migration_number(name) for name in names] == sorted({schema.migration_number(n) for n in names})
    monkeypatch.setattr(schema, "MIGRATIONS", list(schema.MIGRATIONS))

    def m012_too_early(db):
        db.run("SELECT 1")

    with pytest.raises(ValueError, match="m012_too_early must be numbered after m055_bulk_load_lasts_one_transaction"):
        schema.migration(m012_too_early)

    def m056_next(db):
        db.run("SELECT 1")

    assert schema.migration(m056_next) is m056_next and schema.known_migration_names()[-1] == "m056_next"


@pytest.mark.sqlite_only  # counts SQLite's statements
def test_opening_a_current_file_costs_few_statements(db, monkeypatch):
    from salesselect_cli.sql import connection, dialect

    path = __import__("pathlib").Path(os.environ["SALESSELECT_DB"])
    statements: list[str] = []
    connect = dialect.sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(dialect.sqlite3, "connect", traced)
    for write, most in ((True, 3), (False, 2)):
        statements.clear()
        connection.open_connection(path, write=write).close()
        assert len(statements) <= most, statements
        assert statements[-1] == "SELECT name FROM salesselect_migrations"
