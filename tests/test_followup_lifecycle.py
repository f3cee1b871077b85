"""Follow-ups follow the deal: edit, remove, cancelled when it is won or lost, no duplicate from workflows."""

from __future__ import annotations

import pytest

from salesselect_cli.rules.workflows import duplicates_open_followup
from tests.conftest import add_opp


def _followups(ok, status="all", *args):
    return ok("followup", "list", "--status", status, "--format", "json", *args).json()


def _history(ok, ident):
    return [(h["field"], h["from_value"], h["to_value"]) for h in ok("opp", "show", ident, "--format", "json").json()["history"]]


def test_edit_reschedules_and_rewords_with_history(agency, ok, cli):
    ident = add_opp(ok)
    fid = int(ok("followup", "add", ident, "2026-12-01", "Call").stdout)
    run = ok("followup", "edit", fid, "--due", "+1w", "--text", "Call the director")
    assert run.stderr == f"Follow-up #{fid}: 2026-12-04 Call the director.\n"
    [row] = _followups(ok)
    assert (row["due"], row["text"], row["status"]) == ("2026-12-04", "Call the director", "open")
    assert ("followup edited", "2026-12-01 Call", "2026-12-04 Call the director") in _history(ok, ident)
    ok("followup", "edit", fid, "--text", "Mail")
    assert _followups(ok)[0]["due"] == "2026-12-04"
    assert ok("followup", "edit", fid, "--text", "Mail").stderr == f"#{fid}: nothing changed\n"
    assert ok("opp", "show", ident, "--format", "json").json()["next_followup"] == "2026-12-04"


@pytest.mark.parametrize("args, message", [
    ((), "nothing to change: pass --due or --text"),
    (("--text", "  "), "a follow-up needs text"),
    (("--due", "someday"), "someday"),
])
def test_edit_refusals_change_nothing(agency, ok, cli, args, message):
    ident = add_opp(ok)
    fid = int(ok("followup", "add", ident, "2026-12-01", "Call").stdout)
    before = _history(ok, ident)
    run = cli("followup", "edit", fid, *args)
    assert run.exit_code == 1 and run.stderr.startswith("Error: ") and message in run.stderr
    assert _followups(ok)[0]["text"] == "Call" and _history(ok, ident) == before


def test_edit_and_done_refuse_closed_followups_and_unknown_ids(agency, ok, cli):
    ident = add_opp(ok)
    done = int(ok("followup", "add", ident, "2026-12-01", "Call").stdout)
    ok("followup", "done", done)
    run = cli("followup", "edit", done, "--text", "x")
    assert run.exit_code == 1 and "is done on 2026-11-27; only open follow-ups can be edited" in run.stderr
    cancelled = int(ok("followup", "add", ident, "2026-12-02", "Mail").stdout)
    ok("opp", "lose", ident, "--reason", "Too expensive")
    run = cli("followup", "done", cancelled)
    assert run.exit_code == 1 and "is cancelled" in run.stderr
    for args in (("edit", 999, "--text", "x"), ("remove", 999), ("done", 999)):
        run = cli("followup", *args)
        assert run.exit_code == 1 and run.stderr == "Error: no follow-up #999\n"
    assert cli("followup", "edit", 0, "--text", "x").exit_code == 2


def test_remove_deletes_and_keeps_a_history_row(agency, ok, cli):
    ident = add_opp(ok)
    fid = int(ok("followup", "add", ident, "2026-12-01", "Call").stdout)
    assert ok("followup", "remove", fid).stderr == f"Removed follow-up #{fid}: 2026-12-01 Call.\n"
    assert _followups(ok) == []
    assert ("followup removed", "2026-12-01 Call", None) in _history(ok, ident)
    assert "follow-up removed 2026-12-01 Call" in ok("opp", "show", ident).stdout
    assert cli("followup", "remove", fid).exit_code == 1


@pytest.mark.parametrize("command", [("lose", "--reason", "Too expensive"), ("win",), ("move", "Lost", "--reason",
                                                                                        "Too expensive")])
