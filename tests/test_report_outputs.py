"""What the reports, the board and export write for people and programs: export as a workbook with the win
chance, -o names no command can write refused before anything happens, reports per owner, the board's
weighted value and the reports' native Excel charts. Commands through CliRunner, on either backend."""

from __future__ import annotations

import csv
import datetime as dt
import io

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
