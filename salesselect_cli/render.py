"""One data shape, many outputs: Rich tables, JSON and formula-safe CSV, to stdout or a file.

Rows are dicts. Keys starting with '_' are for people (colours, raw cents) and never leave
through JSON or CSV.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from salesselect_cli.i18n import _, N_
from salesselect_cli.rules.text import FORMULA_STARTS

# Table headers and empty-list lines are translated where a table is drawn (build_table, emit), so every
# command's columns speak the interface language; these are the ones in the code, for the catalogue.
HEADERS = (
    N_("ID"), N_("Title"), N_("Company"), N_("Type"), N_("Stage"), N_("Value"), N_("Close"), N_("Left"), N_("Owner"),
    N_("Status"), N_("Due"), N_("Follow-up"), N_("Opp"), N_("Opportunity"), N_("For"), N_("Done"), N_("User"),
    N_("Key user"), N_("Module"), N_("Open opps"), N_("Workflow"), N_("When"), N_("Actions"), N_("On"), N_("Action"),
    N_("Would"), N_("Business type"), N_("Colour"), N_("Stages"), N_("Opps"), N_("Source"), N_("Business types"),
    N_("Auto-select"), N_("Reason"), N_("Own setting"), N_("Effective"), N_("Count"), N_("Contact"), N_("Vacancy"),
    N_("Created"), N_("Closed"), N_("Field"), N_("From"), N_("To"), N_("By"), N_("At"), N_("Deleted"), N_("Who"),
    N_("What"), N_("Old"), N_("New"), N_("Role"), N_("Archived"),
    N_("Chance"), N_("Weighted"), N_("Won"), N_("Goal"), N_("Coverage"), N_("Group"), N_("Period"), N_("Amount"),
    N_("Set by"), N_("Method"), N_("Runs here"),
)
EMPTY = (
    N_("nothing to show"), N_("No opportunities match."), N_("No open opportunities match."),
    N_("No follow-ups match."), N_("The trash is empty."),
)
DATE_KEYS = frozenset(("expected_close", "due", "closed", "created", "done", "date"))


class Column:
    """A table column: the row key, its header, alignment and an optional cell formatter.

    For a terminal narrower than the table: `priority` orders which columns stay (lower stays longer; default
    the column's position, so the first never goes), `least` is the narrowest a text column is shortened to
    with '…' (default: text columns READABLE, numbers and no-wrap columns never), and `narrow` is a cell
    formatter shown instead of leaving the column out (the type's colour square instead of its name).

    A plain class: every table command makes some at start-up, and a dataclass costs a millisecond to define."""

    __slots__ = ("key", "header", "justify", "cell", "style", "no_wrap", "priority", "least", "narrow")

    def __init__(self, key: str, header: str, justify: str = "left", cell: Callable[[dict], Any] | None = None,
                 style: str | None = None, no_wrap: bool = False, priority: int | None = None,
                 least: int | None = None, narrow: Callable[[dict], Any] | None = None):
        self.key, self.header, self.justify, self.cell, self.style, self.no_wrap = (
            key, header, justify, cell, style, no_wrap)
        self.priority, self.least, self.narrow = priority, least, narrow

    def __repr__(self) -> str:
        return f"Column({self.key!r}, {self.header!r})"


def public(row: dict) -> dict:
    """The row without its people-only ('_') keys."""
    return {key: value for key, value in row.items() if not key.startswith("_")}


def shown(text: Any) -> str:
    """Stored text made safe for a terminal: the one place that decides what reaches the screen raw.

    C0/C1 control characters (ESC, CSI), bidi overrides and isolates, zero-width and other format
    characters, line/paragraph separators and lone surrogates are written as escapes (`\\x1b`,
    `\\u202e`); line breaks and tabs stay. Text that is printable as it is comes back unchanged.
    """
    text = "" if text is None else str(text)
    if text.isprintable():
        return text
    import unicodedata

    return "".join(
        ascii(ch)[1:-1] if ch not in "\n\t" and unicodedata.category(ch) in _HIDDEN else ch for ch in text
    )


_HIDDEN = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


def json_text(data: Any, **options: Any) -> str:
    """json.dumps, with the characters `shown` escapes written as \\u escapes (the same JSON, safe on a terminal)."""
    import json

    text = json.dumps(data, ensure_ascii=False, **options)
    if text.isprintable():
        return text
    return "".join(_json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    import unicodedata

    if ch in "\n\t" or unicodedata.category(ch) not in _HIDDEN:
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def csv_safe(value: Any) -> Any:
    """Text that Excel would run as a formula gets a leading quote; numbers stay numbers."""
    if value is None:
        return ""
    if value.__class__ is str:
        return "'" + value if value[:1] in _FORMULA_FIRST else value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


# the root --color option: auto, always or never; set once per command, gone with it (session.run_command)
_color_mode: contextvars.ContextVar[str] = contextvars.ContextVar("salesselect_color", default="auto")


def use_color_mode(mode: str) -> None:
    """The --color option of the command that runs now."""
    _color_mode.set(mode)


def color_mode() -> str:
    return _color_mode.get()


def color_enabled(stream=None) -> bool:
    """--color always/never decides; auto: never with NO_COLOR, always with FORCE_COLOR, else on a terminal."""
    mode = _color_mode.get()
    if mode == "never":
        return False
    if mode == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def themed(console):
    """The indicator styles for this console: on a terminal without 256 colours orange is drawn as yellow,
    because the nearest of the 16 standard colours to orange is red, and red must stay apart from orange.
    Badges are reversed: a type coloured red or orange draws its square in the foreground colour only."""
    from rich.theme import Theme

    few_colours = console.color_system in ("standard", "windows")
    # red and orange badges are drawn reversed (a coloured block), so no business type's colour square looks like one
    console.push_theme(Theme({
        "indicator.red": "bold reverse red", "indicator.orange": "reverse yellow" if few_colours else "reverse dark_orange",
        "indicator.green": "green",
    }))
    return console


def make_console(file=None, width: int | None = None, record: bool = False):
    """A Rich console: colour as color_enabled says (stdout only, never a file); width from the terminal or $COLUMNS."""
    from rich.console import Console

    target = file or sys.stdout
    colour = color_enabled(target) and file is None
    return themed(Console(
        file=target,
        width=width,
        color_system="auto" if colour else None,
        no_color=not colour,
        force_terminal=colour if colour else False,
        highlight=False,
        emoji=False,
        record=record,
        soft_wrap=False,
        legacy_windows=False,
    ))


def stderr_line(message: str) -> None:
    """A message on stderr; stored text in it is shown escaped (see `shown`)."""
    sys.stderr.write(shown(message).rstrip("\n") + "\n")
    sys.stderr.flush()


# the database files that no output may overwrite; set when a command resolves its --db, gone with it
_protected: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("salesselect_protected", default=())
SIDE_FILES = ("-wal", "-shm", "-journal")


def protect(database: Path) -> None:
    """Remember the database (and its -wal/-shm/-journal files) as never to be written by an output."""
    _protected.set(tuple(Path(os.path.realpath(str(database) + suffix)) for suffix in ("",) + SIDE_FILES))


def protected_database() -> Path | None:
    """The database this command works on, once it is known."""
    protected = _protected.get()
    return protected[0] if protected else None


def _refuse_if_protected(output: Path, target: Path) -> None:
    from salesselect_cli.errors import Invalid

    for guarded in _protected.get():
        same = target == guarded
        if not same and target.exists() and guarded.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(target, guarded)  # a hard link is the same file too
        if same:
            raise Invalid(_("refusing to write {output}: it is the database (or one of its files); choose another --output").format(output=output))
    with contextlib.suppress(OSError), open(target, "rb") as existing:
        if target.is_file() and existing.read(16) == b"SQLite format 3\x00":
            raise Invalid(_("refusing to write {output}: it is an SQLite database; choose another --output").format(output=output))


@contextlib.contextmanager
def opened(output: Path | None) -> Iterator[Any]:
    """stdout, or the --output file: the one writer of every file the tool writes.

    The database and its -wal/-shm/-journal files are refused. A regular file is written to a
    temporary file beside it and renamed into place only when complete, so an interruption or a
    full disk leaves the old file as it was. Devices and pipes (/dev/null, a FIFO) are written directly.
    """
    if output is None or str(output) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    from salesselect_cli.errors import SalesSelectError, os_problem
    from salesselect_cli.rules.text import refuse_hidden_characters

    refuse_hidden_characters(str(output), N_("the --output file name"))  # as backup does: a name to type back
    target = Path(os.path.realpath(output))  # a symlink's file is replaced, the link stays
    _refuse_if_protected(Path(output), target)
    try:
        if target.exists() and not target.is_file():
            if target.is_dir():
                raise IsADirectoryError(21, "Is a directory")
            with open(target, "w", encoding="utf-8", newline="") as handle:
                yield handle
            return
        with _replacing(target) as handle:
            yield handle
    except OSError as exc:
        from salesselect_cli.errors import shortened

        # the problem may name the path again (a name too long): the line stays short either way
        raise SalesSelectError(_("cannot write {output}: {problem}").format(output=shortened(output), problem=os_problem(exc))) from None


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[Any]:
    """A temporary file beside `target`, renamed over it once written and synced; removed on failure."""
    import tempfile

    from salesselect_cli.sql.dialect import remove_abandoned, temporary_prefix

    mode = target.stat().st_mode & 0o7777 if target.exists() else _default_mode()
    remove_abandoned(target, ".tmp")  # a killed run's temporary file; never a live one's
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=temporary_prefix(target), suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json(data: Any, handle) -> None:
    """JSON with stable keys; lists are streamed one item at a time."""
    if isinstance(data, (list, tuple)) or hasattr(data, "__next__"):
        handle.write("[")
        first = True
        for item in data:
            handle.write("\n  " if first else ",\n  ")
            handle.write(json_text(public(item) if isinstance(item, dict) else item))
            first = False
        handle.write("\n]\n" if not first else "]\n")
    else:
        handle.write(json_text(public(data) if isinstance(data, dict) else data, indent=2))
        handle.write("\n")


# Money columns hold decimal strings ('12000.50'): Excel mode writes them with a decimal comma.
DECIMAL_TEXT_KEYS = frozenset({"value", "revenue", "average_deal_size"})


def _excel_cell(key: str, value: Any) -> Any:
    """A cell as Dutch/Belgian Excel reads it: numbers with a decimal comma, text as it is."""
    if value.__class__ is float:
        return repr(value).replace(".", ",")
    if key in DECIMAL_TEXT_KEYS and value.__class__ is str:
        return value.replace(".", ",")
    return value


def _on_terminal(handle) -> bool:
    return getattr(handle, "isatty", lambda: False)()


def write_csv(rows: Iterable[dict], handle, columns: list[str] | None = None, excel: bool = False) -> None:
    """RFC 4180 CSV with a header row; formula-safe cells. On a terminal, text is shown escaped (`shown`).

    excel: what Excel opens by double-click in the Netherlands and Belgium: UTF-8 with a byte-order
    mark, ';' between cells, a decimal comma, CRLF (the import reads it back as it is).
    """
    import csv

    delimiter = ";" if excel else ","
    if excel:
        handle.write("\ufeff")
    cell = csv_safe
    if _on_terminal(handle):  # read by a person: a file keeps the data as it is
        def cell(value):
            value = csv_safe(value)
            return shown(value) if value.__class__ is str else value
    writer = None
    for row in rows:
        if writer is None:
            fieldnames = columns or list(public(row).keys())
            writer = csv.writer(handle, lineterminator="\r\n", delimiter=delimiter)
            writer.writerow(fieldnames)
        if excel:
            writer.writerow([cell(_excel_cell(key, row.get(key))) for key in fieldnames])
        else:
            writer.writerow([cell(row.get(key)) for key in fieldnames])
    if writer is None and columns:
        csv.writer(handle, lineterminator="\r\n", delimiter=delimiter).writerow(columns)


def write_csv_tuples(rows: Iterable[tuple], handle, header: list[str], excel: bool = False) -> None:
    """Rows already made safe and formatted (the store's export_rows) as CSV: one C loop, for big exports.
    `excel` as in write_csv (the rows carry their decimal comma); on a terminal text is shown escaped."""
    import csv

    if excel:
        handle.write("\ufeff")
    writer = csv.writer(handle, lineterminator="\r\n", delimiter=";" if excel else ",")
    writer.writerow(header)
    if _on_terminal(handle):
        rows = ([shown(value) if value.__class__ is str else value for value in row] for row in rows)
    writer.writerows(rows)


def build_table(rows: Iterable[dict], columns: list[Column], title: str | None = None, caption: str | None = None):
    """A Rich table of the rows; each Rich column carries its Column's priority, least and narrow cells for `fitted`."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, header_style="bold", title_justify="left",
                  caption_justify="left", expand=False, collapse_padding=True)
    from salesselect_cli.i18n import _, dutch
    from salesselect_cli.rules.dates import format_date

    narrow_cells: list[list] = []
    for column in columns:
        table.add_column(_(column.header), justify=column.justify, style=column.style, no_wrap=column.no_wrap)
        added = table.columns[-1]
        added.priority, added.least = column.priority, column.least
        added.narrow = [] if column.narrow else None
        narrow_cells.append(added.narrow)
    from rich.text import Text

    dates = {column.key for column in columns if column.key in DATE_KEYS} if dutch() else set()
    for row in rows:
        cells = []
        for column, narrow in zip(columns, narrow_cells):
            if column.cell:  # formatters return markup and escape the data they show
                value = column.cell(row)
                cells.append("" if value is None else value)
            else:  # stored data is shown as it is, never read as markup
                value = row.get(column.key)
                if column.key in dates and isinstance(value, str):
                    value = format_date(value, dutch=True)
                cells.append(Text(shown(value)))
            if narrow is not None:
                narrow.append(column.narrow(row))
        table.add_row(*cells)
    return table


def drawn(table, console):
    """`table` as it prints: build_table's table drawn line by line when every cell fits on one line (the
    same characters and styles as Rich's Table gives, about a tenth of the work: a hundred cells cost Rich
    5 ms, and `config show` draws four tables at start-up); anything else is Rich's Table itself."""
    if not _plainly_drawable(table):
        return table
    return _Drawn(table)


def _plainly_drawable(table) -> bool:
    from rich import box
    from rich.text import Text

    if (table.box is not box.SIMPLE_HEAD or not table.show_header or table.show_footer or not table.show_edge
            or table.show_lines or table.leading or not table.collapse_padding or not table.pad_edge
            or tuple(table.padding) != (0, 1, 0, 1) or table.expand or table.width is not None
            or table.min_width is not None or table.caption is not None or table.row_styles
            or table.title_style is not None or table.highlight or not table.columns):
        return False
    if any(row.style is not None or row.end_section for row in table.rows):
        return False
    for column in table.columns:
        if (column.width is not None or column.min_width is not None or column.max_width is not None
                or column.ratio is not None or column.header_style or column.highlight or column.footer
                or column.justify not in ("left", "right") or column.vertical != "top"):
            return False
        for cell in (column.header, *column.cells):
            if not isinstance(cell, str) and (not isinstance(cell, Text) or cell.justify or cell.overflow):
                return False
            if "\n" in str(cell) or "\t" in str(cell):
                return False
    return True


class _Drawn:
    """A Rich renderable: a plainly drawable table (see `drawn`), or Rich's Table where it does not fit."""

    def __init__(self, table):
        self.table = table

    def __rich_console__(self, console, options):
        from rich._pick import pick_bool
        from rich.segment import Segment
        from rich.style import Style
        from rich.text import Text

        table = self.table
        columns = table.columns
        texts = [[cell if isinstance(cell, Text) else console.render_str(cell, highlight=False)
                  for cell in (column.header, *column.cells)] for column in columns]
        # collapsed padding: one space left of the first column only, one right of every column
        widths = [max(text.cell_len for text in cells) + (2 if index == 0 else 1)
                  for index, cells in enumerate(texts)]
        table_width = sum(widths) + 2 + len(columns) - 1
        if table_width > options.max_width:  # Rich's Table shortens and wraps
            yield table
            return
        render_options = options.update(width=table_width, highlight=False, height=None)
        if table.title:
            title = (console.render_str(table.title, style="table.title", highlight=False)
                     if isinstance(table.title, str) else table.title)
            yield from console.render(title, options=render_options.update(justify=table.title_justify))
        get_style = console.get_style
        border = get_style(table.style or "") + get_style(table.border_style or "")
        shape = table.box.substitute(render_options, safe=pick_bool(table.safe_box, console.safe_box))
        line = Segment.line()
        yield Segment(shape.get_top(widths), border)
        yield line
        header_style = get_style(table.header_style or "") + get_style("")
        cell_styles = [get_style(column.style or "") for column in columns]
        pad = get_style("none")
        edges = [(shape.head_left, shape.head_right, shape.head_vertical),
                 (shape.mid_left, shape.mid_right, shape.mid_vertical),
                 (shape.foot_left, shape.foot_right, shape.foot_vertical)]
        last = len(table.rows)
        for number in range(last + 1):
            left, right, divider = edges[0 if number == 0 else (2 if number == last else 1)]
            divider = Segment(divider, border) if divider.strip() else Segment(divider, Style.null().background_style + border)
            yield Segment(left, border)
            for index, column in enumerate(columns):
                if index:
                    yield divider
                style = header_style if number == 0 else cell_styles[index] + Style.null()
                width = widths[index] - (2 if index == 0 else 1)
                text = texts[index][number].copy()
                if column.justify == "right":
                    text.rstrip()
                    text.truncate(width, overflow="ellipsis")
                    text.pad_left(width - text.cell_len)
                else:
                    text.truncate(width, overflow="ellipsis", pad=True)
                inner = Text("\n").join([text]).render(console)
                padding = Segment(" ", style + pad if style else pad)
                if index == 0:
                    yield padding
                yield from Segment.apply_style(inner, style) if style else inner
                yield padding
            yield Segment(right, border)
            yield line
            if number == 0:
                yield Segment(shape.get_row(widths, "head", edge=True), border)
                yield line
        yield Segment(shape.get_bottom(widths), border)
        yield line


READABLE = 12  # a wrapping column narrower than this (or its longest word) is hard to read


def needed_width(table, console) -> int:
    """The narrowest the table reads well: numbers and no-wrap cells whole, text wrapped at READABLE or its
    longest word. Sets each column's minimum to that, so Rich never cuts a cell short with '…'."""
    from rich.text import Text

    for column in table.columns:
        # as the table prints them: markup read, emoji codes left as they are (the console's emoji=False);
        # emoji=True would also load Rich's 4 ms emoji table on every table command
        texts = [cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell), emoji=False).plain
                 for cell in column.cells]
        texts.append(str(column.header))
        longest = max(len(line) for text in texts for line in text.splitlines() or [""])
        word = max((len(w) for text in texts for w in text.split()), default=0)
        column.min_width = longest if column.no_wrap else max(word, min(longest, READABLE))
    return table.__rich_measure__(console, console.options.update_width(10_000)).minimum


