"""Excel workbooks (-o FILE.xlsx): typed cells, a bold frozen header with an autofilter, fitted column
widths and, for a report, a native chart. XlsxWriter is imported inside `write_workbook` alone."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import _

KINDS = ("text", "integer", "number", "money", "percent", "date", "datetime")
CHART_KINDS = ("column", "bar")
MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
MAX_WIDTH = 60  # a long note does not push the other columns off the screen
NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm",
                  "integer": "0"}
_SHEET_FORBIDDEN = str.maketrans({character: " " for character in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    """A header cell and how its cells are typed: None infers from each value (int, Decimal money,
    float, date, datetime, bool, text); 'date'/'datetime' also read ISO text ('2026-07-01') as a date;
    'money' shows any number with two decimals; 'percent' takes a fraction (0.64 shows 64%)."""

    title: str
    kind: str | None = None


@dataclass(frozen=True)
class Chart:
    """A native Excel chart of some columns (`values`, by index) against the labels in column `categories` (through
    column `categories_last` for labels on several levels: status, stage, reason); `rows`: only the first rows
    (a total row left out), None for all."""

    kind: str
    values: Sequence[int]
    categories: int = 0
    title: str | None = None
    categories_last: int | None = None
    rows: int | None = None


def sheet_name(text: str) -> str:
    """A name Excel accepts for a sheet: at most 31 characters, none of []:*?/\\, not blank."""
    name = text.translate(_SHEET_FORBIDDEN).strip().strip("'")[:31].strip()
    return name or "Sheet1"


def write_workbook(target: str | os.PathLike | IO[bytes], header: Sequence[str | Column], rows: Iterable[Sequence[Any]],
                   sheet: str = "Report", chart: Chart | None = None) -> int:
    """Write one sheet of `rows` under `header` to `target` (a path or a binary file) and return how many rows.

    Rows stream (XlsxWriter's constant_memory mode): each is written and let go, so a big export needs
    no more memory than a small one. Text is always text: a cell starting with '=' is not a formula.
    A path is written beside itself and renamed into place when complete; on an error nothing is written."""
    columns = [column if isinstance(column, Column) else Column(str(column)) for column in header]
    for column in columns:
        if column.kind is not None and column.kind not in KINDS:
            raise ValueError(f"unknown column kind {column.kind!r}")
    if chart is not None and (chart.kind not in CHART_KINDS or not chart.values):
        raise ValueError(f"unsupported chart {chart!r}")
    if hasattr(target, "write"):
        return _write(target, columns, rows, sheet, chart)
    import tempfile

    final = os.path.realpath(target)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(final), prefix=f".{os.path.basename(final)}.", suffix=".tmp")
    os.close(handle)
    try:
        count = _write(temporary, columns, rows, sheet, chart)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return count


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write(target, columns: list[Column], rows: Iterable[Sequence[Any]], sheet: str, chart: Chart | None) -> int:
    import io

    import xlsxwriter

    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
    })
    try:
        name = sheet_name(sheet)
        worksheet = workbook.add_worksheet(name)
        bold = workbook.add_format({"bold": True})
        formats = {kind: workbook.add_format({"num_format": pattern}) for kind, pattern in NUMBER_FORMATS.items()}
        widths = [len(column.title) + 3 for column in columns]  # room for the filter's drop-down button
        for index, column in enumerate(columns):
            worksheet.write_string(0, index, column.title, bold)
        count = 0
        for count, row in enumerate(rows, start=1):
            if count >= MAX_ROWS:
                raise Invalid(_("too many rows for one Excel sheet ({limit} at most); narrow the selection or "
                                "write CSV").format(limit=MAX_ROWS - 1))
            for index, value in enumerate(row):
                kind = columns[index].kind if index < len(columns) else None
                shown = _write_cell(worksheet, count, index, value, kind, formats)
                if index < len(widths) and shown > widths[index]:
                    widths[index] = shown
        for index, width in enumerate(widths):
            worksheet.set_column(index, index, min(width + 1, MAX_WIDTH))
        worksheet.freeze_panes(1, 0)
        worksheet.autofilter(0, 0, count, max(len(columns) - 1, 0))
        charted = count if chart is None or chart.rows is None else min(count, chart.rows)
        if chart is not None and charted:
            worksheet.insert_chart(1, len(columns) + 1, _chart(workbook, name, columns, chart, charted))
    except BaseException:
        workbook.filename = io.BytesIO()  # close the half-written workbook into memory: its target stays untouched
        workbook.close()
        raise
    workbook.close()
    return count


def _write_cell(worksheet, row: int, col: int, value: Any, kind: str | None, formats: dict) -> int:
    """Write one typed cell; returns the width its text takes on screen (for fitting the column)."""
    if value is None:
        return 0
    if kind in ("date", "datetime") and isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value) if kind == "datetime" else dt.date.fromisoformat(value[:10])
        except ValueError:
            pass  # not a date after all ('later', a typo in imported data): kept as the text it is
    if isinstance(value, bool):
        worksheet.write_boolean(row, col, value)
        return 5
    if isinstance(value, dt.datetime):
        worksheet.write_datetime(row, col, value, formats["datetime"])
        return 16
    if isinstance(value, dt.date):
        worksheet.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), formats["date"])
        return 10
    if isinstance(value, (int, float, Decimal)):
        if kind == "percent":
            worksheet.write_number(row, col, float(value), formats["percent"])
            return len(f"{float(value):.0%}")
        if isinstance(value, Decimal) or kind == "money":
            worksheet.write_number(row, col, float(value), formats["money"])
            return len(f"{float(value):,.2f}")
        worksheet.write_number(row, col, value)
        return len(str(value))
    text = str(value)
    worksheet.write_string(row, col, text)
    return max((len(line) for line in text.splitlines()), default=0)


def _chart(workbook, sheet: str, columns: list[Column], spec: Chart, last_row: int):
    chart = workbook.add_chart({"type": spec.kind})
    last_category = spec.categories if spec.categories_last is None else spec.categories_last
    for index in spec.values:
        chart.add_series({
            "name": [sheet, 0, index],
            "categories": [sheet, 1, spec.categories, last_row, last_category],
            "values": [sheet, 1, index, last_row, index],
        })
    if spec.title:
        chart.set_title({"name": spec.title})
    chart.set_legend({"position": "bottom" if len(spec.values) > 1 else "none"})
    return chart
