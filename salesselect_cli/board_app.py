"""`salesselect board --interactive`: the Kanban board as a full-screen Textual app.

Imported only by that mode (importing Textual takes about 0.2 s). It draws with the kanban module's
pieces, so its cards, headers, badges and legend are the printed board's; it reads and changes
only through commands.board.Desk (one session per call, the commands' own functions). The focus
is kept by opportunity id, so it follows a deal across refreshes and moves.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from salesselect_cli import kanban
from salesselect_cli.i18n import N_, _
from salesselect_cli.rules.dates import format_date, weekday_name

POLL_SECONDS = 0.5  # how often the board asks SQLite whether another process committed
MIN_COLUMN = 28  # a column's width, its border included; below this cards get cramped
MAX_COLUMN = 44
NO_REASON = "\x00none"  # the won-reason picker's "no reason" choice (a won reason is optional)

# (keys shown, what they do): the key bar, wrapped by whole items like the legend
KEYS = [
    ("←↓↑→ hjkl", N_("pick")), ("]", N_("next stage")), ("[", N_("back")), ("w", N_("win")), ("L", N_("lose")),
    ("o", N_("reopen")), ("f", N_("follow-up")), ("n", N_("note")), ("u", N_("take back")), ("⏎", N_("open")), ("/", N_("filter")),
    ("m", N_("mine/all")), ("r", N_("refresh")), ("q", N_("quit")),
]


def error_line(exc: Exception) -> str:
    """The one line a command would print for this error, for the message line."""
    from salesselect_cli.errors import SalesSelectError
    from salesselect_cli.sql.dialect import database_errors, is_busy_error

    if isinstance(exc, SalesSelectError):
        message = str(exc)
    elif isinstance(exc, database_errors()) and is_busy_error(exc):
        message = _("the database is busy with another salesselect command; try again in a moment")
    elif isinstance(exc, database_errors()):
        message = _("database error: {problem}").format(problem=" ".join(str(exc).split()))
    else:
        message = _("unexpected {error}: {problem}").format(error=exc.__class__.__name__, problem=exc)
    return _("Error: {message}").format(message="".join(ch if ch.isprintable() else " " for ch in message))


def column_width(screen_width: int, columns: int) -> int:
    """Every column the same width: the screen shared out, within MIN/MAX (more scrolls sideways)."""
    if columns <= 0:
        return MAX_COLUMN
    return max(MIN_COLUMN, min(MAX_COLUMN, screen_width // columns))


def key_bar(width: int) -> Text:
    text = Text()
    used = 0
    for keys, words in KEYS:
        words = _(words)
        size = len(keys) + 1 + len(words)
        if used and used + 2 + size > width:
            text.append("\n")
            used = 0
        elif used:
            text.append("  ")
            used += 2
        text.append(keys, style="bold reverse")
        text.append(" " + words)
        used += size
    return text


class Card(Static):
    """One deal: the printed board's card; `-selected` marks the focus."""

    def __init__(self, record: dict, label: str, board: kanban.Board):
        super().__init__(kanban.card(record, label, board.currency, board.today), classes="card")
        self.record = record

    def on_click(self) -> None:
        self.app._select_id(self.record["id"])


class StageColumn(Vertical):
    """A stage: its header (count, value, alarms) above its cards, which scroll on their own."""

    def __init__(self, column: kanban.Column, labels: dict[str, str], board: kanban.Board):
        self.cards = [
            Card(record, labels.get(record["business_type"], record["business_type"] or "?"), board)
            for record in column.cards
        ]
        self.header_text = kanban.header(column, board.currency)
        self.header = Static(self.header_text, classes="header")
        body: list = list(self.cards)
        if column.more:
            body.append(Static(Text(_("+{more} more · / narrows").format(more=column.more), style="italic dim"), classes="more"))
        if not body:
            body.append(Static(Text("—", style="dim"), classes="more"))
        super().__init__(
            self.header,
            VerticalScroll(*body, can_focus=False, classes="cards"),
            classes="stage",
        )


