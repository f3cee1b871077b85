"""Win chances end to end: stage percentages, a deal's own chance, goals and `report forecast`, through
the CLI (CliRunner) and at store level, on either backend."""

from __future__ import annotations

import json

from tests.conftest import add_opp


def err(run) -> str:
    assert run.stderr.startswith("Error: "), run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def stage_rows(ok) -> dict:
    return {r["name"]: r for r in ok("config", "list-stages", "--format", "json").json()}


def test_set_stage_probability_is_listed_exported_and_imported(agency, ok, cli, tmp_path):
    ok("config", "set-probability", "Proposal", "40%")
    stages = stage_rows(ok)
    assert stages["Proposal"]["probability"] == 40
    assert stages["Lead"]["probability"] is None
    assert stages["New client"]["probability"] == 100 and stages["Lost"]["probability"] == 0
    exported = json.loads(ok("config", "export").stdout)
    proposal = next(s for s in exported["stages"] if s["name"] == "Proposal")
    assert proposal["probability"] == 40
    ok("config", "set-probability", "Proposal", "none")
    assert stage_rows(ok)["Proposal"]["probability"] is None
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(exported))
    ok("config", "import", str(path))
    assert stage_rows(ok)["Proposal"]["probability"] == 40
    log = ok("log", "--format", "json").json()
    assert any("Proposal probability" in str(entry) for entry in log)


def test_set_stage_probability_refusals_change_nothing(agency, ok, cli):
    run = cli("config", "set-probability", "New client", "30")
    assert run.exit_code == 1 and "fixed at 100%" in err(run)
    run = cli("config", "set-probability", "Proposal", "140")
    assert run.exit_code == 1 and "0 to 100" in err(run)
    run = cli("config", "set-probability", "Propsal", "40")
    assert run.exit_code == 1 and "valid: Proposal" in err(run)
    run = cli("config", "set-probability", "Proposal", "40", env={"SALESSELECT_USER": "bob"})
    assert run.exit_code == 3
    assert stage_rows(ok)["Proposal"]["probability"] is None


def test_import_refuses_a_bad_stage_probability(agency, ok, cli, tmp_path):
    exported = json.loads(ok("config", "export").stdout)
    exported["stages"][0]["probability"] = 101
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(exported))
    run = cli("config", "import", str(path))
    assert run.exit_code == 1 and "probability must be a whole number" in err(run)


# ---------------------------------------------------------------- a deal's chance

def test_a_deals_own_chance_is_set_shown_and_released(agency, ok, cli):
    deal = add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot", "--value", "1000")
    ok("config", "set-probability", "Lead", "20")
    record = ok("opp", "show", str(deal), "--format", "json").json()
    assert (record["probability"], record["probability_basis"]) == (20, "stage")
    ok("opp", "edit", str(deal), "--probability", "64%")
    record = ok("opp", "show", str(deal), "--format", "json").json()
    assert (record["probability"], record["probability_basis"]) == (64, "set")
    assert any(h["field"] == "probability" and h["to_value"] == "64%" for h in record["history"])
    assert "Win chance 64% (set)" in ok("opp", "show", str(deal)).stdout
    rows = ok("opp", "list", "--format", "json").json()
    assert [(r["probability"], r["probability_basis"]) for r in rows if r["id"] == deal] == [(64, "set")]
    assert "probability,probability_basis" in ok("opp", "list", "--format", "csv").stdout.splitlines()[0]
    ok("opp", "edit", str(deal), "--probability", "auto")
    assert ok("opp", "show", str(deal), "--format", "json").json()["probability"] == 20
    run = cli("opp", "edit", str(deal), "--probability", "101")
    assert run.exit_code == 1 and "0 to 100 or 'auto'" in err(run)


def _source_decides(ok, won_share: dict, per_source: int = 40) -> None:
    """Closed deals whose outcome follows the source alone (whatever the stage they reached)."""
    for source, share in won_share.items():
        for index in range(per_source):
            deal = add_opp(ok, f"{source} {index}", "Acme", "Staffing", source, "--value", "1000")
            if index % 2:
                ok("opp", "move", str(deal), "Proposal")
            if index < round(share * per_source):
                ok("opp", "win", str(deal), "--no-workflows", "--reason", "Good price")
            else:
                ok("opp", "lose", str(deal), "--no-workflows", "--reason", "Too expensive")


