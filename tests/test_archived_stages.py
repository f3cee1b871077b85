"""History stays true: removing a stage never rewrites closed deals; a stage they came from is archived instead."""

from __future__ import annotations

import json

import pytest

from tests.conftest import add_opp


def _stages(ok, *args):
    return [r["name"] for r in ok("config", "list-stages", *args, "--format", "json").json()]


@pytest.fixture
def closed_in_negotiation(agency, ok):
    """Two deals lost from Negotiation last quarter, one won from it, one open deal in Negotiation."""
    ids = []
    for reason in ("Too expensive", "Too expensive"):
        ident = add_opp(ok, "Lost one")
        ok("opp", "move", ident, "Negotiation")
        ok("opp", "lose", ident, "--reason", reason, env={"SALESSELECT_TODAY": "2026-08-03"})
        ids.append(ident)
    won = add_opp(ok, "Won one")
    ok("opp", "move", won, "Negotiation")
    ok("opp", "win", won, "--reason", "Good price", env={"SALESSELECT_TODAY": "2026-09-03"})
    still_open = add_opp(ok, "Open one")
    ok("opp", "move", still_open, "Negotiation")
    return ids + [won], still_open


def test_remove_refuses_a_stage_closed_deals_came_from(closed_in_negotiation, ok, cli):
    closed, still_open = closed_in_negotiation
    for args in ((), ("--reassign-to", "Proposal")):
        run = cli("config", "remove-stage", "negotiation", *args)
        assert run.exit_code == 1
        assert run.stderr == (
            "Error: 3 closed deals were won or lost in stage 'Negotiation'; removing it would rewrite their "
            "history and the win/loss reports: archive it instead (salesselect config archive-stage Negotiation)\n")
    assert "Negotiation" in _stages(ok)
    # the auto-select stage the lost deals sit in is history too
    run = cli("config", "remove-stage", "Lost", "--reassign-to", "New client")
    assert run.exit_code == 1 and "2 closed deals" in run.stderr


def test_reassign_moves_only_open_deals(agency, ok, cli):
    lost = add_opp(ok, "Lost")
    ok("opp", "move", lost, "Introduction")
    ok("opp", "lose", lost, "--reason", "Too expensive")
    ok("opp", "reopen", lost, "--stage", "Lead")  # reopened: open again, nothing closed comes from Introduction
    moving = add_opp(ok, "Moving")
    ok("opp", "move", moving, "Introduction")
    run = cli("config", "remove-stage", "Introduction")
    assert run.exit_code == 1 and "1 opportunity uses stage 'Introduction'" in run.stderr
    ok("config", "remove-stage", "Introduction", "--reassign-to", "Proposal")
    assert ok("opp", "show", moving, "--format", "json").json()["stage"] == "Proposal"
    assert ok("opp", "show", lost, "--format", "json").json()["stage"] == "Lead"


