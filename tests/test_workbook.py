"""The Excel writer (workbook.py) read back from the .xlsx itself, and the -o extension check."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest

from salesselect_cli import workbook
from salesselect_cli.errors import Invalid
from salesselect_cli.rules.output_files import BOARD_FORMATS, output_format
from salesselect_cli.workbook import Chart, Column, sheet_name, write_workbook

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def parts(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def cells(sheet_xml: str) -> dict[str, tuple[str | None, str]]:
    """Cell reference -> (its t= type, its value or inline text)."""
    found = {}
    for match in re.finditer(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', sheet_xml):
        reference, attributes, body = match.groups()
        kind = re.search(r' t="(\w+)"', attributes)
        value = re.search(r"<(?:v|t)[^>]*>(.*?)</(?:v|t)>", body or "")
        found[reference] = (kind.group(1) if kind else None, value.group(1) if value else "")
    return found


ROWS = [
    ("Proposal", 3, Decimal("12500.50"), dt.date(2026, 7, 1), "=HYPERLINK(\"x\")"),
    ("Negotiation", 1, Decimal("90000.00"), "2026-08-15", "a note"),
    ("Lead", 12, Decimal("0.00"), None, None),
]
HEADER = ["Stage", Column("Count"), Column("Value"), Column("Expected close", "date"), "Notes"]


def test_typed_cells_frozen_bold_header_autofilter_and_fitted_widths(tmp_path):
    target = tmp_path / "pipeline.xlsx"
    assert write_workbook(target, HEADER, iter(ROWS), sheet="Pipeline") == 3
    files = parts(target)
    sheet = files["xl/worksheets/sheet1.xml"]
    found = cells(sheet)
    assert found["A1"] == ("inlineStr", "Stage") and found["E1"][1] == "Notes"
    assert found["B2"] == (None, "3") and found["C2"] == (None, "12500.5")  # numbers, not text
    assert found["D2"] == (None, str((dt.date(2026, 7, 1) - dt.date(1899, 12, 30)).days))  # an Excel date
    assert found["D3"] == (None, str((dt.date(2026, 8, 15) - dt.date(1899, 12, 30)).days))  # ISO text read as a date
    assert found["E2"][0] == "inlineStr" and found["E2"][1].startswith("=HYPERLINK(")
    assert "<f>" not in sheet  # text starting with '=' stays text, never a formula
    assert "D4" not in found and "E4" not in found  # None leaves the cell empty
    assert re.search(r'<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>', sheet)
    assert '<autoFilter ref="A1:E4"/>' in sheet
    widths = [float(w) for w in re.findall(r'<col min="\d+" max="\d+" width="([\d.]+)"', sheet)]
    assert len(widths) == 5
    assert widths[0] > len("Negotiation") and widths[3] >= len("yyyy-mm-dd")
    assert widths[4] > len('=HYPERLINK("x")')
    styles = files["xl/styles.xml"]
    assert "<b/>" in styles and 'formatCode="#,##0.00"' in styles and 'formatCode="yyyy-mm-dd"' in styles
    assert '<sheet name="Pipeline"' in files["xl/workbook.xml"]
    assert not any(name.startswith("xl/charts/") for name in files)


def test_a_report_gets_a_native_column_chart(tmp_path):
    target = tmp_path / "winloss.xlsx"
    write_workbook(target, HEADER[:3], [row[:3] for row in ROWS], sheet="Win/loss",
                   chart=Chart("column", values=[1, 2], title="Deals per stage"))
    files = parts(target)
    chart = files["xl/charts/chart1.xml"]
    assert "<c:barChart>" in chart and '<c:barDir val="col"/>' in chart
    assert "<c:f>'Win loss'!$B$2:$B$4</c:f>" in chart and "<c:f>'Win loss'!$A$2:$A$4</c:f>" in chart
    assert "<c:f>'Win loss'!$C$2:$C$4</c:f>" in chart and "Deals per stage" in chart
    assert "xl/drawings/drawing1.xml" in files
    bar = tmp_path / "sources.xlsx"
    write_workbook(bar, HEADER[:2], [row[:2] for row in ROWS], chart=Chart("bar", values=[1]))
    assert '<c:barDir val="bar"/>' in parts(bar)["xl/charts/chart1.xml"]


def test_read_back_by_a_spreadsheet_library(tmp_path):
    import openpyxl  # the test extra has it: never skipped
    target = tmp_path / "list.xlsx"
    write_workbook(target, HEADER, ROWS, chart=Chart("column", values=[1]))
    book = openpyxl.load_workbook(target)
    sheet = book.active
    assert [cell.value for cell in sheet[1]] == ["Stage", "Count", "Value", "Expected close", "Notes"]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E4"
    assert sheet["B2"].value == 3 and sheet["C2"].value == 12500.5 and sheet["C2"].number_format == "#,##0.00"
    assert sheet["D2"].value == dt.datetime(2026, 7, 1) and sheet["D2"].is_date
    assert sheet["E2"].value == '=HYPERLINK("x")' and sheet["E2"].data_type == "s"
    assert len(sheet._charts) == 1


def test_an_empty_list_still_has_its_header_and_no_chart(tmp_path):
    target = tmp_path / "empty.xlsx"
    assert write_workbook(target, ["Stage", "Count"], [], chart=Chart("column", values=[1])) == 0
    files = parts(target)
    assert '<autoFilter ref="A1:B1"/>' in files["xl/worksheets/sheet1.xml"]
    assert not any(name.startswith("xl/charts/") for name in files)


def test_a_binary_file_works_as_target():
    buffer = io.BytesIO()
    write_workbook(buffer, ["n"], [(1,), (2,)])
    assert buffer.getvalue()[:2] == b"PK"


def test_too_many_rows_are_refused_and_leave_the_old_file(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    target = tmp_path / "big.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(Invalid, match="too many rows"):
        write_workbook(target, ["n"], ((n,) for n in range(10)))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.xlsx"]  # no temporary file left behind
    assert write_workbook(target, ["n"], [(1,), (2,)]) == 2  # the limit itself fits


def test_bad_column_kinds_and_charts_are_programming_errors(tmp_path):
    with pytest.raises(ValueError):
        write_workbook(tmp_path / "x.xlsx", [Column("a", "colour")], [])
    with pytest.raises(ValueError):
        write_workbook(tmp_path / "x.xlsx", ["a"], [], chart=Chart("pie", values=[0]))
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("text, name", [("Win/loss", "Win loss"), ("a" * 40, "a" * 31), ("[]", "Sheet1"),
                                        ("Pipeline", "Pipeline")])
def test_sheet_names_excel_accepts(text, name):
    assert sheet_name(text) == name


# ---------------------------------------------------------------- the -o extension


@pytest.mark.parametrize("name, expected", [
    ("report.xlsx", "xlsx"), ("REPORT.XLSX", "xlsx"), ("deals.csv", "csv"), ("deals.json", "json"),
    ("table.txt", "txt"), ("-", None), (None, None), ("report", None), ("pipeline.2026-07", None),
    ("dir.d/report", None),
])
def test_output_format_from_the_extension(name, expected):
    assert output_format(name) == expected


@pytest.mark.parametrize("name", ["chart.png", "report.PDF", "old.xls", "page.html"])
def test_extensions_no_command_writes_are_refused_naming_the_ones_it_can(name):
    with pytest.raises(Invalid) as caught:
        output_format(name)
    message = str(caught.value)
    assert name in message and ".xlsx" in message and ".csv" in message


def test_a_command_that_writes_fewer_formats_names_only_those():
    assert output_format("deals.csv", ("csv", "json")) == "csv"
    with pytest.raises(Invalid, match=r"writes \.csv, \.json, not \.xlsx"):
        output_format("deals.xlsx", ("csv", "json"))


def test_xlsxwriter_is_imported_only_when_a_workbook_is_written():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, salesselect_cli.workbook, salesselect_cli.rules.output_files, salesselect_cli.rules.forecast, "
            "salesselect_cli.rules.backtest; print('xlsxwriter' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_board_writes_svg_and_html_but_no_report_does():
    assert output_format("board.svg", BOARD_FORMATS) == "svg" and output_format("board.HTM", BOARD_FORMATS) == "htm"
    with pytest.raises(Invalid, match=r"\.svg"):
        output_format("pipeline.svg")
    with pytest.raises(Invalid):
        output_format("board.pdf", BOARD_FORMATS)


def test_a_chart_can_label_on_several_levels_and_leave_out_a_total_row(tmp_path):
    target = tmp_path / "winloss.xlsx"
    rows = [("lost", "Proposal", 3), ("won", "Negotiation", 2), ("Total", None, 5)]
    write_workbook(target, ["status", "stage", "count"], rows,
                   chart=Chart("bar", values=[2], categories=0, categories_last=1, rows=2))
    chart = parts(target)["xl/charts/chart1.xml"]
    assert "<c:f>Report!$A$2:$B$3</c:f>" in chart and "<c:f>Report!$C$2:$C$3</c:f>" in chart
    assert "$C$4" not in chart
    only_total = tmp_path / "total.xlsx"
    write_workbook(only_total, ["status", "count"], [("Total", 5)], chart=Chart("column", values=[1], rows=0))
    assert not any(name.startswith("xl/charts/") for name in parts(only_total))
