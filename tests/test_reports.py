"""Reports over a data set whose answers are known by construction.

The agency's history is played through the real CLI, one day at a time ($SALESSELECT_TODAY per
step), once per module; every test gets a copy of that database. Today is 2026-11-27, so
last-quarter is 2026-07-01 .. 2026-09-30. Indicator: orange 5, red 2.

Last quarter 10 deals were lost: 7 in Proposal for "Too expensive" (L1 on the first day, L7 on the
last; L2 by a move into the Lost column, the rest by `opp lose`), 2 in Introduction for "Chose a
competitor", 1 in Negotiation for "No candidates". X1 was lost in Proposal the day after the
quarter. 4 deals were won: 3 from Negotiation for "Good price", 1 (W4, on the last day) from
Proposal for "Strong candidates".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesselect_cli.main import app
from tests.conftest import ON_POSTGRES, SETUP_JSON, TODAY, login_url

TE, COMPETITOR, NO_CANDIDATES, CANCELLED = "Too expensive", "Chose a competitor", "No candidates", "Vacancy cancelled"

# key, type, source, owner, value, created, first stage, expected close, [(day, verb, *args)]
DEALS = [
    ("L1", "Staffing", "HubSpot", "bob", 10000, "2026-06-15", "Proposal", None, [("2026-07-01", "lose", TE)]),
    ("L2", "Staffing", "HubSpot", "anna", 10000, "2026-07-02", "Lead", None,
     [("2026-07-10", "move", "Proposal"), ("2026-07-20", "move", "Lost", TE)]),
    ("L3", "Staffing", "Google", "anna", 10000, "2026-07-03", "Lead", None,
     [("2026-07-13", "move", "Introduction"), ("2026-07-23", "move", "Proposal"), ("2026-08-02", "lose", TE)]),
    ("L4", "Staffing", "LinkedIn", "anna", 10000, "2026-07-05", "Proposal", None, [("2026-08-05", "lose", TE)]),
    ("L5", "Agencies", "HubSpot", "anna", 10000, "2026-07-06", "Proposal", None, [("2026-08-20", "lose", TE)]),
    ("L6", "Staffing", "HubSpot", "bob", 10000, "2026-08-01", "Proposal", None, [("2026-09-01", "lose", TE)]),
    ("L7", "Staffing", "Referral", "anna", 10000, "2026-08-10", "Proposal", None, [("2026-09-30", "lose", TE)]),
    ("L8", "Staffing", "Google", "anna", 5000, "2026-07-07", "Introduction", None,
     [("2026-07-17", "lose", COMPETITOR)]),
    ("L9", "Staffing", "Google", "anna", 5000, "2026-08-08", "Lead", None,
     [("2026-08-18", "move", "Introduction"), ("2026-08-28", "lose", COMPETITOR)]),
    ("L10", "Staffing", "LinkedIn", "anna", 20000, "2026-09-01", "Lead", None,
     [("2026-09-05", "move", "Negotiation"), ("2026-09-15", "lose", NO_CANDIDATES)]),
    ("X1", "Staffing", "HubSpot", "anna", 10000, "2026-09-10", "Proposal", None, [("2026-10-01", "lose", TE)]),
    ("B1", "Staffing", "Website", "anna", 6000, "2026-08-03", "Proposal", None,
     [("2026-08-13", "move", "Introduction"), ("2026-08-23", "move", "Proposal"), ("2026-10-20", "lose", CANCELLED)]),
    ("W1", "Staffing", "Referral", "anna", 30000, "2026-07-01", "Lead", None,
     [("2026-07-11", "move", "Negotiation"), ("2026-08-11", "win", "Good price")]),
    ("W2", "Staffing", "Referral", "anna", 20000, "2026-07-15", "Negotiation", None,
     [("2026-08-15", "move", "New client", "Good price")]),
    ("W3", "Staffing", "HubSpot", "bob", 10000, "2026-08-01", "Negotiation", None, [("2026-09-20", "win", "Good price")]),
    ("W4", "Staffing", "LinkedIn", "anna", 40000, "2026-06-30", "Proposal", None,
     [("2026-09-30", "win", "Strong candidates")]),
    ("W5", "Agencies", "Website", "anna", 15000, "2026-10-05", "Proposal", None,
     [("2026-11-02", "win", "Existing relationship")]),
    ("O1", "Staffing", "HubSpot", "anna", 5000, "2026-10-10", "Lead", "2026-11-20", []),
    ("O2", "Staffing", "Google", "anna", 8000, "2026-11-02", "Lead", "2026-11-29", []),
    ("O3", "Staffing", "LinkedIn", "anna", 12000, "2026-11-03", "Proposal", "2026-12-01", []),
    ("O4", "Agencies", "Website", "anna", 7000, "2026-11-04", "Proposal", "2026-12-31", []),
    ("O5", "Staffing", "HubSpot", "bob", 3000, "2026-11-05", "Negotiation", None, []),
    ("O6", "Staffing", "Referral", "anna", 9000, "2026-09-15", "Lead", "2027-02-10",
     [("2026-10-15", "move", "Introduction")]),
    ("Y1", "Staffing", "Google", "anna", 1000, "2025-03-01", "Lead", None, [("2025-12-31", "lose", CANCELLED)]),
    ("Y2", "Staffing", "Google", "anna", 2000, "2025-12-15", "Lead", None, [("2026-01-01", "lose", CANCELLED)]),
]


def _play(db: Path) -> None:
    runner = CliRunner()
    env = {"SALESSELECT_DB": str(db), "SALESSELECT_USER": "anna", "NO_COLOR": "1", "COLUMNS": "200",
           "SALESSELECT_TODAY": "2025-01-01"}

    if ON_POSTGRES:
        env["SALESSELECT_DB"] = login_url(str(db), "anna")

    def run(day: str, *args) -> str:
        result = runner.invoke(app, [str(a) for a in args], env={**env, "SALESSELECT_TODAY": day},
                               catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stderr)
        return result.stdout

    run("2025-01-01", "init")
    run("2025-01-01", "config", "import", str(SETUP_JSON))
    run("2025-01-01", "user", "add", "bob")
    steps, ids = [], {}
    for key, type_, source, owner, value, created, stage, close, events in DEALS:
        steps.append((created, "add", key, (type_, source, owner, value, stage, close)))
        steps += [(day, verb, key, args) for day, verb, *args in events]
    for day, verb, key, args in sorted(steps, key=lambda step: step[0]):  # stable: a deal's add comes first
        if verb == "add":
            type_, source, owner, value, stage, close = args
            extra = ["--close", close] if close else []
            ids[key] = int(run(day, "opp", "add", key, "--company", f"{key} BV", "--type", type_, "--source",
                               source, "--owner", owner, "--value", value, "--stage", stage, *extra))
        elif verb == "move":
            reason = ["--reason", args[1]] if len(args) > 1 else []
            run(day, "opp", "move", ids[key], args[0], *reason)
        else:
            run(day, "opp", verb, ids[key], "--reason", args[0])


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory) -> Path | None:
    if ON_POSTGRES:
        return None  # played into the first test's database, then a template database (conftest)
    db = tmp_path_factory.mktemp("seed") / "seed.db"
    _play(db)
    return db


@pytest.fixture
def seeded(seeded_file, isolated):
    """The played database at this test's $SALESSELECT_DB."""
    if ON_POSTGRES:
        from tests.conftest import from_template

        from_template("seeded", isolated, lambda: _play(os.environ["SALESSELECT_DB"]))
        return os.environ["SALESSELECT_DB"]
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(seeded_file) + suffix)
        if source.exists():
            shutil.copy(source, Path(str(isolated / "sales.db") + suffix))
    return seeded_file