def stacked(table):
    """The table as one block per row of `Header: value` lines: what a terminal too narrow for it shows.

    Nothing is left out: every column of every row is there, only laid out downwards (empty cells skipped).
    """
    from rich.console import Group
    from rich.text import Text

    headers = [str(column.header).replace("\n", " ") for column in table.columns]
    cells = [list(column.cells) for column in table.columns]
    parts: list = []
    if table.title:
        parts.append(table.title if isinstance(table.title, Text) else Text.from_markup(str(table.title), style="bold"))
    for index in range(table.row_count):
        if parts:
            parts.append(Text(""))
        for header, column in zip(headers, cells):
            value = column[index]
            value = value if isinstance(value, Text) else Text.from_markup(str(value))
            if not value.plain.strip():  # an empty cell (no close date, no owner): no bare 'Left:' line
                continue
            line = Text(f"{header}: ", style="bold")
            line.append_text(value)
            parts.append(line)
    if table.caption:
        parts.append(Text(""))
        parts.append(Text.from_markup(str(table.caption)))
    return Group(*parts)


STACK_BELOW = 60  # label blocks only on a terminal narrower than this; wider ones keep one line per row


def _plain_line(cell) -> Any:
    """A cell as one line of Rich Text (markup read, line breaks as spaces): what a fitted row shows."""
    from rich.text import Text

    text = cell if isinstance(cell, Text) else Text.from_markup(str(cell), emoji=False)
    if "\n" in text.plain:
        text = Text(" ").join(text.split("\n", allow_blank=True))
    return text


