"""funnel_counts (m017): the stage funnel's visits counted per entry day, stage, days, outcome and next stage.

After every kind of write it equals what the history implies (tests/test_stage_visits.py computes that in Python,
independently of the SQL), and the unfiltered report read from it equals the report read from the visits.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import TODAY, add_opp, raw_connect
from tests.test_stage_visits import FUNNEL_TRIGGERS, check, counted, maintained_counts, mixed  # noqa: F401

PERIODS = [
    (dt.date(1, 1, 1), dt.date(9999, 12, 31)),  # all
    (TODAY.replace(month=1, day=1), TODAY.replace(month=12, day=31)),  # this year
    (TODAY.replace(day=1), TODAY),
    (dt.date(2026, 3, 1), dt.date(2026, 4, 30)),
    (TODAY, TODAY),
    (TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=400)),  # nothing entered yet
]


def both_reports(location, periods=PERIODS) -> list[tuple]:
    """(from funnel_counts, from the visits) for each period, unfiltered."""
    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.store import Store, open_connection

    location = str(location)
    if not location.startswith("postgresql://"):
        location = Path(location)
    store = Store(open_connection(location), location, TODAY, "anna")
    try:
        with store.transaction(False):
            flt = OpportunityFilter(status=None)
            return [(store.reports._report_stages(flt, start, end, counted=True),
                     store.reports._report_stages(flt, start, end, counted=False)) for start, end in periods]
    finally:
        store.close()


def test_counts_follow_each_write(agency, ok, tmp_path):
    """Checked after every step: adds, moves on and back, win/lose by command and by moving into an auto stage,
    reopen, type/owner/source edits, a move dated before the last one (visits rebuilt), trash, restore, purge,
    stage and type removal with reassignment, import and re-import by key, db copy, reopen of the file."""
    path = os.environ["SALESSELECT_DB"]
    later = dict(env={"SALESSELECT_TODAY": (TODAY + dt.timedelta(days=3)).isoformat()})
    earlier = dict(env={"SALESSELECT_TODAY": (TODAY - dt.timedelta(days=40)).isoformat()})
    a = add_opp(ok, "A")
    check(path)
    b = add_opp(ok, "B", "Beta", "Agencies", "Google")
    c = add_opp(ok, "C", "Cee")
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "id,title,company,type,source,stage,status,reason,created,closed\n"
        "x1,Lost one,Acme,Staffing,Google,Proposal,lost,Too expensive,2026-03-01,2026-04-15\n"
        "x2,Won one,Beta,Agencies,LinkedIn,New client,,Good price,2026-02-01,2026-05-01\n"
        "x3,Open one,Cee,Staffing,Website,Negotiation,,,2026-06-01,\n",
        encoding="utf-8",
    )
    steps = [
        ("opp", "move", a, "Introduction"),
        ("opp", "move", a, "Proposal", later),
        ("opp", "move", a, "Lead", later),  # back
        ("opp", "lose", a, "--reason", "Too expensive", later),  # into the auto stage Lost
        ("opp", "reopen", a, later),
        ("opp", "move", a, "New client", "--reason", "Good price", later),  # won by moving: its visits turn won
        ("opp", "move", b, "Framework agreement"),
        ("opp", "win", b, "--reason", "Strong candidates"),
        ("opp", "reopen", b, "--stage", "Proposal"),  # won no more
        ("opp", "edit", b, "--type", "Staffing", "--stage", "Negotiation"),
        ("opp", "edit", b, "--source", "Referral", "--owner", "bob"),
        ("opp", "move", c, "Negotiation"),
        ("opp", "move", c, "Proposal", earlier),  # written after, dated before: c's visits rebuilt
        ("opp", "delete", c, "--yes"),
        ("opp", "restore", c),
        ("opp", "delete", a, "--yes"),
        ("opp", "purge", a, "--yes"),
        ("import", str(csv), "--key", "id"),  # bulk load: one statement adds the new visits' counts
        ("config", "remove-stage", "Introduction", "--reassign-to", "Lead"),
        ("import", str(csv), "--key", "id"),  # re-import: nothing changes
    ]
    for step in steps:
        env = step[-1] if isinstance(step[-1], dict) else {}
        args = [str(arg) for arg in step if not isinstance(arg, dict)]
        ok(*args, **env)
        check(path)
    csv.write_text(  # the re-import updates x3 (a later stage, now won) through the same path as opp edit
        "id,title,company,type,source,stage,status,reason,created,closed\n"
        "x3,Open one,Cee,Staffing,Website,New client,won,Good price,2026-06-01,2026-11-20\n", encoding="utf-8")
    ok("import", str(csv), "--key", "id")
    check(path)
    for step in (("config", "link-stage", "Framework agreement", "Staffing"),
                 ("config", "remove-business-type", "Agencies", "--reassign-to", "Staffing"),
                 ("user", "remove", "bob", "--reassign-to", "kim")):
        ok(*step)
        check(path)
    copy = tmp_path / "copy.db"
    ok("db", "copy", path, str(copy))  # copied as it is, with the triggers stepping aside
    assert check(copy) == check(path)
    conn = raw_connect(copy)
    try:
        assert maintained_counts(conn) and min(row[5] for row in maintained_counts(conn)) > 0
    finally:
        conn.close()
    ok("--db", str(copy), "opp", "move", str(b), "Framework agreement")  # the copy keeps counting
    check(copy)
    for periods in both_reports(path):
        assert periods[0] == periods[1]


def test_report_from_counts_equals_report_from_visits(mixed):
    path, _ = mixed
    check(path)
    reports = both_reports(path)
    assert any(row["entered"] for counts, _ in reports for row in counts)  # not comparing nothing
    for from_counts, from_visits in reports:
        assert from_counts == from_visits


def test_the_demo_counts_and_reports_alike(demo_db, ok):
    path = os.environ["SALESSELECT_DB"]
    visits = check(path)
    conn = raw_connect(path)
    try:
        counts = maintained_counts(conn)
    finally:
        conn.close()
    assert len(counts) < len(visits) and sum(row[5] for row in counts) == len(visits)
    for from_counts, from_visits in both_reports(path):
        assert from_counts == from_visits


def test_an_older_database_gets_its_counts_on_open(mixed, ok):
    """m017 on a database made before it: the table filled from stage_visits, the triggers from then on."""
    path, ids = mixed
    before = check(path)
    conn = raw_connect(path)
    if str(path).startswith("postgresql://"):
        conn.execute("DROP FUNCTION funnel_counts_on_visit() CASCADE")  # and its trigger on stage_visits
        conn.execute("DROP TABLE funnel_counts")
        conn.execute("DELETE FROM salesselect_migrations WHERE name = 'm017_funnel_counts'")
        triggers = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'stage_visits'::regclass AND NOT tgisinternal"
        expected = {"funnel_counts_visits"}
    else:
        for trigger in FUNNEL_TRIGGERS:
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE funnel_counts")
        conn.execute("DELETE FROM salesselect_migrations WHERE name = 'm017_funnel_counts'")
        triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'stage_visits'"
        expected = set(FUNNEL_TRIGGERS)
    conn.commit()
    conn.close()
    ok("report", "stages")  # a read: a file is opened for writing once to migrate it
    assert check(path) == before
    conn = raw_connect(path)
    try:
        assert expected <= {row[0] for row in conn.execute(triggers)}
    finally:
        conn.close()
    ok("opp", "move", ids["C"], "Framework agreement")
    check(path)


@pytest.mark.sqlite_only  # opens its file directly
def test_bulk_load_counts_only_its_own_visits(agency, tmp_path):
    """An import adds its new visits' counts to the rows already there (the upsert), not a second row."""
    from salesselect_cli.rules.importing import ImportRow
    from salesselect_cli.store import Store, open_connection

    path = tmp_path / "sales.db"

    def load(title: str) -> None:
        store = Store(open_connection(path), path, TODAY, "anna")
        try:
            with store.transaction(True):
                names = store.imports.import_names()
                stage = names.stages.__getitem__
                store.imports.import_opportunities([ImportRow(
                    title=title, company="Acme", contact=None, business_type_id=names.business_types["staffing"][0],
                    stage=stage("proposal"), source_id=names.sources["google"][0], value_cents=0, expected_close=None,
                    owner_id=names.users["anna"][0], status="open", reason_id=None, reason=None, closed_from=None,
                    vacancy=None, notes=None, created="2026-10-01", closed=None,
                    path=(("2026-10-01", stage("lead")), ("2026-10-04", stage("proposal"))))])
        finally:
            store.close()

    load("One")
    load("Two")
    check(path)
    conn = sqlite3.connect(path)
    ids = dict(conn.execute("SELECT name, id FROM stages").fetchall())
    rows = maintained_counts(conn)
    conn.close()
    assert rows == sorted([("2026-10-01", ids["Lead"], 3, "moved", ids["Proposal"], 2, 0),
                           ("2026-10-04", ids["Proposal"], -1, "", 0, 2, 0)])