@pytest.fixture
def report(seeded, ok):
    """report('winloss', '--period', 'last-quarter') -> parsed JSON rows."""

    def run(name: str, *args: str, **kwargs):
        return ok("report", name, *args, "--format", "json", **kwargs).json()

    return run


def by(rows: list[dict], *keys: str) -> dict:
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


# ------------------------------------------------------------------------------------------ winloss


def test_winloss_last_quarter_every_number(report):
    rows = report("winloss", "--period", "last-quarter")
    assert [(r["status"], r["stage"], r["reason"], r["count"], r["value"], r["share"], r["value_share"],
             r["status_count"]) for r in rows] == [
        ("lost", "Proposal", TE, 7, "70000.00", 70.0, 70.0, 10),
        ("lost", "Introduction", COMPETITOR, 2, "10000.00", 20.0, 10.0, 10),
        ("lost", "Negotiation", NO_CANDIDATES, 1, "20000.00", 10.0, 20.0, 10),
        ("won", "Negotiation", "Good price", 3, "60000.00", 75.0, 60.0, 4),
        ("won", "Proposal", "Strong candidates", 1, "40000.00", 25.0, 40.0, 4),
    ]
    assert list(rows[0])[:6] == ["status", "stage", "reason", "count", "value", "share"]


def test_winloss_headline_answers_the_managers_question(seeded, ok):
    out = ok("report", "winloss", "--period", "last-quarter").stdout
    first = out.splitlines()[0]
    assert first == "70.0% of lost deals (7 of 10) were lost in Proposal with reason Too expensive"
    assert "Lost: 10 deals, closed last-quarter (2026-07-01 to 2026-09-30)" in out
    assert "Won: 4 deals" in out
    assert "█" * 7 in out  # the 70% bar
    assert "€70,000" in out and out.index("Too expensive") < out.index("Chose a competitor")


