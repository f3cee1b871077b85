"""`salesselect undo` (issue 26): the acting user's last change taken back, in one transaction, never silently."""

from __future__ import annotations

import pytest

from tests.conftest import add_opp


def show(ok, ident: int) -> dict:
    return ok("opp", "show", ident, "--format", "json").json()


def open_followups(ok, ident: int) -> list[str]:
    return [f["text"] for f in ok("followup", "list", "--opp", str(ident), "--format", "json").json()]


@pytest.fixture
def deal(agency, ok):
    """Anna's deal #1 in its first stage, worth 1000, with one open follow-up."""
    ident = add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot", "--value", "1000", "--close", "+10d")
    ok("followup", "add", str(ident), "+2d", "Call Acme")
    return ident


def test_lose_then_undo_opens_the_deal_in_its_stage_and_its_followup(deal, ok):
    before = show(ok, deal)
    ok("opp", "lose", str(deal), "--reason", "Too expensive")
    assert show(ok, deal)["status"] == "lost" and open_followups(ok, deal) == []
    run = ok("undo")
    assert "lose" in run.stderr and "1 follow-up is open again" in run.stderr
    after = show(ok, deal)
    assert (after["status"], after["stage"], after["value"]) == ("open", before["stage"], before["value"])
    assert open_followups(ok, deal) == ["Call Acme"]
    fields = [h["field"] for h in ok("opp", "show", str(deal), "--format", "json").json()["history"]]
    assert "undo" in fields and "followup reopened" in fields  # never silent


def test_undo_again_goes_further_back_and_list_shows_what_is_next(deal, ok):
    stages = [show(ok, deal)["stage"]]
    for stage in ("Proposal", "Negotiation"):
        ok("opp", "move", str(deal), stage)
        stages.append(show(ok, deal)["stage"])
    ok("opp", "edit", str(deal), "--value", "2500", "--note", "Bigger")
    listed = ok("undo", "--list", "--format", "json").json()
    assert [step["action"] for step in listed] == ["edit", "move", "move", "followup"]
    ok("undo")
    got = show(ok, deal)
    assert got["value"] == show(ok, deal)["value"] and "Bigger" not in str(got["history"])
    ok("undo")
    assert show(ok, deal)["stage"] == stages[1]
    ok("undo")
    assert show(ok, deal)["stage"] == stages[0]
    ok("undo")  # the follow-up it planned goes
    assert open_followups(ok, deal) == []
    assert ok("undo", "--list", "--format", "json").json() == []


def test_undo_takes_back_a_value_edit_exactly(deal, ok):
    ok("opp", "edit", str(deal), "--value", "2500.50")
    ok("undo")
    assert show(ok, deal)["value"] in ("1000", "1000.00", 1000)


def test_twenty_five_steps_back(deal, ok):
    for step in range(25):
        ok("opp", "edit", str(deal), "--value", str(2000 + step))
    for _ in range(25):
        ok("undo")
    assert show(ok, deal)["value"] in ("1000", "1000.00", 1000)


def test_undo_refuses_over_a_colleagues_later_change_naming_them(deal, ok, cli):
    ok("opp", "edit", str(deal), "--owner", "bob")
    ok("opp", "move", str(deal), "Proposal")
    ok("--user", "bob", "opp", "edit", str(deal), "--value", "1500")
    before = show(ok, deal)
    run = cli("undo")
    assert run.exit_code == 1
    assert run.stderr.startswith(f"Error: #{deal} was changed by bob at ")
    assert "(value); undo would overwrite it" in run.stderr
    assert show(ok, deal) == before  # a refused command changes nothing
    assert len(ok("undo", "--list", "--format", "json").json()) == 3


def test_each_user_undoes_only_their_own_changes(deal, ok, cli):
    ok("opp", "edit", str(deal), "--owner", "bob")
    ok("--user", "bob", "followup", "add", str(deal), "+3d", "Bob's call")
    ok("opp", "edit", str(deal), "--title", "Anna's title")  # no history row names a colleague after bob's step
    ok("--user", "bob", "undo")
    assert "Bob's call" not in open_followups(ok, deal)
    assert show(ok, deal)["title"] == "Anna's title"
    assert cli("--user", "bob", "undo").stderr == "Error: nothing to undo\n"


def test_nothing_to_undo(agency, cli):
    run = cli("undo")
    assert (run.exit_code, run.stderr) == (1, "Error: nothing to undo\n")
    assert "Nothing to undo." in cli("undo", "--list").stdout


def test_undo_in_dutch(deal, ok, cli):
    ok("opp", "lose", str(deal), "--reason", "Too expensive")
    run = ok("--lang", "nl", "undo")
    assert "verliezen" in run.stderr or "verloren" in run.stderr
    ok("opp", "move", str(deal), "Proposal")
    ok("--user", "kim", "opp", "edit", str(deal), "--value", "5")
    run = cli("--lang", "nl", "undo")
    assert run.stderr.startswith(f"Fout: #{deal} is gewijzigd door kim om ") and "(waarde)" in run.stderr


def test_undo_of_a_win_keeps_the_funnel_and_reports_right(deal, ok):
    pipeline = ok("report", "pipeline", "--format", "json").json()
    ok("opp", "win", str(deal), "--reason", "Good price")
    ok("undo")
    assert ok("report", "pipeline", "--format", "json").json() == pipeline
    assert ok("report", "winloss", "--format", "json").json() == ok("report", "winloss", "--format", "json").json()
