"""The deals behind every win/loss number: opp list's closed filters and sort, the report's drill-down."""

from __future__ import annotations

import shlex

import pytest

from salesselect_cli.commands.report import drilldown_words, shell_lines
from salesselect_cli.model import OpportunityFilter
from salesselect_cli.rules.periods import named_period, resolve_period
from tests.conftest import TODAY, add_opp

LAST_QUARTER = [  # (closing day, stage it was lost from, reason) — ten deals lost in 2026-Q3
    ("2026-07-02", "Proposal", "Too expensive"), ("2026-07-15", "Proposal", "Too expensive"),
    ("2026-08-01", "Proposal", "Too expensive"), ("2026-08-19", "Proposal", "Too expensive"),
    ("2026-09-01", "Proposal", "Too expensive"), ("2026-09-10", "Proposal", "Too expensive"),
    ("2026-09-30", "Proposal", "Too expensive"), ("2026-07-20", "Introduction", "Chose a competitor"),
    ("2026-08-25", "Introduction", "Chose a competitor"), ("2026-09-05", "Proposal", "No candidates"),
]


def _lose(ok, day, stage, reason, how="lose"):
    ident = add_opp(ok, f"Lost {day}", "Acme", "Staffing", "HubSpot", "--value", "1000")
    if stage != "Lead":
        ok("opp", "move", ident, stage, "--no-workflows")
    env = {"SALESSELECT_TODAY": day}
    if how == "lose":
        ok("opp", "lose", ident, "--reason", reason, env=env)
    else:
        ok("opp", "move", ident, "Lost", "--reason", reason, env=env)
    return ident


@pytest.fixture
def manual(agency, ok):
    """The manual's question: ten deals lost last quarter, seven of them in Proposal as Too expensive."""
    ids = [_lose(ok, day, stage, reason, "lose" if n % 2 else "move")
           for n, (day, stage, reason) in enumerate(LAST_QUARTER)]
    seven = [ident for ident, (_, stage, reason) in zip(ids, LAST_QUARTER)
             if (stage, reason) == ("Proposal", "Too expensive")]
    # around it: one lost in Proposal this quarter, one in Q2, one won from Proposal in Q3, one open
    _lose(ok, "2026-10-01", "Proposal", "Too expensive")
    _lose(ok, "2026-06-30", "Proposal", "Too expensive")
    won = add_opp(ok, "Won", "Beta")
    ok("opp", "move", won, "Proposal")
    ok("opp", "win", won, "--reason", "Good price", env={"SALESSELECT_TODAY": "2026-08-08"})
    ok("opp", "move", add_opp(ok, "Open", "Gamma"), "Proposal")
    return seven


def _printed_command(report: str) -> str:
    """The drill-down command under the report's first table, its continuation lines joined as a shell would."""
    lines = report.splitlines()
    start = lines.index("Deals behind the top row:") + 1
    command = lines[start]
    while command.endswith(" \\"):
        start += 1
        command = command[:-2] + " " + lines[start].strip()
    return command


def _ids(ok, *args):
    return [r["id"] for r in ok("opp", "list", *args, "--format", "json").json()]


def test_the_report_prints_the_command_that_lists_the_seven(manual, ok):
    report = ok("report", "winloss", "--period", "last-quarter").stdout
    assert "70.0% of lost deals (7 of 10) were lost in Proposal with reason Too expensive" in report
    command = _printed_command(report)
    assert command == ("salesselect opp list --status lost --closed-in last-quarter --closed-from Proposal "
                       "--reason 'Too expensive'")
    words = shlex.split(command)
    assert words[:3] == ["salesselect", "opp", "list"]
    assert _ids(ok, *words[3:]) == sorted(manual)
    rows = ok("report", "winloss", "--period", "last-quarter", "--format", "json").json()
    assert rows[0]["opportunity_ids"] == sorted(manual)
    assert sum(len(r["opportunity_ids"]) for r in rows) == sum(r["count"] for r in rows) == 11
    assert all(len(r["opportunity_ids"]) == r["count"] for r in rows)
    csv_header = ok("report", "winloss", "--period", "last-quarter", "--format", "csv").stdout.splitlines()[0]
    assert "opportunity_ids" not in csv_header


def test_closed_filters(manual, ok):
    assert len(_ids(ok, "--closed-in", "last-quarter")) == 11  # every status once a closed filter is given
    assert len(_ids(ok, "--status", "lost", "--closed-in", "2026-Q3")) == 10
    assert len(_ids(ok, "--status", "lost", "--closed-in", "2026-08")) == 3
    assert _ids(ok, "--status", "lost", "--closed-after", "2026-09-30", "--closed-before", "2026-10-01") == \
        [manual[-1], manual[-1] + 4]
    assert len(_ids(ok, "--closed-in", "all", "--status", "lost")) == 12
    assert len(_ids(ok, "--closed-from", "proposal", "--reason", "too expensive")) == 9
    assert _ids(ok, "--closed-from", "Proposal", "--status", "won") == [manual[-1] + 6]
    records = ok("opp", "list", "--closed-in", "last-quarter", "--closed-from", "Introduction", "--format",
                 "json").json()
    assert {(r["stage"], r["closed_from"], r["reason"]) for r in records} == {("Lost", "Introduction",
                                                                               "Chose a competitor")}
    assert "closed_from" in ok("opp", "list", "--status", "all", "--format", "csv").stdout.splitlines()[0]
    [open_one] = ok("opp", "list", "--format", "json").json()
    assert open_one["closed_from"] is None
    assert _ids(ok, "--closed-in", "this-month") == []
    assert ok("opp", "list", "--closed-in", "this-month").stdout == "No opportunities match.\n"


