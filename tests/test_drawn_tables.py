"""render.drawn draws a plain table itself (config show's four tables at start-up) and must give exactly what
Rich's Table gives: the same characters and the same colour codes, at every width and in every colour mode."""

from __future__ import annotations

import io
import random

import pytest
from rich.console import Console
from rich.table import Table

from salesselect_cli.render import Column, build_table, drawn, themed

WORDS = ["Lead", "Staffing, Agencies", "■", "#e07b00", "won", "", "100%", "  spaced ", "Ünïcödé", "日本語", "a[b]c",
         "x" * 30, "[bold]not markup[/]", "Too expensive", 0, 684, 12345]
MARKUP = ["[blue]■[/] Staffing", "[#e07b00]■[/] A\\[b]", "plain", "[bold]x[/]", "", "[dim]no[/]"]
MODES = [None, "standard", "256", "truecolor"]


def console_for(width: int, mode: str | None) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return themed(Console(file=out, width=width, color_system=mode, no_color=mode is None, force_terminal=bool(mode),
                          highlight=False, emoji=False, soft_wrap=False, legacy_windows=False)), out


def printed(table, width: int, mode: str | None, lighter: bool) -> tuple[str, bool]:
    """What the console prints, and whether drawn() drew it without Rich's Table."""
    console, out = console_for(width, mode)
    renderable = drawn(table, console) if lighter else table
    itself = renderable is not table and not any(
        isinstance(part, Table) for part in renderable.__rich_console__(console, console.options))
    console.print(renderable)
    return out.getvalue(), itself


def random_table(rng: random.Random) -> Table:
    columns = []
    for index in range(rng.randint(1, 6)):
        kind = rng.choice(["plain", "markup", "right", "no_wrap", "style"])
        if kind == "markup":
            columns.append(Column(f"k{index}", "Business type", cell=lambda row, index=index: row[f"m{index}"]))
        else:
            columns.append(Column(f"k{index}", rng.choice(["Stage", "Opps", "#", "Chance", "Reason"]),
                                  justify="right" if kind == "right" else "left", no_wrap=kind == "no_wrap",
                                  style=rng.choice(["bold", "dim", "red"]) if kind == "style" else None))
    rows = [{**{f"k{i}": rng.choice(WORDS) for i in range(len(columns))},
             **{f"m{i}": rng.choice(MARKUP) for i in range(len(columns))}} for _ in range(rng.randint(0, 6))]
    return build_table(rows, columns, title=rng.choice([None, "1. Business types", "2. [x] Stages", "Ünï"]))


@pytest.mark.parametrize("seed", range(4))
def test_drawn_prints_what_richs_table_prints(seed):
    rng = random.Random(seed)
    itself = 0
    for _case in range(150):
        table = random_table(rng)
        width, mode = rng.choice([20, 40, 80, 100, 160]), rng.choice(MODES)
        rich_text, _ = printed(table, width, mode, lighter=False)
        lighter_text, drew = printed(table, width, mode, lighter=True)
        assert lighter_text == rich_text, (width, mode)
        itself += drew
    assert itself > 50  # most of them fit, and those were drawn without Rich's Table


def test_a_table_too_wide_is_richs_own():
    table = build_table([{"name": "x" * 50, "stages": "y" * 50}], [Column("name", "Name"), Column("stages", "Stages")])
    text, drew = printed(table, 60, None, lighter=True)
    assert not drew and text == printed(table, 60, None, lighter=False)[0]
    assert "…" in text or max(len(line) for line in text.splitlines()) <= 60


def test_what_drawn_cannot_draw_goes_to_rich():
    """Lines in a cell, a caption, row styles: Rich's Table itself."""
    console, _ = console_for(100, None)
    two_lines = build_table([{"a": "one\ntwo"}], [Column("a", "A")])
    captioned = build_table([{"a": "x"}], [Column("a", "A")], caption="below")
    styled = build_table([{"a": "x"}], [Column("a", "A")])
    styled.rows[0].style = "bold"
    for table in (two_lines, captioned, styled):
        assert drawn(table, console) is table
    plain = build_table([{"a": "x"}], [Column("a", "A")])
    assert drawn(plain, console) is not plain


@pytest.mark.parametrize("args", [("config", "show"), ("config", "show", "--lang", "nl")])
@pytest.mark.parametrize("width", ["160", "70", "40"])
def test_config_show_prints_what_richs_tables_print(args, width, demo_db, cli, monkeypatch):
    """config show's own output against its four tables drawn by Rich."""
    from salesselect_cli import render

    monkeypatch.setenv("COLUMNS", width)
    lighter = cli(*args)
    assert lighter.exit_code == 0, lighter.stderr
    monkeypatch.setattr(render, "drawn", lambda table, console: table)
    richs = cli(*args)
    assert lighter.stdout == richs.stdout
    assert "Lead" in lighter.stdout and "EUR" in lighter.stdout