def test_the_learned_chance_follows_the_source_that_decides(agency, ok):
    _source_decides(ok, {"Referral": 0.75, "Google": 0.15})
    referral = add_opp(ok, "Open referral", "Acme", "Staffing", "Referral", "--value", "1000")
    google = add_opp(ok, "Open google", "Acme", "Staffing", "Google", "--value", "1000")
    for deal in (referral, google):
        ok("opp", "move", str(deal), "Proposal")
    chances = {r["id"]: r for r in ok("opp", "list", "--format", "json").json()}
    assert chances[referral]["probability_basis"] == chances[google]["probability_basis"] == "learned"
    assert chances[referral]["probability"] >= chances[google]["probability"] + 40
    assert "source Referral +" in ok("opp", "show", str(referral)).stdout.replace("\n", " ")


def test_learning_counts_are_the_store_counts_of_closed_deals(tmp_path):
    import datetime as dt

    from salesselect_cli.store import Store, init_database, open_connection
    from tests.conftest import SETUP_JSON, TODAY

    path = tmp_path / "fresh.db"
    init_database(path, "anna", TODAY)
    store = Store(open_connection(path), path, TODAY, "anna")
    try:
        with store.transaction(write=True):
            store.setup_file.import_setup(json.loads(SETUP_JSON.read_text()))
            for index, (source, status) in enumerate((("Referral", "won"), ("Referral", "won"), ("Referral", "lost"),
                                                      ("Google", "lost"))):
                deal = store.deals.add_opportunity(title="Deal", company="Acme", business_type="Staffing", source=source,
                                             value_cents=1_000_000)
                if index % 2:
                    store.deals.move_opportunity(deal, "Proposal")
                store.deals.close_opportunity(deal, status, "Good price" if status == "won" else "Too expensive")
            store.deals.add_opportunity(title="Open", company="Acme", business_type="Staffing", source="Google")
            history = store.forecast.learning_counts(TODAY - dt.timedelta(days=10), TODAY)
            empty = store.forecast.learning_counts(TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=5))
    finally:
        store.close()
    assert (history.won, history.lost) == (2, 2)
    assert (history.counts["source"]["Referral"].won, history.counts["source"]["Referral"].lost) == (2, 1)
    assert history.counts["stage"]["Proposal"].closed == 2  # the deals that reached it
    assert history.counts["stage"]["Lead"].closed == 4
    assert "New client" not in history.counts["stage"]
    assert history.counts["value_band"]["10k-20k"].closed == 4
    assert (empty.won, empty.lost, dict(empty.counts)) == (0, 0, {})


def test_learning_counts_of_many_windows_in_one_statement_are_each_windows_own(tmp_path):
    """The backtest's counts: overlapping windows, deals closed on their first and last days, a deal that came
    back to a stage (counted once), one in the trash (not counted), against a count done by hand."""
    import datetime as dt

    from salesselect_cli.rules.forecast import History, Tally
    from salesselect_cli.store import Store, init_database, open_connection
    from tests.conftest import SETUP_JSON, TODAY

    path = tmp_path / "fresh.db"
    init_database(path, "anna", TODAY)
    store = Store(open_connection(path), path, TODAY, "anna")
    start = TODAY - dt.timedelta(days=40)
    closed = []  # (closing day, won?, source, stages reached)
    try:
        with store.transaction(write=True):
            store.setup_file.import_setup(json.loads(SETUP_JSON.read_text()))
            for index in range(12):
                source = ("Referral", "Google", "HubSpot")[index % 3]
                store.today = start
                deal = store.deals.add_opportunity(title=f"Deal {index}", company="Acme", business_type="Staffing",
                                                   source=source, value_cents=1_000_000)
                reached = ("Lead",)
                if index % 2:
                    for stage in ("Proposal", "Lead", "Proposal"):  # back and forth: Proposal counts once
                        store.deals.move_opportunity(deal, stage)
                    reached = ("Lead", "Proposal")
                store.today = start + dt.timedelta(days=3 * index)
                won = index % 5 not in (0, 3)
                store.deals.close_opportunity(deal, "won" if won else "lost", "Good price" if won else "Too expensive")
                if index == 5:
                    store.deals.trash_opportunity(deal)
                else:
                    closed.append((store.today, won, source, reached))
            windows = [(start, start + dt.timedelta(days=9)), (start + dt.timedelta(days=9), start + dt.timedelta(days=21)),
                       (start + dt.timedelta(days=3), start + dt.timedelta(days=33)), (TODAY, TODAY)]
            histories = store.forecast.learning_counts_by_window(windows)
    finally:
        store.close()

    def by_hand(first: dt.date, last: dt.date) -> History:
        counts: dict = {}
        inside = [(won, source, reached) for day, won, source, reached in closed if first <= day <= last]
        for won, source, reached in inside:
            for field, value in [("stage", stage) for stage in reached] + [("source", source), ("business_type", "Staffing"),
                                                                           ("owner", "anna"), ("value_band", "10k-20k")]:
                tally = counts.setdefault(field, {}).setdefault(value, [0, 0])
                tally[0 if won else 1] += 1
        return History(sum(won for won, _s, _r in inside), sum(not won for won, _s, _r in inside),
                       {field: {value: Tally(*pair) for value, pair in values.items()} for field, values in counts.items()})

    assert [h.counts["stage"]["Proposal"] for h in histories[:2]] == [Tally(1, 1), Tally(1, 1)]  # deals 1, 3 and 3, 7
    for (first, last), history in zip(windows, histories):
        expected = by_hand(first, last)
        assert (history.won, history.lost) == (expected.won, expected.lost)
        assert {field: dict(values) for field, values in history.counts.items()} == expected.counts
    assert histories[-1] == History(0, 0, {})


