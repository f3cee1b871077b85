"""What the reports, the board and export write for people and programs: export as a workbook with the win
chance, -o names no command can write refused before anything happens, reports per owner, the board's
weighted value and the reports' native Excel charts. Commands through CliRunner, on either backend."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
import io
import re

import openpyxl  # the test extra has it: the read-back tests never skip
import pytest

from tests.conftest import add_opp


def err(run) -> str:
    assert run.stderr.startswith(("Error: ", "Fout: ")), run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr


# ---------------------------------------------------------------- export


def test_export_carries_the_win_chance_in_csv_json_and_the_workbook(agency, ok, tmp_path):
    deal = add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot", "--value", "1234.50", "--close", "2026-12-20")
    ok("opp", "edit", str(deal), "--probability", "64")
    other = add_opp(ok, "Other", "Beta", "Staffing", "Google")
    ok("config", "set-probability", "Lead", "20")
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(ok("export").stdout))}
    assert (rows[deal]["probability"], rows[deal]["probability_basis"]) == ("64", "set")
    assert (rows[other]["probability"], rows[other]["probability_basis"]) == ("20", "stage")
    records = {r["id"]: r for r in ok("export", "--format", "json").json()}
    assert (records[deal]["probability"], records[other]["probability_basis"]) == (64, "stage")
    run = ok("export", "-o", str(tmp_path / "deals.xlsx"))
    assert "Exported 2 opportunities to" in run.stderr and run.stdout == ""
    sheet = openpyxl.load_workbook(tmp_path / "deals.xlsx").active
    header = [cell.value for cell in sheet[1]]
    assert header[-2:] == ["probability", "probability_basis"] and header[:2] == ["id", "title"]
    by_id = {row[0].value: {key: cell for key, cell in zip(header, row)} for row in sheet.iter_rows(min_row=2)}
    assert by_id[deal]["value"].value == 1234.5 and by_id[deal]["value"].number_format == "#,##0.00"
    assert by_id[deal]["expected_close"].value == dt.datetime(2026, 12, 20) and by_id[deal]["expected_close"].is_date
    assert by_id[deal]["probability"].value == 64 and by_id[deal]["probability_basis"].value == "set"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet['W1'].column_letter}3"


def test_export_workbook_refuses_a_format_it_would_ignore(agency, cli, tmp_path):
    for extra in (("--format", "json"), ("--format", "csv"), ("--excel",)):
        run = cli("export", "-o", str(tmp_path / "deals.xlsx"), *extra)
        assert run.exit_code == 1 and "Excel workbook" in err(run)
    assert not (tmp_path / "deals.xlsx").exists()


@pytest.mark.parametrize("args", [
    ("export",), ("report", "pipeline"), ("report", "sources"), ("report", "stages"), ("opp", "list"),
    ("log",), ("goal", "list"), ("config", "show"), ("config", "export"), ("board",), ("user", "list"),
    ("undo", "--list"), ("followup", "list"), ("opp", "trash"), ("workflow", "list"),
])
def test_a_file_no_command_writes_is_refused_before_anything_happens(agency, cli, tmp_path, args):
    for name in ("chart.png", "report.pdf"):
        run = cli(*args, "-o", str(tmp_path / name))
        assert run.exit_code == 1 and f"not .{name.rsplit('.', 1)[1]}" in err(run)
        assert not (tmp_path / name).exists()


def test_a_refused_file_name_changes_nothing(agency, ok, cli, tmp_path):
    deal = add_opp(ok, "Deal", "Acme", "Staffing", "HubSpot")
    ok("opp", "edit", str(deal), "--value", "500")
    run = cli("undo", "-o", str(tmp_path / "undo.pdf"))
    assert run.exit_code == 1 and "not .pdf" in err(run)
    assert ok("opp", "show", str(deal), "--format", "json").json()["value"] == "500.00"  # the undo did not run


def test_commands_that_write_no_workbook_refuse_xlsx_naming_what_they_write(agency, cli, tmp_path):
    run = cli("board", "-o", str(tmp_path / "board.xlsx"))
    assert run.exit_code == 1 and ".svg" in err(run) and "not .xlsx" in run.stderr
    run = cli("config", "export", "-o", str(tmp_path / "setup.csv"))
    assert run.exit_code == 1 and "writes .json" in err(run)
    run = cli("--lang", "nl", "report", "pipeline", "-o", str(tmp_path / "x.png"))
    assert run.exit_code == 1 and err(run).startswith("Fout: ") and ".png" in run.stderr
    assert not {"board.xlsx", "setup.csv", "x.png"} & {path.name for path in tmp_path.iterdir()}


# ---------------------------------------------------------------- reports per owner


def without(row: dict, *keys: str) -> dict:
    return {key: value for key, value in row.items() if key not in keys}


def test_pipeline_by_owner_adds_up_to_the_pipeline_and_follows_the_filters(demo_db, ok, cli):
    rows = ok("report", "pipeline", "--by", "owner", "--format", "json").json()
    owners = [row["owner"] for row in rows]
    assert owners == sorted(owners) and len(owners) >= 2 and all(row["count"] > 0 for row in rows)
    by_stage = ok("report", "pipeline", "--format", "json").json()
    assert sum(row["count"] for row in rows) == sum(row["count"] for row in by_stage)
    assert round(sum(row["share"] for row in rows)) == 100
    for row in rows:
        own = ok("report", "pipeline", "--owner", row["owner"], "--format", "json").json()
        assert row["count"] == sum(r["count"] for r in own)
        assert row["value"] == f"{sum(Decimal(r['value']) for r in own):.2f}"
        assert row["red"] == sum(r["red"] for r in own) and row["overdue"] == sum(r["overdue"] for r in own)
    staffing = ok("report", "pipeline", "--by", "owner", "--type", "Staffing", "--format", "json").json()
    assert sum(r["count"] for r in staffing) == len(ok("opp", "list", "--type", "Staffing", "--format", "json").json())
    one = ok("report", "pipeline", "--by", "owner", "--owner", owners[0], "--format", "json").json()
    assert [without(r, "share", "value_share") for r in one] == [without(rows[0], "share", "value_share")]
    header = ok("report", "pipeline", "--by", "owner", "--format", "csv").stdout.splitlines()[0]
    assert header == "owner,count,value,red,orange,overdue,share,value_share"
    table = ok("report", "pipeline", "--by", "owner").stdout
    assert "Owner" in table and owners[0] in table and "By expected close month" not in table
    dutch = ok("--lang", "nl", "report", "pipeline", "--by", "owner").stdout
    assert "Eigenaar" in dutch and "Deals" in dutch
    run = cli("report", "pipeline", "--by", "recruiter")
    assert run.exit_code == 2


def test_pipeline_by_owner_with_nothing_open_says_so(agency, ok):
    assert ok("report", "pipeline", "--by", "owner", "--format", "json").json() == []
    assert "Nothing in the pipeline" in ok("report", "pipeline", "--by", "owner").stdout


def test_sources_by_owner_has_the_same_total_and_each_owners_own_numbers(demo_db, ok):
    rows = ok("report", "sources", "-p", "all", "--by", "owner", "--format", "json").json()
    by_source = ok("report", "sources", "-p", "all", "--format", "json").json()
    assert rows[-1]["total"] and without(rows[-1], "owner") == without(by_source[-1], "source")
    assert all("source" not in row for row in rows)
    assert sum(row["created"] for row in rows[:-1]) == rows[-1]["created"]
    for row in rows[:-1]:
        own = ok("report", "sources", "-p", "all", "--owner", row["owner"], "--format", "json").json()[-1]
        assert without(row, "owner", "total") == without(own, "source", "total")
    header = ok("report", "sources", "-p", "all", "--by", "owner", "--format", "csv").stdout.splitlines()[0]
    assert header.startswith("owner,created,won,lost,")
    table = ok("report", "sources", "-p", "all", "--by", "owner").stdout
    assert "by owner" in table and "Total" in table
    assert "per eigenaar" in ok("--lang", "nl", "report", "sources", "-p", "all", "--by", "owner").stdout
    assert ok("report", "sources", "-p", "all", "--by", "source", "--format", "json").json() == by_source


def test_winloss_by_owner_is_each_owners_winloss(demo_db, ok):
    rows = ok("report", "winloss", "-p", "all", "--by", "owner", "--format", "json").json()
    owners = list(dict.fromkeys(row["owner"] for row in rows))
    assert len(owners) >= 2 and owners == sorted(owners)
    for owner in owners:
        own = ok("report", "winloss", "-p", "all", "--owner", owner, "--format", "json").json()
        assert [without(row, "owner") for row in rows if row["owner"] == owner] == own
    everyone = ok("report", "winloss", "-p", "all", "--format", "json").json()
    assert sum(row["count"] for row in rows) == sum(row["count"] for row in everyone)
    assert ok("report", "winloss", "-p", "all", "--by", "owner", "--format", "csv").stdout.startswith(
        "owner,status,stage,reason,count,")
    table = ok("report", "winloss", "-p", "all", "--by", "owner").stdout
    for owner in owners:
        assert f"Owner {owner}" in table and f"--owner {owner}" in table
    dutch = ok("--lang", "nl", "report", "winloss", "-p", "all", "--by", "owner").stdout
    assert f"Eigenaar {owners[0]}" in dutch


def test_a_recruiter_sees_the_per_owner_reports_as_a_manager_does(demo_db, ok):
    for args in (("report", "winloss", "-p", "all"), ("report", "sources", "-p", "all"), ("report", "pipeline")):
        as_anna = ok(*args, "--by", "owner", "--format", "json").json()
        as_sanne = ok(*args, "--by", "owner", "--format", "json", env={"SALESSELECT_USER": "sanne"}).json()
        assert as_sanne == as_anna and as_anna


def test_per_owner_reports_as_workbooks(demo_db, ok, tmp_path):
    for report in ("winloss", "sources", "pipeline"):
        target = tmp_path / f"{report}.xlsx"
        ok("report", report, "-p", "all", "--by", "owner", "-o", str(target))
        sheet = openpyxl.load_workbook(target).active
        assert sheet["A1"].value == "owner" and sheet["A1"].font.b and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:") and isinstance(sheet["A2"].value, str)


# ---------------------------------------------------------------- workbooks with charts


def chart_xml(path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/charts/chart1.xml").decode("utf-8")


@pytest.mark.parametrize("args, series, categories", [
    (("report", "winloss"), ["$D$2:$D$"], "$A$2:$C$"),  # labels on three levels: status, stage, reason
    (("report", "sources"), ["$B$2:$B$", "$C$2:$C$", "$D$2:$D$"], "$A$2:$A$"),
    (("report", "stages"), ["$B$2:$B$", "$C$2:$C$", "$D$2:$D$", "$E$2:$E$"], "$A$2:$A$"),
    (("report", "forecast", "--by", "owner"), ["$C$2:$C$", "$D$2:$D$", "$E$2:$E$", "$F$2:$F$"], "$A$2:$A$"),
])
def test_report_workbooks_carry_a_native_chart_of_their_rows(demo_db, ok, tmp_path, args, series, categories):
    target = tmp_path / "report.xlsx"
    ok(*args, "-p", "all", "-o", str(target))
    book = openpyxl.load_workbook(target)
    sheet = book.active
    assert len(sheet._charts) == 1
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert isinstance(sheet["B2"].value, (int, float)) or isinstance(sheet["D2"].value, (int, float))
    ranges = [ref for ref in re.findall(r"<c:f>Report!([^<]*)</c:f>", chart_xml(target)) if ":" in ref]
    header = [cell.value for cell in sheet[1]]
    totalled = "total" in header and sheet.cell(row=sheet.max_row, column=header.index("total") + 1).value
    last = sheet.max_row - (1 if totalled else 0)  # a total row is not charted
    assert ranges[0::2] == [f"{categories}{last}"] * len(series)  # each series: its labels, then its values
    assert ranges[1::2] == [f"{prefix}{last}" for prefix in series]


def test_an_empty_report_workbook_has_its_header_and_no_chart(agency, ok, tmp_path):
    target = tmp_path / "winloss.xlsx"
    ok("report", "winloss", "-o", str(target))
    sheet = openpyxl.load_workbook(target).active
    assert [c.value for c in sheet[1]][:3] == ["status", "stage", "reason"] and sheet.max_row == 1
    assert len(sheet._charts) == 0


# ---------------------------------------------------------------- the board's weighted value


def board_columns(ok, *args) -> dict:
    return {column["stage"]: column for column in ok("board", "--format", "json", *args).json()}


def test_the_board_shows_weighted_values_only_once_chances_are_in_use(agency, ok, cli):
    lead = add_opp(ok, "Lead deal", "Acme", "Staffing", "HubSpot", "--value", "1000")
    add_opp(ok, "Other lead", "Beta", "Staffing", "Google", "--value", "3000")
    proposal = add_opp(ok, "Proposal deal", "Crane", "Staffing", "Google", "--value", "2000", "--stage", "Proposal")
    columns = board_columns(ok)
    assert all(list(column) == ["stage", "count", "value", "cards"] for column in columns.values())
    assert "weighted" not in ok("board").stdout
    ok("opp", "edit", str(proposal), "--probability", "25")  # a card's own chance: in use
    columns = board_columns(ok)
    assert columns["Proposal"]["weighted"] == "500.00"
    assert columns["Lead"]["weighted"] == "0.00"  # no percentage and nothing closed yet: no chance, adds nothing
    ok("config", "set-probability", "Lead", "20")
    columns = board_columns(ok)
    assert (columns["Lead"]["weighted"], columns["Proposal"]["weighted"]) == ("800.00", "500.00")
    table = ok("board", "--width", "120").stdout
    assert "weighted €800" in table and "weighted €500" in table and "4,000" in table
    assert "gewogen € 800" in ok("--lang", "nl", "board", "--width", "120").stdout
    assert board_columns(ok, "--owner", "anna")["Lead"]["weighted"] == "800.00"
    assert board_columns(ok, "--source", "Google")["Lead"]["weighted"] == "600.00"  # filters apply
    ok("opp", "edit", str(lead), "--probability", "100")
    assert board_columns(ok)["Lead"]["weighted"] == "1600.00"
    ok("opp", "edit", str(proposal), "--probability", "auto")
    ok("opp", "edit", str(lead), "--probability", "auto")
    ok("config", "set-probability", "Lead", "none")
    assert all("weighted" not in column for column in board_columns(ok).values())  # out of use again


def test_the_interactive_board_shows_the_weighted_value_too(agency, ok, cli, monkeypatch):
    from salesselect_cli import kanban
    from salesselect_cli.commands import board
    from salesselect_cli.session import run_command

    add_opp(ok, "Lead deal", "Acme", "Staffing", "HubSpot", "--value", "1000")
    ok("config", "set-probability", "Lead", "30")
    made = []
    monkeypatch.setattr(board, "run_interactive", made.append)
    assert cli("board", "-i").exit_code == 0
    data = run_command(made[0].board)  # as the board's app runs it: what the read sets ends with it
    [lead] = [column for column in data.columns if column.stage == "Lead"]
    assert lead.weighted_cents == 30_000
    assert "weighted €300" in kanban.header(lead, data.currency).plain


# ---------------------------------------------------------------- the backtest's files and verdict


def test_the_backtest_writes_its_json_and_workbook_where_o_says_and_its_verdict_is_a_sentence(demo_db, ok, tmp_path):
    import json

    run = ok("report", "forecast", "--backtest", "--format", "json", "-o", str(tmp_path / "backtest.json"))
    assert run.stdout == ""
    written = json.loads((tmp_path / "backtest.json").read_text(encoding="utf-8"))
    assert written["deals_scored"] > 0 and set(written["methods"]) == {"stage", "learned", "set"}
    ok("report", "forecast", "--backtest", "-o", str(tmp_path / "backtest.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "backtest.xlsx").active
    rows = {row[0].value: [cell.value for cell in row] for row in sheet.iter_rows(min_row=2)}
    assert [cell.value for cell in sheet[1]] == ["method", "deals", "brier", "log_loss", "auc", "wmape", "bias"]
    assert all(isinstance(value, (int, float)) for value in rows["learned"][1:])
    for language in ("en", "nl"):
        verdict = ok("--lang", language, "report", "forecast", "--backtest").stdout.strip().splitlines()[-1]
        assert verdict[0].isupper() and verdict.endswith("."), verdict


def test_a_workbook_that_cannot_be_written_is_one_line(agency, cli, tmp_path):
    for args in (("export",), ("report", "winloss"), ("opp", "list")):
        run = cli(*args, "-o", str(tmp_path / "missing" / "out.xlsx"))
        assert run.exit_code == 1 and "cannot write" in err(run) and "No such file or directory" in run.stderr
    run = cli("report", "sources", "-o", str(tmp_path / "bad\u200bname.xlsx"))
    assert run.exit_code == 1 and err(run)


@pytest.mark.sqlite_only
def test_a_workbook_never_overwrites_the_database(agency, cli, tmp_path, monkeypatch):
    import os
    import shutil

    database = tmp_path / "agency.xlsx"
    shutil.copyfile(os.environ["SALESSELECT_DB"], database)
    monkeypatch.setenv("SALESSELECT_DB", str(database))
    before = database.read_bytes()
    for args in (("export",), ("report", "sources")):
        run = cli(*args, "-o", str(database))
        assert run.exit_code == 1 and "it is the database" in err(run)
    assert database.read_bytes() == before


# ---------------------------------------------------------------- the rooms behind them, at store level

from tests.test_store_rooms import TODAY, add, agency_store, fresh_store  # noqa: E402,F401 (fixtures)


def test_reports_rooms_group_by_owner(agency_store):
    from salesselect_cli.model import OpportunityFilter

    store = agency_store
    add(store, "Anna's", value_cents=100_00, expected_close=TODAY)
    add(store, "Bob's", value_cents=300_00, owner="bob")
    lost = add(store, "Bob's lost", value_cents=50_00, owner="bob")
    store.deals.close_opportunity(lost, "lost", "Too expensive")
    everyone = OpportunityFilter()
    owners = store.reports.report_pipeline_owners(everyone)
    assert [(r["owner"], r["count"], r["value"], r["red"], r["share"]) for r in owners] == [
        ("anna", 1, "100.00", 1, 50.0), ("bob", 1, "300.00", 0, 50.0)]
    assert store.reports.report_pipeline_owners(OpportunityFilter(owner="bob"))[0]["share"] == 100.0
    sources = store.reports.report_sources(everyone, TODAY, TODAY, by_owner=True)
    assert [(r["owner"], r["created"], r["lost"], r["total"]) for r in sources] == [
        ("bob", 2, 1, False), ("anna", 1, 0, False), ("Total", 3, 1, True)]
    [row] = store.reports.report_winloss(everyone, TODAY, TODAY, by_owner=True)
    assert (row["owner"], row["status"], row["reason"], row["share"]) == ("bob", "lost", "Too expensive", 100.0)
    assert "owner" not in store.reports.report_winloss(everyone, TODAY, TODAY)[0]


def test_the_board_weighs_its_columns_by_the_chance_rules(agency_store):
    from decimal import Decimal

    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.rules.forecast import weighted_cents

    store = agency_store
    own = add(store, "Own chance", value_cents=1_000_01)
    add(store, "Stage chance", value_cents=3_000_00, owner="bob")
    columns = store.reports.board_columns(OpportunityFilter())
    assert store.forecast.weighted_by_stage(columns) is None  # no chance in use: nothing is read for it
    assert all(column["chance_buckets"] == [] for column in columns)
    store.deals.edit_opportunity(own, {"probability": 33})
    store.setup.set_stage_probability("Lead", 20)
    columns = store.reports.board_columns(OpportunityFilter())
    [lead] = columns
    assert {bucket[6] for bucket in lead["chance_buckets"]} == {None, 33}  # bob's follows the stage's 20%
    expected = weighted_cents(1_000_01, 33) + weighted_cents(3_000_00, 20)
    assert store.forecast.weighted_by_stage(columns) == {lead["stage_id"]: int(expected.quantize(Decimal(1)))}
    assert store.forecast.weighted_by_stage(store.reports.board_columns(OpportunityFilter(owner="bob"))) == {
        lead["stage_id"]: 60_000}


def test_export_rows_carry_the_chance_each_record_has(agency_store):
    from salesselect_cli.model import OpportunityFilter

    store = agency_store
    own = add(store, "Own chance", value_cents=100_00)
    add(store, "No chance yet", value_cents=200_00)
    store.deals.edit_opportunity(own, {"probability": 64})
    everyone = OpportunityFilter(status="all")
    rows = {row[0]: row[-2:] for row in store.forecast.export_rows_with_chances(everyone)}
    records = {r["id"]: (r["probability"], r["probability_basis"])
               for r in store.forecast.with_chances(store.deals.list_opportunities(everyone))}
    assert rows == records and rows[own] == (64, "set")
    width = len(next(iter(store.deals.export_rows(everyone))))
    assert all(len(row) == width + 2 for row in store.forecast.export_rows_with_chances(everyone))
