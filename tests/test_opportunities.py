"""Opportunities end to end: add, list, show, edit, move, win, lose, reopen, delete, history."""

from __future__ import annotations

import re

import pytest

from tests.conftest import add_opp

KEYS = ["id", "title", "company", "contact", "business_type", "stage", "source", "value", "expected_close",
        "owner", "status", "reason", "vacancy", "created", "closed", "days_left", "indicator", "next_followup",
        "closed_from", "external_key", "probability", "probability_basis"]


def err(run) -> str:
    assert run.stderr.startswith("Error: ") and run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def show(ok, opp) -> dict:
    return ok("opp", "show", opp, "--format", "json").json()


def test_add_with_every_field_and_json_shape(agency, ok):
    run = ok("opp", "add", "5 warehouse staff", "--company", "Acme BV", "--type", "staffing", "--source", "linkedin",
             "--stage", "introduction", "--value", "12.000,50", "--close", "04-12-2026", "--owner", "bob",
             "--contact", "Jan de Vries", "--vacancy", "VAC-042", "--note", "Met at the fair")
    assert run.stdout == "1\n"
    rows = ok("opp", "list", "--format", "json").json()
    assert list(rows[0].keys()) == KEYS
    assert rows[0] == {
        "id": 1, "title": "5 warehouse staff", "company": "Acme BV", "contact": "Jan de Vries",
        "business_type": "Staffing", "stage": "Introduction", "source": "LinkedIn", "value": "12000.50",
        "expected_close": "2026-12-04", "owner": "bob", "status": "open", "reason": None, "vacancy": "VAC-042",
        "created": "2026-11-27", "closed": None, "days_left": 7, "indicator": "green", "next_followup": None,
        "closed_from": None, "external_key": None,
        "probability": None, "probability_basis": "stage",  # nothing closed yet, none set
    }
    detail = show(ok, 1)
    assert detail["notes"] == "Met at the fair"
    assert [h["field"] for h in detail["history"]] == ["created", "note"]


def test_defaults(agency, ok):
    opp = add_opp(ok)
    record = show(ok, opp)
    assert (record["stage"], record["owner"], record["value"], record["expected_close"]) == ("Lead", "anna", "0.00", None)
    assert record["indicator"] == "none" and record["days_left"] is None


def test_table_shows_money_with_separators(agency, ok):
    add_opp(ok, "Big", "Acme", "Staffing", "HubSpot", "--value", "1234567.5")
    out = ok("opp", "list").stdout
    assert "€1,234,567.50" in out
    assert "\x1b[" not in out


@pytest.mark.parametrize("args, message", [
    (["--type", "Staffin"], "unknown business type 'Staffin'; valid: Staffing, Agencies"),
    (["--source", "Linkedin "], None),
    (["--source", "Twitter"], "unknown source 'Twitter'; valid:"),
    (["--stage", "Framework agreement"], "not a stage of business type 'Staffing'"),
    (["--stage", "Lost"], "marks opportunities lost"),
    (["--value", "-5"], "must not be negative"),
    (["--value", "lots"], "must be a number"),
    (["--close", "31-02-2026"], "invalid date '31-02-2026'"),
    (["--close", "someday"], "cannot read date 'someday'"),
    (["--owner", "zoe"], "unknown user 'zoe'; valid:"),
])
def test_add_refusals(agency, cli, ok, args, message):
    base = {"--type": "Staffing", "--source": "HubSpot"}
    extra = list(args)
    for key, value in base.items():
        if key not in extra:
            extra += [key, value]
    run = cli("opp", "add", "Deal", "--company", "Acme", *extra)
    if message is None:
        assert run.exit_code == 0
        return
    assert run.exit_code == 1
    assert message in err(run)
    assert ok("opp", "list", "--status", "all", "--format", "json").json() == []


