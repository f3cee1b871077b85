"""`board`: the Kanban board of open opportunities, one column per stage."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, format_option, output_option, owner_of

DEFAULT_LIMIT = 5
EXPORT_KINDS = {".svg": "svg", ".html": "html", ".htm": "html"}


def register(app: typer.Typer) -> None:
    app.command("board")(board)


def board(
    ctx: typer.Context,
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Only this business type (its stages are the columns)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner's cards."),
    mine: bool = typer.Option(False, "--mine", help="Only your cards."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Only cards from this source."),
    overdue: bool = typer.Option(False, "--overdue", help="Only cards past their expected close date."),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", "-n", min=0, max=2**63 - 1, help="Cards shown per column (0: all); counts and totals cover every card."),
    all_stages: bool = typer.Option(False, "--all-stages", help="Show every stage, also empty ones and the won/lost stages."),
    width: Optional[int] = typer.Option(None, "--width", min=20, max=10_000, help="Draw the board this many characters wide (default: the terminal)."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """Show open opportunities as a Kanban board: stages as columns, the most urgent cards on top.

    `--output board.svg` or `board.html` saves the board as drawn, in colour, to paste in a mail.
    """
    from salesselect_cli import kanban
    from salesselect_cli.context import session
    from salesselect_cli.errors import Invalid
    from salesselect_cli.i18n import _, ngettext
    from salesselect_cli.render import make_console, stderr_line
    from salesselect_cli.store import OpportunityFilter

    export_kind = EXPORT_KINDS.get(output.suffix.lower()) if output is not None else None
    if export_kind and fmt is not Format.table:
        raise Invalid(_("--output {name} saves the board as drawn; drop --format {format} or pick another file name").format(
            name=output.name, format=fmt.value))
    with session(ctx) as store:
        flt = OpportunityFilter(
            business_type=business_type, source=source, owner=owner_of(store, owner, mine),
            overdue=overdue, status="open",
        )
        stage_rows = store.board_columns(flt, all_stages)
        cards = store.board_cards(flt, [row["stage_id"] for row in stage_rows if row["count"]], limit or None)
        orange_days, red_days = store.thresholds()
        problems = store.config_check(_)
        data = kanban.Board(
            columns=[
                kanban.Column(
                    stage=row["stage"], count=row["count"], value_cents=row["value_cents"],
                    cards=cards.get(row["stage"], []), overdue=row["overdue"], red=row["red"],
                    orange=row["orange"], auto_status=row["auto_status"],
                )
                for row in stage_rows
            ],
            today=store.today, currency=store.currency, business_types=store.business_type_colors(),
            orange_days=orange_days, red_days=red_days, scope=_scope(store, flt, mine, limit),
        )
    if problems:
        stderr_line(ngettext(
            "Warning: the setup is incomplete ({count} thing is missing, e.g. {example}); see 'salesselect config check'",
            "Warning: the setup is incomplete ({count} things are missing, e.g. {example}); see 'salesselect config check'",
            len(problems)).format(count=len(problems), example=problems[0]))
    if fmt is not Format.table:
        left_out = sum(column.count - len(column.cards) for column in data.columns)
        if left_out:
            stderr_line(_("Note: {count} cards beyond --limit {limit} per stage are not included "
                          "(counts and values cover them); pass --limit 0 for every card").format(
                count=f"{left_out:,}", limit=limit))
    _emit(data, fmt, output, export_kind, width, make_console)


def _scope(store, flt, mine: bool, limit: int) -> list[str]:
    """The filters in words for the board's title line, names spelled as the setup spells them."""
    from salesselect_cli.i18n import _

    words = []
    if flt.business_type:
        words.append(_("type {name}").format(name=store.find_business_type(flt.business_type)['name']))
    if flt.owner:
        words.append(_("mine") if mine else _("owner {name}").format(name=store.find_user(flt.owner)['name']))
    if flt.source:
        words.append(_("source {name}").format(name=store.find_source(flt.source)['name']))
    if flt.overdue:
        words.append(_("overdue only"))
    if limit:
        words.append(_("up to {limit} per stage").format(limit=limit))
    return words


def _emit(data, fmt: Format, output: Optional[Path], export_kind: Optional[str], width: Optional[int], make_console) -> None:
    from salesselect_cli import kanban
    from salesselect_cli.render import emit, opened, public, write_json

    if fmt is Format.json:
        columns = [
            {
                "stage": column.stage, "count": column.count,
                "value": _decimal(column.value_cents), "cards": [public(card) for card in column.cards],
            }
            for column in data.columns
        ]
        with opened(output) as handle:
            write_json(columns, handle)
        return
    if fmt is Format.csv:
        from salesselect_cli.store import OPPORTUNITY_KEYS

        header = ["stage"] + [key for key in OPPORTUNITY_KEYS if key != "stage"]
        rows = ({"stage": column.stage, **public(card)} for column in data.columns for card in column.cards)
        emit(rows, "csv", output, csv_columns=header)
        return
    width = width or make_console().width
    if export_kind:
        with opened(output) as handle:
            handle.write(kanban.export_board(data, width, export_kind))
        return
    with opened(output) as handle:
        import sys

        console = make_console(None if handle is sys.stdout else handle, width=width)
        kanban.print_board(data, console)


def _decimal(cents: int) -> str:
    from salesselect_cli.rules.money import cents_to_decimal_string

    return cents_to_decimal_string(cents)
