"""Follow-ups: planning, due filters around today, done, and the next one on the opportunity."""

from __future__ import annotations

from tests.conftest import add_opp


def test_followups_filters_and_next(agency, ok, cli):
    mine = add_opp(ok, "Mine", "Acme")
    bobs = add_opp(ok, "Bob's", "Bolt", "Staffing", "HubSpot", "--owner", "bob")
    overdue = int(ok("followup", "add", mine, "2026-11-25", "Send contract").stdout)
    today = int(ok("followup", "add", mine, "today", "Call").stdout)
    week = int(ok("followup", "add", bobs, "+6d", "Visit").stdout)
    later = int(ok("followup", "add", bobs, "+7d", "Lunch").stdout)

    def ids(*args):
        return [r["id"] for r in ok("followup", "list", *args, "--format", "json").json()]

    assert ids() == [overdue, today, week, later]
    assert ids("--overdue") == [overdue]
    assert ids("--today") == [today]
    assert ids("--week") == [overdue, today, week]
    assert ids("--mine") == [overdue, today]
    assert ids("--opp", bobs) == [week, later]
    rows = ok("followup", "list", "--format", "json").json()
    assert rows[0]["overdue"] is True and rows[1]["overdue"] is False
    assert ok("opp", "show", mine, "--format", "json").json()["next_followup"] == "2026-11-25"
    ok("followup", "done", overdue)
    assert ok("opp", "show", mine, "--format", "json").json()["next_followup"] == "2026-11-27"
    assert ids("--overdue") == []
    assert overdue in ids("--done")
    run = cli("followup", "done", overdue)
    assert run.exit_code == 1 and "already done" in run.stderr
    run = cli("followup", "done", 999)
    assert run.exit_code == 1 and "no follow-up #999" in run.stderr
    run = cli("followup", "list", "--today", "--week")
    assert run.exit_code == 1


def test_followup_refusals(agency, ok, cli):
    opp = add_opp(ok)
    for args, message in [
        ([opp, "31-02-2026", "x"], "invalid date"),
        ([opp, "tomorrow", "  "], "needs text"),
        ([999, "tomorrow", "x"], "no opportunity #999"),
    ]:
        run = cli("followup", "add", *args)
        assert run.exit_code == 1
        assert run.stderr.startswith("Error: ") and message in run.stderr
    assert ok("followup", "list", "--format", "json").json() == []


def test_followup_weekday(agency, ok):
    opp = add_opp(ok)
    ok("followup", "add", opp, "friday", "Weekly call")
    assert ok("followup", "list", "--format", "json").json()[0]["due"] == "2026-12-04"
    table = ok("followup", "list").stdout
    assert "Weekly call" in table and "2026-12-04" in table


def test_followup_add_and_edit_warn_about_the_past_and_weekends(agency, ok, cli):
    from tests.conftest import add_opp

    opp = add_opp(ok)
    run = ok("followup", "add", opp, "tomorrow", "Call on Saturday")  # today is Friday 2026-11-27
    assert run.stderr.splitlines() == ["Warning: the follow-up date 2026-11-28 is a Saturday"]
    fid = run.stdout.strip()
    assert ok("followup", "add", opp, "monday", "Call").stderr == ""
    run = ok("followup", "edit", fid, "--due", "2026-11-20")
    assert run.stderr.splitlines()[-1] == "Warning: the follow-up date 2026-11-20 is in the past (7 days ago)"
    assert len([line for line in run.stderr.splitlines() if "Warning" in line]) == 1
    dutch = cli("--lang", "nl", "followup", "add", opp, "+2d", "Zondag")
    assert dutch.exit_code == 0 and dutch.stderr.splitlines() == ["Waarschuwing: de opvolgdatum 29-11-2026 valt op een zondag"]
    from salesselect_cli import i18n

    i18n.configure(None)