# two spaces between columns, as the full table has; Rich measures collapsed padding wider than it draws it
_FITTED_PADDING = {"padding": (0, 1, 0, 0), "collapse_padding": False, "pad_edge": True, "expand": False}


def _frame(console, count: int) -> int:
    """The width a table's edges, dividers and padding take around `count` columns."""
    from rich import box
    from rich.table import Table

    probe = Table(box=box.SIMPLE_HEAD, **_FITTED_PADDING)
    for _index in range(count):
        probe.add_column("", width=1, no_wrap=True)
    return probe.__rich_measure__(console, console.options.update_width(10_000)).maximum - count


def fitted(table, console, least: int | None = None, wide: bool = False, wide_option: bool = True):
    """The table as it fits the console: whole when it fits; on a narrower terminal one line per row still,
    with text shortened ('…') and the least important columns left out (named in a footer line with the option
    that shows them); label blocks (`stacked`) only below STACK_BELOW columns or when nothing else fits.

    wide: every column whole, however wide (the caller prints it at `natural_width`)."""
    from rich.text import Text

    columns = list(table.columns)
    if wide or not columns:
        return table
    lines = [[_plain_line(cell) for cell in column.cells] for column in columns]
    natural = [max([text.cell_len for text in cells] + [Text.from_markup(str(column.header), emoji=False).cell_len])
               for column, cells in zip(columns, lines)]
    frames: dict[int, int] = {}

    def frame(count: int) -> int:
        if count not in frames:
            frames[count] = _frame(console, count)
        return frames[count]

    one_line = not any("\n" in str(cell) for column in columns for cell in column.cells)
    if one_line and max(least or 0, natural_width(table, console)) <= console.width:
        return table
    if console.width < STACK_BELOW:
        return stacked(table)
    shortest = [_least(column, width) for column, width in zip(columns, natural)]
    narrow = [None if getattr(column, "narrow", None) is None else [_plain_line(cell) for cell in column.narrow]
              for column in columns]
    narrow_width = [None if cells is None else max([text.cell_len for text in cells] + [1]) for cells in narrow]
    by_importance = sorted(range(len(columns)), key=lambda index: (_priority(columns[index], index), index))
    kept = set(range(len(columns)))
    squeezed: set[int] = set()  # left out, but shown in their narrow form
    out: list[int] = []

    def needs() -> int:
        shown_now = [index for index in range(len(columns)) if index in kept or index in squeezed]
        return sum(shortest[i] if i in kept else narrow_width[i] for i in shown_now) + frame(len(shown_now))

    for index in range(len(columns)):  # a column empty in every row (Left on closed deals) goes first, unnamed
        if not any(text.plain.strip() for text in lines[index]) and index != by_importance[0]:
            kept.discard(index)
    dropping = [index for index in reversed(by_importance) if index != by_importance[0] and index in kept]
    while needs() > console.width:
        if not dropping:
            return stacked(table)
        index = dropping.pop(0)
        kept.discard(index)
        out.append(index)
        if narrow[index] is not None:
            squeezed.add(index)
    shown_now = [index for index in range(len(columns)) if index in kept or index in squeezed]
    widths = {index: (natural[index] if index in kept else narrow_width[index]) for index in shown_now}
    excess = sum(widths.values()) + frame(len(shown_now)) - console.width
    while excess > 0:  # shorten the widest text column that can give a character
        index = max((i for i in shown_now if i in kept and widths[i] > shortest[i]), key=lambda i: widths[i] - shortest[i])
        widths[index] -= 1
        excess -= 1
    return _fitted_table(table, console, columns, lines, narrow, shown_now, kept, widths, out, wide_option)