# ---------------------------------------------------------------- goals and the forecast

def test_goals_set_list_remove_and_who_may(agency, ok, cli):
    ok("goal", "set", "bob", "10000", "--period", "next-quarter")
    rows = ok("goal", "list", "--format", "json").json()
    assert [(r["owner"], r["amount"]) for r in rows] == [("bob", "10000.00")]
    ok("goal", "set", "bob", "12000", "--period", "next-quarter")
    assert ok("goal", "list", "--format", "json").json()[0]["amount"] == "12000.00"
    run = cli("goal", "set", "bob", "1", "--period", "next-quarter", env={"SALESSELECT_USER": "bob"})
    assert run.exit_code == 3
    run = cli("goal", "set", "bobby", "1", "--period", "next-quarter")
    assert run.exit_code == 1 and "valid: bob" in err(run)
    assert ok("goal", "list", "--period", "this-month", "--format", "json").json() == []
    log = ok("log", "--format", "json").json()
    assert any("goal bob" in str(entry) for entry in log)
    ok("goal", "remove", "bob", "--period", "next-quarter")
    assert ok("goal", "list", "--format", "json").json() == []
    run = cli("goal", "remove", "bob", "--period", "next-quarter")
    assert run.exit_code == 1 and "no goal" in err(run)


def test_forecast_weighs_value_by_chance_against_goals(agency, ok, cli):
    from tests.conftest import TODAY

    ok("config", "set-probability", "Lead", "25")
    ok("config", "set-probability", "Proposal", "50")
    close = TODAY.isoformat()
    a = add_opp(ok, "A", "Acme", "Staffing", "HubSpot", "--value", "1000", "--close", close)
    b = add_opp(ok, "B", "Acme", "Staffing", "HubSpot", "--value", "3000", "--close", close, "--owner", "bob")
    ok("opp", "move", str(b), "Proposal")
    won = add_opp(ok, "C", "Acme", "Staffing", "HubSpot", "--value", "500", "--close", close)
    ok("opp", "win", str(won), "--no-workflows", "--reason", "Good price")
    ok("goal", "set", "anna", "2000", "--period", "this-quarter")
    ok("goal", "set", "bob", "1500", "--period", "this-quarter")
    rows = ok("report", "forecast", "--by", "owner", "--format", "json").json()
    by_group = {r["group"]: r for r in rows}
    assert by_group["anna"] == {"group": "anna", "count": 1, "value": "1000.00", "weighted": "250.00", "won": "500.00",
                                "goal": "2000.00", "coverage": 37.5, "total": False}
    assert by_group["bob"]["weighted"] == "1500.00" and by_group["bob"]["coverage"] == 100.0
    total = rows[-1]
    assert total["total"] and total["weighted"] == "1750.00" and total["goal"] == "3500.00"
    ok("opp", "edit", str(a), "--probability", "100")
    assert ok("report", "forecast", "--format", "json").json()[-1]["weighted"] == "2500.00"
    assert ok("report", "forecast", "--method", "stage", "--format", "json").json()[-1]["weighted"] == "1750.00"
    assert ok("report", "forecast", "-p", "next-quarter", "--format", "json").json()[-1]["count"] == 0
    table = ok("report", "forecast", "--by", "owner").stdout
    assert "Total" in table and "bob" in table
    run = cli("report", "forecast", "--by", "colour")
    assert run.exit_code == 2


