"""`db copy`: move a whole agency between a SQLite file and PostgreSQL."""

from __future__ import annotations

import typer

from salesselect_cli.i18n import _, count
from salesselect_cli.render import stderr_line

app = typer.Typer(no_args_is_help=True, help="The database itself: copy a whole agency to another database.")


@app.command("copy")
def copy(
    source: str = typer.Argument(..., metavar="FROM", help="The database to copy: a file path or a postgresql:// URL."),
    target: str = typer.Argument(..., metavar="TO", help="A new file, or an empty PostgreSQL database (URL)."),
) -> None:
    """Copy settings, users, opportunities (with their ids), history, follow-ups and workflows into a new
    database, in one transaction. The source is only read."""
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from salesselect_cli.context import database_path
    from salesselect_cli.sql.dialect import safe_location
    from salesselect_cli.usecases.transfer import copy_agency

    from_location, to_location = database_path(source), database_path(target)
    if isinstance(from_location, Path) and isinstance(to_location, Path) and from_location.resolve() == to_location.resolve():
        from salesselect_cli.errors import Invalid

        raise Invalid(_("FROM and TO are the same database"))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task(_("copying"), total=None)

        def progress(table: str, done: int, total: int) -> None:
            bar.update(task, description=_("copying {table}").format(table=table), completed=done, total=total)

        from salesselect_cli.session import saving

        counts = copy_agency(from_location, to_location, progress, saving().mark_committed)
    summary = ", ".join(f"{count(n)} {table}" for table, n in counts.items() if n)
    stderr_line(_("Copied {source} to {target}: {summary}.").format(
        source=safe_location(from_location), target=safe_location(to_location), summary=summary or _("no rows")))

