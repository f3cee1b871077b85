"""`followup`: dated to-dos on opportunities."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, format_option, output_option, parse_date_option
from salesselect_cli.context import session
from salesselect_cli.i18n import _
from salesselect_cli.rules.dates import format_date
from salesselect_cli.render import Column, emit, escape, stderr_line

app = typer.Typer(no_args_is_help=True, help="Follow-ups: dated to-dos on opportunities.")


@app.command("add")
def add(
    ctx: typer.Context,
    opportunity_id: int = typer.Argument(..., metavar="ID", min=1, max=2**63 - 1, help="The opportunity's id."),
    when: str = typer.Argument(..., help="Due date: YYYY-MM-DD, DD-MM-YYYY, today, tomorrow, +3d, friday, ...", metavar="DATE"),
    text: str = typer.Argument(..., help="What to do."),
    user: Optional[str] = typer.Option(None, "--user-for", help="Whose to-do it is (default: the opportunity's owner).", metavar="USER"),
) -> None:
    """Plan a follow-up; prints its id."""
    from salesselect_cli.context import open_session
    from salesselect_cli.usecases import followups

    with open_session(ctx, write=True) as opened:
        planned = followups.add(opened, opportunity_id, parse_date_option(when, opened.today), text, user)
    typer.echo(planned.followup_id)


@app.command("list")
def list_(
    ctx: typer.Context,
    mine: bool = typer.Option(False, "--mine", help="Only yours."),
    overdue: bool = typer.Option(False, "--overdue", help="Only those past their date."),
    due_today: bool = typer.Option(False, "--today", help="Only those due today."),
    week: bool = typer.Option(False, "--week", help="Due within the next 7 days (overdue included)."),
    opportunity_id: Optional[int] = typer.Option(None, "--opp", min=1, max=2**63 - 1, help="Only this opportunity's.", metavar="ID"),
    done: bool = typer.Option(False, "--done", help="Include those already done."),
    status: Optional[str] = typer.Option(None, "--status",
                                         help="open (default), done, cancelled (of won/lost deals) or all."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """List open follow-ups, earliest first."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules.dates import due_window

    if sum([overdue, due_today, week]) > 1:
        raise Invalid(_("use one of --overdue, --today, --week"))
    if done and status is not None:
        raise Invalid(_("use --done or --status, not both"))
    with session(ctx) as store:
        after, before = due_window(store.today, overdue, due_today, week)
        rows = store.followups.list_followups(mine=mine, due_before=before, due_on_or_after=after,
                                    opportunity_id=opportunity_id, include_done=done,
                                    status=status.strip().lower() if status is not None else None)
    emit(rows, fmt.value, output, [
        Column("id", "ID", justify="right"),
        Column("due", "Due", no_wrap=True, cell=lambda r: f"[bold red]{_('{date} overdue').format(date=format_date(r['due']))}[/]"
               if r["overdue"] else format_date(r["due"])),
        Column("text", "Follow-up", cell=lambda r: escape(r["text"])),
        Column("opportunity_id", "Opp", justify="right"),
        Column("title", "Opportunity", cell=lambda r: escape(f"{r['title']} — {r['company']}")),
        Column("user", "For", cell=lambda r: escape(r["user"])),
        Column("done", "Done", cell=lambda r: _("cancelled") if r["status"] == "cancelled" else format_date(r["done"]))],
         empty="No follow-ups match.")


@app.command("done")
def done(
    ctx: typer.Context,
    followup_id: int = typer.Argument(..., metavar="FID", min=1, max=2**63 - 1, help="The follow-up's id."),
) -> None:
    """Mark a follow-up done."""
    with session(ctx, write=True) as store:
        row = store.followups.complete_followup(followup_id)
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

    if due is None and text is None:
        raise Invalid(_("nothing to change: pass --due or --text"))
    with session(ctx, write=True) as store:
        before, after = store.followups.edit_followup(followup_id, parse_date_option(due, store.today), text)
    if (before["due"], before["text"]) == (after["due"], after["text"]):
        stderr_line(f"#{followup_id}: " + _("nothing changed"))
    else:
        stderr_line(_("Follow-up #{id}: {date} {text}.").format(id=followup_id, date=format_date(after['due']),
                                                             text=after['text']))


@app.command("remove")
def remove(
    ctx: typer.Context,
    followup_id: int = FID_ARGUMENT,
) -> None:
    """Remove a follow-up (the deal's history keeps what it was)."""
    with session(ctx, write=True) as store:
        row = store.followups.remove_followup(followup_id)
    stderr_line(_("Removed follow-up #{id}: {date} {text}.").format(id=followup_id, date=format_date(row['due']),
                                                                    text=row['text']))