@pytest.mark.parametrize("args, message", [
    (("--closed-in", "someday"), "unknown period 'someday'; use this-month"),
    (("--closed-in", "2026-13"), "month must be 01 to 12"),
    (("--closed-in", "last-month", "--closed-after", "2026-01-01"), "use --closed-in or --closed-after/--closed-before"),
    (("--closed-after", "2026-09-01", "--closed-before", "2026-08-01"), "--closed-after 2026-09-01 is after"),
    (("--closed-after", "whenever"), "whenever"),
    (("--closed-from", "Propsal"), "unknown stage 'Propsal'; valid: Proposal"),
    (("--reason", "Too expensiv"), "unknown reason 'Too expensiv'; valid: Too expensive"),
    (("--status", "won", "--reason", "Too expensive"), "reason 'Too expensive' is a lost reason, not a won reason"),
    (("--sort", "price"), "unknown sort field 'price'; valid:"),
    (("--desc",), "--desc needs --sort FIELD"),
])
def test_refusals(agency, cli, args, message):
    run = cli("opp", "list", *args)
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr.startswith("Error: ") and message in run.stderr and len(run.stderr.splitlines()) == 1
    assert "--from/--to" not in run.stderr


def test_sort_orders_and_default_unchanged(agency, ok):
    a = add_opp(ok, "beta", "Zeta", "Staffing", "HubSpot", "--value", "500", "--close", "2026-12-20")
    b = add_opp(ok, "Alpha", "acme", "Staffing", "HubSpot", "--value", "9000", "--owner", "bob")
    c = add_opp(ok, "gamma", "Mid", "Staffing", "HubSpot", "--value", "700", "--close", "2026-12-01", "--stage",
                "Proposal")
    d = add_opp(ok, "delta", "Mid", "Staffing", "HubSpot", "--value", "700", "--close", "2026-12-10")
    assert _ids(ok) == [d, a, b, c]  # stage, then expected close (undated last), then id
    assert _ids(ok, "--sort", "value") == [a, c, d, b]
    assert _ids(ok, "--sort", "value", "--desc") == [b, c, d, a]
    assert _ids(ok, "--sort", "close") == [c, d, a, b]
    assert _ids(ok, "--sort", "close", "--desc") == [a, d, c, b]  # undated last either way
    assert _ids(ok, "--sort", "days-left") == [c, d, a, b]
    assert _ids(ok, "--sort", "title") == [b, a, d, c]
    assert _ids(ok, "--sort", "Company") == [b, c, d, a]
    assert _ids(ok, "--sort", "owner", "--desc") == [b, a, c, d]
    assert _ids(ok, "--sort", "stage", "--desc") == [c, a, b, d]
    assert _ids(ok, "--sort", "created") == [a, b, c, d]
    ok("opp", "lose", a, "--reason", "Too expensive", env={"SALESSELECT_TODAY": "2026-10-01"})
    ok("opp", "win", c, env={"SALESSELECT_TODAY": "2026-09-01"})
    assert _ids(ok, "--status", "all", "--sort", "closed") == [c, a, b, d]
    assert _ids(ok, "--status", "all", "--sort", "closed", "--desc") == [a, c, b, d]


def test_search_matches_contact_vacancy_and_notes(agency, ok):
    contact = add_opp(ok, "One", "Acme", "Staffing", "HubSpot", "--contact", "Jan de Vries")
    vacancy = add_opp(ok, "Two", "Acme", "Staffing", "HubSpot", "--vacancy", "VAC-042")
    notes = add_opp(ok, "Three", "Acme", "Staffing", "HubSpot", "--note", "Prefers 50% by phone")
    assert _ids(ok, "-q", "de vries") == [contact]
    assert _ids(ok, "-q", "vac-04") == [vacancy]
    assert _ids(ok, "-q", "50%") == [notes]
    assert _ids(ok, "-q", "acme") == [contact, vacancy, notes]


def test_drilldown_words_for_every_period_kind():
    row = {"status": "won", "stage": "Framework agreement", "reason": None}
    flt = OpportunityFilter(business_type="Agencies", owner="bob", source=None, status=None)
    assert drilldown_words(row, named_period("2026-Q3", TODAY), flt) == [
        "salesselect opp list", "--status won", "--closed-in 2026-Q3", "--closed-from 'Framework agreement'",
        "--type Agencies", "--owner bob"]
    custom = resolve_period(None, None, named_period("2026-07", TODAY).end, TODAY)
    assert drilldown_words(row, custom, OpportunityFilter())[2:3] == ["--closed-before 2026-07-31"]
    row = {"status": "lost", "stage": "Lead", "reason": "It's $pricey"}
    assert drilldown_words(row, named_period("all", TODAY), OpportunityFilter())[-1] == \
        "--reason 'It'\"'\"'s $pricey'"


def test_shell_lines_fit_the_width_and_read_back_as_one_command():
    words = ["salesselect opp list", "--status lost", "--closed-in last-quarter", "--closed-from Proposal",
             "--reason 'Too expensive'"]
    assert shell_lines(words, 200) == [" ".join(words)]
    lines = shell_lines(words, 40)
    assert all(len(line) <= 40 for line in lines) and len(lines) > 2
    # a shell drops backslash-newline; shlex does not know it
    assert shlex.split("\n".join(lines).replace("\\\n", "")) == shlex.split(" ".join(words))


def test_narrow_report_wraps_the_command(manual, cli):
    run = cli("report", "winloss", "--period", "last-quarter", env={"COLUMNS": "60"})
    assert run.exit_code == 0
    assert max(len(line) for line in run.stdout.splitlines()) <= 60
    assert "\\\n" in run.stdout
    assert shlex.split(_printed_command(run.stdout))[4:] == ["lost", "--closed-in", "last-quarter", "--closed-from", "Proposal", "--reason",
                                     "Too expensive"]