def test_winloss_period_boundaries(report):
    same = report("winloss", "--period", "2026-Q3")
    assert same == report("winloss", "--from", "2026-07-01", "--to", "2026-09-30")
    assert same == report("winloss", "--from", "01-07-2026", "--to", "30-09-2026")
    inner = report("winloss", "--from", "2026-07-02", "--to", "2026-09-29")  # drops L1, L7 and W4
    assert [(r["status"], r["reason"], r["count"], r["share"]) for r in inner] == [
        ("lost", TE, 5, 62.5), ("lost", COMPETITOR, 2, 25.0), ("lost", NO_CANDIDATES, 1, 12.5),
        ("won", "Good price", 3, 100.0),
    ]
    october = report("winloss", "--period", "last-month")  # X1 on the day after the quarter, B1
    assert [(r["status"], r["stage"], r["reason"], r["count"], r["value"], r["share"]) for r in october] == [
        ("lost", "Proposal", TE, 1, "10000.00", 50.0), ("lost", "Proposal", CANCELLED, 1, "6000.00", 50.0),
    ]
    july = report("winloss", "--period", "2026-07")
    assert [(r["reason"], r["count"], r["share"]) for r in july] == [(TE, 2, 66.7), (COMPETITOR, 1, 33.3)]
    this_quarter = report("winloss")  # the default
    assert [(r["status"], r["reason"], r["count"]) for r in this_quarter] == [
        ("lost", TE, 1), ("lost", CANCELLED, 1), ("won", "Existing relationship", 1)]
    year = by(report("winloss", "--period", "this-year"), "status", "stage", "reason")
    assert year["lost", "Proposal", TE]["count"] == 8 and year["lost", "Proposal", TE]["status_count"] == 13
    assert year["lost", "Proposal", TE]["share"] == 61.5
    assert year["lost", "Lead", CANCELLED]["count"] == 1  # Y2, on 1 January
    assert year["lost", "Proposal", CANCELLED]["count"] == 1  # B1
    assert year["won", "Negotiation", "Good price"]["status_count"] == 5
    everything = report("winloss", "--period", "all")
    assert sum(r["count"] for r in everything if r["status"] == "lost") == 14  # L1-L10, X1, B1, Y1, Y2
    assert everything[0]["status_count"] == 14 and everything[0]["count"] == 8
    until_2025 = report("winloss", "--to", "2025-12-31")
    assert [(r["reason"], r["count"]) for r in until_2025] == [(CANCELLED, 1)]
    last_year = report("winloss", "--period", "last-year")  # Y1 on 31 December only
    assert [(r["reason"], r["count"], r["value"]) for r in last_year] == [(CANCELLED, 1, "1000.00")]


def test_winloss_last_quarter_seen_from_another_day(seeded, ok):
    rows = ok("report", "winloss", "--period", "last-quarter", "--format", "json",
              env={"SALESSELECT_TODAY": "2026-10-01"}).json()
    assert rows[0]["count"] == 7 and rows[0]["share"] == 70.0
    winter = ok("report", "winloss", "--period", "last-quarter", "--format", "json",
                env={"SALESSELECT_TODAY": "2026-02-10"}).json()
    assert [(r["reason"], r["count"]) for r in winter] == [(CANCELLED, 1)]  # Y1, 2025-Q4


