"""Help and usage errors written for people: metavars that name the thing, paragraphs that wrap, one-line errors.

Typer shows a parameter's Python type (`<str>`, `<bool>`, `<int range> [1<=x<=...]`, `{name}`) unless told
otherwise. `tidy(command)` walks the click tree once it is built and gives every parameter a metavar that
names what to type (ID, NAME, DATE, won|lost, N), so commands added later get the same treatment without
repeating metavars everywhere; an explicit `metavar=` on an option or argument always wins.
"""

from __future__ import annotations

import inspect
import re

from typer.core import TyperArgument, TyperOption

# option names (without --) that take a kind of thing, and the word that names it
NAMED = {
    "user": "NAME", "owner": "NAME", "name": "NAME", "to": "DATE", "from": "DATE", "close": "DATE",
    "due": "DATE", "date": "DATE", "close-before": "DATE", "close-after": "DATE", "type": "TYPE",
    "business-type": "TYPE", "stage": "STAGE", "to-stage": "STAGE", "from-stage": "STAGE", "source": "SOURCE",
    "reason": "REASON", "reassign-to": "NAME", "color": "COLOUR", "colour": "COLOUR", "output": "FILE",
    "db": "PATH", "value": "AMOUNT", "period": "PERIOD", "search": "TEXT", "note": "TEXT", "text": "TEXT",
}


def _complete_from_database(param, ctx, incomplete):
    """Names and open ids from the database for a parameter that takes one; None for any other."""
    from salesselect_cli.completion import kind_of, suggestions

    kind = kind_of(param)
    if kind is None:
        return None
    from typer.core import CompletionItem

    db = ctx.find_root().params.get("db")
    return [CompletionItem(value, help=help_) for value, help_ in suggestions(kind, incomplete, db)]


class Argument(TyperArgument):
    """An argument shown by its metavar only: no `<str>` type column, no int range, no `{braces}`."""

    def shell_complete(self, ctx, incomplete):
        found = _complete_from_database(self, ctx, incomplete)
        return super().shell_complete(ctx, incomplete) if found is None else found

    def display_type_rich(self, ctx):
        return None

    def _get_number_range_help_str(self):
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1:
            name += "..."
        return name if self.required else f"[{name}]"


class Option(TyperOption):
    """An option without the int-range noise (its help says what it takes)."""

    def shell_complete(self, ctx, incomplete):
        found = _complete_from_database(self, ctx, incomplete)
        return super().shell_complete(ctx, incomplete) if found is None else found

    def _get_number_range_help_str(self):
        return None


def metavar_for(param) -> str:
    """The word shown for what a parameter takes."""
    if isinstance(param, TyperArgument):
        return param.name.upper().replace("_", "-").removeprefix("OPPORTUNITY-")
    if getattr(param, "is_flag", False):
        return ""
    desc = param.type_descriptor
    if desc.is_choice:
        return "|".join(str(getattr(choice, "value", choice)) for choice in desc.choices or ())
    longest = max(param.opts, key=len).lstrip("-")
    if longest in NAMED:
        return NAMED[longest]
    annotation = desc.annotation
    inner = getattr(annotation, "__args__", None)
    if inner and desc.is_list:
        annotation = inner[0]
    if annotation is int:
        return "N"
    if annotation is float:
        return "NUMBER"
    if desc.is_path:
        return "FILE"
    return longest.upper()


def reflow(text: str | None) -> str | None:
    """Docstring paragraphs as one line each, so the terminal wraps them; list items and \\b blocks kept."""
    if not text:
        return text
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = paragraph.splitlines()
        if paragraph.startswith("\b") or any(line.lstrip().startswith(("- ", "* ")) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def tidy(command, recursive: bool = True) -> None:
    """Give every parameter of `command` (and of its subcommands) a metavar, and reflow its help."""
    if getattr(command, "_tidied", False):
        return
    command._tidied = True
    command.help = reflow(command.help)
    for param in command.params:
        if isinstance(param, TyperArgument) and not isinstance(param, Argument):
            param.__class__ = Argument
        elif isinstance(param, TyperOption) and not isinstance(param, Option):
            param.__class__ = Option
        if param.metavar is None:
            param.metavar = metavar_for(param)
        if getattr(param, "help", None):
            param.help = reflow(param.help)
    _tidy_help_option(command)
    if recursive:
        for sub in getattr(command, "commands", {}).values():
            tidy(sub)


def _tidy_help_option(command) -> None:
    """click makes --help on first use; shown without the `<bool>` every other flag lost too."""
    make = command.get_help_option

    def get_help_option(ctx):
        option = make(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option


# ---------------------------------------------------------------- usage errors in one line


def usage_message(exc) -> str:
    """A click usage error as our one line: the option named, what it takes, what was given."""
    param = getattr(exc, "param", None)
    if param is None:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return " ".join(message.split())
    hint = _hint(param)
    given = _given(exc)
    missing = type(exc).__name__ == "MissingParameter"
    if missing:
        return f"missing {hint}" + (f" {param.metavar}" if param.metavar and hint.startswith("-") else "")
    desc = getattr(param, "type_descriptor", None)
    shown = f" (not {given!r})" if given is not None else ""
    if desc is not None and desc.is_choice:
        choices = ", ".join(str(getattr(c, "value", c)) for c in desc.choices or ())
        return f"{hint} must be one of {choices}{shown}"
    annotation = getattr(desc, "annotation", None)
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        low, high = getattr(param, "min", None), getattr(param, "max", None)
        try:
            too_big = high is not None and given is not None and float(given) > high
        except ValueError:
            too_big = False
        if high is not None and (high < 2**63 - 1 or too_big):  # the SQLite bound only when it was hit
            kind += f" from {low} to {high}" if low is not None else f" of {high} or less"
        elif low is not None:
            kind += f" of {low} or more"
        return f"{hint} takes {kind}{shown}"
    message = re.sub(r"^(Value error|Assertion failed), ", "", " ".join(str(exc.message).split()))
    return f"{hint}: {message}"


def _hint(param) -> str:
    if isinstance(param, TyperArgument) or getattr(param, "param_type_name", "") == "argument":
        return param.metavar or param.name.upper()
    longs = [opt for opt in param.opts if opt.startswith("--")]
    return (longs or param.opts)[0]


def _given(exc):
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        try:
            found = errors()
        except Exception:  # pragma: no cover - a pydantic shape we do not know
            return None
        if found and "input" in found[0]:
            value = found[0]["input"]
            return value if isinstance(value, str) else str(value)
    return None
