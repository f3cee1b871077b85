"""`import` and `export`: opportunities in from CSV (HubSpot, LinkedIn, Excel), out to CSV or JSON."""

from __future__ import annotations

import contextlib
import sys
from enum import Enum
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from salesselect_cli.commands.options import Format, format_option, opportunity_filter, output_option
from salesselect_cli.context import Saving, session
from salesselect_cli.errors import Invalid
from salesselect_cli.render import Column, emit, stderr_line
from salesselect_cli.i18n import _, ngettext

PROGRESS_FROM_LINES = 5000  # smaller files finish before a bar would be worth drawing


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add the top-level `import` and `export` commands."""
    app.command("import")(import_)
    app.command("export")(export)


# ---------------------------------------------------------------- import


def _read_text(file: str) -> str:
    """The whole file as text: UTF-8 with or without BOM; `-` is stdin."""
    try:
        if file == "-":
            stream = sys.stdin
            data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
        else:
            data = Path(file).read_bytes()
    except OSError as exc:
        raise Invalid(_("cannot read {file}: {strerror}").format(file=file, strerror=exc.strerror)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Invalid(_("{file} is not UTF-8 (line {line}); save it as 'CSV UTF-8' and try again").format(file=file, line=line)) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) per CSV record, the header first; `;` detected; blank records skipped."""
    import csv
    import io

    from salesselect_cli.rules.importing import detect_delimiter

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text.split("\n", 1)[0]))
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(_("line {line}: not valid CSV ({exc})").format(line=line, exc=exc)) from None


@contextlib.contextmanager
def _progress(records: Iterator[tuple[int, list[str]]], total_lines: int) -> Iterator[Iterator[tuple[int, list[str]]]]:
    """The records, drawing a progress bar on stderr for big files on a terminal."""
    if total_lines < PROGRESS_FROM_LINES or not sys.stderr.isatty():
        yield records
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=total_lines)

        def tracked() -> Iterator[tuple[int, list[str]]]:
            for line, cells in records:
                if line % 1000 < 2:  # a record may span lines: do not count on hitting an exact multiple
                    bar.update(task, completed=line)
                yield line, cells

        yield tracked()


def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="A CSV file with a header row, or - for stdin."),
    maps: Optional[List[str]] = typer.Option(
        None, "--map", "-m", metavar="CSV_COLUMN=field",
        help="Read field from this column (repeatable), e.g. --map 'Deal Name=title'.",
    ),
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
    notes, closed_from. Other columns are ignored unless mapped with --map.
    An export re-imports as it is (its id and derived columns are ignored).

    Dates and money are read as everywhere (15-01-2027, +2w; 12.000,50).
    A closed deal needs status won/lost (or a won/lost stage); a lost one a lost reason.

    Any bad row refuses the whole file with its line number; nothing is written.
    UTF-8 with or without BOM; ';' separators (Dutch Excel) are detected.

    Creating opportunities is not a workflow trigger: an import fires no workflows.
    """
    from salesselect_cli.rules.importing import RowParser, build_mapping, parse_maps

    text = _read_text(file)
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise Invalid(_("{file} is empty: it needs a header row and at least one row").format(file=file))
    headers = first[1]
    defaults = {"business_type": business_type, "source": source, "stage": stage, "owner": owner}
    mapping = build_mapping(headers, parse_maps(maps or []), defaults)
    with session(ctx, write=not dry_run) as store:  # a dry run reads: no write lock, nothing written
        defaults["owner"] = owner or store.user["name"]
        parser = RowParser(store.import_names(), mapping, defaults, store.today)
        with _progress(records, text.count("\n")) as tracked:
            rows = (parser.parse(line, cells) for line, cells in tracked)
            if dry_run:
                summary, count = store.import_preview(rows)
            else:
                first_id, count = store.import_opportunities(rows)
                summary = store.import_summary(first_id)
                Saving.saved = f"Imported {count:,} {'opportunity' if count == 1 else 'opportunities'}"
            currency = store.currency
    if count == 0:
        raise Invalid(_("{file} has a header but no rows to import").format(file=file))
    if fmt is Format.table:
        _print_summary(summary, count, dry_run, mapping.ignored, currency)
    else:
        emit(summary, fmt.value)
        _said(count, dry_run, mapping.ignored)


def _said(count: int, dry_run: bool, ignored: list[str]) -> None:
    if ignored:
        stderr_line(_("Ignored columns: {names} (map them with --map COLUMN=field).").format(names=', '.join(ignored)))
    if dry_run:
        stderr_line(ngettext("Dry run: {count} opportunity would be imported; nothing was written.",
                             "Dry run: {count} opportunities would be imported; nothing was written.", count)
                    .format(count=f"{count:,}"))
    else:
        stderr_line(ngettext("Imported {count} opportunity.", "Imported {count} opportunities.", count)
                    .format(count=f"{count:,}"))


def _print_summary(summary: list[dict], count: int, dry_run: bool, ignored: list[str], currency: str) -> None:
    from salesselect_cli.rules.money import format_money

    columns = [
        Column("business_type", "Type"), Column("stage", "Stage"), Column("status", "Status"),
        Column("count", "Count", justify="right"),
        Column("value", "Value", justify="right", cell=lambda r: format_money(r["_value_cents"], currency)),
    ]
    emit(summary, "table", None, columns, title="Would import" if dry_run else "Imported")
    _said(count, dry_run, ignored)


# ---------------------------------------------------------------- export


def export(
    ctx: typer.Context,
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", "-f", help="csv (for Excel) or json.",
                                     case_sensitive=False),
    output: Optional[Path] = output_option(),
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Only this business type."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Only this stage."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Only this source."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner."),
    mine: bool = typer.Option(False, "--mine", help="Only yours."),
    status: str = typer.Option("all", "--status", help="open, won, lost or all."),
    close_before: Optional[str] = typer.Option(None, "--close-before", help="Expected close on or before this date."),
    close_after: Optional[str] = typer.Option(None, "--close-after", help="Expected close on or after this date."),
    overdue: bool = typer.Option(False, "--overdue", help="Only open ones past their expected close date."),
    search: Optional[str] = typer.Option(None, "--search", "-q", help="Text in the title or company."),
) -> None:
    """Export opportunities (all statuses by default) as CSV or JSON; `import` reads the CSV back.

    The columns are the JSON shape of an opportunity, then closed_from (the stage a won or lost deal
    was closed from, which the win/loss report needs) and notes; days_left, indicator and
    next_followup are derived. CSV cells that Excel would run as a formula get a leading quote.
    """
    from salesselect_cli.render import opened, write_csv, write_json
    from salesselect_cli.store import OPPORTUNITY_KEYS

    count = 0
    with session(ctx) as store:
        flt = opportunity_filter(
            store, business_type=business_type, stage=stage, source=source, owner=owner, mine=mine,
            status=status, close_before=close_before, close_after=close_after, overdue=overdue, search=search,
        )

        def counted():
            nonlocal count
            for record in store.list_opportunities(flt):
                count += 1
                # what a re-import needs beyond the SPEC shape: where a closed deal was closed from
                record["closed_from"] = record["_closed_from_stage"]
                record["notes"] = record["_notes"]
                yield record

        with opened(output) as handle:
            if fmt is ExportFormat.json:
                write_json(counted(), handle)
            else:
                write_csv(counted(), handle, list(OPPORTUNITY_KEYS) + ["closed_from", "notes"])
    if output is not None and str(output) != "-":
        stderr_line(ngettext("Exported {count} opportunity to {output}.", "Exported {count} opportunities to {output}.", count)
                    .format(count=f"{count:,}", output=output))
