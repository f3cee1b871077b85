"""`board`: the Kanban board of open opportunities, one column per stage."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, format_option, output_option, owner_of, parse_date_option
from salesselect_cli.i18n import _
from salesselect_cli.i18n import count as number
from salesselect_cli.rules.output_files import BOARD_FORMATS

DEFAULT_LIMIT = 5
INTERACTIVE_LIMIT = 100  # cards per column on the interactive board unless --limit says otherwise; / narrows
EXPORT_KINDS = {".svg": "svg", ".html": "html", ".htm": "html"}


def board(
    ctx: typer.Context,
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Only this business type (its stages are the columns)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner's cards (default: everyone's).", metavar="NAME"),
    mine: bool = typer.Option(False, "--mine", help="Only your own cards (default: everyone's)."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Only cards from this source."),
    overdue: bool = typer.Option(False, "--overdue", help="Only cards past their expected close date."),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", "-n", min=0, max=2**63 - 1, help="Cards shown per column (0: all); counts and totals cover every card."),
    all_stages: bool = typer.Option(False, "--all-stages", help="Show every stage, also empty ones and the won/lost stages."),
    width: Optional[int] = typer.Option(None, "--width", min=20, max=10_000, help="Draw the board this many characters wide (default: the terminal)."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(BOARD_FORMATS),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Full-screen board: move, win and lose deals with the keyboard."),
) -> None:
    """Show the agency's open opportunities as a Kanban board: stages as columns, the most urgent cards on top.

    The board is the shared overview: everyone's cards, unless `--mine` or `--owner NAME` narrows it;
    its title line says whose cards it shows.

    `--output board.svg` or `board.html` saves the board as drawn, in colour, to paste in a mail.
    `--interactive` opens it full screen: arrows pick a card, ] and [ move it, w and L win and lose it.
    """
    from salesselect_cli.context import open_session
    from salesselect_cli.errors import Invalid
    from salesselect_cli.i18n import _, ngettext
    from salesselect_cli.render import make_console, stderr_line
    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.usecases.board import expecting_board, overview

    if interactive:
        if fmt is not Format.table or output is not None or width is not None:
            raise Invalid(_("--interactive draws the board on the screen; drop --format, --output and --width"))
        if ctx.get_parameter_source("limit").name == "DEFAULT":
            limit = INTERACTIVE_LIMIT
        import functools

        from salesselect_cli.context import watcher

        desk = Desk(functools.partial(open_session, ctx, warn=False), functools.partial(watcher, ctx), business_type=business_type, owner=owner, mine=mine, source=source, overdue=overdue,
                    limit=limit, all_stages=all_stages)
        run_interactive(desk)
        return
    export_kind = EXPORT_KINDS.get(output.suffix.lower()) if output is not None else None
    if export_kind and fmt is not Format.table:
        raise Invalid(_("--output {name} saves the board as drawn; drop --format {format} or pick another file name").format(
            name=output.name, format=fmt.value))
    ahead = None if mine else OpportunityFilter(business_type=business_type, source=source, owner=owner,
                                                overdue=overdue, status="open")
    with open_session(ctx, expect=expecting_board(ahead, all_stages, limit)) as opened:
        flt = OpportunityFilter(
            business_type=business_type, source=source, owner=owner_of(opened, owner, mine),
            overdue=overdue, status="open",
        )
        loaded = overview(opened, flt, all_stages, limit, mine=mine, check=_)
    data = load_board(loaded, _scope(loaded, flt, mine, limit))
    problems = loaded.problems
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
                count=number(left_out), limit=limit))
    _emit(data, fmt, output, export_kind, width, make_console)


def load_board(loaded, scope: list[str]):
    """The board as plain data to draw (kanban.Board) from what the board's use case loaded."""
    from salesselect_cli import kanban

    stage_rows, cards, weighted = loaded.columns, loaded.cards, loaded.weighted
    orange_days, red_days = loaded.thresholds
    return kanban.Board(
        columns=[
            kanban.Column(
                stage=row["stage"], count=row["count"], value_cents=row["value_cents"],
                cards=cards.get(row["stage"], []), overdue=row["overdue"], red=row["red"],
                orange=row["orange"], auto_status=row["auto_status"],
                weighted_cents=None if weighted is None or row["auto_status"] else weighted.get(row["stage_id"], 0),
            )
            for row in stage_rows
        ],
        today=loaded.today, currency=loaded.currency, business_types=loaded.business_types,
        orange_days=orange_days, red_days=red_days, scope=scope,
    )


def _scope(loaded, flt, mine: bool, limit: int) -> list[str]:
    """The filters in words for the board's title line, names spelled as the setup spells them."""
    from salesselect_cli.i18n import _

    if flt.owner:
        words = [_("mine") if mine else _("owner {name}").format(name=loaded.owner)]
    else:
        words = [_("everyone")]
    if flt.business_type:
        words.append(_("type {name}").format(name=loaded.business_type))
    if flt.source:
        words.append(_("source {name}").format(name=loaded.source))
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
                "stage": column.stage, "count": column.count, "value": _decimal(column.value_cents),
                # Σ value x win chance, only once chances are in use (the SPEC shape otherwise)
                **({} if column.weighted_cents is None else {"weighted": _decimal(column.weighted_cents)}),
                "cards": [public(card) for card in column.cards],
            }
            for column in data.columns
        ]
        with opened(output) as handle:
            write_json(columns, handle)
        return
    if fmt is Format.csv:
        from salesselect_cli.model import OPPORTUNITY_KEYS

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


