"""`import` and `export`: opportunities in from CSV (HubSpot, LinkedIn, Excel), out to CSV or JSON."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from salesselect_cli.commands.options import (
    Format, english_status, excel_option, format_option, opportunity_filter, output_option,
)
from salesselect_cli.context import open_session
from salesselect_cli.session import saving
from salesselect_cli.errors import Invalid, named, os_problem
from salesselect_cli.render import Column, emit, stderr_line
from salesselect_cli.i18n import N_, _, ngettext
from salesselect_cli.i18n import count as count_text

PROGRESS_FROM_BYTES = 1 << 20  # smaller files finish before a bar would be worth drawing


# What -o FILE can be: CSV (also as .txt), JSON or an Excel workbook.
EXPORT_FORMATS = ("csv", "txt", "json", "xlsx")


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"




# ---------------------------------------------------------------- import


class _CsvFile:
    """An import file opened for streaming: read record by record, as often as needed (it is seekable;
    stdin is spooled to a temporary file first), so memory stays flat whatever its size."""

    def __init__(self, name: str, raw):
        self.name = name
        self.raw = raw  # binary and seekable
        self.size = os.fstat(raw.fileno()).st_size
        header = raw.readline(1 << 20).decode("utf-8-sig", errors="replace")
        from salesselect_cli.rules.importing import detect_delimiter

        self.delimiter = detect_delimiter(header)

    def contains(self, needle: bytes) -> bool:
        """Whether the bytes occur anywhere in the file (a fast scan, before a slower pass)."""
        self.raw.seek(0)
        tail = b""
        while chunk := self.raw.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle):]
        return False

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) per CSV record from the start, the header first; blank records skipped."""
        import csv

        self.raw.seek(0)
        text = io.TextIOWrapper(self.raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=self.delimiter)
        line = 1
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield line, cells
                line = reader.line_num + 1
        except csv.Error as exc:
            raise Invalid(_("line {line}: not valid CSV ({exc})").format(line=line, exc=exc)) from None
        except UnicodeDecodeError:
            raise Invalid(_("{name} is not UTF-8 (line {bad_line}); save it as 'CSV UTF-8' and try again").format(name=self.name, bad_line=self._bad_line())) \
                from None
        finally:
            with contextlib.suppress(ValueError):  # already closed when the command ended early
                text.detach()  # the raw file stays open for another pass

    def _bad_line(self) -> int:
        self.raw.seek(0)
        for number, raw_line in enumerate(self.raw, start=1):
            try:
                raw_line.decode("utf-8")
            except UnicodeDecodeError:
                return number
        return 1


@contextlib.contextmanager
def _csv_file(file: str) -> Iterator[_CsvFile]:
    """The file, or stdin (`-`) spooled to a temporary file, opened for streaming."""
    import shutil
    import tempfile

    try:
        if file == "-":
            source = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode("utf-8"))
            with tempfile.TemporaryFile() as spooled:
                shutil.copyfileobj(source, spooled, 1 << 20)
                spooled.seek(0)
                yield _CsvFile("stdin", spooled)
            return
        raw = open(file, "rb")
    except OSError as exc:
        raise Invalid(_("cannot read {file}: {problem}").format(file=file, problem=os_problem(exc))) from None
    with raw:
        yield _CsvFile(file, raw)


@contextlib.contextmanager
def _progress(records: Iterator[tuple[int, list[str]]], source: _CsvFile) -> Iterator[Iterator[tuple[int, list[str]]]]:
    """The records, drawing a progress bar (sized by bytes) on stderr for big files on a terminal."""
    if source.size < PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        yield records
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=source.size)
        tell = source.raw.tell

        def tracked() -> Iterator[tuple[int, list[str]]]:
            for count, record in enumerate(records):
                if count % 2000 == 0:
                    bar.update(task, completed=tell())
                yield record

        yield tracked()


