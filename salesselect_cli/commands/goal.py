"""`goal`: what each owner is to win in a period (report forecast measures coverage against it)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, format_option, output_option
from salesselect_cli.context import open_session
from salesselect_cli.i18n import _
from salesselect_cli.render import Column, emit, stderr_line

app = typer.Typer(no_args_is_help=True, help="Goals: what each owner is to win in a period (managers and key users set them).")

PERIOD_HELP = "this-month, next-quarter, 2026-Q3, 2026-07, 2026, ... as in the reports."


def _named(text: str, today):
    from salesselect_cli.rules.periods import named_period

    return named_period(text, today)


@app.command("set")
def set_(
    ctx: typer.Context,
    owner: str = typer.Argument(..., help="Whose goal.", metavar="USER"),
    amount: str = typer.Argument(..., help="The value to win in the period.", metavar="AMOUNT"),
    period: str = typer.Option(..., "--period", "-p", help=PERIOD_HELP, metavar="PERIOD"),
) -> None:
    """Set an owner's goal for a period (managers and key users); replaces the one set before."""
    from salesselect_cli.rules.money import parse_money
    from salesselect_cli.usecases import forecast

    cents = parse_money(amount)
    with open_session(ctx, write=True) as opened:
        span = _named(period, opened.today)
        forecast.set_goal(opened, owner, cents, span)
    stderr_line(_("Goal for {owner} {period}: {amount}.").format(owner=owner, period=span.label, amount=amount))


@app.command("remove")
def remove(
    ctx: typer.Context,
    owner: str = typer.Argument(..., help="Whose goal.", metavar="USER"),
    period: str = typer.Option(..., "--period", "-p", help=PERIOD_HELP, metavar="PERIOD"),
) -> None:
    """Remove an owner's goal for a period (managers and key users)."""
    from salesselect_cli.usecases import forecast

    with open_session(ctx, write=True) as opened:
        span = _named(period, opened.today)
        forecast.remove_goal(opened, owner, span, period)
    stderr_line(_("Removed the goal for {owner} {period}.").format(owner=owner, period=span.label))


@app.command("list")
def list_(
    ctx: typer.Context,
    period: Optional[str] = typer.Option(None, "--period", "-p", help="Only goals overlapping this period.",
                                         metavar="PERIOD"),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """List the goals by period and owner."""
    from salesselect_cli.usecases import forecast

    with open_session(ctx) as opened:
        span = _named(period, opened.today) if period is not None else None
        rows = forecast.list_goals(opened, span)
    emit(rows, fmt.value, output, [
        Column("owner", "Owner"), Column("from", "From"), Column("to", "To"),
        Column("amount", "Amount", justify="right"), Column("set_by", "Set by"),
    ], empty=_("No goals set."))