def test_list_filters(agency, ok, cli):
    a = add_opp(ok, "Alpha", "Acme", "Staffing", "HubSpot", "--close", "+1d", "--owner", "bob")
    b = add_opp(ok, "Beta", "Bolt", "Agencies", "LinkedIn", "--close", "-3d")
    c = add_opp(ok, "Gamma 100%", "Acme", "Staffing", "Google", "--close", "+30d")
    ok("opp", "win", c)

    def ids(*args):
        return [r["id"] for r in ok("opp", "list", *args, "--format", "json").json()]

    assert sorted(ids()) == [a, b]
    assert sorted(ids("--status", "all")) == [a, b, c]
    assert ids("--status", "won") == [c]
    assert ids("--type", "agencies") == [b]
    assert ids("--source", "hubspot") == [a]
    assert ids("--owner", "bob") == [a]
    assert ids("--mine") == [b]
    assert ids("--overdue") == [b]
    assert ids("--close-before", "today") == [b]
    assert sorted(ids("--close-after", "today", "--status", "all")) == [a, c]
    assert ids("--search", "acme", "--status", "all") == [a, c]
    assert ids("--search", "100%", "--status", "all") == [c]
    assert ids("--search", "%") == []
    assert ids("--stage", "Lead") == [b, a]  # most urgent first
    run = cli("opp", "list", "--status", "maybe")
    assert run.exit_code == 1 and "open, won, lost or all" in err(run)
    run = cli("opp", "list", "--owner", "bob", "--mine")
    assert run.exit_code == 1


def test_list_csv_is_formula_safe(agency, ok):
    add_opp(ok, "=HYPERLINK(\"http://x\")", "+31 Acme", "Staffing", "HubSpot", "--close", "-2d")
    out = ok("opp", "list", "--format", "csv").stdout
    lines = out.splitlines()
    assert lines[0] == ",".join(KEYS)
    assert "'=HYPERLINK" in lines[1] and "'+31 Acme" in lines[1]
    assert ",-2,red," in lines[1]  # numbers stay numbers


def test_output_file(agency, ok, isolated):
    add_opp(ok)
    path = isolated / "opps.json"
    run = ok("opp", "list", "--format", "json", "--output", path)
    assert run.stdout == ""
    import json

    assert json.loads(path.read_text())[0]["title"] == "Deal"


def test_move_and_history(agency, ok):
    opp = add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot", "--value", "1000")
    ok("opp", "move", opp, "Introduction")
    ok("opp", "move", opp, "proposal")
    ok("opp", "move", opp, "Lost", "--reason", "too expensive")
    record = show(ok, opp)
    assert (record["stage"], record["status"], record["reason"], record["closed"]) == ("Lost", "lost", "Too expensive", "2026-11-27")
    history = [(h["field"], h["from_value"], h["to_value"], h["actor"]) for h in record["history"]]
    assert history == [
        ("created", None, "Lead", "anna"),
        ("stage", "Lead", "Introduction", "anna"),
        ("stage", "Introduction", "Proposal", "anna"),
        ("stage", "Proposal", "Lost", "anna"),
        ("status", "open", "lost (Too expensive)", "anna"),
    ]
    ok("opp", "reopen", opp)
    record = show(ok, opp)
    assert (record["stage"], record["status"], record["reason"], record["closed"]) == ("Proposal", "open", None, None)
    assert [h["field"] for h in record["history"]][-2:] == ["stage", "status"]
    text = ok("opp", "show", opp).stdout
    assert "stage Proposal → Lost" in text and "status open → lost (Too expensive)" in text


def test_move_refusals_change_nothing(agency, ok, cli):
    opp = add_opp(ok)
    before = show(ok, opp)
    for args, message, code in [
        (["Framework agreement"], "not a stage of business type 'Staffing'", 1),
        (["Lost"], "needs a lost reason", 1),
        (["Lost", "--reason", "Good price"], "is a won reason, not a lost reason", 1),
        (["Lost", "--reason", "Bad weather"], "unknown lost reason 'Bad weather'; valid:", 1),
        (["Lead"], "already in stage 'Lead'", 1),
        (["Lead2"], "unknown stage 'Lead2'; valid: Lead", 1),
    ]:
        run = cli("opp", "move", opp, *args)
        assert run.exit_code == code, args
        assert message in err(run)
    assert show(ok, opp) == before
    run = cli("opp", "move", "999", "Lead")
    assert run.exit_code == 1 and "no opportunity #999" in err(run)
    run = cli("opp", "move", "abc", "Lead")
    assert run.exit_code == 2


