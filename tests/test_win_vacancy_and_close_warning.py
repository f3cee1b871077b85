"""opp win --vacancy; a past expected close date is accepted with one warning line."""

from __future__ import annotations

import datetime as dt

from salesselect_cli.rules.dates import past_close_warning
from tests.conftest import TODAY, add_opp


def test_win_records_the_vacancy(agency, ok, cli):
    ident = add_opp(ok)
    run = ok("opp", "win", ident, "--reason", "Good price", "--vacancy", "VAC-042")
    assert run.stderr.startswith(f"#{ident} Deal: New client, won")
    record = ok("opp", "show", ident, "--format", "json").json()
    assert (record["status"], record["vacancy"]) == ("won", "VAC-042")
    other = add_opp(ok)
    run = cli("opp", "win", other, "--reason", "Too expensive", "--vacancy", "VAC-1")
    assert run.exit_code == 1
    assert ok("opp", "show", other, "--format", "json").json()["vacancy"] is None  # refused: nothing changed
    assert cli("opp", "lose", other, "--reason", "Too expensive", "--vacancy", "x").exit_code == 2


def test_past_close_date_warns_once_on_add_and_edit(agency, ok):
    run = ok("opp", "add", "Old", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot",
             "--close", "1999-01-01")
    ident = int(run.stdout)
    assert run.stderr.splitlines() == [
        f"Warning: the expected close date 1999-01-01 is in the past ({(TODAY - dt.date(1999, 1, 1)).days} days ago)"]
    assert ok("opp", "show", ident, "--format", "json").json()["expected_close"] == "1999-01-01"
    run = ok("opp", "edit", ident, "--close", "yesterday")
    assert run.stderr.splitlines() == [f"#{ident}: expected_close changed",
                                       "Warning: the expected close date 2026-11-26 is in the past (1 day ago)"]
    assert ok("opp", "edit", ident, "--close", "today").stderr == f"#{ident}: expected_close changed\n"
    assert ok("opp", "edit", ident, "--title", "New").stderr == f"#{ident}: title changed\n"
    plain = ok("opp", "add", "New", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot", "--close", "+1d")
    assert plain.stderr == ""


def test_past_close_rule():
    assert past_close_warning(None, TODAY) is None
    assert past_close_warning(TODAY, TODAY) is None
    assert past_close_warning(TODAY + dt.timedelta(days=3), TODAY) is None
    assert past_close_warning(TODAY - dt.timedelta(days=2), TODAY) == \
        "the expected close date 2026-11-25 is in the past (2 days ago)"