def test_closing_cancels_open_followups_and_reopen_does_not_bring_them_back(agency, ok, command):
    ident = add_opp(ok)
    other = add_opp(ok, "Other")
    done = int(ok("followup", "add", ident, "2026-11-20", "Intro").stdout)
    ok("followup", "done", done)
    call = int(ok("followup", "add", ident, "2026-12-01", "Call").stdout)
    kept = int(ok("followup", "add", other, "2026-12-01", "Call").stdout)
    verb, *rest = command
    ok("opp", verb, ident, *rest)
    assert [r["id"] for r in _followups(ok, "open")] == [kept]
    assert [(r["id"], r["status"]) for r in _followups(ok, "cancelled")] == [(call, "cancelled")]
    assert [(r["id"], r["status"]) for r in _followups(ok, "done")] == [(done, "done")]
    assert ("followup cancelled", None, "2026-12-01 Call") in _history(ok, ident)
    assert ok("opp", "show", ident, "--format", "json").json()["next_followup"] is None
    table = ok("followup", "list", "--status", "cancelled").stdout
    assert "cancelled" in table and "Call" in table
    ok("opp", "reopen", ident)
    assert [r["id"] for r in _followups(ok, "open")] == [kept]


def test_keep_followups_keeps_them_open(agency, ok):
    ident = add_opp(ok)
    fid = int(ok("followup", "add", ident, "2026-12-01", "Ask for feedback").stdout)
    ok("opp", "win", ident, "--keep-followups")
    assert [r["id"] for r in _followups(ok, "open")] == [fid]
    second = add_opp(ok)
    ok("followup", "add", second, "2026-12-01", "Call")
    ok("opp", "lose", second, "--reason", "Too expensive", "--keep-followups")
    assert len(_followups(ok, "open")) == 2 and _followups(ok, "cancelled") == []


def test_status_option_refusals(agency, cli):
    run = cli("followup", "list", "--status", "gone")
    assert run.exit_code == 1 and "status must be open, done, cancelled or all, not 'gone'" in run.stderr
    run = cli("followup", "list", "--status", "done", "--done")
    assert run.exit_code == 1 and "use --done or --status, not both" in run.stderr


def test_reopen_into_a_stage_does_not_duplicate_a_workflow_followup(agency, ok):
    ok("workflow", "add", "Call back", "--on", "stage", "--to-stage", "Proposal", "--action", "followup:+3d:Bel klant")
    ok("workflow", "add", "Feedback", "--on", "status", "--to-status", "lost", "--action", "followup:+1m:Ask why")
    ident = add_opp(ok)
    ok("opp", "move", ident, "Proposal")
    ok("opp", "lose", ident, "--reason", "Too expensive")
    # the stage workflow's follow-up was cancelled, the lost workflow's one planned after the cancel
    assert [(r["text"], r["status"]) for r in _followups(ok)] == [("Bel klant", "cancelled"), ("Ask why", "open")]
    ok("opp", "reopen", ident, "--stage", "Lead")
    ok("opp", "move", ident, "Proposal")
    ok("opp", "move", ident, "Lead")
    ok("opp", "move", ident, "Proposal")
    open_ = [(r["text"], r["workflow"]) for r in _followups(ok, "open")]
    assert open_ == [("Bel klant", "Call back"), ("Ask why", "Feedback")]
    # a follow-up someone typed with the same text is not the workflow's: the workflow still plans its own
    other = add_opp(ok, "Other")
    ok("followup", "add", other, "+1d", "Bel klant")
    ok("opp", "move", other, "Proposal")
    assert [r["text"] for r in _followups(ok, "open", "--opp", str(other))] == ["Bel klant", "Bel klant"]


def test_duplicate_rule():
    assert duplicates_open_followup("Bel klant", ["Mail", " Bel klant "])
    assert not duplicates_open_followup("Bel klant", ["Bel klant later"])
    assert not duplicates_open_followup("Bel klant", [])