def test_closed_cannot_move_until_reopened(agency, ok, cli):
    opp = add_opp(ok)
    ok("opp", "win", opp, "--reason", "Good price")
    run = cli("opp", "move", opp, "Proposal")
    assert run.exit_code == 1 and "reopen it" in err(run)
    run = cli("opp", "lose", opp, "--reason", "Too expensive")
    assert run.exit_code == 1 and "is won" in err(run)
    ok("opp", "reopen", opp, "--stage", "Proposal")
    assert show(ok, opp)["stage"] == "Proposal"
    run = cli("opp", "reopen", opp)
    assert run.exit_code == 1 and "already open" in err(run)


def test_win_moves_into_the_single_won_stage(agency, ok):
    opp = add_opp(ok)
    ok("opp", "move", opp, "Proposal")
    ok("opp", "win", opp, "--reason", "good price")
    record = show(ok, opp)
    assert (record["stage"], record["status"], record["reason"]) == ("New client", "won", "Good price")
    assert record["indicator"] == "none" and record["days_left"] is None


def test_win_without_auto_stage_keeps_stage(agency, ok):
    ok("config", "add-business-type", "Payroll", "--color", "green")
    ok("config", "add-stage", "Intake", "-t", "Payroll")
    opp = add_opp(ok, "Deal", "Acme", "Payroll")
    ok("opp", "win", opp)
    record = show(ok, opp)
    assert (record["stage"], record["status"], record["closed"]) == ("Intake", "won", "2026-11-27")


def test_lose_refusals(agency, ok, cli):
    opp = add_opp(ok)
    run = cli("opp", "lose", opp)
    assert run.exit_code == 2  # --reason is required
    run = cli("opp", "lose", opp, "--reason", "Strong candidates")
    assert run.exit_code == 1 and "is a won reason" in err(run)
    assert show(ok, opp)["status"] == "open"


def test_edit_fields_and_history(agency, ok, cli):
    opp = add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot", "--value", "1000", "--close", "2026-12-01")
    ok("opp", "edit", opp, "--title", "Bigger deal", "--value", "2.500", "--close", "+1m", "--owner", "bob",
       "--source", "Referral", "--contact", "Piet", "--vacancy", "V-1", "--note", "Called")
    record = show(ok, opp)
    assert (record["title"], record["value"], record["expected_close"], record["owner"], record["source"],
            record["contact"], record["vacancy"]) == ("Bigger deal", "2500.00", "2026-12-27", "bob", "Referral", "Piet", "V-1")
    changes = [(h["field"], h["from_value"], h["to_value"]) for h in record["history"][1:]]
    assert ("value", "1000.00", "2500.00") in changes
    assert ("expected_close", "2026-12-01", "2026-12-27") in changes
    assert ("owner", "anna", "bob") in changes
    assert ("note", None, "Called") in changes
    ok("opp", "edit", opp, "--close", "none", "--contact", "")
    record = show(ok, opp)
    assert record["expected_close"] is None and record["contact"] is None
    run = cli("opp", "edit", opp)
    assert run.exit_code == 1 and "nothing to change" in err(run)
    run = cli("opp", "edit", opp, "--value", "-1")
    assert run.exit_code == 1
    run = cli("opp", "edit", opp, "--stage", "Proposal")
    assert run.exit_code == 1 and "opp move" in err(run)


def test_edit_business_type(agency, ok, cli):
    opp = add_opp(ok)
    ok("opp", "move", opp, "Proposal")
    ok("opp", "edit", opp, "--type", "Agencies")  # Proposal is shared
    assert show(ok, opp)["business_type"] == "Agencies"
    ok("opp", "move", opp, "Framework agreement")
    run = cli("opp", "edit", opp, "--type", "Staffing")
    assert run.exit_code == 1 and "pass --stage" in err(run)
    ok("opp", "edit", opp, "--type", "Staffing", "--stage", "Negotiation")
    record = show(ok, opp)
    assert (record["business_type"], record["stage"]) == ("Staffing", "Negotiation")


def test_delete(agency, ok, cli):
    opp = add_opp(ok)
    ok("followup", "add", opp, "tomorrow", "Call")
    run = cli("opp", "delete", opp)
    assert run.exit_code == 1 and "--yes" in err(run)
    ok("opp", "delete", opp, "--yes")
    run = cli("opp", "show", opp)
    assert run.exit_code == 1 and f"#{opp} is in the trash" in err(run) and f"opp restore {opp}" in err(run)
    assert ok("followup", "list", "--format", "json").json() == []
    run = cli("opp", "show", 999)
    assert run.exit_code == 1 and "no opportunity #999" in err(run)