@pytest.mark.sqlite_only  # SQLite's trigger order; PostgreSQL sets days BEFORE the row is written
@pytest.mark.parametrize("recreated", ["stage_visits_days_ended", "stage_visits_days_inserted"])
def test_the_counts_do_not_depend_on_the_order_of_the_triggers(agency, ok, recreated):
    """SQLite fires a table's triggers in no promised order (today: the newest first). m016's triggers set a
    visit's days after it ends; the counts must be right whichever runs first, so a later migration that
    rebuilds the days triggers cannot make the funnel drift."""
    path = os.environ["SALESSELECT_DB"]
    conn = sqlite3.connect(path)
    with conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [recreated]).fetchone()[0]
        conn.execute(f"DROP TRIGGER {recreated}")
        conn.execute(sql)  # now newer than m017's triggers
    conn.close()
    later = {"SALESSELECT_TODAY": (TODAY + dt.timedelta(days=5)).isoformat()}
    earlier = {"SALESSELECT_TODAY": (TODAY - dt.timedelta(days=30)).isoformat()}
    a, b = add_opp(ok, "A"), add_opp(ok, "B")
    for args, env in ((("opp", "move", a, "Introduction"), later), (("opp", "move", a, "Proposal"), later),
                      (("opp", "lose", a, "--reason", "Too expensive"), later), (("opp", "reopen", a), later),
                      (("opp", "move", b, "Proposal"), {}), (("opp", "move", b, "Introduction"), earlier),
                      (("opp", "delete", b, "--yes"), {}), (("opp", "restore", b), {})):
        ok(*[str(arg) for arg in args], env=env)
        check(path)


def test_counted_implies_what_the_python_says():
    """The expectation helper itself: keys with sentinels, won counted from the deal's status now."""
    visits = [(1, 5, "2026-01-02", "2026-01-05", 3, "moved", 6, "won", 1, 1, 1),
              (2, 5, "2026-01-02", "2026-01-05", 3, "moved", 6, "open", 1, 1, 1),
              (2, 6, "2026-01-05", None, None, None, None, "open", 1, 1, 1)]
    assert counted(visits) == [("2026-01-02", 5, 3, "moved", 6, 2, 1), ("2026-01-05", 6, -1, "", 0, 1, 0)]