def _date_orders(source: _CsvFile, mapping, headers: list[str], date_format: Optional[str]) -> dict[str, str]:
    """The order of each date column's d/m/y dates: --date-format for all, else decided per column by a
    first pass over the file (only when it has a '/' at all); warns once about columns it had to guess."""
    from salesselect_cli.rules.importing import DATE_FIELDS, DATE_ORDERS, DateOrderScan

    columns = {name: index for name, index in mapping.columns.items() if name in DATE_FIELDS}
    if date_format is not None:
        order = date_format.strip().lower()
        if order not in DATE_ORDERS:
            raise Invalid(_("--date-format must be dmy, mdy or ymd, not '{date_format}'").format(date_format=date_format))
        return {name: order for name in columns}
    if not columns or not source.contains(b"/"):
        return {}
    scan = DateOrderScan()
    records = source.records()
    next(records, None)  # the header
    for line, cells in records:
        for name, index in columns.items():
            if index < len(cells):
                scan.see(name, line, cells[index])
    orders, warning = scan.decided({name: headers[index].strip() for name, index in columns.items()})
    if warning:
        stderr_line(_("Warning: {warning}").format(warning=warning))
    return orders


def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="A CSV file with a header row, or - for stdin."),
    maps: Optional[List[str]] = typer.Option(
        None, "--map", "-m", metavar="CSV_COLUMN=field",
        help="Read field from this column (repeatable), e.g. --map 'Deal Name=title'.",
    ),
    value_maps: Optional[List[str]] = typer.Option(
        None, "--map-value", metavar="FIELD:FROM=TO",
        help="Read a value as one of ours (repeatable; FROM in any case), e.g. --map-value 'stage:New=Lead'. "
             "Fields: stage, owner, business_type, source, status, reason.",
    ),
    skip: Optional[List[str]] = typer.Option(
        None, "--skip", metavar="COLUMN", help="Leave this column out, even if it is named like a field (repeatable).",
    ),
    key: Optional[str] = typer.Option(
        None, "--key", metavar="COLUMN",
        help="The column with each deal's id in the system it comes from: a re-import updates those deals.",
    ),
    allow_duplicates: bool = typer.Option(
        False, "--allow-duplicates", help="Add rows even when they repeat an open deal (title, company, value, close)."),
    date_format: Optional[str] = typer.Option(
        None, "--date-format", metavar="dmy|mdy|ymd", help="How to read dates like 01/12/2026 (default: per column)."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Source for rows without one."),
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Business type for rows without one."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Stage for rows without one (default: the type's first)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Owner for rows without one (default: you)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and show what would be imported; write nothing."),
    no_workflows: bool = typer.Option(
        False, "--no-workflows", help="Accepted for scripts that pass it to every bulk command: imports never fire workflows."),
    fmt: Format = format_option(),
) -> None:
    """Import opportunities from CSV: all rows or none.

    Columns named like a field map themselves (case-insensitively):
    title, company, contact, business_type (or type), stage, source, value,
    expected_close (or close), owner, status, reason, vacancy, created, closed,
    notes, closed_from, external_key; and what CRM exports call them (Deal Name, Amount,
    Deal Stage, Deal owner, Expected Revenue, Salesperson, ...). Other columns are ignored
    unless mapped with --map; --skip leaves out one that would map itself.
    An export re-imports as it is (its id and derived columns are ignored).

    Dates and money are read as everywhere (15-01-2027, +2w; 12.000,50), and as exports
    write them: date-times (2026-12-01 10:00, 2026-12-01T10:00:00Z) as their date; 01/12/2026
    day-first unless the column shows month-first (12/25/2026) or --date-format says;
    40000.0, € 12.500,00, $12,000.50, 12000 EUR.

    Values of stage, owner, business_type, source, status and reason must be ours; translate
    others with --map-value (one error lists every unknown value and the options to add).

    Re-imports: with --key COLUMN each deal keeps the source system's id; importing again
    updates those deals (a stage change is a move with history, closing follows win/lose)
    and adds the new ones. Without --key, rows repeating an open deal are refused.

    Any bad row refuses the whole file with its line number; nothing is written.
    UTF-8 with or without BOM; ';' separators (Dutch Excel) are detected.

    An import fires no workflows.
    """
    from salesselect_cli.rules.importing import build_mapping, parse_maps, parse_value_maps
    from salesselect_cli.usecases import transfer

    with _csv_file(file) as csv_file:
        records = csv_file.records()
        first = next(records, None)
        if first is None:
            raise Invalid(_("{file} is empty: it needs a header row and at least one row").format(file=file))
        headers = first[1]
        defaults = {"business_type": business_type, "source": source, "stage": stage, "owner": owner}
        mapping = build_mapping(headers, parse_maps(maps or []), defaults, skip or [], key)
        translations = parse_value_maps(value_maps or [])
        records.close()  # a first pass may read the file: start again after the header
        orders = _date_orders(csv_file, mapping, headers, date_format)
        records = csv_file.records()
        next(records)
        keyed = "external_key" in mapping.columns
        # a dry run reads (no write lock, nothing written); one with --key tries its updates and rolls back
        with open_session(ctx, write=keyed or not dry_run) as opened:
            with _progress(records, csv_file) as tracked:
                imported = transfer.import_records(opened, tracked, mapping, defaults, translations, orders, file,
                                                   dry_run=dry_run, allow_duplicates=allow_duplicates)
                if not dry_run:
                    saving().saved = _imported(imported.result, keyed)
    summary, result, currency = imported.summary, imported.result, imported.currency
    if result.added + result.updated + result.unchanged == 0:
        raise Invalid(_("{file} has a header but no rows to import").format(file=file))
    if fmt is Format.table:
        _print_summary(summary, result, keyed, dry_run, mapping.ignored, currency)
    else:
        emit(summary, fmt.value)
        _said(result, keyed, dry_run, mapping.ignored)