def test_indicator_in_list_at_boundaries(agency, ok):
    # indicator 5/2 in the example setup
    expected = {-1: "red", 0: "red", 2: "red", 3: "orange", 5: "orange", 6: "green"}
    ids = {add_opp(ok, f"D{d}", "Acme", "Staffing", "HubSpot", "--close", f"{d:+d}d"): d for d in expected}
    for row in ok("opp", "list", "--format", "json").json():
        assert row["indicator"] == expected[ids[row["id"]]]
        assert row["days_left"] == ids[row["id"]]
    out = ok("opp", "list").stdout
    assert "overdue 1d" in out


def test_manual_example_tomorrow_is_red(agency, ok):
    ok("config", "set-indicator", "--orange", "4", "--red", "2")
    opp = add_opp(ok, "D", "Acme", "Staffing", "HubSpot", "--close", "tomorrow")
    assert show(ok, opp)["indicator"] == "red"


def test_indicator_reads_without_colour(agency, ok):
    add_opp(ok, "Soon", "Acme", "Staffing", "HubSpot", "--close", "+1d")
    add_opp(ok, "Later", "Acme", "Staffing", "HubSpot", "--close", "+4d")
    add_opp(ok, "Late", "Acme", "Staffing", "HubSpot", "--close", "-2d")
    out = ok("opp", "list").stdout
    assert "!! 1d left" in out and "! 4d left" in out and "overdue 2d" in out
    assert "!! red: 2 days or fewer left" in out  # the legend explains the marks
    assert "\x1b[" not in out


def test_names_and_text_are_never_markup(agency, ok, cli):
    ok("config", "add-source", "[/]")
    ok("user", "add", "[bold]x")
    assert "[/]" in ok("config", "list-sources").stdout
    assert "[bold]x" in ok("user", "list").stdout
    assert "[/]" in ok("config", "show").stdout
    opp = add_opp(ok, "[red]Deal[/red]", "[/]Acme", "Staffing", "[/]")
    out = ok("opp", "list").stdout
    assert "[red]Deal[/red]" in out and "[/]Acme" in out
    assert "[red]Deal[/red]" in ok("opp", "show", opp).stdout


def test_control_characters_are_refused(agency, ok, cli):
    opp = add_opp(ok)
    for args in (["opp", "edit", opp, "--contact", "\x1b]0;pwned\x07"],
                 ["followup", "add", opp, "today", "x\x1b[31m"],
                 ["opp", "edit", opp, "--note", "bell\x07"],
                 ["opp", "add", "T\x1b[2J", "--company", "A", "--type", "Staffing", "--source", "HubSpot"]):
        run = cli(*args)
        assert run.exit_code == 1, args
        assert "control characters" in run.stderr
        assert "\x1b" not in run.stderr and run.stderr.count("\n") == 1


def test_error_with_newline_in_name_stays_one_line(agency, ok, cli):
    opp = add_opp(ok)
    run = cli("opp", "move", opp, "Fo\no")
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1 and "Fo\\no" in run.stderr


def test_unicode_names_match_case_insensitively(agency, ok, cli):
    ok("config", "add-source", "Ärzteblatt")
    run = cli("config", "add-source", "ärzteblatt")
    assert run.exit_code == 1 and "already exists" in run.stderr
    opp = add_opp(ok, "Deal", "Acme", "Staffing", "ÄRZTEBLATT")
    assert ok("opp", "show", opp, "--format", "json").json()["source"] == "Ärzteblatt"


@pytest.mark.parametrize("args", [
    ["opp", "show", "0"], ["opp", "show", "-3"], ["opp", "show", "99999999999999999999"],
])
def test_bad_ids_are_usage_errors(agency, cli, args):
    run = cli(*args)
    assert run.exit_code == 2
    assert "Traceback" not in run.stderr


