"""`report`: win/loss, sources, pipeline and the stage funnel, as tables with bars, JSON or CSV."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Callable, Optional

import typer

from salesselect_cli.commands.options import (
    Format, ahead, excel_format, excel_option, format_option, output_option, parse_date_option,
)
from salesselect_cli.context import open_session
from salesselect_cli.i18n import _, ngettext

app = typer.Typer(
    no_args_is_help=True,
    help="Reports for managers: why deals are won and lost, which sources pay off, the pipeline, the funnel.",
)

PERIODS = ("this-month, last-month, this-quarter, last-quarter, this-year, last-year, all, "
           "2026-Q3, 2026-07 or 2026")
PERIOD_HELP = PERIODS + " (default: this-quarter)."
WINLOSS_KEYS = ["status", "stage", "reason", "count", "value", "share", "value_share", "status_count"]
SOURCES_KEYS = ["source", "created", "won", "lost", "open", "conversion_rate", "win_rate", "revenue",
                "average_deal_size", "average_days_to_close", "total"]
PIPELINE_KEYS = ["stage", "count", "value", "red", "orange", "overdue", "share", "value_share"]
MONTH_KEYS = ["month", "count", "value", "red", "orange", "overdue"]
STAGES_KEYS = ["stage", "entered", "moved_on", "lost", "won", "median_days", "average_days", "conversion",
               "conversion_to_won", "moved_back", "still_there"]
EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_WIDTH = 10


def _month(bucket: str) -> str:
    """A by-month row's label for people: '2026-11' (Dutch 'nov 2026'), 'earlier', 'later', 'no date'."""
    from salesselect_cli.i18n import dutch
    from salesselect_cli.rules.dates import month_name

    words = {"earlier": _("earlier"), "later": _("later"), "no date": _("no date")}
    if bucket in words:
        return words[bucket]
    year, _dash, month = bucket.partition("-")
    if dutch() and month.isdigit():
        return f"{month_name(int(month), short=True)} {year}"
    return bucket


class PipelineBy(str, Enum):
    stage = "stage"
    month = "month"
    owner = "owner"


class SourcesBy(str, Enum):
    source = "source"
    owner = "owner"


class WinlossBy(str, Enum):
    owner = "owner"


def _owners(rows: list[dict]) -> list[str]:
    """The owners of by-owner rows, in their order, each once."""
    return list(dict.fromkeys(row["owner"] for row in rows))


def _owner_scope(flt, owner: str):
    """The filter narrowed to one owner (what an owner's part of a by-owner report covers)."""
    import dataclasses

    return dataclasses.replace(flt, owner=owner)


