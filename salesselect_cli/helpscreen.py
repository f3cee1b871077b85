"""The help screen, drawn by the project itself (as httpie owns output/ui/rich_help.py) in Typer's layout.

Typer's renderer (typer.rich_utils) reads its words (Options, [default: ...], [required]) into module
constants when it is imported, in the language of that moment, and imports Markdown and traceback
renderers our help never uses; so help is drawn here: the usage line, the help text, a panel per group of
arguments, options and commands, the epilog. The framework's words come from the `messages` catalogue
(Typer's and click's own msgids, `words()`); the help texts are the commands' own, translated by main.
Tests check that English help is what Typer's own renderer draws.
"""

from __future__ import annotations

import inspect
import os
from enum import Enum

from salesselect_cli import i18n

DOMAIN = "messages"  # the gettext domain Typer and click write their words in
_catalogues: dict = {}

# the framework's words on a help screen, as Typer and click write them (their msgids)
USAGE, ARGUMENTS, OPTIONS, COMMANDS = "Usage: ", "Arguments", "Options", "Commands"
DEFAULT, REQUIRED, ENVVAR, DEPRECATED, DYNAMIC = "[default: {}]", "[required]", "[env var: {}]", "(deprecated) ", "(dynamic)"
HELP_OPTION = "Show this message and exit."
WORDS = (USAGE, ARGUMENTS, OPTIONS, COMMANDS, DEFAULT, REQUIRED, ENVVAR, DEPRECATED, DYNAMIC, HELP_OPTION)


def words(message: str) -> str:
    """One of Typer's or click's words in the interface language, from their `messages` catalogue."""
    language = i18n.language()
    if language == "en":
        return message
    if language not in _catalogues:
        import gettext
        from pathlib import Path

        folder = Path(__file__).resolve().parent / "locale"
        _catalogues[language] = gettext.translation(DOMAIN, localedir=str(folder), languages=[language],
                                                    fallback=True)
    return _catalogues[language].gettext(message)


STYLES = {"option": "bold cyan", "switch": "bold green", "negative_option": "bold magenta",
          "negative_switch": "bold red", "types": "bold yellow", "types_sep": "dim", "usage": "yellow"}


def _console():
    from rich.console import Console
    from rich.theme import Theme

    width = os.environ.get("TERMINAL_WIDTH")
    force = True if os.environ.get("GITHUB_ACTIONS") or os.environ.get("FORCE_COLOR") or os.environ.get("PY_COLORS") else None
    if os.environ.get("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    return Console(theme=Theme(STYLES), highlighter=_highlighters()[0], color_system="auto", force_terminal=force,
                   width=int(width) if width else None)


def _highlighters():
    from rich.highlighter import RegexHighlighter

    class Options(RegexHighlighter):
        highlights = [r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])", r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
                      r"(?P<types>\<[^\>]+\>)"]

    class Negative(RegexHighlighter):
        highlights = [r"(^|\W)(?P<negative_switch>\-\w+)(?![a-zA-Z0-9])",
                      r"(^|\W)(?P<negative_option>\-\-[\w\-]+)(?![a-zA-Z0-9])"]

    class Types(RegexHighlighter):
        highlights = [r"^(?P<types_sep>(\[|<))", r"(?P<types_sep>\|)", r"(?P<types_sep>(\]|>))(\.\.\.)?$"]

    return Options(), Negative(), Types()


def _rich_text(text: str, style: str = ""):
    from rich.text import Text

    text = inspect.cleandoc(text)
    if "\033[" in text:
        return _highlighters()[0](Text.from_ansi(text, style=style))
    return _highlighters()[0](Text.from_markup(text, style=style))


def usage(command, ctx) -> str:
    """The usage line: `Usage: salesselect opp add [OPTIONS] TITLE`, wrapped as click wraps it."""
    pieces = [command.options_metavar] if command.options_metavar else []
    pieces += [argument_name(param) for param in command.get_params(ctx) if param.param_type_name == "argument"]
    if hasattr(command, "commands"):
        pieces.append(command.subcommand_metavar)
    formatter = ctx.make_formatter()
    formatter.write_usage(ctx.command_path, " ".join(pieces), words(USAGE))
    return formatter.getvalue().rstrip("\n")


def argument_name(param) -> str:
    """An argument as the usage line shows it: NAME, [NAME] when optional, NAME... for several."""
    name = param.metavar or param.name.upper()
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"


def default_text(param, ctx) -> str:
    """What `[default: ...]` shows for a parameter ('' for none), as Typer words it."""
    if isinstance(param.show_default, str):
        return f"({param.show_default})"
    if not (param.show_default or ctx.show_default):
        return ""
    resilient, ctx.resilient_parsing = ctx.resilient_parsing, True
    try:
        value = param.get_default(ctx, call=False)
    finally:
        ctx.resilient_parsing = resilient
    return _shown(param, value)


def _shown(param, value) -> str:
    if isinstance(value, (list, tuple)):
        parts = [_shown(param, item) for item in value]
        return ", ".join(parts) if any(parts) else ""
    if isinstance(value, Enum):
        return str(value.value)
    if inspect.isfunction(value):
        return words(DYNAMIC)
    flag = getattr(param, "is_bool_flag", False)
    if flag and param.secondary_opts:  # --mine/--no-mine: the name that is the default
        return _bare((param.opts if param.default else param.secondary_opts)[0])
    if (flag and not value) or value is None:
        return ""
    return str(value)