def _least(column, natural: int) -> int:
    """The narrowest a column may be shortened to: its `least`, or READABLE for wrapping text, never shorter
    than its header; numbers, dates and badges (right-aligned or no-wrap) stay whole."""
    from rich.text import Text

    least = getattr(column, "least", None)
    if column.no_wrap or column.justify == "right":
        return natural
    header = Text.from_markup(str(column.header), emoji=False).cell_len
    return min(natural, max(header, READABLE if least is None else least))


def _priority(column, index: int) -> int:
    priority = getattr(column, "priority", None)
    return index if priority is None else priority


def _fitted_table(table, console, columns, lines, narrow, shown_now, kept, widths, out, wide_option):
    from rich.table import Table
    from rich.text import Text

    from salesselect_cli.i18n import _

    fitted_table = Table(title=table.title, box=table.box, header_style=table.header_style,
                         title_justify=table.title_justify, title_style=table.title_style,
                         caption_justify="left", show_edge=table.show_edge, **_FITTED_PADDING)
    for index in shown_now:
        column = columns[index]
        header = column.header if index in kept else ""
        fitted_table.add_column(header, justify=column.justify, style=column.style, width=widths[index],
                                no_wrap=True, overflow="ellipsis")
    rows = list(table.rows)
    for number in range(len(lines[0]) if lines else 0):
        cells = [lines[index][number] if index in kept else narrow[index][number] for index in shown_now]
        row = rows[number] if number < len(rows) else None
        fitted_table.add_row(*cells, style=row.style if row else None, end_section=bool(row and row.end_section))
    caption = table.caption
    lines_below = [] if caption is None else [caption if isinstance(caption, Text) else Text.from_markup(str(caption), emoji=False)]
    if out:
        names = ", ".join(Text.from_markup(str(columns[index].header), emoji=False).plain.replace("\n", " ")
                      for index in sorted(out))
        footer = (_("Left out: {columns} (--wide or --format csv/json shows them).") if wide_option
                  else _("Left out: {columns} (--format csv/json shows them).")).format(columns=names)
        lines_below.append(Text(footer, style="dim"))
    from rich.console import Group

    return Group(fitted_table, *lines_below)