class Ask(ModalScreen):
    """One line of text: enter gives it (after `check`, which may refuse it with an error), esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, hint: str = "", value: str = "", check=None):
        super().__init__()
        self.title_text, self.hint, self.value, self.check = title, hint, value, check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            yield Input(self.value, placeholder=self.hint)
            yield Static("", classes="problem")
            yield Static(Text(_("enter: ok · esc: cancel"), style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.check is not None:
            try:
                self.check(event.value)
            except Exception as exc:  # the rule's own words, in the dialog; it stays open
                self.query_one(".problem", Static).update(Text(error_line(exc), style="bold red"))
                return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Choose(ModalScreen):
    """Pick one of a list (the won/lost reasons): enter picks, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]):
        super().__init__()
        self.title_text, self.choices = title, choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"))
            yield OptionList(*[Option(label, id=value) for label, value in self.choices])
            yield Static(Text(_("↑↓ pick · enter: ok · esc: cancel"), style="dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DealView(ModalScreen):
    """The deal as `opp show` draws it: fields, history, follow-ups. Esc closes."""

    BINDINGS = [Binding("escape", "close", "close"), Binding("q", "close", "close", show=False)]

    def __init__(self, sheet):
        super().__init__()
        self.sheet = sheet

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="deal"):
            yield Static(self.sheet)
        yield Static(Text(_("↑↓ scroll · esc: back to the board"), style="dim"), classes="deal-keys")

    def action_close(self) -> None:
        self.dismiss(None)


class BoardApp(App):
    """The board: stage columns side by side (scrolling sideways when they do not fit), a message line,
    the legend and the keys."""

    ENABLE_COMMAND_PALETTE = False
    TITLE = "salesselect board"
    CSS = """
    Screen { layout: vertical; }
    #title { height: auto; padding: 0 1; }
    #columns { height: 1fr; }
    .stage { height: 100%; border-right: vkey $panel-lighten-2; }
    .stage .header { height: auto; padding: 0 1; border-bottom: solid $panel-lighten-2; }
    .stage .cards { height: 1fr; scrollbar-size-vertical: 1; }
    .card { height: auto; padding: 0 0 0 1; margin: 0 0 1 0; }
    .card.-selected { padding: 0; border-left: outer $accent; background: $accent 25%; text-style: bold; }
    .more { padding: 0 1; }
    #message { height: auto; max-height: 3; padding: 0 1; }
    #legend { height: auto; padding: 0 1; }
    #keys { height: auto; padding: 0 1; background: $panel; }
    Ask, Choose { align: center middle; }
    .dialog { width: 70; max-width: 95%; height: auto; max-height: 90%; border: round $accent;
              padding: 0 1; background: $surface; }
    .dialog OptionList { height: auto; max-height: 12; }
    .dialog .problem { height: auto; }
    .deal { padding: 0 1; }
    .deal-keys { height: 1; padding: 0 1; background: $panel; }
    """
    BINDINGS = [
        Binding("left,h", "column(-1)", show=False),
        Binding("right,l", "column(1)", show=False),
        Binding("up,k", "card(-1)", show=False),
        Binding("down,j", "card(1)", show=False),
        Binding("right_square_bracket", "stage(1)", show=False),
        Binding("left_square_bracket", "stage(-1)", show=False),
        Binding("w", "close_deal('won')", show=False),
        Binding("L", "close_deal('lost')", show=False),
        Binding("o", "reopen", show=False),
        Binding("f", "followup", show=False),
        Binding("n", "note", show=False),
        Binding("u", "undo", show=False),
        Binding("enter", "open", show=False),
        Binding("slash", "filter", show=False),
        Binding("m", "mine", show=False),
        Binding("r", "refresh", show=False),
        Binding("q", "quit", show=False),
    ]

    def __init__(self, desk):
        super().__init__()
        self.desk = desk
        self.board: kanban.Board | None = None
        self.columns: list[StageColumn] = []
        self.col = 0  # focus: column index, card index in it, and the deal's id
        self.row = 0
        self.selected_id: int | None = None
        self.last_closed: int | None = None  # what `o` offers to reopen
        self._drawing = asyncio.Lock()
        self._read_failed = False
        self._problems_said: list[str] = []  # the bad stored settings the message line last named

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The board's keys work on the board only: in a dialog, w or ] must not open another."""
        if any(binding.action.partition("(")[0] == action for binding in self.BINDINGS):
            return len(self.screen_stack) == 1
        return True

    def compose(self) -> ComposeResult:
        # kept as attributes: app.query_one() searches the top screen, which may be a dialog
        self.title_line = Static("", id="title")
        self.holder = HorizontalScroll(id="columns", can_focus=False)
        self.message_line = Static("", id="message")
        self.legend_line = Static("", id="legend")
        self.key_line = Static("", id="keys")
        yield from (self.title_line, self.holder, self.message_line, self.legend_line, self.key_line)

    async def on_mount(self) -> None:
        from salesselect_cli.render import themed

        themed(self.console)  # the indicator styles (indicator.orange, ...) the cards and legend are drawn with
        await self.reload()
        self.set_interval(POLL_SECONDS, self.poll)

    def on_unmount(self) -> None:
        self.desk.close_watch()

    def on_resize(self) -> None:
        self._layout_chrome()

    # ---- drawing

    async def reload(self, first_card: bool = False) -> None:
        """Read the board again (one session) and redraw it, keeping the focus on the same deal."""
        async with self._drawing:
            try:
                self.desk.changed()  # what this read will have seen: later commits trigger the next poll
                board = self.desk.board()
            except Exception as exc:
                self.say(error_line(exc), error=True)
                self._read_failed = True
                return
            if self._read_failed:  # the board reads again (a key user turned the module back on, say)
                self._read_failed = False
                self.say("")
            if self.desk.problems != self._problems_said:  # said once, not again at every redraw
                self._problems_said = self.desk.problems
                self.say("  ·  ".join(_("Warning: {warning}").format(warning=problem)
                                      for problem in self.desk.problems), error=bool(self.desk.problems))
            self.board = board
            labels = kanban.type_labels([bt["name"] for bt in board.business_types])
            holder = self.holder
            await holder.remove_children()
            self.columns = [StageColumn(column, labels, board) for column in board.columns]
            self._layout_chrome()  # widths before mounting: every card is laid out once
            if first_card:
                self.selected_id = None
                self.col = self.row = 0
            self._restore_focus()
            if self.columns:
                await holder.mount_all(self.columns)
            else:
                await holder.mount(Static(Text(_("No open opportunities match."), style="dim"), classes="more"))

    def _layout_chrome(self) -> None:
        if self.board is None:
            return
        width = self.size.width
        title = kanban.title(self.board)
        if self.desk.me:
            title.append(" · " + _("you: {name}").format(name=self.desk.me), style="dim")
        self.title_line.update(title)
        labels = kanban.type_labels([bt["name"] for bt in self.board.business_types])
        self.legend_line.update(kanban.legend(self.board, labels, max(20, width - 2)))
        self.key_line.update(key_bar(max(20, width - 2)))
        size = column_width(width, len(self.columns))
        # one header height for all, as on the printed board, so the first cards line up
        inner = max(1, size - 3)  # the column's right border and the header's padding
        lines = max((len(column.header_text.wrap(self.console, inner)) for column in self.columns), default=1)
        for column in self.columns:
            column.styles.width = size
            column.header.styles.height = lines + 1  # and its bottom rule

    def say(self, line: str, error: bool = False) -> None:
        self.message_line.update(Text(line, style="bold red" if error else "bold"))

    def _filled(self) -> list[int]:
        return [index for index, column in enumerate(self.columns) if column.cards]

    def _restore_focus(self) -> None:
        if self.selected_id is not None and self._select_id(self.selected_id):
            return
        filled = self._filled()
        if not filled:
            self.selected_id = None
            return
        if self.selected_id is None:  # start (or a new filter): the first card of the first column with cards
            self._select(filled[0], 0)
            return
        nearest = min(filled, key=lambda index: (abs(index - self.col), index))  # the deal left: stay near
        self._select(nearest, min(self.row, len(self.columns[nearest].cards) - 1))

    def _select_id(self, opportunity_id: int) -> bool:
        """Focus this deal if the board shows it (the same deal after a refresh, a reopened deal)."""
        for index, column in enumerate(self.columns):
            for row, card in enumerate(column.cards):
                if card.record["id"] == opportunity_id:
                    self._select(index, row)
                    return True
        return False

    def _select(self, col: int, row: int) -> None:
        for column in self.columns:
            for card in column.cards:
                card.remove_class("-selected")
        card = self.columns[col].cards[row]
        card.add_class("-selected")
        self.col, self.row, self.selected_id = col, row, card.record["id"]
        self._scroll_into_view(card)

    def _scroll_into_view(self, card: Card, tries: int = 10) -> None:
        """Scroll the focused card into view, once a freshly drawn board has been laid out."""
        if not card.has_class("-selected"):
            return
        if card.is_attached and card.size.height:
            card.scroll_visible(animate=False)
        elif tries:
            self.call_after_refresh(self._scroll_into_view, card, tries - 1)

    def focused_deal(self) -> dict | None:
        if self.selected_id is None:
            self.say(_("No card to act on: no open deals match."), error=True)
            return None
        return self.columns[self.col].cards[self.row].record

    # ---- live

    async def poll(self) -> None:
        if self._drawing.locked():  # a redraw is reading the board now; look again next time
            return
        try:
            changed = self.desk.changed()
        except Exception as exc:
            self.say(error_line(exc), error=True)
            return
        if changed:
            await self.reload()

    # ---- keys: focus

    def action_column(self, step: int) -> None:
        filled = self._filled()
        if not filled:
            return
        if self.col not in filled:
            self.col = min(filled, key=lambda index: abs(index - self.col))
        index = max(0, min(len(filled) - 1, filled.index(self.col) + step))
        col = filled[index]
        self._select(col, min(self.row, len(self.columns[col].cards) - 1))

    def action_card(self, step: int) -> None:
        if self.selected_id is None:
            return
        self._select(self.col, max(0, min(len(self.columns[self.col].cards) - 1, self.row + step)))

    # ---- keys: changes (each one session through the commands' functions; then redraw)

    def change(self, do, then=None) -> None:
        """Run one change in a worker, off the screen's loop (another writer's lock or a slow workflow never
        freezes the screen): a waiting line, then its line (or its error); the board is read again and `then`
        runs after a change that was made."""
        self.say(_("Saving…"))
        self.run_worker(self._change(do, then), exclusive=True, group="write")

    async def _change(self, do, then) -> None:
        try:
            lines = await asyncio.to_thread(do)
        except Exception as exc:
            self.say(error_line(exc), error=True)
            await self.reload()
            return
        warning = _("Warning: {warning}").format(warning="")
        self.say("  ·  ".join(lines), error=any(line.startswith(warning) for line in lines))
        await self.reload()
        if then is not None:
            then()

    async def action_stage(self, step: int) -> None:
        deal = self.focused_deal()
        if deal is None:
            return
        try:
            target = self.desk.adjacent_stage(deal["id"], step)
        except Exception as exc:
            self.say(error_line(exc), error=True)
            return
        if target.auto_status is None:
            self.change(lambda: self.desk.move(deal["id"], target.name))
            return

        async def picked(reason: str | None) -> None:
            if reason is None:
                self.say(_("Not moved."))
                return
            reason = None if reason == NO_REASON else reason
            self.change(lambda: self.desk.move(deal["id"], target.name, reason),
                        lambda: setattr(self, "last_closed", deal["id"]))

        self._pick_reason(deal, target.auto_status, _("Move #{id} to {stage} ({status})").format(id=deal['id'], stage=target.name, status=_(target.auto_status)),
                          picked)

    async def action_close_deal(self, status: str) -> None:
        deal = self.focused_deal()
        if deal is None:
            return

        async def picked(reason: str | None) -> None:
            if reason is None:
                self.say(_("Nothing changed."))
                return
            reason = None if reason == NO_REASON else reason
            self.change(lambda: self.desk.close(deal["id"], status, reason),
                        lambda: setattr(self, "last_closed", deal["id"]))

        title = _("Win #{id} {title}") if status == "won" else _("Lose #{id} {title}")
        self._pick_reason(deal, status, title.format(id=deal["id"], title=deal["title"]), picked)

    def _pick_reason(self, deal: dict, status: str, title: str, picked) -> None:
        try:
            reasons = self.desk.reasons(status)
        except Exception as exc:
            self.say(error_line(exc), error=True)
            return
        choices = [(reason, reason) for reason in reasons]
        if status == "won":
            choices.append((_("(no reason)"), NO_REASON))
        if not choices:  # no lost reasons set up: let the store say what is missing
            self.call_later(picked, NO_REASON)
            return
        question = _("won reason?") if status == "won" else _("lost reason?")
        self.push_screen(Choose(f"{title} — {question}", choices), picked)

    def action_reopen(self) -> None:
        async def given(text: str | None) -> None:
            if text is None:
                return
            number = int(text.strip().lstrip("#"))
            # the board shows it again (unless a filter hides it)
            self.change(lambda: self.desk.reopen(number), lambda: self._select_id(number))

        def check(text: str) -> None:
            from salesselect_cli.errors import Invalid

            if not text.strip().lstrip("#").isdigit():
                raise Invalid(_("'{text}' is not a deal number").format(text=text))

        self.push_screen(Ask(_("Reopen which won or lost deal? #"), _("the deal's number"), str(self.last_closed or ""), check),
                         given)

    def action_followup(self) -> None:
        deal = self.focused_deal()
        if deal is None:
            return

        def when_given(when: str | None) -> None:
            if when is None:
                return
            day = self.desk.check_date(when)

            async def text_given(text: str | None) -> None:
                if text is not None:
                    self.change(lambda: self.desk.add_followup(deal["id"], when, text))

            question = _("Follow-up for #{id} on {date} ({weekday}): what?").format(
                id=deal['id'], date=format_date(day), weekday=weekday_name(day, short=True))
            warning = self.desk.date_warning(day)
            if warning:  # planned all the same, as `followup add` does; said before the text is typed
                question += "\n" + _("Warning: {warning}").format(warning=warning)
            self.push_screen(Ask(question, _("e.g. call about the proposal")), text_given)

        self.push_screen(Ask(_("Follow-up for #{id} {title}: when?").format(id=deal['id'], title=deal['title']),
                             _("YYYY-MM-DD, DD-MM-YYYY, today, tomorrow, +3d, +2w, +1m, friday"),
                             check=self.desk.check_date), when_given)

    def action_note(self) -> None:
        deal = self.focused_deal()
        if deal is None:
            return

        async def given(text: str | None) -> None:
            if text is not None:
                self.change(lambda: self.desk.add_note(deal["id"], text))

        self.push_screen(Ask(_("Note on #{id} {title}:").format(id=deal['id'], title=deal['title']), _("what happened")), given)

    async def action_undo(self) -> None:
        undone: list[int] = []

        def do() -> list[str]:
            ident, lines = self.desk.undo()
            undone.append(ident)
            return lines

        self.change(do, lambda: self._select_id(undone[0]))  # the deal it put back (unless a filter hides it)

    def action_open(self) -> None:
        deal = self.focused_deal()
        if deal is None:
            return
        try:
            sheet = self.desk.deal(deal["id"])
        except Exception as exc:
            self.say(error_line(exc), error=True)
            return
        self.push_screen(DealView(sheet))

    # ---- keys: what is shown

    def action_filter(self) -> None:
        async def given(text: str | None) -> None:
            if text is None:
                return
            self.desk.search = text.strip() or None
            await self.reload(first_card=True)
            self.say(_("Cards matching '{text}'.").format(text=self.desk.search) if self.desk.search else _("Every card again."))

        self.push_screen(Ask(_("Filter cards by text in the title or company (empty: every card):"),
                             _("e.g. logistics"), self.desk.search or ""), given)

    async def action_mine(self) -> None:
        self.desk.toggle_mine()
        await self.reload(first_card=True)
        self.say(_("Your deals.") if self.desk.mine else _("Everyone's deals."))

    async def action_refresh(self) -> None:
        await self.reload()
        self.say(_("Refreshed."))