def test_winloss_filters(report):
    bob = report("winloss", "--period", "last-quarter", "--owner", "BOB")
    assert [(r["status"], r["stage"], r["reason"], r["count"], r["share"]) for r in bob] == [
        ("lost", "Proposal", TE, 2, 100.0), ("won", "Negotiation", "Good price", 1, 100.0)]
    agencies = report("winloss", "--period", "last-quarter", "--type", "agencies")
    assert [(r["status"], r["reason"], r["count"], r["value"]) for r in agencies] == [("lost", TE, 1, "10000.00")]
    google = report("winloss", "--period", "last-quarter", "--source", "Google")
    assert [(r["stage"], r["reason"], r["count"], r["share"]) for r in google] == [
        ("Introduction", COMPETITOR, 2, 66.7), ("Proposal", TE, 1, 33.3)]
    both = report("winloss", "--period", "last-quarter", "--source", "HubSpot", "--owner", "anna")
    assert [(r["reason"], r["count"]) for r in both] == [(TE, 2)]  # L2, L5


def test_winloss_this_month_has_no_losses(seeded, ok):
    out = ok("report", "winloss", "--period", "this-month").stdout
    assert out.splitlines()[0] == "No deals were lost in this period (1 won)."
    assert "Existing relationship" in out


# ------------------------------------------------------------------------------------------ sources


def test_sources_last_quarter_every_number(report):
    rows = report("sources", "--period", "last-quarter")
    assert [tuple(r.values()) for r in rows] == [
        ("HubSpot", 5, 1, 4, 0, 20.0, 20.0, "10000.00", "10000.00", 33.0, False),
        ("Referral", 4, 2, 1, 1, 50.0, 66.7, "50000.00", "25000.00", 41.0, False),
        ("Google", 3, 0, 3, 0, 0.0, 0.0, "0.00", None, 20.0, False),
        ("LinkedIn", 2, 0, 2, 0, 0.0, 0.0, "0.00", None, 22.5, False),
        ("Website", 1, 0, 1, 0, 0.0, 0.0, "0.00", None, 78.0, False),
        ("Total", 15, 3, 11, 1, 20.0, 21.4, "60000.00", "20000.00", 33.6, True),
    ]
    assert list(rows[0])[:8] == ["source", "created", "won", "lost", "open", "conversion_rate", "win_rate", "revenue"]


def test_sources_filters_and_boundaries(report):
    bob = report("sources", "--period", "last-quarter", "--owner", "bob")  # L6, W3 (L1 was created in June)
    assert [(r["source"], r["created"], r["won"], r["lost"], r["win_rate"], r["average_days_to_close"])
            for r in bob] == [("HubSpot", 2, 1, 1, 50.0, 40.5), ("Total", 2, 1, 1, 50.0, 40.5)]
    june_last_day = report("sources", "--from", "2026-06-30", "--to", "2026-06-30")  # W4 only
    assert [(r["source"], r["created"], r["won"], r["revenue"], r["average_days_to_close"])
            for r in june_last_day] == [("LinkedIn", 1, 1, "40000.00", 92.0), ("Total", 1, 1, "40000.00", 92.0)]
    open_only = report("sources", "--period", "this-month", "--type", "Staffing")  # O2, O3, O5
    total = open_only[-1]
    assert (total["created"], total["open"], total["conversion_rate"], total["win_rate"],
            total["average_deal_size"], total["average_days_to_close"]) == (3, 3, 0.0, None, None, None)
    website = report("sources", "--period", "this-quarter", "--source", "website")  # W5 won, O4 open
    assert [(r["source"], r["created"], r["won"], r["open"], r["conversion_rate"], r["win_rate"])
            for r in website] == [("Website", 2, 1, 1, 50.0, 100.0), ("Total", 2, 1, 1, 50.0, 100.0)]


def test_sources_table_has_a_total_row_and_bars(seeded, ok):
    out = ok("report", "sources", "--period", "last-quarter").stdout
    lines = out.splitlines()
    assert "Deals created last-quarter (2026-07-01 to 2026-09-30), by source" in lines[0]
    total = next(line for line in lines if line.strip().startswith("Total"))
    assert "15" in total and "€60,000" in total and "20.0%" in total and "21.4%" in total
    referral = next(line for line in lines if line.strip().startswith("Referral"))
    assert "█████ " in referral and "66.7%" in referral