def natural_width(table, console) -> int:
    """The width a table takes with every column whole (what --wide prints): Rich's own measure of the table's
    deciding cells (`_deciding_cells`), so a long list is measured once per cell, not twice through its padding."""
    import copy
    import dataclasses

    options = console.options.update_width(100_000)
    probe = copy.copy(table)
    probe.columns = [dataclasses.replace(column, _cells=_deciding_cells(column.cells, console, options))
                     for column in table.columns]
    return probe.__rich_measure__(console, options).maximum


def _deciding_cells(cells, console, options) -> list:
    """The cells a column's measure comes from: its widest and the one with the longest word. A column's
    measure is the largest of its cells' (each padded alike), so these two give the same answer as all of
    them; a column holding other renderables than text keeps every cell."""
    from rich.measure import Measurement
    from rich.text import Text

    cells = list(cells)
    if not all(isinstance(cell, (str, Text)) for cell in cells):
        return cells
    widest = longest_word = None
    for cell in cells:
        least, most = Measurement.get(console, options, cell)
        if widest is None or most > widest[0]:
            widest = (most, cell)
        if longest_word is None or least > longest_word[0]:
            longest_word = (least, cell)
    return [] if widest is None else [widest[1], longest_word[1]]


def emit(
    rows: Iterable[dict] | list[dict],
    fmt: str,
    output: Path | None = None,
    columns: list[Column] | None = None,
    title: str | None = None,
    empty: str = "nothing to show",
    csv_columns: list[str] | None = None,
    caption: str | None = None,
    excel: bool = False,
    wide: bool | None = None,
    chart=None,
) -> int:
    """Render rows as a table, JSON or CSV to stdout or `output` (an Excel workbook when it ends in .xlsx, with
    `chart`, a workbook.Chart, beside the rows). Returns how many rows.

    A table fits the terminal (see `fitted`); wide: every column whole (None: the command has no --wide)."""
    from salesselect_cli.rules.output_files import output_format

    if output_format(output) == "xlsx":  # refuses .png/.pdf before anything is written
        rows = list(rows)
        header = csv_columns or (list(public(rows[0]).keys()) if rows else [c.key for c in columns or []])
        return write_xlsx(rows, output, header, chart)
    if fmt == "json":
        rows = list(rows)
        with opened(output) as handle:
            write_json(rows, handle)
        return len(rows)
    if fmt == "csv":
        rows = list(rows)
        header = csv_columns or (list(public(rows[0]).keys()) if rows else [c.key for c in columns or []])
        with opened(output) as handle:
            write_csv(rows, handle, header, excel=excel)
        return len(rows)
    rows = list(rows)
    with opened(output) as handle:
        console = make_console(None if handle is sys.stdout else handle, width=None if handle is sys.stdout else 200)
        if not rows:
            from salesselect_cli.i18n import _

            console.print(_(empty))
        else:
            shown = columns or [Column(k, k) for k in public(rows[0])]
            table = build_table(rows, shown, title, caption)
            if wide:  # every column whole, one line per row, however wide (a pager's -S or a wide terminal)
                console.width = max(console.width, natural_width(table, console))  # print's width= only narrows
                console.print(table, crop=False)
            else:
                console.print(fitted(table, console, wide_option=wide is not None))
    return len(rows)