def _bare(option: str) -> str:
    prefix = option[:2] if option[1:2] == option[:1] else option[:1]
    return option[len(prefix):]


def _parameter_help(param, ctx):
    from rich.columns import Columns
    from rich.text import Text

    items = []
    text = words(param.help) if param.help == HELP_OPTION else param.help  # click's own --help
    if text:
        paragraphs = [part.replace("\n", " ").strip() if not part.startswith("\b") else "{}\n".format(part.strip("\b\n"))
                      for part in text.split("\n\n")]
        items.append(_rich_text("\n".join(paragraphs).strip()))
    envvar = getattr(param, "envvar", None)
    if envvar and getattr(param, "show_envvar", None):
        shown = envvar if isinstance(envvar, str) else ", ".join(str(name) for name in envvar)
        items.append(Text(words(ENVVAR).format(shown), style="dim yellow"))
    default = default_text(param, ctx) if param.param_type_name in ("option", "argument") else ""
    if default:
        items.append(Text(words(DEFAULT).format(default), style="dim"))
    if param.required:
        items.append(Text(words(REQUIRED), style="dim red"))
    return Columns(items)


def _params_panel(console, name: str, params: list, ctx) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    options, negative, types = _highlighters()
    rows, required = [], []
    for param in params:
        argument = param.param_type_name == "argument"
        longs = [opt for opt in param.opts if "--" in opt]
        shorts = [argument_display(param) if argument else opt for opt in param.opts if "--" not in opt]
        secondary_longs = [opt for opt in param.secondary_opts if "--" in opt]
        secondary_shorts = [opt for opt in param.secondary_opts if "--" not in opt]
        kind = Text(style="bold yellow", overflow="fold")
        metavar = "" if argument else (param.metavar or "")
        if metavar and "bool" not in metavar.lower():
            kind.append(metavar)
        required.append(Text("*", style="red") if param.required else "")
        rows.append([options(",".join(longs)), options(",".join(shorts)), negative(",".join(secondary_longs)),
                     negative(",".join(secondary_shorts)), types(kind), _parameter_help(param, ctx)])
    if not rows:
        return
    if any(required):
        rows = [[mark, *row] for mark, row in zip(required, rows)]
    table = Table(highlight=True, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                  border_style=None, row_styles=None, pad_edge=False, padding=(0, 1))
    for row in rows:
        table.add_row(*row)
    console.print(Panel(table, border_style="dim", title=name, title_align="left"))


def argument_display(param) -> str:
    return param.metavar or param.name or ""


def _commands_panel(console, name: str, commands: list, width: int) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table(highlight=False, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                  border_style=None, row_styles=None, pad_edge=False, padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True, width=width)
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)
    deprecated = any(command.deprecated for command in commands)
    for command in commands:
        summary = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        if summary.startswith("\b"):
            summary = summary.replace("\b\n", "")
        row = [Text(command.name or "", style="dim" if command.deprecated else ""), _rich_text(summary.strip())]
        if deprecated:
            row.append(Text(words(DEPRECATED), style="red") if command.deprecated else None)
        table.add_row(*row)
    if table.row_count:
        console.print(Panel(table, border_style="dim", title=name, title_align="left"))


def draw(command, ctx) -> None:
    """Print `command`'s help screen to stdout."""
    from rich.align import Align
    from rich.console import group
    from rich.padding import Padding
    from rich.text import Text

    console = _console()
    line = _highlighters()[0](usage(command, ctx))
    prefix = words(USAGE)
    if line.plain.startswith(prefix):
        line.stylize("usage", 0, len(prefix))
    console.print(Padding(line, 1), style="bold")
    if command.help:
        @group()
        def text():
            if command.deprecated:
                yield Text(words(DEPRECATED), style="red")
            first, *rest = inspect.cleandoc(command.help).partition("\f")[0].split("\n\n")
            yield _rich_text((first if first.startswith("\b") else first.replace("\n", " ")).strip())
            if rest:
                yield Text("")
                yield _rich_text("\n\n".join(rest), style="dim")

        console.print(Padding(Align(text(), pad=False), (0, 1, 1, 1)))
    panels: dict = {}
    for kind, title in (("argument", words(ARGUMENTS)), ("option", words(OPTIONS))):
        panels.setdefault((kind, title), [])  # the default panel first, as Typer orders them
        for param in command.get_params(ctx):
            if param.param_type_name == kind and not getattr(param, "hidden", False):
                panels.setdefault((kind, getattr(param, "rich_help_panel", None) or title), []).append(param)
    for (_, title), params in panels.items():
        _params_panel(console, title, params, ctx)
    if hasattr(command, "commands"):
        groups: dict = {words(COMMANDS): []}
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                groups.setdefault(getattr(sub, "rich_help_panel", None) or words(COMMANDS), []).append(sub)
        width = max((len(sub.name or "") for subs in groups.values() for sub in subs), default=0)
        for title, subs in groups.items():
            _commands_panel(console, title, subs, width)
    if command.epilog:
        console.print(Padding(Align(_rich_text("\n\n".join(command.epilog.split("\n\n"))), pad=False), 1))
