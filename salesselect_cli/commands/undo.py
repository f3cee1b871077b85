"""`undo`: take back your last change to a deal (Taskwarrior's `task undo`, for the pipeline)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, format_option, output_option, wide_option
from salesselect_cli.i18n import N_, _, ngettext
from salesselect_cli.render import Column, emit, escape, moment, stderr_line


def undo(
    ctx: typer.Context,
    show: bool = typer.Option(False, "--list", "-l", help="Show what undo would take back, the next one first."),
    limit: int = typer.Option(20, "--limit", min=1, max=10_000, help="With --list: at most this many steps."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    wide: bool = wide_option(),
) -> None:
    """Take back your last change to a deal; again to go one further back.

    Puts back the fields, stage and status it changed, opens the follow-ups a win or loss cancelled, and
    removes the follow-ups and notes it added. The deal's history says it was undone. Refused when someone
    else changed the deal since.
    """
    from salesselect_cli.context import open_session
    from salesselect_cli.usecases import undo as undoing

    if show:
        with open_session(ctx) as opened:
            emit(undoing.steps(opened, limit), fmt.value, output, [
                Column("at", "When", no_wrap=True, cell=lambda r: moment(r["at"]), priority=0),
                Column("action", "What", cell=lambda r: _(undoing.ACTIONS.get(r["action"], r["action"])), priority=1),
                Column("opportunity_id", "ID", justify="right", cell=lambda r: f"#{r['opportunity_id']}", priority=0),
                Column("title", "Title", cell=lambda r: escape(r["title"]), priority=2),
                Column("company", "Company", cell=lambda r: escape(r["company"]), priority=3),
            ], csv_columns=["id", "at", "action", "opportunity_id", "title", "company"],
                empty=N_("Nothing to undo."), wide=wide)
        return
    with open_session(ctx, write=True) as opened:
        done = undoing.undo(opened)
    stderr_line(_("Undone: {action} of #{id} {title} ({at}).").format(
        action=_(undoing.ACTIONS.get(done.action, done.action)), id=done.opportunity_id, title=done.title,
        at=moment(done.at)))
    if done.reopened:
        stderr_line(ngettext("{count} follow-up is open again.", "{count} follow-ups are open again.",
                             done.reopened).format(count=done.reopened))
    if done.removed:
        stderr_line(ngettext("Removed the follow-up it planned.", "Removed the {count} follow-ups it planned.",
                             done.removed).format(count=done.removed))
    if done.notes:
        stderr_line(ngettext("Removed the note it added.", "Removed the {count} notes it added.",
                             done.notes).format(count=done.notes))