def bar(percent: float | None, width: int = BAR_WIDTH) -> str:
    """A block-character bar for 0-100%, `width` cells wide at 100%, eighths for the remainder."""
    if not percent or percent <= 0:
        return ""
    eighths = round(min(percent, 100.0) / 100 * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


def percent_cell(percent: float | None, style: str = "cyan", bars: bool = True) -> str:
    """'██████▌  32.5%' as Rich markup (just '32.5%' without bars); '–' when there is nothing to divide."""
    if percent is None:
        return "–"
    if not bars:
        return _percent(percent)
    return f"[{style}]{bar(percent):<{BAR_WIDTH}}[/] {_percent(percent, 5)}"


def _number(value: float | int | None, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        from salesselect_cli.i18n import dutch

        text = f"{value:.1f}"
        return (text.replace(".", ",") if dutch() else text) + suffix
    return f"{value}{suffix}"


def _deals(count: int) -> str:
    return ngettext("{count} deal", "{count} deals", count).format(count=count)


def _filters(business_type: Optional[str], owner: Optional[str], source: Optional[str]):
    from salesselect_cli.model import OpportunityFilter

    return OpportunityFilter(business_type=business_type, owner=owner, source=source, status=None)


def _period(session, period: Optional[str], start: Optional[str], end: Optional[str], open_end: bool = False):
    return _period_of(session.today, period, start, end, open_end)


def _period_of(today, period: Optional[str], start: Optional[str], end: Optional[str], open_end: bool = False):
    from salesselect_cli.rules.periods import resolve_period

    return resolve_period(period, parse_date_option(start, today), parse_date_option(end, today), today,
                          open_end=open_end)


def _scope_text(flt) -> str:
    parts = [f"{label} {value}" for label, value in
             ((_("type"), flt.business_type), (_("owner"), flt.owner), (_("source"), flt.source)) if value]
    return f" [{', '.join(parts)}]" if parts else ""


def _emit(rows: list[dict], fmt: Format, output: Optional[Path], keys: list[str],
          render: Callable, nothing: str, excel: bool = False, chart=None) -> None:
    """JSON/CSV rows as they are (an empty list, or a CSV header only); a table with its story, or `nothing`;
    a workbook (-o FILE.xlsx) with `chart` beside the rows."""
    from salesselect_cli.render import emit, escape, make_console, opened, shown
    from salesselect_cli.rules.output_files import output_format

    fmt = excel_format(fmt, excel)
    if fmt is not Format.table or output_format(output) == "xlsx":
        emit(rows, fmt.value, output, csv_columns=keys, excel=excel, chart=chart)
        return
    with opened(output) as handle:
        console = make_console(None if handle is sys.stdout else handle,
                               width=None if handle is sys.stdout else 200)
        if rows:
            tables = render(True)
            if any(getattr(t, "needed_width", 0) > console.width for t in tables):
                tables = render(False)  # a narrow terminal: numbers before bars
            for item in tables:
                if isinstance(item, Lines):
                    for line in shell_lines(item, console.width):
                        console.print(shown(line), soft_wrap=True, highlight=False, markup=False)
                    continue
                console.print(_fit(item, console))
        else:
            console.print(escape(nothing))


def _chart(keys: list[str], kind: str, values: list[str], categories: str, title: str,
           categories_last: Optional[str] = None, rows: Optional[int] = None):
    """A workbook's native chart of the `values` columns against `categories` (through `categories_last`), by key;
    `rows`: the first rows only (a total row left out)."""
    from salesselect_cli.workbook import Chart

    return Chart(kind, [keys.index(key) for key in values], keys.index(categories), title,
                 None if categories_last is None else keys.index(categories_last), rows)


def _fit(table, console):
    """The table as it is when every column fits whole; else one line per row with names shortened and the last
    columns left out (named below it); label blocks only on a very narrow terminal (render.fitted)."""
    from salesselect_cli.render import fitted

    if not hasattr(table, "columns"):
        return table
    return fitted(table, console, wide_option=False)


def _table(title: str, columns: list[tuple[str, str]], cells: list[list[str]], styles: list | None = None,
           section_before_last: bool = False, compact: bool = False):
    """A Rich table whose number and bar columns never shrink below their widest cell; names wrap instead.

    columns: (header, justify); left-justified columns whose header is a name (Stage, Source, Reason) may wrap.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, box=box.SIMPLE_HEAD, header_style="bold", title_justify="left", title_style="bold")
    table.needed_width = 4  # what it takes to show every number and bar whole (edges included)
    for index, (header, justify) in enumerate(columns):
        is_name = header in (_("Stage"), _("Source"), _("Reason"))
        widest = max([Text.from_markup(row[index]).cell_len for row in cells] + [len(w) for w in header.split()])
        width = min(widest, 12) if is_name else widest
        # on a narrow terminal names fold onto more lines; numbers and money always show whole
        least = min(width, 12) if (compact and is_name) else width
        table.add_column(header, justify=justify, overflow="fold", min_width=least)
        words = [len(word) for row in cells for word in Text.from_markup(row[index]).plain.split()]
        table.columns[-1].least = max([least] + ([] if is_name and compact else words) + [len(w) for w in header.split()])
        table.needed_width += max(widest, len(header)) + 3
    for number, row in enumerate(cells):
        if section_before_last and number == len(cells) - 1:
            table.add_section()
        table.add_row(*row, style=(styles[number] if styles else None))
    return table


period_option = typer.Option(None, "--period", "-p", help=PERIOD_HELP, metavar="PERIOD")
from_option = typer.Option(None, "--from", help="First day (inclusive; YYYY-MM-DD, DD-MM-YYYY, ...).", metavar="DATE")
to_option = typer.Option(None, "--to", help="Last day (inclusive; default today when --from is given).", metavar="DATE")
type_option = typer.Option(None, "--type", "-t", help="Only this business type.")
owner_option = typer.Option(None, "--owner", help="Only this owner's opportunities.")
source_option = typer.Option(None, "--source", "-s", help="Only this source.")


# ---------------------------------------------------------------------------------------- winloss


def winloss_headline(rows: list[dict]) -> str:
    """The biggest loss cause in one sentence, from the first (largest) lost row."""
    lost = next((row for row in rows if row["status"] == "lost"), None)
    if lost is None:
        won = next((row for row in rows if row["status"] == "won"), None)
        count = won["status_count"] if won else 0
        return _("No deals were lost in this period ({count} won).").format(count=count)
    share = _percent(lost["share"])
    if lost["reason"]:
        return _("{share} of lost deals ({count} of {total}) were lost in {stage} with reason {reason}").format(
            share=share, count=lost["count"], total=lost["status_count"], stage=lost["stage"], reason=lost["reason"])
    return _("{share} of lost deals ({count} of {total}) were lost in {stage} without a reason").format(
        share=share, count=lost["count"], total=lost["status_count"], stage=lost["stage"])


def _percent(value: float, width: int = 0) -> str:
    """'32.5%', Dutch '32,5%' (right-aligned in `width` characters before the sign)."""
    from salesselect_cli.i18n import dutch

    text = f"{value:{width}.1f}"
    return (text.replace(".", ",") if dutch() else text) + "%"


def drilldown_words(row: dict, period, flt) -> list[str]:
    """The `opp list` command that lists the deals behind one win/loss row, as shell words; an option and its
    value are one word (so a wrapped command never splits them)."""
    import shlex

    from salesselect_cli.rules.periods import EARLIEST, LATEST

    options = [("--status", row["status"])]
    if period.name != "custom":
        options.append(("--closed-in", period.name))
    else:
        options += [("--closed-after", period.start.isoformat())] if period.start != EARLIEST else []
        options += [("--closed-before", period.end.isoformat())] if period.end != LATEST else []
    options.append(("--closed-from", row["stage"]))
    if row["reason"]:
        options.append(("--reason", row["reason"]))
    options += [(option, value) for option, value in
                (("--type", flt.business_type), ("--owner", flt.owner), ("--source", flt.source)) if value]
    return ["salesselect opp list"] + [f"{option} {shlex.quote(value)}" for option, value in options]


def shell_lines(words: list[str], width: int) -> list[str]:
    """Words on as few lines as fit `width`, continued with ' \\' (a shell reads them as one command)."""
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) + 2 <= width:
            lines[-1] += " " + word
        else:
            lines[-1] += " \\"
            lines.append("  " + word)
    return lines


class Lines(list):
    """Lines printed as they are, never re-wrapped (a command must stay copy-pasteable)."""


@app.command("winloss")
def winloss(
    ctx: typer.Context,
    period: Optional[str] = period_option,
    start: Optional[str] = from_option,
    end: Optional[str] = to_option,
    business_type: Optional[str] = type_option,
    owner: Optional[str] = owner_option,
    source: Optional[str] = source_option,
    by: Optional[WinlossBy] = typer.Option(None, "--by", case_sensitive=False,
                                           help="owner: the same per owner, each owner's shares of their own deals."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    excel: bool = excel_option(),
) -> None:
    """Won and lost deals closed in the period, by the stage they were closed FROM and the reason.

    A deal moved from Proposal into the "Lost" column was lost in Proposal. share = percent of that
    status's deals; lost rows first, largest share first. Rows: status, stage, reason, count, value,
    share, value_share, status_count (JSON adds opportunity_ids, the deals behind each row). The table starts
    with the biggest loss cause in one sentence and ends its first part with the `opp list` command that lists
    the deals behind the top row.

    --by owner: the same for each owner in turn (rows start with owner; shares are of that owner's deals).
    """
    from salesselect_cli.render import escape
    from salesselect_cli.rules.money import format_money

    from salesselect_cli.usecases import reports

    flt = _filters(business_type, owner, source)
    span = ahead(lambda today: _period_of(today, period, start, end))
    expect = reports.expecting_winloss(flt, span, with_ids=fmt is Format.json, by_owner=by is WinlossBy.owner)
    with open_session(ctx, expect=expect) as session:
        span = _period(session, period, start, end)
        report = reports.winloss(session, flt, span.start, span.end, with_ids=fmt is Format.json,
                                 by_owner=by is WinlossBy.owner)
    rows, currency = report.rows, report.currency

    def render(bars: bool) -> list:
        if by is not WinlossBy.owner:
            return render_part(rows, flt, bars)
        items: list = []
        for name in _owners(rows):
            items.append(f"[bold reverse] {escape(_('Owner {name}').format(name=name))} [/]")
            items += render_part([row for row in rows if row["owner"] == name], _owner_scope(flt, name), bars)
        return items

    def render_part(rows: list[dict], flt, bars: bool) -> list:
        items: list = [f"[bold]{escape(winloss_headline(rows))}[/]"]
        for status in ("lost", "won"):
            part = [row for row in rows if row["status"] == status]
            if not part:
                continue
            style = "red" if status == "lost" else "green"
            cells = [[escape(row["stage"]), escape(row["reason"] or _("(no reason)")), str(row["count"]),
                      format_money(row["_value_cents"], currency), percent_cell(row["share"], style, bars)]
                     for row in part]
            heading = _("Lost: {deals}, closed {period}") if status == "lost" else _("Won: {deals}, closed {period}")
            table = _table(heading.format(deals=_deals(part[0]['status_count']), period=span.label)
                           + escape(_scope_text(flt)),
                           [(_("Stage"), "left"), (_("Reason"), "left"), (_("Deals"), "right"), (_("Value"), "right"),
                            (_("Share of lost") if status == "lost" else _("Share of won"), "left")],
                           cells, compact=not bars)
            items.append(table)
            if part[0] is rows[0]:
                items.append(Lines([_("Deals behind the top row:")]))
                items.append(Lines(drilldown_words(rows[0], span, flt)))
        return items

    keys = (["owner"] if by else []) + WINLOSS_KEYS
    _emit(rows, fmt, output, keys, render,
          _("Nothing in this period: no opportunities were closed {period}{scope}.").format(
              period=span.label, scope=_scope_text(flt)), excel,
          _chart(keys, "bar", ["count"], keys[0], _("Deals won and lost, by stage and reason"), "reason"))


# ---------------------------------------------------------------------------------------- sources


@app.command("sources")
def sources(
    ctx: typer.Context,
    period: Optional[str] = period_option,
    start: Optional[str] = from_option,
    end: Optional[str] = to_option,
    business_type: Optional[str] = type_option,
    owner: Optional[str] = owner_option,
    source: Optional[str] = source_option,
    by: SourcesBy = typer.Option(SourcesBy.source, "--by", case_sensitive=False,
                                 help="source (default) or owner: the same per owner (rows have owner for source)."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    excel: bool = excel_option(),
) -> None:
    """Per source: the deals created in the period and what became of them (as of today).

    conversion_rate = won / created, win_rate = won / (won + lost), revenue = value won,
    average_deal_size = revenue / won, average_days_to_close = created to closed, over the won and
    lost ones. The last row is the total (total = true). Rates are percentages; '–'/null where
    there is nothing to divide. --by owner: the same per owner (rows have owner instead of source).
    """
    from salesselect_cli.render import escape
    from salesselect_cli.rules.money import format_money

    from salesselect_cli.usecases import reports

    with open_session(ctx) as session:
        flt = _filters(business_type, owner, source)
        span = _period(session, period, start, end)
        report = reports.sources(session, flt, span.start, span.end, by_owner=by is SourcesBy.owner)
    rows, currency = report.rows, report.currency
    key = by.value

    def render(bars: bool) -> list:
        cells = [[
            _("Total") if row["total"] else escape(row[key]), str(row["created"]), str(row["won"]), str(row["lost"]), str(row["open"]),
            percent_cell(row["conversion_rate"], bars=bars), percent_cell(row["win_rate"], "green", bars),
            format_money(row["_revenue_cents"], currency),
            "–" if row["_average_deal_cents"] is None else format_money(row["_average_deal_cents"], currency),
            _number(row["average_days_to_close"]),
        ] for row in rows]
        title = (_("Deals created {period}{scope}, by owner") if by is SourcesBy.owner
                 else _("Deals created {period}{scope}, by source"))
        table = _table(title.format(period=span.label, scope=escape(_scope_text(flt))),
                       [(_("Owner") if by is SourcesBy.owner else _("Source"), "left"), (_("Created"), "right"), (_("Won"), "right"), (_("Lost"), "right"),
                        (_("Open"), "right"), (_("Conversion"), "left"), (_("Win rate"), "left"),
                        (_("Revenue"), "right"), (_("Avg deal"), "right"), (_("Days to close"), "right")],
                       cells, ["bold" if row["total"] else None for row in rows], section_before_last=True,
                       compact=not bars)
        return [table]

    keys = [key if column == "source" else column for column in SOURCES_KEYS]
    chart = _chart(keys, "column", ["created", "won", "lost"], key,
                   _("Deals created, won and lost, by owner") if by is SourcesBy.owner
                   else _("Deals created, won and lost, by source"), rows=len(rows) - 1)  # the total row left out
    _emit(rows, fmt, output, keys, render,
          _("Nothing in this period: no opportunities were created {period}{scope}.").format(
              period=span.label, scope=_scope_text(flt)), excel, chart)


# ---------------------------------------------------------------------------------------- pipeline


@app.command("pipeline")
def pipeline(
    ctx: typer.Context,
    by: Optional[PipelineBy] = typer.Option(
        None, "--by", case_sensitive=False,
        help="stage, month or owner. JSON/CSV give one list: per stage (default), per expected-close month or "
             "per owner. The table shows stages and months unless --by picks one."),
    months: int = typer.Option(6, "--months", "-m", min=1, max=120,
                               help="How many months, from this one, the by-month section shows."),
    period: Optional[str] = typer.Option(
        None, "--period", "-p", metavar="PERIOD",
        help=f"Only deals expected to close in this period ({PERIODS}). Default: every open deal."),
    start: Optional[str] = typer.Option(None, "--from", metavar="DATE", help="Expected to close on or after this day."),
    end: Optional[str] = typer.Option(None, "--to", metavar="DATE",
                                      help="Expected to close on or before this day."),
    business_type: Optional[str] = type_option,
    owner: Optional[str] = owner_option,
    source: Optional[str] = source_option,
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    excel: bool = excel_option(),
) -> None:
    """The open pipeline today: per stage count, value, red, orange and overdue; and by expected close month.

    Red and orange follow the remaining-days indicator (red includes overdue). The month rows are
    'earlier' (before this month), this month and the next ones (--months), 'later' and 'no date'.
    Rows per stage: stage, count, value, red, orange, overdue, share, value_share; per month: month,
    count, value, red, orange, overdue; per owner (--by owner): owner and the stage rows' numbers.
    """
    from salesselect_cli.render import escape
    from salesselect_cli.rules.money import format_money
    from salesselect_cli.rules.dates import format_date
    from salesselect_cli.rules.periods import coming_months

    fmt = excel_format(fmt, excel)
    from salesselect_cli.usecases import reports

    with open_session(ctx) as session:
        flt = _filters(business_type, owner, source)
        span = None
        if period is not None or start is not None or end is not None:
            span = _period(session, period, start, end, open_end=True)
        bounds = (span.start, span.end) if span else (None, None)
        by_month = by is PipelineBy.month or (by is None and fmt is Format.table)
        report = reports.pipeline(session, flt, *bounds, by_stage=by is not PipelineBy.month,
                                  months=coming_months(session.today, months) if by_month else None,
                                  by_owner=by is PipelineBy.owner)
        today = session.today
    stage_rows, month_rows, currency = report.rows, report.months, report.currency

    closing = _(", expected to close {period}").format(period=span.label) if span else ""
    nothing = _("Nothing in the pipeline: no open opportunities{closing}{scope}.").format(
        closing=closing, scope=_scope_text(flt))
    keys = {PipelineBy.month: MONTH_KEYS, PipelineBy.owner: ["owner"] + PIPELINE_KEYS[1:]}.get(by, PIPELINE_KEYS)
    if fmt is not Format.table:
        rows = month_rows if by is PipelineBy.month else stage_rows
        if not any(row["count"] for row in rows):
            rows = []
        _emit(rows, fmt, output, keys, lambda bars: [], nothing, excel)
        return
    name_key = "owner" if by is PipelineBy.owner else "stage"

    def stage_table(bars: bool):
        cells = [[escape(row[name_key]), str(row["count"]), format_money(row["_value_cents"], currency),
                  f"[red]{row['red']}[/]" if row["red"] else "0",
                  f"[indicator.orange]{row['orange']}[/]" if row["orange"] else "0",
                  f"[bold red]{row['overdue']}[/]" if row["overdue"] else "0", percent_cell(row["share"], bars=bars)]
                 for row in stage_rows]
        table = _table(_("Open pipeline on {date}{closing}{scope}: {deals}, {value}").format(
                           date=format_date(today), closing=escape(closing), scope=escape(_scope_text(flt)),
                           deals=_deals(stage_rows[0]['_total_count']),
                           value=format_money(stage_rows[0]['_total_cents'], currency)),
                       [(_("Owner") if by is PipelineBy.owner else _("Stage"), "left"), (_("Deals"), "right"),
                        (_("Value"), "right"), (_("Red"), "right"), (_("Orange"), "right"), (_("Overdue"), "right"),
                        (_("Share of deals"), "left")], cells, compact=not bars)
        return table

    def month_table(bars: bool):
        biggest = max(row["_value_cents"] for row in month_rows) or 1
        cells = [[_month(row["month"]), str(row["count"]), format_money(row["_value_cents"], currency), str(row["red"]),
                  str(row["orange"]), str(row["overdue"]), f"[cyan]{bar(100 * row['_value_cents'] / biggest) if bars else ''}[/]"]
                 for row in month_rows]
        table = _table(_("By expected close month"),
                       [(_("Month"), "left"), (_("Deals"), "right"), (_("Value"), "right"), (_("Red"), "right"),
                        (_("Orange"), "right"), (_("Overdue"), "right"), (_("Value bar"), "left")], cells,
                       compact=not bars)
        return table

    def render(bars: bool) -> list:
        return ([stage_table(bars)] if stage_rows else []) + ([month_table(bars)] if month_rows else [])

    has_deals = any(row["count"] for row in stage_rows or month_rows)
    _emit((stage_rows or month_rows) if has_deals else [], fmt, output, keys, render, nothing, excel)


# ---------------------------------------------------------------------------------------- stages


@app.command("stages")
def stages(
    ctx: typer.Context,
    period: Optional[str] = period_option,
    start: Optional[str] = from_option,
    end: Optional[str] = to_option,
    business_type: Optional[str] = type_option,
    owner: Optional[str] = owner_option,
    source: Optional[str] = source_option,
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    excel: bool = excel_option(),
) -> None:
    """The funnel, from the history: per stage, the deals that entered it in the period and what happened next.

    moved_on = went on to a later stage, lost = lost in it (also by a move to the Lost column),
    won = won from it; median_days/average_days = whole days spent in it (until today if still
    there); conversion = (moved_on + won) / entered; conversion_to_won = entries whose deal is won now.
    Also moved_back and still_there.
    """
    from salesselect_cli.render import escape

    from salesselect_cli.usecases import reports

    with open_session(ctx) as session:
        flt = _filters(business_type, owner, source)
        span = _period(session, period, start, end)
        rows = reports.stages(session, flt, span.start, span.end).rows
    if not any(row["entered"] for row in rows):
        rows = []

    def render(bars: bool) -> list:
        cells = [[escape(row["stage"]), str(row["entered"]), str(row["moved_on"]), str(row["lost"]), str(row["won"]),
                  str(row["still_there"]), _number(row["median_days"]), _number(row["average_days"]),
                  percent_cell(row["conversion"], bars=bars), percent_cell(row["conversion_to_won"], "green", bars)]
                 for row in rows]
        table = _table(_("Stage funnel: deals that entered a stage {period}{scope}").format(
                           period=span.label, scope=escape(_scope_text(flt))),
                       [(_("Stage"), "left"), (_("Entered"), "right"), (_("Moved on"), "right"), (_("Lost"), "right"),
                        (_("Won"), "right"), (_("Still there"), "right"), (_("Median days"), "right"),
                        (_("Avg days"), "right"), (_("Conversion"), "left"), (_("To won"), "left")], cells,
                       compact=not bars)
        return [table]

    _emit(rows, fmt, output, STAGES_KEYS, render,
          _("Nothing in this period: no opportunity entered a stage {period}{scope}.").format(
              period=span.label, scope=_scope_text(flt)), excel,
          _chart(STAGES_KEYS, "column", ["entered", "moved_on", "lost", "won"], "stage",
                 _("Stage funnel: entered, moved on, lost and won")))


# ---------------------------------------------------------------------------------------- forecast

FORECAST_KEYS = ["group", "count", "value", "weighted", "won", "goal", "coverage"]


class ForecastBy(str, Enum):
    owner = "owner"
    type = "type"
    source = "source"
    stage = "stage"


class ForecastMethod(str, Enum):
    auto = "auto"
    stage = "stage"
    learned = "learned"


def forecast_record(row, total: bool = False) -> dict:
    """One forecast row as JSON: money as strings, coverage as a percentage (null without a goal)."""
    from salesselect_cli.rules.money import cents_to_decimal_string

    return {"group": row.group, "count": row.count, "value": cents_to_decimal_string(row.value_cents),
            "weighted": cents_to_decimal_string(row.weighted_cents), "won": cents_to_decimal_string(row.won_cents),
            "goal": None if row.goal_cents is None else cents_to_decimal_string(row.goal_cents),
            "coverage": None if row.coverage is None else float(row.coverage * 100),
            "total": total, "_row": row}


@app.command("forecast")
def forecast(
    ctx: typer.Context,
    period: Optional[str] = typer.Option(
        None, "--period", "-p", metavar="PERIOD",
        help="Deals expected to close in this period (this-month, next-quarter, 2026-Q3, ...; default: this-quarter)."),
    start: Optional[str] = from_option,
    end: Optional[str] = to_option,
    by: Optional[ForecastBy] = typer.Option(None, "--by", case_sensitive=False, help="owner, type, source or stage."),
    method: ForecastMethod = typer.Option(
        ForecastMethod.auto, "--method", case_sensitive=False,
        help="auto (a deal's own chance, else learned when enough deals closed, else the stage's), stage or learned."),
    business_type: Optional[str] = type_option,
    owner: Optional[str] = owner_option,
    source: Optional[str] = source_option,
    backtest: bool = typer.Option(False, "--backtest",
                                  help="Instead: replay the history and score each method (--from/--to, --step)."),
    step: str = typer.Option("month", "--step", help="With --backtest: a snapshot each month or quarter.",
                             metavar="month|quarter"),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    excel: bool = excel_option(),
) -> None:
    """What the open pipeline will bring: per group the open deals expected in the period (overdue ones count in
    the current period), their value, weighted value (value x win chance), value won in the period, goal and
    coverage ((won + weighted) / goal, a percentage). Money as strings; the last row is the total."""
    from salesselect_cli.context import open_session
    from salesselect_cli.render import escape
    from salesselect_cli.rules.money import format_money
    from salesselect_cli.usecases import forecast as forecasting

    if backtest:
        return _backtest(ctx, start, end, step, fmt, output, excel)
    with open_session(ctx) as opened:
        flt = _filters(business_type, owner, source)
        span = _period(opened, period, start, end)
        result = forecasting.forecast(opened, flt, span, by.value if by else None, method.value)
    currency = result.currency
    rows = [forecast_record(row) for row in result.rows] + [forecast_record(result.total, total=True)]

    def render(bars: bool) -> list:
        cells = [[
            _("Total") if row["total"] else escape(row["group"] or "–"), str(row["_row"].count),
            format_money(row["_row"].value_cents, currency), format_money(row["_row"].weighted_cents, currency),
            format_money(row["_row"].won_cents, currency),
            "–" if row["_row"].goal_cents is None else format_money(row["_row"].goal_cents, currency),
            "–" if row["coverage"] is None else f"{row['coverage']:.0f}%",
        ] for row in (rows if by else rows[-1:])]
        basis = _("learned") if result.learned and result.method != "stage" else _("stage")
        table = _table(_("Forecast {period}{scope} ({basis} chances)").format(
                           period=span.label, scope=escape(_scope_text(flt)), basis=basis),
                       [(_("Group"), "left"), (_("Open"), "right"), (_("Value"), "right"), (_("Weighted"), "right"),
                        (_("Won"), "right"), (_("Goal"), "right"), (_("Coverage"), "right")],
                       cells, ["bold" if row["total"] else None for row in (rows if by else rows[-1:])],
                       section_before_last=bool(by), compact=not bars)
        return [table]

    chart = _chart(FORECAST_KEYS, "column", ["value", "weighted", "won", "goal"], "group",
                   _("Forecast: value, weighted value, won and goal"), rows=len(rows) - 1)  # the total row left out
    _emit(rows, fmt, output, FORECAST_KEYS + ["total"], render, _("Nothing to forecast."), excel, chart)


def _score(value, digits: int = 3):
    return None if value is None else round(float(value), digits)


def _backtest(ctx, start: Optional[str], end: Optional[str], step: str, fmt: Format, output: Optional[Path],
              excel: bool) -> None:
    """report forecast --backtest: one JSON object, or a table per method and the verdict line."""
    from salesselect_cli.context import open_session
    from salesselect_cli.render import emit_object, escape
    from salesselect_cli.usecases import forecast as forecasting

    with open_session(ctx) as opened:
        first = parse_date_option(start, opened.today) if start else None
        last = parse_date_option(end, opened.today) if end else None
        result = forecasting.backtest(opened, first, last, step.strip().casefold())
    methods = {
        method: {"deals": score.deals, "brier": _score(score.brier, 4), "log_loss": _score(score.log_loss, 4),
                 "auc": _score(score.auc, 4),
                 "calibration": [{"low": row.low, "high": row.high, "predicted": _score(row.predicted, 4),
                                  "actual": _score(row.actual, 4), "count": row.count} for row in score.calibration],
                 "wmape": None if score.wmape is None else str(score.wmape),
                 "bias": None if score.bias is None else str(score.bias)}
        for method, score in result.scores.items()}
    data = {"snapshots": [day.isoformat() for day in result.snapshots], "deals_scored": result.deals_scored,
            "methods": methods, "verdict": result.verdict.best, "verdict_text": result.verdict.text}
    fmt = excel_format(fmt, excel)
    from salesselect_cli.rules.output_files import output_format

    if fmt is Format.json and output_format(output) != "xlsx":  # a workbook gets the table's rows
        emit_object(data, "json", output)
        return
    names = {"stage": _("stage"), "learned": _("learned"), "set": _("set")}
    rows = [{"method": names[method], "deals": m["deals"], "brier": m["brier"], "log_loss": m["log_loss"],
             "auc": m["auc"], "wmape": result.scores[method].wmape, "bias": result.scores[method].bias}
            for method, m in methods.items()]  # Decimals: a workbook gets numbers

    def render(bars: bool) -> list:
        cells = [[escape(row["method"]), str(row["deals"])] + [
            "–" if row[key] is None else f"{float(row[key]):.3f}" for key in ("brier", "log_loss", "auc", "wmape", "bias")]
            for row in rows]
        table = _table(_("Backtest: {count} snapshots from {first}").format(
                           count=len(result.snapshots),
                           first=result.snapshots[0].isoformat() if result.snapshots else "–"),
                       [(_("Method"), "left"), (_("Deals"), "right"), ("Brier", "right"), (_("Log loss"), "right"),
                        ("AUC", "right"), ("WMAPE", "right"), (_("Bias"), "right")], cells, compact=not bars)
        return [table, Lines([result.verdict.text])]

    _emit(rows, fmt, output, ["method", "deals", "brier", "log_loss", "auc", "wmape", "bias"], render,
          result.verdict.text, excel)
