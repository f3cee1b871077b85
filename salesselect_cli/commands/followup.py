"""`followup`: dated to-dos on opportunities."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import english_followup_status, output_option, parse_date_option, wide_option
from salesselect_cli.context import open_session
from salesselect_cli.i18n import _
from salesselect_cli.rules.dates import format_date
from salesselect_cli.render import Column, emit, escape, stderr_line

app = typer.Typer(no_args_is_help=True, help="Follow-ups: dated to-dos on opportunities.")


class ListFormat(str, Enum):
    """followup list's formats: the shared ones and iCalendar."""
    table = "table"
    json = "json"
    csv = "csv"
    ics = "ics"


@app.command("add")
def add(
    ctx: typer.Context,
    opportunity_id: int = typer.Argument(..., metavar="ID", min=1, max=2**63 - 1, help="The opportunity's id."),
    when: str = typer.Argument(..., help="Due date: YYYY-MM-DD, DD-MM-YYYY, today, tomorrow, +3d, friday, ...", metavar="DATE"),
    text: str = typer.Argument(..., help="What to do."),
    user: Optional[str] = typer.Option(None, "--user-for", help="Whose to-do it is (default: the opportunity's owner).", metavar="USER"),
) -> None:
    """Plan a follow-up; prints its id."""
    from salesselect_cli.usecases import followups

    with open_session(ctx, write=True) as opened:
        planned = followups.add(opened, opportunity_id, parse_date_option(when, opened.today), text, user)
    typer.echo(planned.followup_id)
    if planned.warning:
        stderr_line(_("Warning: {warning}").format(warning=planned.warning))


@app.command("list")
def list_(
    ctx: typer.Context,
    mine: bool = typer.Option(False, "--mine", help="Only yours."),
    overdue: bool = typer.Option(False, "--overdue", help="Only those past their date."),
    due_today: bool = typer.Option(False, "--today", help="Only those due today."),
    week: bool = typer.Option(False, "--week", help="Due within the next 7 days (overdue included)."),
    opportunity_id: Optional[int] = typer.Option(None, "--opp", min=1, max=2**63 - 1, help="Only this opportunity's.", metavar="ID"),
    done: bool = typer.Option(False, "--done", help="Include those already done."),
    status: Optional[str] = typer.Option(None, "--status", callback=english_followup_status,
                                         help="open (default), done, cancelled (of won/lost deals) or all."),
    period: Optional[str] = typer.Option(None, "--period", "-p", metavar="PERIOD",
                                         help="Due in this period: this-month, this-quarter, 2026-07, 2026, ... (as in the reports)."),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f", case_sensitive=False,
                                   help="Output format: table, json, csv or ics (iCalendar, for a calendar application)."),
    output: Optional[Path] = output_option(),
    wide: bool = wide_option(),
) -> None:
    """List open follow-ups, earliest first."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.usecases import followups

    if sum([overdue, due_today, week, period is not None]) > 1:
        raise Invalid(_("use one of --overdue, --today, --week, --period"))
    if done and status is not None:
        raise Invalid(_("use --done or --status, not both"))
    with open_session(ctx) as opened:
        rows = followups.listing(opened, mine=mine, overdue=overdue, due_today=due_today, week=week, period=period,
                                 opportunity_id=opportunity_id, include_done=done, status=status)
    if fmt is ListFormat.ics:
        _write_calendar(rows, output)
        return
    emit(rows, fmt.value, output, [
        Column("id", "ID", justify="right", priority=0),
        Column("due", "Due", no_wrap=True, cell=lambda r: f"[bold red]{_('{date} overdue').format(date=format_date(r['due']))}[/]"
               if r["overdue"] else format_date(r["due"]), priority=1),
        Column("text", "Follow-up", cell=lambda r: escape(r["text"]), priority=2, least=20),
        Column("opportunity_id", "Opp", justify="right", priority=3),
        Column("title", "Opportunity", cell=lambda r: escape(f"{r['title']} — {r['company']}"), priority=4, least=16),
        Column("user", "For", cell=lambda r: escape(r["user"]), priority=5, least=5),
        Column("done", "Done", cell=lambda r: _("cancelled") if r["status"] == "cancelled" else format_date(r["done"]),
               priority=6)],
         empty="No follow-ups match.", wide=wide)


def _write_calendar(rows: list[dict], output: Optional[Path]) -> None:
    """The follow-ups as an iCalendar file (stdout or --output)."""
    import datetime as dt

    from salesselect_cli.ics import write_calendar
    from salesselect_cli.render import opened

    with opened(output) as handle:
        write_calendar(rows, handle, dt.datetime.now(dt.timezone.utc), name=_("salesselect follow-ups"),
                       for_label=_("For: {user}"))


@app.command("done")
def done(
    ctx: typer.Context,
    followup_id: int = typer.Argument(..., metavar="FID", min=1, max=2**63 - 1, help="The follow-up's id."),
) -> None:
    """Mark a follow-up done."""
    from salesselect_cli.usecases import followups

    with open_session(ctx, write=True) as opened:
        row = followups.complete(opened, followup_id)
    stderr_line(_("Done: #{id} {text}.").format(id=followup_id, text=row['text']))


FID_ARGUMENT = typer.Argument(..., metavar="FID", min=1, max=2**63 - 1, help="The follow-up's id.")


@app.command("edit")
def edit(
    ctx: typer.Context,
    followup_id: int = FID_ARGUMENT,
    due: Optional[str] = typer.Option(None, "--due", help="New due date: YYYY-MM-DD, DD-MM-YYYY, +3d, friday, ..."),
    text: Optional[str] = typer.Option(None, "--text", help="New text."),
) -> None:
    """Reschedule or reword an open follow-up."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.usecases import followups

    if due is None and text is None:
        raise Invalid(_("nothing to change: pass --due or --text"))
    with open_session(ctx, write=True) as opened:
        edited = followups.edit(opened, followup_id, parse_date_option(due, opened.today), text)
    if not edited.changed:
        stderr_line(f"#{followup_id}: " + _("nothing changed"))
    else:
        stderr_line(_("Follow-up #{id}: {date} {text}.").format(id=followup_id, date=format_date(edited.after['due']),
                                                             text=edited.after['text']))
        if edited.warning:
            stderr_line(_("Warning: {warning}").format(warning=edited.warning))


@app.command("remove")
def remove(
    ctx: typer.Context,
    followup_id: int = FID_ARGUMENT,
) -> None:
    """Remove a follow-up (the deal's history keeps what it was)."""
    from salesselect_cli.usecases import followups

    with open_session(ctx, write=True) as opened:
        row = followups.remove(opened, followup_id)
    stderr_line(_("Removed follow-up #{id}: {date} {text}.").format(id=followup_id, date=format_date(row['due']),
                                                                    text=row['text']))