# ---------------------------------------------------------------- the interactive board (board -i)


def run_interactive(desk: "Desk") -> None:
    """Check what the full-screen board needs, then run it until the user quits."""
    import sys

    from salesselect_cli.errors import Invalid

    try:
        from salesselect_cli.board_app import BoardApp
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "textual":
            raise
        raise Invalid(_("board --interactive needs Textual: pip install 'salesselect[board]'")) from None
    desk.board()  # a wrong filter, a missing database or a refused user: one line, before the screen opens
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise Invalid(_("board --interactive needs a terminal; without -i the board is printed"))
    app = BoardApp(desk)
    app.run()
    if app.return_code:  # Textual has shown what went wrong
        raise typer.Exit(app.return_code)


class Desk:
    """What the interactive board reads and changes: each call one session, like one command.

    Reads are `board` and `opp show`'s; changes call the very use cases of `opp move`, `opp win`,
    `opp lose`, `opp reopen`, `opp edit --note` and `followup add` (salesselect_cli/usecases/): the same
    permission checks, the same transaction per change, the same workflows and history. Errors are raised
    as the use cases raise them; the screen shows their line. `open_session(write=False)` opens one
    command's Session; `watch()` a store kept open to poll for other processes' commits.
    """

    def __init__(self, open_session, watch, *, business_type: Optional[str] = None, owner: Optional[str] = None,
                 mine: bool = False, source: Optional[str] = None, overdue: bool = False,
                 limit: int = INTERACTIVE_LIMIT, all_stages: bool = False):
        self.open_session, self.watch = open_session, watch
        self.business_type, self.source, self.overdue = business_type, source, overdue
        self.owner, self.mine = owner, mine
        self.limit, self.all_stages = limit, all_stages
        self.search: Optional[str] = None
        self.me: Optional[str] = None
        self.problems: list[str] = []  # bad stored settings the last board read (the printed board warns on stderr)
        self._watch = None  # a store kept open outside any transaction, to poll for other processes' commits
        self._version: Optional[int] = None

    # ---- reading

    def board(self):
        """The board as `salesselect board` loads it, with the current filters (and the / text)."""
        from salesselect_cli.model import OpportunityFilter
        from salesselect_cli.usecases.board import overview

        with self.open_session() as opened:
            self.me = opened.identity.name
            flt = OpportunityFilter(
                business_type=self.business_type, source=self.source, owner=owner_of(opened, self.owner, self.mine),
                overdue=self.overdue, status="open", search=self.search,
            )
            loaded = overview(opened, flt, self.all_stages, self.limit, mine=self.mine)
            self.problems = opened.setting_problems
        scope = _scope(loaded, flt, self.mine, 0)
        if self.search:
            scope.append(_("matching '{text}'").format(text=self.search))
        data = load_board(loaded, scope)
        if any(column.more for column in data.columns):  # the cap is news only when it hides cards
            data.scope.append(_("up to {limit} per stage").format(limit=self.limit))
        return data

    def deal(self, opportunity_id: int):
        """The deal as `opp show` draws it (a Rich renderable)."""
        from salesselect_cli.commands.opp import deal_sheet
        from salesselect_cli.usecases import deals

        with self.open_session() as opened:
            found = deals.sheet(opened, opportunity_id, chances=False)
        return deal_sheet(found.record, found.history, found.followups, found.currency)

    def adjacent_stage(self, opportunity_id: int, step: int):
        """The next (1) or previous (-1) stage of the deal's business type (a rules.transitions.Stage)."""
        from salesselect_cli.usecases import deals

        with self.open_session() as opened:
            return deals.adjacent_stage(opened, opportunity_id, step)

    def reasons(self, status: str) -> list[str]:
        """The won or lost reasons, in setup order."""
        from salesselect_cli.usecases import setup

        with self.open_session() as opened:
            return setup.reason_labels(opened, status)

    def check_date(self, when: str):
        """A follow-up date in any form the commands accept (raises their error)."""
        from salesselect_cli.context import current_today

        return parse_date_option(when, current_today())

    def date_warning(self, day) -> Optional[str]:
        """The warning `followup add` gives for this date (in the past, at a weekend), or None."""
        from salesselect_cli.context import current_today
        from salesselect_cli.rules.dates import followup_date_warning

        return followup_date_warning(day, current_today())

    # ---- changing: one transaction each, through the use cases the commands call

    def move(self, opportunity_id: int, stage: str, reason: Optional[str] = None) -> list[str]:
        from salesselect_cli.usecases import deals

        with self.open_session(write=True) as opened:
            changed = deals.move(opened, opportunity_id, stage, reason)
        return self._said(changed.after, changed.warnings)

    def close(self, opportunity_id: int, status: str, reason: Optional[str] = None) -> list[str]:
        from salesselect_cli.usecases import deals

        with self.open_session(write=True) as opened:
            changed = deals.close(opened, opportunity_id, status, reason)
        return self._said(changed.after, changed.warnings)

    def reopen(self, opportunity_id: int) -> list[str]:
        from salesselect_cli.usecases import deals

        with self.open_session(write=True) as opened:
            changed = deals.reopen(opened, opportunity_id)
        return self._said(changed.after, changed.warnings)

    def add_followup(self, opportunity_id: int, when: str, text: str) -> list[str]:
        from salesselect_cli.rules.dates import format_date
        from salesselect_cli.usecases import followups

        with self.open_session(write=True) as opened:
            planned = followups.add(opened, opportunity_id, parse_date_option(when, opened.today), text)
        lines = [_("#{id}: follow-up #{followup_id} planned for {date}").format(
            id=opportunity_id, followup_id=planned.followup_id, date=format_date(planned.due.isoformat()))]
        return lines + ([_("Warning: {warning}").format(warning=planned.warning)] if planned.warning else [])

    def add_note(self, opportunity_id: int, text: str) -> list[str]:
        from salesselect_cli.usecases import deals

        with self.open_session(write=True) as opened:
            deals.edit(opened, opportunity_id, {}, note=text)
        return [_("#{id}: note added").format(id=opportunity_id)]

    def undo(self) -> tuple[int, list[str]]:
        """Take back the acting user's last change (`salesselect undo`): the deal's id and the lines to show."""
        from salesselect_cli.usecases import undo

        with self.open_session(write=True) as opened:
            done = undo.undo(opened)
        return done.opportunity_id, [_("Undone: {action} of #{id} {title} ({at}).").format(
            action=_(undo.ACTIONS.get(done.action, done.action)), id=done.opportunity_id, title=done.title,
            at=done.at[:16])]

    @staticmethod
    def _said(record: dict, warnings: list[str]) -> list[str]:
        from salesselect_cli.commands.opp import said_line

        return [said_line(record)] + [_("Warning: {warning}").format(warning=warning) for warning in warnings]

    # ---- filters

    def toggle_mine(self) -> None:
        """My deals <-> everyone's (an --owner given on the command line counts as 'someone's')."""
        if self.mine or (self.owner and self.me and self.owner.casefold() == self.me.casefold()):
            self.mine, self.owner = False, None
        else:
            self.mine, self.owner = True, None

    # ---- live

    def changed(self) -> bool:
        """True when another connection has committed since the last call (the first call says True)."""
        if self._watch is None:
            self._watch = self.watch()
        version = self._watch.data_version()
        seen, self._version = self._version, version
        return version != seen

    def close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
