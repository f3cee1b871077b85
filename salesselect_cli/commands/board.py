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
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner's cards (default: everyone's).", metavar="NAME"),
    mine: bool = typer.Option(False, "--mine", help="Only your own cards (default: everyone's)."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Only cards from this source."),
    overdue: bool = typer.Option(False, "--overdue", help="Only cards past their expected close date."),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", "-n", min=0, help="Cards shown per column (0: all); counts and totals cover every card."),
    all_stages: bool = typer.Option(False, "--all-stages", help="Show every stage, also empty ones and the won/lost stages."),
    width: Optional[int] = typer.Option(None, "--width", min=20, help="Draw the board this many characters wide (default: the terminal)."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """Show the agency's open opportunities as a Kanban board: stages as columns, the most urgent cards on top.

    The board is the shared overview: everyone's cards, unless `--mine` or `--owner NAME` narrows it;
    its title line says whose cards it shows.

    `--output board.svg` or `board.html` saves the board as drawn, in colour, to paste in a mail.
    """
    from salesselect_cli import kanban
    from salesselect_cli.context import session
    from salesselect_cli.errors import Invalid
    from salesselect_cli.render import make_console, stderr_line
    from salesselect_cli.store import OpportunityFilter

    export_kind = EXPORT_KINDS.get(output.suffix.lower()) if output is not None else None
    if export_kind and fmt is not Format.table:
        raise Invalid(f"--output {output.name} saves the board as drawn; drop --format {fmt.value} or pick another file name")
    with session(ctx) as store:
        flt = OpportunityFilter(
            business_type=business_type, source=source, owner=owner_of(store, owner, mine),
            overdue=overdue, status="open",
        )
        stage_rows = store.board_columns(flt, all_stages)
        cards = store.board_cards(flt, [row["stage_id"] for row in stage_rows if row["count"]], limit or None)
        orange_days, red_days = store.thresholds()
        problems = store.config_check()
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
        noun = "thing is" if len(problems) == 1 else "things are"
        stderr_line(f"Warning: the setup is incomplete ({len(problems)} {noun} missing, e.g. {problems[0]}); "
                    f"see 'salesselect config check'")
    if fmt is not Format.table:
        left_out = sum(column.count - len(column.cards) for column in data.columns)
        if left_out:
            stderr_line(f"Note: {left_out:,} cards beyond --limit {limit} per stage are not included "
                        f"(counts and values cover them); pass --limit 0 for every card")
    _emit(data, fmt, output, export_kind, width, make_console)


def _scope(store, flt, mine: bool, limit: int) -> list[str]:
    """The filters in words for the board's title line, names spelled as the setup spells them."""
    if flt.owner:
        words = ["mine" if mine else f"owner {store.find_user(flt.owner)['name']}"]
    else:
        words = ["everyone"]
    if flt.business_type:
        words.append(f"type {store.find_business_type(flt.business_type)['name']}")
    if flt.source:
        words.append(f"source {store.find_source(flt.source)['name']}")
    if flt.overdue:
        words.append("overdue only")
    if limit:
        words.append(f"up to {limit} per stage")
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
