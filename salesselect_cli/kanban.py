"""The Kanban board drawn with Rich from plain data: stage columns, cards and a legend.

Pure with respect to the database: `Board` holds what the store returned and everything here
only turns it into renderables, text, SVG or HTML. Colour is never the only signal: a card also
names its business type, the days-left badge says "overdue" and marks red/orange with ! and !!.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from salesselect_cli.i18n import _, ngettext
from salesselect_cli.render import days_text, shown, status_word
from salesselect_cli.rules.dates import format_date, weekday_name
from salesselect_cli.rules.money import format_money

MIN_COLUMN_WIDTH = 24  # a stage column with its padding, without the border: below this cards get cramped
MAX_COLUMN_WIDTH = 48  # wider than this a card is hard to take in at a glance
BAR = "▌"


@dataclass
class Column:
    """One stage column: its totals cover every card in scope; `cards` holds the shown ones."""

    stage: str
    count: int
    value_cents: int
    cards: list[dict] = field(default_factory=list)
    overdue: int = 0
    red: int = 0  # including the overdue ones
    orange: int = 0
    auto_status: str | None = None
    weighted_cents: int | None = None  # Σ value x win chance, once chances are in use (else None: not shown)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


@dataclass
class Board:
    """Everything the board shows, as plain data."""

    columns: list[Column]
    today: dt.date
    currency: str = "EUR"
    business_types: list[dict] = field(default_factory=list)  # {name, color} in setup order
    orange_days: int | None = None
    red_days: int | None = None
    scope: list[str] = field(default_factory=list)  # whose cards first, then the filters: ["mine", "type Staffing"]

    @property
    def count(self) -> int:
        return sum(column.count for column in self.columns)

    @property
    def value_cents(self) -> int:
        return sum(column.value_cents for column in self.columns)


# ---------------------------------------------------------------- layout


def type_labels(names: list[str]) -> dict[str, str]:
    """The shortest prefix that tells each business type apart: Staffing -> S, Sales -> Sa."""
    labels = {}
    lowered = [name.lower() for name in names]
    for name in names:
        others = [other for other in lowered if other != name.lower()]
        size = 1
        while size < len(name) and any(other.startswith(name[:size].lower()) for other in others):
            size += 1
        labels[name] = name[:size]
    return labels


def stage_rows(count: int, width: int) -> tuple[list[int], int]:
    """How many stage columns go on each row of the board, and the outer width of every column.

    As many as fit at MIN_COLUMN_WIDTH, spread evenly over the rows (7 stages at 80 columns:
    3 + 2 + 2 rather than a lonely last column), all rows with the same column width.
    """
    if count <= 0:
        return [], max(1, min(MAX_COLUMN_WIDTH, width - 2))
    fit = max(1, (width - 1) // (MIN_COLUMN_WIDTH + 1))
    rows = -(-count // fit)
    per_row = -(-count // rows)
    sizes = [count // rows + (1 if index < count % rows else 0) for index in range(rows)]
    column_width = max(1, min(MAX_COLUMN_WIDTH, (width - 1) // per_row - 1))
    return sizes, column_width


# ---------------------------------------------------------------- pieces


def _safe_style(color: str | None):
    from rich.errors import StyleSyntaxError
    from rich.style import Style

    try:
        return Style.parse(color or "")
    except StyleSyntaxError:
        return Style()


class Bar:
    """A renderable with a coloured bar down its left side (the card's business-type colour).

    `inner` is a renderable, or a function of the width left beside the bar that returns one.
    """

    def __init__(self, inner, color: str | None):
        self.inner = inner
        self.color = color

    def _inner(self, width: int):
        return self.inner(width) if callable(self.inner) else self.inner

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        bar = Segment(BAR, _safe_style(self.color))
        gap = Segment(" ")
        inner_width = max(1, options.max_width - 2)
        for line in console.render_lines(self._inner(inner_width), options.update_width(inner_width), pad=False):
            yield bar
            yield gap
            yield from line
            yield Segment.line()

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        inner_width = max(1, options.max_width - 2)
        inner = Measurement.get(console, options.update_width(inner_width), self._inner(inner_width))
        return Measurement(inner.minimum + 2, inner.maximum + 2)


def short_owner(name: str, room: int) -> str:
    """The owner in `room` cells: the name, else its initials ('Sanne de Vries' -> 'SdV'), else cut with '…'."""
    from rich.cells import cell_len

    if cell_len(name) <= room:
        return name
    words = name.split()
    initials = "".join(word[0] for word in words) if len(words) > 1 else ""
    if initials and cell_len(initials) <= room:
        return initials
    return name[:max(1, room - 1)] + "…" if room >= 2 else name[:2]


def card(record: dict, label: str, currency: str, today: dt.date) -> Bar:
    """One opportunity as a card: id and title, company, type/value/owner, badge and next follow-up.

    The business type is named in full when that line fits, else by its short label (see the legend).
    """
    from rich.cells import cell_len
    from rich.text import Text

    money = format_money(record.get("_value_cents"), currency)
    business_type = record.get("business_type") or label

    def text_for(width: int) -> Text:
        text = Text(overflow="fold")
        text.append(f"#{record['id']} ", style="bold cyan")
        text.append(shown(record["title"]), style="bold")
        text.append("\n")
        text.append(shown(record["company"]))
        text.append("\n")
        owner = shown(record["owner"])
        tail = f" · {money} · {owner}"
        name = shown(business_type if cell_len(business_type + tail) <= width else label)
        if cell_len(name + tail) > width:  # a narrow column keeps the owner, shortened, and the whole value
            room = width - cell_len(f"{name} · {money} · ")
            tail = f" · {money} · {short_owner(owner, room)}"
        text.append(name, style=_safe_style(record.get("_color")) + _safe_style("bold"))
        text.append(tail)
        text.append("\n")
        badge, style = days_text(record)
        text.append(badge, style=style)
        followup = record.get("next_followup")
        if followup:
            late = followup < today.isoformat()
            text.append(" · " + _("next") + " ")
            shown_date = format_date(followup)
            text.append(_("{date} late").format(date=shown_date) if late else shown_date, style="bold red" if late else "")
        return text

    return Bar(text_for, record.get("_color"))


def header(column: Column, currency: str):
    """A column header: the stage, the number of cards and their value, and the alarms."""
    from rich.text import Text

    text = Text(overflow="fold")
    text.append(shown(column.stage), style="bold")
    if column.auto_status:
        text.append(f" ({status_word(column.auto_status)})", style="dim")
    text.append("\n")
    deals = ngettext("{count} deal", "{count} deals", column.count).format(count=column.count)
    text.append(f"{deals} · {format_money(column.value_cents, currency)}")
    if column.weighted_cents is not None:
        text.append("\n")
        text.append(_("weighted {value}").format(value=format_money(column.weighted_cents, currency)), style="cyan")
    alarms = []
    if column.overdue:
        alarms.append((_("{count} overdue").format(count=column.overdue), "bold red"))
    if column.red - column.overdue:
        alarms.append((_("{count} red").format(count=column.red - column.overdue), "red"))
    if column.orange:
        alarms.append((_("{count} orange").format(count=column.orange), "indicator.orange"))
    if alarms:
        text.append("\n")
        for index, (words, style) in enumerate(alarms):
            text.append(" · " if index else "")
            text.append(words, style=style)
    return text


def column_body(column: Column, labels: dict[str, str], currency: str, today: dt.date):
    from rich.console import Group
    from rich.text import Text

    parts: list = []
    for index, record in enumerate(column.cards):
        if index:
            parts.append(Text(""))
        parts.append(card(record, labels.get(record["business_type"], record["business_type"] or "?"), currency, today))
    if column.more:
        if parts:
            parts.append(Text(""))
        parts.append(Text(_("+{count} more").format(count=column.more), style="italic dim"))
    if not parts:
        parts.append(Text("—", style="dim"))
    return Group(*parts)


def legend(board: Board, labels: dict[str, str], width: int):
    """Business types with their colours, the indicator thresholds, today's date.

    Wrapped by whole items, so 'today 2026-11-27 (Fri)' never breaks across two lines.
    """
    from rich.cells import cell_len
    from rich.text import Text

    items: list[Text] = []
    for name, label in labels.items():
        color = next((bt["color"] for bt in board.business_types if bt["name"] == name), None)
        item = Text(BAR, style=_safe_style(color))
        item.append(shown(f"{label} = {name}"))
        items.append(item)
    if board.red_days is not None and board.orange_days is not None:
        items.append(Text(_("!! red ≤ {days}d").format(days=board.red_days), style="red"))
        items.append(Text(_("! orange ≤ {days}d").format(days=board.orange_days), style="indicator.orange"))
        items.append(Text(_("green later"), style="green"))
    else:
        items.append(Text(_("indicator not set: only overdue is red"), style="dim"))
    items.append(Text(_("today {date} ({weekday})").format(date=format_date(board.today),
                                                            weekday=weekday_name(board.today, short=True))))
    text = Text(overflow="fold")
    used = 0
    for item in items:
        size = cell_len(item.plain)
        if used and used + 3 + size > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(" · ")
            used += 3
        text.append_text(item)
        used += size
    return text


def title(board: Board):
    """'Board · everyone · 42 open opportunities · €2,269,100 · up to 5 per stage': whose cards come first.

    One style for the whole line: a separator never starts a styled run, so pasted text keeps its spaces.
    """
    from rich.text import Text

    count = ngettext("{count} open opportunity", "{count} open opportunities", board.count).format(count=board.count)
    scope = list(board.scope)
    owner_words = scope[:1]
    words = [_("Board"), *owner_words, count, format_money(board.value_cents, board.currency), *scope[1:]]
    words = [shown(word) for word in words]
    return Text(" · ".join(words), style="bold", overflow="fold")


# ---------------------------------------------------------------- the whole board


def render_board(board: Board, width: int):
    """The board as one Rich renderable that fits `width` columns: rows of stage columns and a legend."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    labels = type_labels([bt["name"] for bt in board.business_types])
    for column in board.columns:  # a type missing from the list still gets a label
        for record in column.cards:
            labels.setdefault(record["business_type"], record["business_type"])
    parts: list = [title(board)]
    if not board.columns:
        parts.append(Text(_("No open opportunities match."), style="dim"))
    sizes, column_width = stage_rows(len(board.columns), width)
    start = 0
    for size in sizes:
        row = board.columns[start : start + size]
        start += size
        table = Table(
            box=box.ROUNDED, width=len(row) * (column_width + 1) + 1, show_header=False, padding=(0, 1),
        )
        for _column in row:
            table.add_column(ratio=1, vertical="top", overflow="fold")
        # headers as a first row: Rich bottom-aligns real headers, and these differ in height
        table.add_row(*[header(column, board.currency) for column in row], end_section=True)
        table.add_row(*[column_body(column, labels, board.currency, board.today) for column in row])
        parts.append(table)
    parts.append(legend(board, labels, width))
    return Group(*parts)


def print_board(board: Board, console) -> None:
    console.print(render_board(board, console.width))


def export_board(board: Board, width: int, kind: str) -> str:
    """The board as rendered, in colour, as an SVG image or an HTML page (for a manager's mail)."""
    from rich.console import Console

    from salesselect_cli.render import themed

    console = themed(Console(
        file=io.StringIO(), record=True, width=width, force_terminal=True, color_system="truecolor",
        no_color=False, highlight=False, emoji=False, legacy_windows=False,
    ))
    print_board(board, console)
    if kind == "svg":
        return console.export_svg(title=f"salesselect board {board.today.isoformat()}")
    return _keep_spaces(console.export_html(inline_styles=True))


def _keep_spaces(page: str) -> str:
    """Spaces and line ends of the drawn board made explicit (&#160;, <br>), so a mail client that pastes the
    HTML without its <pre> neither glues 'green later' to the next line nor drops the space after 'Board'."""
    import re

    start, end = page.index("<code"), page.index("</code>")
    body = re.split(r"(<[^>]+>)", page[start:end])
    body = [part if part.startswith("<") else part.replace(" ", "&#160;").replace("\n", "<br>\n") for part in body]
    return page[:start] + "".join(body) + page[end:]