def _imported(result, keyed: bool) -> str:
    """What a committed import saved, for a Ctrl-C that lands after it: a re-import counts its updates too."""
    if keyed:
        return _("Imported: {counts}").format(counts=_("added {added}, updated {updated}, unchanged {unchanged}").format(
            added=count_text(result.added), updated=count_text(result.updated), unchanged=count_text(result.unchanged)))
    return ngettext("Imported {count} opportunity", "Imported {count} opportunities",
                    result.added).format(count=count_text(result.added))


def _said(result, keyed: bool, dry_run: bool, ignored: list[str]) -> None:
    if ignored:
        stderr_line(_("Ignored columns: {names} (map them with --map COLUMN=field).").format(names=named(ignored)))
    count = result.added
    if keyed:
        counts = _("added {added}, updated {updated}, unchanged {unchanged}").format(
            added=count_text(result.added), updated=count_text(result.updated), unchanged=count_text(result.unchanged))
        stderr_line(_("Dry run: would have {counts}; nothing was written.").format(counts=counts) if dry_run
                    else _("Imported: {counts}.").format(counts=counts))
    elif dry_run:
        stderr_line(ngettext("Dry run: {count} opportunity would be imported; nothing was written.",
                             "Dry run: {count} opportunities would be imported; nothing was written.", count)
                    .format(count=count_text(count)))
    else:
        stderr_line(ngettext("Imported {count} opportunity.", "Imported {count} opportunities.", count)
                    .format(count=count_text(count)))


def _print_summary(summary: list[dict], result, keyed: bool, dry_run: bool, ignored: list[str],
                   currency: str) -> None:
    from salesselect_cli.rules.money import format_money

    columns = [
        Column("business_type", "Type"), Column("stage", "Stage"), Column("status", "Status"),
        Column("count", "Count", justify="right"),
        Column("value", "Value", justify="right", cell=lambda r: format_money(r["_value_cents"], currency)),
    ]
    if summary:
        title = (_("Would add") if dry_run and keyed else _("Would import") if dry_run else _("Added") if keyed
                 else _("Imported"))
        emit(summary, "table", None, columns, title=title)
    _said(result, keyed, dry_run, ignored)


# ---------------------------------------------------------------- export