def test_absurd_values_are_refused_cleanly(agency, ok, cli):
    run = cli("opp", "add", "D", "--company", "A", "--type", "Staffing", "--source", "HubSpot", "--value", "1" + "0" * 30)
    assert run.exit_code == 1 and "value is too large" in run.stderr
    run = cli("opp", "add", "D", "--company", "A", "--type", "Staffing", "--source", "HubSpot", "--close", "friday",
              env={"SALESSELECT_TODAY": "9999-12-31"})
    assert run.exit_code == 1 and "out of range" in run.stderr


def test_empty_csv_keeps_the_header(agency, ok):
    out = ok("opp", "list", "--status", "won", "--format", "csv").stdout
    assert out.strip() == ",".join(KEYS)


def test_edit_same_type_with_stage_is_refused(agency, ok, cli):
    opp = add_opp(ok)
    run = cli("opp", "edit", opp, "--type", "Staffing", "--stage", "Proposal")
    assert run.exit_code == 1 and "opp move" in run.stderr


def test_list_stacks_only_below_sixty_columns(agency, ok):
    first = add_opp(ok, "12 order pickers for the night shift", "Van Dijk Logistiek", "Staffing", "HubSpot",
                    "--value", "48000", "--close", "2026-12-04", "--owner", "bob")
    add_opp(ok, "Preferred supplier", "Werkwijs", "Agencies", "Referral", "--close", "2026-12-18")
    wide = ok("opp", "list", env={"COLUMNS": "150"}).stdout
    assert "Close" in wide and "Owner" in wide and "ID: " not in wide and "Left out" not in wide  # whole when it fits
    narrow = ok("opp", "list", env={"COLUMNS": "59"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 59
    blocks = [block for block in narrow.split("\n\n") if block.startswith("ID: ")]
    assert len(blocks) == 2
    assert next(b for b in blocks if b.startswith(f"ID: {first}\n")).splitlines() == [
        f"ID: {first}", "Title: 12 order pickers for the night shift", "Company: Van Dijk Logistiek",
        "Type: ■ Staffing", "Stage: Lead", "Value: €48,000", "Close: 2026-12-04", "Left: 7d left", "Owner: bob",
    ]
    assert "Status: " in ok("opp", "list", "--status", "all", env={"COLUMNS": "59"}).stdout


@pytest.mark.parametrize("width", [60, 80, 100])
def test_list_keeps_one_line_per_deal_and_names_what_it_leaves_out(agency, ok, width):
    first = add_opp(ok, "12 order pickers for the night shift, weekends included", "Van Dijk Logistiek Rotterdam",
                    "Staffing", "HubSpot", "--value", "48000", "--close", "2026-12-04", "--owner", "bob")
    second = add_opp(ok, "Preferred supplier", "Werkwijs", "Agencies", "Referral", "--close", "2026-12-18")
    lines = ok("opp", "list", env={"COLUMNS": str(width)}).stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if re.match(rf"^ *({first}|{second}) ", line)]
    assert len(rows) == 2 and "ID: " not in "\n".join(lines)
    deal = next(row for row in rows if row.lstrip().startswith(f"{first} "))
    assert "12 order pickers" in deal and "Lead" in deal and "€48,000" in deal and "7d left" in deal
    assert "…" in deal  # the long title is shortened, not wrapped
    if width == 100:  # shortening the text is enough here
        assert not any(line.startswith("Left out: ") for line in lines)
        return
    start = next(number for number, line in enumerate(lines) if line.startswith("Left out: "))
    footer = " ".join(line.strip() for line in lines[start:])  # the footer may wrap; a row never does
    assert "--wide" in footer and "csv/json" in footer
    left_out = footer.removeprefix("Left out: ").split(" (")[0].split(", ")
    assert "Title" not in left_out and "Stage" not in left_out and "Value" not in left_out
    assert "Type" in left_out and "■" in deal  # the type's name goes first; its colour square stays
    header = lines[lines.index(next(line for line in lines if "Title" in line))]
    for name in left_out:
        assert f" {name} " not in header + " "
    everything = ok("opp", "list", "--wide", env={"COLUMNS": str(width)}).stdout
    assert "Left out" not in everything and "Van Dijk Logistiek Rotterdam" in everything and "bob" in everything
    assert len([line for line in everything.splitlines() if re.match(rf"^ *({first}|{second}) ", line)]) == 2