# ------------------------------------------------------------------------------------------ pipeline


def test_pipeline_per_stage_every_number(report):
    rows = report("pipeline")
    assert [(r["stage"], r["count"], r["value"], r["red"], r["orange"], r["overdue"]) for r in rows] == [
        ("Lead", 2, "13000.00", 2, 0, 1),
        ("Introduction", 1, "9000.00", 0, 0, 0),
        ("Proposal", 2, "19000.00", 0, 1, 0),
        ("Negotiation", 1, "3000.00", 0, 0, 0),
        ("Framework agreement", 0, "0.00", 0, 0, 0),
    ]
    assert [r["share"] for r in rows] == [33.3, 16.7, 33.3, 16.7, 0.0]
    assert list(rows[0])[:6] == ["stage", "count", "value", "red", "orange", "overdue"]


def test_pipeline_by_month(report):
    rows = report("pipeline", "--by", "month")
    assert [(r["month"], r["count"], r["value"], r["red"], r["orange"], r["overdue"]) for r in rows] == [
        ("earlier", 0, "0.00", 0, 0, 0),
        ("2026-11", 2, "13000.00", 2, 0, 1),
        ("2026-12", 2, "19000.00", 0, 1, 0),
        ("2027-01", 0, "0.00", 0, 0, 0),
        ("2027-02", 1, "9000.00", 0, 0, 0),
        ("2027-03", 0, "0.00", 0, 0, 0),
        ("2027-04", 0, "0.00", 0, 0, 0),
        ("later", 0, "0.00", 0, 0, 0),
        ("no date", 1, "3000.00", 0, 0, 0),
    ]
    short = report("pipeline", "--by", "month", "--months", "2")
    assert [(r["month"], r["count"]) for r in short] == [
        ("earlier", 0), ("2026-11", 2), ("2026-12", 2), ("later", 1), ("no date", 1)]
    next_year = report("pipeline", "--by", "month", "--months", "1", env={"SALESSELECT_TODAY": "2027-01-05"})
    assert [(r["month"], r["count"], r["overdue"]) for r in next_year] == [
        ("earlier", 4, 4), ("2027-01", 0, 0), ("later", 1, 0), ("no date", 1, 0)]


def test_pipeline_filters_and_close_period(report):
    agencies = report("pipeline", "--type", "Agencies")
    assert [(r["stage"], r["count"], r["value"]) for r in agencies] == [
        ("Lead", 0, "0.00"), ("Introduction", 0, "0.00"), ("Proposal", 1, "7000.00"),
        ("Framework agreement", 0, "0.00")]
    bob = [r for r in report("pipeline", "--owner", "bob") if r["count"]]
    assert [(r["stage"], r["count"]) for r in bob] == [("Negotiation", 1)]
    google = [r for r in report("pipeline", "--source", "google") if r["count"]]
    assert [(r["stage"], r["count"], r["red"], r["overdue"]) for r in google] == [("Lead", 1, 1, 0)]
    this_month = [r for r in report("pipeline", "--period", "this-month") if r["count"]]
    assert [(r["stage"], r["count"], r["overdue"]) for r in this_month] == [("Lead", 2, 1)]
    ahead = [r for r in report("pipeline", "--from", "2026-12-01") if r["count"]]  # O3, O4, O6; not O5 (no date)
    assert [(r["stage"], r["count"]) for r in ahead] == [("Introduction", 1), ("Proposal", 2)]
    december = [r for r in report("pipeline", "--period", "2026-12") if r["count"]]
    assert [(r["stage"], r["count"], r["orange"]) for r in december] == [("Proposal", 2, 1)]


def test_pipeline_table_shows_both_sections(seeded, ok):
    out = ok("report", "pipeline").stdout
    assert "Open pipeline on 2026-11-27: 6 deals, €44,000" in out
    assert "By expected close month" in out
    lead = next(line for line in out.splitlines() if line.strip().startswith("Lead"))
    assert lead.split()[:6] == ["Lead", "2", "€13,000", "2", "0", "1"]
    only_months = ok("report", "pipeline", "--by", "month").stdout
    assert "Open pipeline" not in only_months and "2027-02" in only_months


# ------------------------------------------------------------------------------------------ stages