# Keys whose strings are money (decimal text): a workbook gets them as numbers
MONEY_KEYS = frozenset(("value", "weighted", "won", "goal", "revenue", "average_deal_size", "amount"))


# Keys whose ISO text a workbook types as a date: the table's date keys, the next follow-up, a goal's period
SHEET_DATE_KEYS = DATE_KEYS | {"next_followup", "from", "to"}


def write_xlsx(rows: Iterable[dict], output: Path, header: list[str], chart=None) -> int:
    """The rows as an Excel workbook: money and dates as typed cells, the keys as the bold frozen header, and a
    native chart when `chart` (a workbook.Chart) is given."""
    from decimal import Decimal, InvalidOperation

    from salesselect_cli.workbook import Column as SheetColumn, write_workbook

    def cell(key: str, value):
        if key in MONEY_KEYS and isinstance(value, str):
            try:
                return Decimal(value)
            except InvalidOperation:
                return value
        return value

    kinds = [SheetColumn(key, "money" if key in MONEY_KEYS else "date" if key in SHEET_DATE_KEYS else None)
             for key in header]
    from salesselect_cli.errors import SalesSelectError, os_problem, shortened
    from salesselect_cli.rules.text import refuse_hidden_characters

    # the guards of opened(): a name to type back, never the database, one line for a file system's refusal
    refuse_hidden_characters(str(output), N_("the --output file name"))
    target = Path(os.path.realpath(output))
    _refuse_if_protected(Path(output), target)
    try:
        if target.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        return write_workbook(target, kinds, ([cell(key, row.get(key)) for key in header] for row in rows),
                              chart=chart)
    except OSError as exc:
        raise SalesSelectError(_("cannot write {output}: {problem}").format(
            output=shortened(output), problem=os_problem(exc))) from None


