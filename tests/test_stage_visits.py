"""stage_visits (m003) always equals what the history implies, whatever wrote the history; funnel_counts (m017)
always equals what those visits imply.

The expected visits are computed here in Python, independently of the SQL in store.py: per opportunity,
its 'created'/'stage' rows and won/lost status rows in (at, id) order; each stage row is a visit that ends
at the next of those rows.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import TODAY, add_opp, raw_connect

TRIGGERS = ("stage_visits_next_event", "stage_visits_earlier_event", "stage_visits_opportunity")
DAYS_TRIGGERS = ("stage_visits_days_ended", "stage_visits_days_inserted")  # m016, on stage_visits itself
FUNNEL_TRIGGERS = ("funnel_counts_visit_added", "funnel_counts_visit_removed", "funnel_counts_visit_changed")  # m017


def implied_by_history(conn: sqlite3.Connection) -> list[tuple]:
    """The visits the history implies, with each opportunity's current status, type, owner and source.

    A deal in the trash has none (it leaves every report); restoring it brings them back."""
    opportunities = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT id, status, business_type_id, owner_id, source_id FROM opportunities WHERE deleted IS NULL")
    }
    events: dict[int, list[tuple]] = {}
    for opp, ident, at, field, to_value, to_id in conn.execute(
        "SELECT opportunity_id, id, at, field, to_value, to_id FROM history"
    ):
        if field in ("created", "stage"):
            kind = "S"
        elif field == "status" and not (to_value or "").startswith("open") and to_value is not None:
            kind = "won" if to_value.startswith("won") else "lost"
        else:
            continue
        events.setdefault(opp, []).append((at, ident, kind, to_id))
    visits = []
    for opp, rows in events.items():
        if opp not in opportunities:
            continue
        rows.sort()
        for index, (at, _, kind, to_id) in enumerate(rows):
            if kind != "S":
                continue
            after = rows[index + 1] if index + 1 < len(rows) else None
            ended = after[0][:10] if after else None
            outcome = None if after is None else ("moved" if after[2] == "S" else after[2])
            next_stage = after[3] if after and after[2] == "S" else None
            days = (dt.date.fromisoformat(ended) - dt.date.fromisoformat(at[:10])).days if ended else None
            visits.append((opp, to_id, at[:10], ended, days, outcome, next_stage, *opportunities[opp]))
    return sorted(visits, key=repr)


def maintained(conn: sqlite3.Connection) -> list[tuple]:
    rows = conn.execute(
        """SELECT opportunity_id, stage_id, entered, ended, days, outcome, next_stage_id,
                  status, business_type_id, owner_id, source_id FROM stage_visits"""
    )
    return sorted((tuple(row) for row in rows), key=repr)


def counted(visits: list[tuple]) -> list[tuple]:
    """funnel_counts (m017) as the visits imply it: per (entered, stage, days, outcome, next stage), how many
    visits and how many of a deal won now; a visit under way has days -1 and outcome '', no next stage is 0."""
    counts: dict[tuple, list[int]] = {}
    for _, stage, entered, _, days, outcome, next_stage, status, *_ in visits:
        key = (entered, 0 if stage is None else stage, -1 if days is None else days, outcome or "",
               0 if next_stage is None else next_stage)
        n_won = counts.setdefault(key, [0, 0])
        n_won[0] += 1
        n_won[1] += status == "won"
    return sorted(key + tuple(n_won) for key, n_won in counts.items())


def maintained_counts(conn) -> list[tuple]:
    rows = conn.execute("SELECT entered, stage_id, days, outcome, next_stage_id, n, won FROM funnel_counts")
    return sorted(tuple(row) for row in rows)


def check(path: Path) -> list[tuple]:
    """stage_visits equals what the history implies, and funnel_counts what those visits imply."""
    conn = raw_connect(path)
    try:
        expected, actual = implied_by_history(conn), maintained(conn)
        counts = maintained_counts(conn)
    finally:
        conn.close()
    assert actual == expected
    assert counts == counted(expected)
    return actual


@pytest.fixture
def mixed(agency, cli, tmp_path, monkeypatch):
    """A history written by every kind of write that starts, ends or reassigns a stage visit."""
    ok = agency
    later = dict(env={"SALESSELECT_TODAY": (TODAY + dt.timedelta(days=3)).isoformat()})
    earlier = dict(env={"SALESSELECT_TODAY": (TODAY - dt.timedelta(days=40)).isoformat()})
    a = add_opp(ok, "A")
    ok("opp", "move", a, "Introduction")
    ok("opp", "move", a, "Proposal", **later)
    ok("opp", "move", a, "Lead", **later)  # back
    ok("opp", "lose", a, "--reason", "Too expensive", **later)  # into the auto stage Lost
    ok("opp", "reopen", a, **later)  # back into Lead, where it was lost from
    ok("opp", "move", a, "New client", "--reason", "Good price", **later)  # won by moving
    b = add_opp(ok, "B", "Beta", "Agencies", "Google")
    ok("opp", "move", b, "Framework agreement")
    ok("opp", "win", b, "--reason", "Strong candidates")
    ok("opp", "reopen", b, "--stage", "Proposal")
    ok("opp", "edit", b, "--type", "Staffing", "--stage", "Negotiation")  # type change with a stage row
    ok("opp", "edit", b, "--source", "Referral", "--owner", "bob")
    c = add_opp(ok, "C", "Cee")
    ok("opp", "move", c, "Negotiation")
    ok("opp", "move", c, "Proposal", **earlier)  # written after, dated before: visits rebuilt from history
    d = add_opp(ok, "D", "Dee")
    ok("opp", "move", d, "Introduction")
    ok("config", "remove-stage", "Introduction", "--reassign-to", "Lead")
    e = add_opp(ok, "E", "Eee", "Agencies")
    ok("opp", "delete", e, "--yes")  # to the trash and back: its visits go and come back
    ok("opp", "restore", e)
    ok("opp", "move", e, "Proposal")
    f = add_opp(ok, "F", "Eff", "Agencies")
    ok("opp", "delete", f, "--yes")
    ok("opp", "purge", f, "--yes")  # gone for good, with its history and visits
    g = add_opp(ok, "G", "Gee")
    ok("opp", "move", g, "Proposal")
    ok("opp", "delete", g, "--yes")  # stays in the trash: no visits
    csv = tmp_path / "closed.csv"
    csv.write_text(
        "title,company,type,source,stage,status,reason,created,closed\n"
        "Lost one,Acme,Staffing,Google,Proposal,lost,Too expensive,2026-03-01,2026-04-15\n"
        "Won one,Beta,Agencies,LinkedIn,New client,,Good price,2026-02-01,2026-05-01\n"
        "Open one,Cee,Staffing,Website,Negotiation,,,2026-06-01,\n",
        encoding="utf-8",
    )
    ok("import", str(csv))
    ok("config", "link-stage", "Framework agreement", "Staffing")
    ok("config", "remove-business-type", "Agencies", "--reassign-to", "Staffing")
    ok("user", "remove", "bob", "--reassign-to", "kim")
    return os.environ["SALESSELECT_DB"], {"A": a, "B": b, "C": c, "D": d, "E": e, "G": g}


def test_visits_follow_every_write(mixed):
    path, ids = mixed
    visits = check(path)
    conn = raw_connect(path)
    stage = dict(conn.execute("SELECT name, id FROM stages"))
    stage["Introduction"] = conn.execute("SELECT to_id FROM history WHERE to_value = 'Introduction'").fetchone()[0]
    ids_of = {table: dict(conn.execute(f"SELECT name, id FROM {table}")) for table in ("business_types", "users", "sources")}
    conn.close()

    def of(title: str) -> list[tuple]:
        return [(v[1], v[5], v[6]) for v in visits if v[0] == ids[title]]

    assert sorted(of("A"), key=repr) == sorted([
        (stage["Lead"], "moved", stage["Introduction"]),  # a stage removed since: its visits stay as they were
        (stage["Introduction"], "moved", stage["Proposal"]),
        (stage["Proposal"], "moved", stage["Lead"]),
        (stage["Lead"], "moved", stage["Lost"]),
        (stage["Lost"], "lost", None),
        (stage["Lead"], "moved", stage["New client"]),  # reopened into Lead, then won by a move
        (stage["New client"], "won", None),
    ], key=repr)
    # C's move to Proposal was written last but dated 40 days earlier: in date order it came first
    assert sorted(of("C"), key=repr) == sorted([
        (stage["Proposal"], "moved", stage["Lead"]), (stage["Lead"], "moved", stage["Negotiation"]),
        (stage["Negotiation"], None, None),
    ], key=repr)
    assert sorted(of("D"), key=repr) == sorted([  # reassigned from the removed Introduction back to Lead
        (stage["Lead"], "moved", stage["Introduction"]), (stage["Introduction"], "moved", stage["Lead"]),
        (stage["Lead"], None, None),
    ], key=repr)
    assert {v[7:] for v in visits if v[0] == ids["B"]} == {
        ("open", ids_of["business_types"]["Staffing"], ids_of["users"]["kim"], ids_of["sources"]["Referral"])
    }
    assert {v[7] for v in visits if v[0] == ids["A"]} == {"won"}
    assert not any(v[8] == 2 for v in visits)  # no visit left of the removed Agencies type (id 2)
    assert [(v[1], v[5]) for v in sorted(visits, key=repr) if v[0] == ids["E"]] == [
        (stage["Lead"], "moved"), (stage["Proposal"], None)]  # restored, then moved on
    assert not [v for v in visits if v[0] == ids["G"]]  # in the trash


@pytest.mark.sqlite_only
def test_migration_backfills_what_the_triggers_keep(mixed, ok):
    path, ids = mixed
    ok("opp", "restore", ids["G"])  # m003 runs before m010 brought the trash: a real file has none then
    before = check(path)
    conn = sqlite3.connect(path)
    for trigger in TRIGGERS:
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE stage_visits")  # and the funnel_counts triggers on it
    conn.execute("DROP TABLE funnel_counts")
    conn.execute("DELETE FROM salesselect_migrations WHERE name IN "
                 "('m003_stage_visits', 'm016_stage_visit_days', 'm017_funnel_counts')")
    conn.commit()
    conn.close()
    ok("report", "stages")  # reopening applies m003, m016 and m017 again
    assert check(path) == before
    conn = sqlite3.connect(path)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%stage_visits%'")}
    on_visits = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'stage_visits'")}
    conn.close()
    assert names == {"stage_visits", "idx_stage_visits_funnel", "idx_stage_visits_open", "idx_stage_visits_opportunity",
                     *TRIGGERS, *DAYS_TRIGGERS}
    assert on_visits == {*DAYS_TRIGGERS, *FUNNEL_TRIGGERS}


def test_the_demo_keeps_its_visits(demo_db, ok, tmp_path):
    visits = check(os.environ["SALESSELECT_DB"])
    assert len(visits) > 100
    assert {v[5] for v in visits} == {None, "moved", "won", "lost"}


def test_bulk_load_leaves_no_mark_and_fills_visits(agency, ok, tmp_path):
    """An import fills stage_visits in one statement; the bulk-load flag never outlives it."""
    csv_file = tmp_path / "deals.csv"
    csv_file.write_text("title,company,type,source,stage,status,reason,created,closed\n"
                        "A,Acme,Staffing,Google,Proposal,lost,Too expensive,2026-11-02,2026-11-20\n"
                        "B,Acme,Staffing,Google,Lead,,,,\n", encoding="utf-8")
    ok("import", str(csv_file))
    conn = raw_connect()
    assert conn.execute("SELECT COUNT(*) FROM settings WHERE key = 'bulk_load'").fetchone()[0] == 0
    visits = conn.execute("""SELECT o.title, s.name, v.outcome FROM stage_visits v JOIN opportunities o ON o.id = v.opportunity_id
                              JOIN stages s ON s.id = v.stage_id ORDER BY o.title""").fetchall()
    # the lost deal moved from Proposal into the Lost stage (the report reads that as lost in Proposal)
    assert visits == [("A", "Proposal", "moved"), ("A", "Lost", "lost"), ("B", "Lead", None)]
    # a later move is tracked by the triggers again
    b = conn.execute("SELECT id FROM opportunities WHERE title = 'B'").fetchone()[0]
    conn.close()
    ok("opp", "move", b, "Introduction")
    conn = raw_connect()
    outcomes = conn.execute("SELECT outcome FROM stage_visits WHERE opportunity_id = ? ORDER BY id", [b]).fetchall()
    assert outcomes == [("moved",), (None,)]


@pytest.mark.sqlite_only  # opens its file directly
def test_bulk_load_writes_a_deals_path_through_the_stages(agency, tmp_path):
    """ImportRow.path (the benchmark's generator): one history row per stage entered; visits follow them."""
    from salesselect_cli.rules.importing import ImportRow
    from salesselect_cli.store import Store, open_connection

    path = tmp_path / "sales.db"
    store = Store(open_connection(path), path, TODAY, "anna")
    try:
        with store.transaction(True):
            names = store.imports.import_names()
            stage = names.stages.__getitem__
            row = ImportRow(
                title="Path", company="Acme", contact=None, business_type_id=names.business_types["staffing"][0],
                stage=stage("lost"), source_id=names.sources["google"][0], value_cents=0, expected_close=None,
                owner_id=names.users["anna"][0], status="lost", reason_id=names.reasons[("too expensive", "lost")][0],
                reason="Too expensive", closed_from=stage("proposal"), vacancy=None, notes=None,
                created="2026-10-01", closed="2026-10-20",
                path=(("2026-10-01", stage("lead")), ("2026-10-04", stage("introduction")),
                      ("2026-10-11", stage("proposal"))),
            )
            result = store.imports.import_opportunities([row])
            first_id, count = result.first_id, result.added
    finally:
        store.close()
    assert count == 1
    visits = [(v[1], v[2], v[4], v[5]) for v in check(path) if v[0] == first_id]  # stage, entered, days, outcome
    ids = dict(sqlite3.connect(path).execute("SELECT name, id FROM stages").fetchall())
    assert sorted(visits) == sorted([
        (ids["Lead"], "2026-10-01", 3, "moved"), (ids["Introduction"], "2026-10-04", 7, "moved"),
        (ids["Proposal"], "2026-10-11", 9, "moved"), (ids["Lost"], "2026-10-20", 0, "lost"),
    ])


def _funnel_plan(path: Path, flt) -> list[str]:
    """The query plan of the report_stages statement that reads the period."""
    from salesselect_cli.store import Store, open_connection

    store = Store(open_connection(path), path, TODAY, "anna")
    statements: list[str] = []
    try:
        store.conn.set_trace_callback(statements.append)
        with store.transaction(False):
            store.reports.report_stages(flt, TODAY.replace(month=1, day=1), TODAY)
        store.conn.set_trace_callback(None)
        sql = next(s for s in statements if "WITH grouped" in s)
        return [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    finally:
        store.close()


@pytest.mark.sqlite_only  # SQLite's query plan
def test_funnel_reads_the_period_by_skip_scan(agency, tmp_path):
    """With a filter, m016's shape: ended visits come from idx_stage_visits_funnel in GROUP BY order (no sort of
    the period), the ones under way from the partial idx_stage_visits_open."""
    from salesselect_cli.model import OpportunityFilter

    plan = _funnel_plan(tmp_path / "sales.db", OpportunityFilter(status=None, owner="anna"))
    reads = [line for line in plan if "stage_visits" in line or line.startswith("SEARCH v") or line.startswith("SCAN v")]
    assert any("idx_stage_visits_funnel (ANY(stage_id) AND ANY(days)" in line for line in reads), plan
    assert any("idx_stage_visits_open (entered>? AND entered<?)" in line for line in reads), plan
    assert not any(line.startswith("SCAN v") for line in reads), plan
    assert not any("funnel_counts" in line or line.startswith(("SEARCH c", "SCAN c")) for line in plan), plan


@pytest.mark.sqlite_only  # SQLite's query plan
def test_unfiltered_funnel_reads_one_range_of_funnel_counts(agency, tmp_path):
    """Without a filter the funnel reads the period's rows of funnel_counts (m017), a range of its key, and never
    a visit."""
    from salesselect_cli.model import OpportunityFilter

    plan = _funnel_plan(tmp_path / "sales.db", OpportunityFilter(status=None))
    assert any(line.startswith("SEARCH c USING PRIMARY KEY (entered>? AND entered<?)") for line in plan), plan
    assert not any("stage_visits" in line or line.startswith(("SEARCH v", "SCAN v", "SCAN c")) for line in plan), plan