def test_stages_last_quarter_every_number(report):
    rows = report("stages", "--period", "last-quarter")
    assert list(rows[0])[:8] == ["stage", "entered", "moved_on", "lost", "won", "median_days", "average_days",
                                 "conversion"]
    got = [(r["stage"], r["entered"], r["moved_on"], r["lost"], r["won"], r["median_days"], r["average_days"],
            r["conversion"], r["conversion_to_won"], r["moved_back"], r["still_there"]) for r in rows]
    assert got == [
        ("Lead", 6, 6, 0, 0, 10.0, 12.0, 100.0, 16.7, 0, 0),
        ("Introduction", 4, 2, 2, 0, 10.0, 10.0, 50.0, 0.0, 0, 0),
        ("Proposal", 9, 0, 8, 0, 31.0, 29.7, 0.0, 0.0, 1, 0),
        ("Negotiation", 4, 0, 1, 3, 31.0, 30.5, 75.0, 75.0, 0, 0),
        ("Framework agreement", 0, 0, 0, 0, None, None, None, None, 0, 0),
    ]


def test_stages_this_quarter_counts_time_until_today(report):
    rows = by(report("stages"), "stage")
    lead, intro, proposal, negotiation = (rows[s] for s in ("Lead", "Introduction", "Proposal", "Negotiation"))
    assert (lead["entered"], lead["still_there"], lead["median_days"], lead["average_days"]) == (2, 2, 36.5, 36.5)
    assert (intro["entered"], intro["median_days"]) == (1, 43.0)
    assert (proposal["entered"], proposal["won"], proposal["still_there"], proposal["median_days"],
            proposal["average_days"], proposal["conversion"], proposal["conversion_to_won"]) == (
        3, 1, 2, 24.0, 25.0, 33.3, 33.3)
    assert (negotiation["entered"], negotiation["median_days"]) == (1, 22.0)


def test_stages_filters(report):
    agencies = report("stages", "--period", "last-quarter", "--type", "Agencies")
    assert [(r["stage"], r["entered"], r["lost"], r["median_days"]) for r in agencies] == [
        ("Lead", 0, 0, None), ("Introduction", 0, 0, None), ("Proposal", 1, 1, 45.0),
        ("Framework agreement", 0, 0, None)]
    bob = [r for r in report("stages", "--period", "last-quarter", "--owner", "bob") if r["entered"]]
    assert [(r["stage"], r["entered"], r["lost"], r["won"], r["median_days"]) for r in bob] == [
        ("Proposal", 1, 1, 0, 31.0), ("Negotiation", 1, 0, 1, 50.0)]
    referral = [r for r in report("stages", "--period", "2026-07", "--source", "Referral") if r["entered"]]
    assert [(r["stage"], r["entered"], r["moved_on"], r["won"]) for r in referral] == [
        ("Lead", 1, 1, 0), ("Negotiation", 2, 0, 2)]  # W1 and W2


def test_stages_table(seeded, ok):
    out = ok("report", "stages", "--period", "last-quarter").stdout
    assert out.startswith("Stage funnel: deals that entered a stage last-quarter")
    negotiation = next(line for line in out.splitlines() if line.strip().startswith("Negotiation"))
    assert negotiation.split()[:8] == ["Negotiation", "4", "0", "1", "3", "0", "31.0", "30.5"]
    assert "75.0%" in negotiation and "███████▌" in negotiation


# ------------------------------------------------------------------------------------------ every report


@pytest.mark.parametrize("name, args, message", [
    ("winloss", ["--period", "2026-03"], "Nothing in this period: no opportunities were closed 2026-03 "
                                         "(2026-03-01 to 2026-03-31)."),
    ("sources", ["--period", "2024"], "Nothing in this period: no opportunities were created 2024"),
    ("stages", ["--period", "2024-Q2"], "Nothing in this period: no opportunity entered a stage 2024-Q2"),
    ("pipeline", ["--period", "2030"], "Nothing in the pipeline: no open opportunities, expected to close 2030"),
    ("winloss", ["--period", "last-quarter", "--owner", "kim"], "[owner kim]"),
    ("stages", ["--period", "last-quarter", "--type", "Agencies", "--source", "Referral"], "Nothing in this period"),
])
def test_empty_periods_say_so(seeded, ok, name, args, message):
    ok("user", "add", "kim")
    out = ok("report", name, *args).stdout
    assert message in out
    assert "─" not in out  # no empty table
    assert ok("report", name, *args, "--format", "json").json() == []
    rows = list(csv.reader(io.StringIO(ok("report", name, *args, "--format", "csv").stdout)))
    assert len(rows) == 1 and rows[0][0] in ("status", "source", "stage")