def emit_object(data: dict, fmt: str, output: Path | None = None, render_table: Callable | None = None) -> None:
    """One object: JSON as an object, CSV as one row, table through `render_table(console)`."""
    if fmt == "json":
        with opened(output) as handle:
            write_json(data, handle)
    elif fmt == "csv":
        with opened(output) as handle:
            write_csv([data], handle)
    else:
        with opened(output) as handle:
            console = make_console(None if handle is sys.stdout else handle)
            if render_table:
                render_table(console)
            else:
                for key, value in public(data).items():
                    console.print(f"{key}: {escape(value)}")


INDICATOR_STYLES = {"red": "indicator.red", "orange": "indicator.orange", "green": "indicator.green", "none": "dim"}
INDICATOR_MARKS = {"red": "!! ", "orange": "! ", "green": "", "none": ""}


def days_text(record: dict) -> tuple[str, str]:
    """The days-left badge and its style: 'overdue 3d', '!! due today', '!! 2d left', '! 4d left', '9d left'.

    The marks (!! red, ! orange) make it read without colour too; legends explain them.
    """
    from salesselect_cli.i18n import _

    left = record.get("days_left")
    shade = record.get("indicator") or "none"
    style = INDICATOR_STYLES.get(shade, "")
    if left is None:
        return _("no close date"), "dim"
    if left < 0:
        return _("overdue {days}d").format(days=-left), style
    mark = INDICATOR_MARKS.get(shade, "")
    return mark + (_("due today") if left == 0 else _("{days}d left").format(days=left)), style