def test_archive_hides_the_stage_but_keeps_reports_and_history(closed_in_negotiation, ok, cli):
    closed, still_open = closed_in_negotiation
    report = ok("report", "winloss", "--period", "last-quarter").stdout
    report_json = ok("report", "winloss", "--period", "last-quarter", "--format", "json").stdout
    run = cli("config", "archive-stage", "Negotiation")
    assert run.exit_code == 1
    assert run.stderr == "Error: 1 open opportunity is in stage 'Negotiation'; move it to another stage first\n"
    ok("opp", "move", still_open, "Proposal")
    stages_report = ok("report", "stages", "--period", "2026").stdout
    assert ok("config", "archive-stage", "negotiation").stderr == "Archived stage Negotiation.\n"
    assert ok("config", "archive-stage", "Negotiation").stderr == "Stage Negotiation was already archived.\n"
    # the reports are byte for byte what they were
    assert ok("report", "winloss", "--period", "last-quarter").stdout == report
    assert ok("report", "winloss", "--period", "last-quarter", "--format", "json").stdout == report_json
    assert ok("report", "stages", "--period", "2026").stdout == stages_report
    assert "Negotiation" in report
    # hidden from the setup lists, the board and moves
    assert "Negotiation" not in _stages(ok)
    assert "Negotiation" in _stages(ok, "--all")
    table = ok("config", "list-stages", "--all").stdout
    assert "Archived" in table and "archived" in table
    assert "Negotiation" not in ok("config", "list-business-types").stdout
    assert "Negotiation" not in ok("config", "show").stdout
    columns = [c["stage"] for c in ok("board", "--type", "Staffing", "--all-stages", "--format", "json").json()]
    assert "Negotiation" not in columns and "Proposal" in columns
    run = cli("opp", "move", still_open, "Negotiation")
    assert run.exit_code == 1 and "stage 'Negotiation' is archived" in run.stderr
    assert "salesselect config unarchive-stage Negotiation" in run.stderr
    run = cli("opp", "add", "New", "--company", "X", "--type", "Staffing", "--source", "HubSpot", "--stage",
              "Negotiation")
    assert run.exit_code == 1 and "is archived" in run.stderr
    # still named where history is: the deal, its filter and reopen falls back to an open stage
    assert ok("opp", "show", closed[0], "--format", "json").json()["closed_from"] == "Negotiation"
    assert sorted(r["id"] for r in ok("opp", "list", "--closed-from", "Negotiation", "--format", "json").json()) == closed
    run = cli("opp", "reopen", closed[0], "--stage", "Negotiation")
    assert run.exit_code == 1 and "is archived" in run.stderr
    ok("opp", "reopen", closed[0])  # back where it was closed from is archived: the type's first open stage
    assert ok("opp", "show", closed[0], "--format", "json").json()["stage"] == "Lead"
    # unarchive brings it back
    assert ok("config", "unarchive-stage", "Negotiation").stderr == "Unarchived stage Negotiation.\n"
    assert "Negotiation" in _stages(ok)
    ok("opp", "move", still_open, "Negotiation")
    assert ok("config", "unarchive-stage", "Negotiation").stderr == "Stage Negotiation is not archived.\n"


def test_archive_refusals(agency, ok, cli):
    run = cli("config", "archive-stage", "Negotiaton")
    assert run.exit_code == 1 and "unknown stage 'Negotiaton'; valid: Negotiation" in run.stderr
    run = cli("config", "unarchive-stage", "nope")
    assert run.exit_code == 1 and "unknown stage 'nope'" in run.stderr
    run = cli("--user", "bob", "config", "archive-stage", "Negotiation")
    assert run.exit_code == 3
    ok("config", "archive-stage", "Negotiation")
    run = cli("config", "remove-stage", "Proposal", "--reassign-to", "Negotiation")
    assert run.exit_code == 1 and "stage 'Negotiation' is archived" in run.stderr
    # a stage nobody used can still be removed, archived or not
    ok("config", "remove-stage", "Negotiation")
    assert "Negotiation" not in _stages(ok, "--all")


def test_archive_round_trips_through_export_and_import(agency, ok, cli, tmp_path):
    ok("config", "archive-stage", "Framework agreement")
    exported = ok("config", "export").json()
    stage = next(s for s in exported["stages"] if s["name"] == "Framework agreement")
    assert stage["archived"] is True
    assert "archived" not in next(s for s in exported["stages"] if s["name"] == "Lead")
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    ok("--db", fresh, "init")
    ok("--db", fresh, "config", "import", path)
    assert ok("--db", fresh, "config", "export").json() == exported
    assert "Framework agreement" not in [r["name"] for r in ok("--db", fresh, "config", "list-stages", "--format",
                                                                 "json").json()]
    before = ok("--db", fresh, "config", "export").stdout
    ok("--db", fresh, "config", "import", path)  # idempotent
    assert ok("--db", fresh, "config", "export").stdout == before
    stage["archived"] = False
    path.write_text(json.dumps(exported), encoding="utf-8")
    ok("config", "import", path)
    assert "Framework agreement" in _stages(ok)
    stage["archived"] = "yes"
    path.write_text(json.dumps(exported), encoding="utf-8")
    run = cli("config", "import", path)
    assert run.exit_code == 1 and "archived must be true or false" in run.stderr


def test_config_check_does_not_count_an_archived_stage(agency, ok, cli):
    ok("config", "archive-stage", "Framework agreement")
    assert cli("config", "check").exit_code == 0  # Agencies still has Lead, Introduction, Proposal