def test_empty_database_reports_nothing(agency, ok):
    for name in ("winloss", "sources", "pipeline", "stages"):
        run = ok("report", name)
        assert run.stdout.startswith("Nothing in"), name
        assert run.stderr == ""


@pytest.mark.parametrize("name, first_keys", [
    ("winloss", ["status", "stage", "reason", "count", "value", "share"]),
    ("sources", ["source", "created", "won", "lost", "open", "conversion_rate", "win_rate", "revenue"]),
    ("pipeline", ["stage", "count", "value", "red", "orange", "overdue"]),
    ("stages", ["stage", "entered", "moved_on", "lost", "won", "median_days", "average_days", "conversion"]),
])
def test_csv_parses_back_to_the_json(seeded, ok, tmp_path, name, first_keys):
    args = ["--period", "last-quarter"] if name != "pipeline" else []
    rows = ok("report", name, *args, "--format", "json").json()
    target = tmp_path / f"{name}.csv"
    run = ok("report", name, *args, "--format", "csv", "--output", target)
    assert run.stdout == ""
    text = target.read_bytes().decode("utf-8")
    assert "\r\n" in text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0])[:len(first_keys)] == first_keys
    assert len(parsed) == len(rows)
    for json_row, csv_row in zip(rows, parsed):
        for key, value in json_row.items():
            if key == "opportunity_ids":  # a list of ids: JSON only
                continue
            expected = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
            assert csv_row[key] == expected, (key, csv_row)


def test_output_file_for_json_and_table(seeded, ok, tmp_path):
    target = tmp_path / "winloss.json"
    run = ok("report", "winloss", "--period", "last-quarter", "--format", "json", "--output", target)
    assert run.stdout == ""
    assert json.loads(target.read_text())[0]["share"] == 70.0
    table = tmp_path / "winloss.txt"
    ok("report", "winloss", "--period", "last-quarter", "--output", table)
    assert table.read_text().startswith("70.0% of lost deals (7 of 10)")


def test_csv_is_formula_safe(agency, ok):
    ok("config", "add-source", "=HYPERLINK(\"x\")")
    ok("config", "add-reason", "@budget", "--status", "lost")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "=HYPERLINK(\"x\")",
                 "--value", "100").stdout)
    ok("opp", "lose", opp, "--reason", "@budget")
    sources = list(csv.reader(io.StringIO(ok("report", "sources", "--format", "csv").stdout)))
    assert sources[1][0] == "'=HYPERLINK(\"x\")"
    winloss = list(csv.reader(io.StringIO(ok("report", "winloss", "--format", "csv").stdout)))
    assert winloss[1][:3] == ["lost", "Lead", "'@budget"]
    assert ok("report", "winloss", "--format", "json").json()[0]["reason"] == "@budget"  # JSON stays exact


def test_reports_are_for_every_user(seeded, ok):
    rows = ok("report", "winloss", "--period", "last-quarter", "--format", "json",
              env={"SALESSELECT_USER": "bob"}).json()
    assert rows[0]["count"] == 7


@pytest.mark.parametrize("args, message", [
    (["winloss", "--period", "next-week"], "Error: unknown period 'next-week'; use this-month,"),
    (["sources", "--period", "2026-13"], "Error: period '2026-13': month must be 01 to 12"),
    (["stages", "--period", "last-year", "--from", "2026-01-01"], "Error: use --period or --from/--to, not both"),
    (["winloss", "--from", "2026-09-02", "--to", "2026-09-01"], "Error: --from 2026-09-02 is after --to 2026-09-01"),
    (["winloss", "--from", "someday"], "Error: cannot read date 'someday'"),
    (["sources", "--type", "Staff"], "Error: unknown business type 'Staff'; valid: Staffing, Agencies"),
    (["pipeline", "--owner", "bobby"], "Error: unknown user 'bobby'; valid: bob, anna"),
    (["stages", "--source", "Linked"], "Error: unknown source 'Linked'; valid: LinkedIn,"),
])
def test_refusals(seeded, cli, args, message):
    run = cli("report", *args)
    assert run.exit_code == 1
    assert run.stderr.startswith(message), run.stderr
    assert run.stdout == ""