def export(
    ctx: typer.Context,
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", "-f", help="csv (for Excel) or json.",
                                     case_sensitive=False),
    output: Optional[Path] = output_option(EXPORT_FORMATS),
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Only this business type."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Only this stage."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Only this source."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner."),
    mine: bool = typer.Option(False, "--mine", help="Only yours."),
    status: str = typer.Option("all", "--status", help="open, won, lost or all.", metavar="open|won|lost|all",
                               callback=english_status),
    close_before: Optional[str] = typer.Option(None, "--close-before", help="Expected close on or before this date."),
    close_after: Optional[str] = typer.Option(None, "--close-after", help="Expected close on or after this date."),
    overdue: bool = typer.Option(False, "--overdue", help="Only open ones past their expected close date."),
    search: Optional[str] = typer.Option(None, "--search", "-q", help="Text in the title or company."),
    excel: bool = excel_option(),
) -> None:
    """Export opportunities (all statuses by default) as CSV or JSON; `import` reads the CSV back.

    -o FILE.xlsx writes an Excel workbook instead: typed cells, a bold frozen header with an autofilter.

    The columns are the JSON shape of an opportunity, then closed_from (the stage a won or lost deal
    was closed from, which the win/loss report needs), notes and external_key (the deal's id in the
    system it was imported from, with --key), then probability (the win chance, 0-100) and
    probability_basis (set, learned or stage); days_left, indicator, next_followup and the chance are derived.
    CSV cells that Excel would run as a formula get a leading quote. --excel writes CSV as Dutch and
    Belgian Excel opens it (BOM, ';', decimal comma). Rows are streamed: memory stays flat.
    """
    from salesselect_cli.render import opened, write_csv_tuples, write_json, write_xlsx
    from salesselect_cli.rules.output_files import output_format
    from salesselect_cli.usecases import transfer

    if excel and fmt is ExportFormat.json:
        raise Invalid(_("--excel writes CSV; leave out --format json"))
    workbook = output_format(output, EXPORT_FORMATS) == "xlsx"
    if workbook and (excel or ctx.get_parameter_source("fmt").name != "DEFAULT"):
        raise Invalid(_("-o {name} writes an Excel workbook; leave out --format and --excel").format(name=output.name))
    count = 0
    with open_session(ctx) as current:
        flt = opportunity_filter(
            current, business_type=business_type, stage=stage, source=source, owner=owner, mine=mine,
            status=status, close_before=close_before, close_after=close_after, overdue=overdue, search=search,
        )

        def counted(rows):
            nonlocal count
            for row in rows:
                count += 1
                yield row

        if workbook:
            exported = transfer.export(current, flt, True)
            write_xlsx(counted(exported.rows), output, exported.columns)
        else:
            with opened(output) as handle:
                exported = transfer.export(current, flt, fmt is ExportFormat.json, "," if excel else ".")
                if fmt is ExportFormat.json:
                    write_json(counted(exported.rows), handle)
                else:
                    write_csv_tuples(counted(exported.rows), handle, exported.columns, excel)
    if output is not None and str(output) != "-":
        stderr_line(ngettext("Exported {count} opportunity to {output}.", "Exported {count} opportunities to {output}.",
                             count).format(count=count_text(count), output=output))


# ---------------------------------------------------------------- backup


def backup(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE", dir_okay=False, help="Where to write the copy (must not exist)."),
) -> None:
    """Copy the whole database to FILE: a consistent snapshot, even while others keep working.

    Restore by pointing salesselect at the copy (--db FILE, or $SALESSELECT_DB), or by copying it
    back over the database file while nobody uses salesselect (remove the old file's -wal and -shm
    files too). On PostgreSQL, use pg_dump instead.
    """
    from salesselect_cli.rules.text import clean_name

    from salesselect_cli.usecases import transfer

    clean_name(str(file), N_("the backup's file name"))  # no control or invisible characters in a name to type back
    with open_session(ctx) as opened:
        source = transfer.backup(opened, file)
    stderr_line(_("Backed up {source} to {file}. Restore: use it with --db {file}, or copy it back over {source} while nobody uses salesselect.").format(source=source, file=file))