def moment(stamp: str | None) -> str:
    """A stored 'YYYY-MM-DD HH:MM:SS' to the minute, the date as the interface language writes it."""
    from salesselect_cli.rules.dates import format_date

    if not stamp:
        return ""
    return format_date(stamp[:10]) + stamp[10:16]


def status_word(status: str | None) -> str:
    """open / won / lost in the interface language (JSON and CSV keep the English word)."""
    from salesselect_cli.i18n import _

    return {"open": _("open"), "won": _("won"), "lost": _("lost")}.get(status or "", status or "")


# Stored words a table shows (JSON and CSV keep them as they are), for the catalogue
WORDS = {
    "yes": N_("yes"), "no": N_("no"), "on": N_("on"), "off": N_("off"), "inherit": N_("inherit"),
    "recruiter": N_("recruiter"), "manager": N_("manager"), "open": N_("open"), "won": N_("won"), "lost": N_("lost"),
    "archived": N_("archived"), "none": N_("none"), "default": N_("default"), "trash": N_("trash"),
}


def word(value: Any) -> str:
    """A stored word (yes, on, inherit, recruiter, won, ...) in the interface language; anything else as it is."""
    from salesselect_cli.i18n import _

    if value is None:
        return ""
    text = str(value)
    return _(WORDS[text]) if text in WORDS else text


def days_badge(record: dict) -> str:
    """days_text as Rich markup for a table cell; empty without a close date."""
    if record.get("days_left") is None:
        return ""
    text, style = days_text(record)
    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def indicator_legend(orange_days: int | None, red_days: int | None) -> str:
    """One line that explains the badge marks."""
    from salesselect_cli.i18n import _

    if orange_days is None or red_days is None:
        return _("indicator not set: only overdue deals are marked")
    return _("!! red: {red} days or fewer left   ! orange: {orange} or fewer   overdue: past the close date").format(
        red=red_days, orange=orange_days)


def escape(text: Any) -> str:
    """User text made safe for Rich markup and for the terminal."""
    from rich.markup import escape as rich_escape

    return rich_escape(shown(text))