def test_usage_errors_keep_exit_2(seeded, cli):
    assert cli("report", "pipeline", "--months", "0").exit_code == 2
    assert cli("report", "pipeline", "--by", "week").exit_code == 2
    assert cli("report", "winloss", "--format", "xml").exit_code == 2


def test_every_report_has_help(cli):
    for name in ("winloss", "sources", "pipeline", "stages"):
        run = cli("report", name, "--help")
        assert run.exit_code == 0 and "--period" in run.stdout and "--format" in run.stdout


def test_seed_is_what_the_docstring_says(seeded, ok):
    """Guards the data set itself: 25 deals, closing dates where the tests expect them."""
    deals = ok("opp", "list", "--status", "all", "--format", "json").json()
    assert len(deals) == len(DEALS)
    closed = {d["title"]: d["closed"] for d in deals if d["closed"]}
    assert closed["L1"] == "2026-07-01" and closed["L7"] == "2026-09-30" and closed["X1"] == "2026-10-01"
    assert TODAY == dt.date(2026, 11, 27)


@pytest.mark.sqlite_only
def test_report_indexes_come_by_migration(db, tmp_path):
    """m002 adds the report indexes to a new file and to a file made before it existed."""
    import sqlite3

    path = tmp_path / "sales.db"

    def names() -> set:
        with sqlite3.connect(path) as conn:
            return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'idx_report_%'")}

    # m004 dropped the history-by-time index once stage_visits (m003) took over the funnel
    assert names() == {"idx_report_closed", "idx_report_created", "idx_report_open"}
    conn = sqlite3.connect(path)
    for name in names():
        conn.execute(f"DROP INDEX {name}")
    conn.execute("DELETE FROM salesselect_migrations WHERE name = 'm002_report_indexes'")
    conn.commit()
    conn.close()
    assert names() == set()
    runner = CliRunner()
    result = runner.invoke(app, ["report", "pipeline"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert len(names()) == 4


@pytest.mark.parametrize("width", [59, 60, 80, 100, 120])
@pytest.mark.parametrize("args", [["winloss", "--period", "2026-Q3"], ["sources", "--period", "2026"],
                                  ["pipeline"], ["stages", "--period", "2026"]])
def test_tables_never_cut_numbers_at_any_width(seeded, cli, args, width):
    """From 60 columns a report keeps one line per row, leaving out its last columns (named below it) rather than
    cutting a number; narrower terminals stack a table that does not fit (one block per row, every column)."""
    run = cli("report", *args, env={"COLUMNS": str(width)})
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    rows = cli("report", *args, "--format", "json").json()
    if width < 60 and args[0] in ("sources", "stages"):  # too many columns: stacked, every label there
        headers = {"sources": ["Source: ", "Conversion: ", "Win rate: ", "Revenue: ", "Days to close: "],
                   "stages": ["Stage: ", "Median days: ", "Avg days: ", "Conversion: ", "To won: "]}[args[0]]
        for header in headers:
            assert run.stdout.count(header) >= 3, header
        assert "Left out" not in run.stdout
    elif width >= 60:
        assert not any(line.startswith(("Source: ", "Stage: ", "Conversion: ")) for line in lines)
        name = {"winloss": "reason", "sources": "source", "pipeline": "stage", "stages": "stage"}[args[0]]
        for row in rows:
            if row.get(name) and len(row[name]) <= 12:  # a short name is never shortened: its row is one line
                found = [line for line in lines if line.lstrip().startswith(row[name] + " ") or f" {row[name]} " in line]
                assert found, row[name]
        left = [line for line in lines if line.startswith("Left out: ")]
        if width >= 120:
            assert not left
        for line in left:
            assert "--format csv/json" in " ".join(part.strip() for part in lines[lines.index(line):])
    for row in rows[:3]:
        for key in ("count", "entered", "created"):
            if key in row:
                assert str(row[key]) in run.stdout
    for cell in run.stdout.split():
        assert not (cell.endswith("…") and cell[:-1].replace(",", "").replace("€", "").replace(".", "").isdigit())