# ---------------------------------------------------------------- the backtest

def _dated_history(location: str) -> None:
    """Deals created every third day for 400 days, closed 20 days later; the source decides the outcome
    (Referral wins 75%, Google 15%), whatever the stage: half reach Proposal first."""
    import datetime as dt
    from pathlib import Path

    from salesselect_cli.store import Store, open_connection
    from tests.conftest import TODAY

    path = location if location.startswith("postgresql://") else Path(location)
    store = Store(open_connection(path), path, TODAY, "anna")
    events = []
    for index in range(130):
        created = TODAY - dt.timedelta(days=420 - 3 * index)
        for source, won in (("Referral", index % 4 != 0), ("Google", index % 20 in (0, 7, 14))):
            events.append((created, 0, index, source, won))
            events.append((created + dt.timedelta(days=10), 1, index, source, won))
            events.append((created + dt.timedelta(days=20), 2, index, source, won))
    ids = {}
    try:
        with store.transaction(write=True):
            for day, kind, index, source, won in sorted(events, key=lambda e: (e[0], e[1])):
                store.today = day
                if kind == 0:
                    ids[index, source] = store.deals.add_opportunity(title=f"{source} {index}", company="Acme",
                                                               business_type="Staffing", source=source,
                                                               value_cents=1_000_000)
                elif kind == 1 and index % 2:
                    store.deals.move_opportunity(ids[index, source], "Proposal")
                elif kind == 2 and day < TODAY:
                    store.deals.close_opportunity(ids[index, source], "won" if won else "lost",
                                            "Good price" if won else "Too expensive")
    finally:
        store.close()


def test_backtest_scores_learned_below_stage_when_the_source_decides(agency, ok, cli):
    import os

    _dated_history(os.environ["SALESSELECT_DB"])
    result = ok("report", "forecast", "--backtest", "--format", "json").json()
    assert len(result["snapshots"]) == 12
    stage, learned = result["methods"]["stage"], result["methods"]["learned"]
    assert result["deals_scored"] == stage["deals"] == learned["deals"] >= 100
    assert learned["brier"] < stage["brier"] - 0.02
    assert learned["auc"] > stage["auc"]
    for method in result["methods"].values():
        assert sum(row["count"] for row in method["calibration"]) == method["deals"]
    assert result["methods"]["set"]["deals"] == 0 and result["methods"]["set"]["brier"] is None
    assert result["verdict"] == "learned"
    table = ok("report", "forecast", "--backtest").stdout
    assert "Trust the learned chances here" in table.replace("\n", " ")
    quarterly = ok("report", "forecast", "--backtest", "--step", "quarter", "--format", "json").json()
    assert len(quarterly["snapshots"]) == 4
    run = cli("report", "forecast", "--backtest", "--step", "week")
    assert run.exit_code == 1 and "month or quarter" in err(run)
    run = cli("report", "forecast", "--backtest", "--from", "2026-05-01", "--to", "2026-01-01")
    assert run.exit_code == 1 and "after" in err(run)


# ---------------------------------------------------------------- workbooks

def test_reports_and_opp_list_write_typed_workbooks_and_refuse_pictures(agency, ok, cli, tmp_path):
    import pytest

    import openpyxl  # the test extra has it: never skipped
    add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot", "--value", "1234.50")
    ok("report", "forecast", "--by", "owner", "-p", "all", "-o", str(tmp_path / "forecast.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "forecast.xlsx").active
    assert [c.value for c in sheet[1]][:4] == ["group", "count", "value", "weighted"]
    assert [c.value for c in sheet[2]][:3] == ["anna", 1, 1234.5]
    ok("opp", "list", "-o", str(tmp_path / "deals.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "deals.xlsx").active
    assert sheet.max_row == 2 and sheet["A2"].value == 1
    for args in (("report", "winloss"), ("report", "forecast"), ("opp", "list")):
        run = cli(*args, "-o", str(tmp_path / "chart.png"))
        assert run.exit_code == 1 and "not .png" in err(run)
        assert not (tmp_path / "chart.png").exists()
