"""Help and usage errors written for people: metavars that name the thing, paragraphs that wrap, one-line errors.

Typer shows a parameter's Python type (`<str>`, `<bool>`, `<int range> [1<=x<=...]`, `{name}`) unless told
otherwise. `tidy(command)` walks the click tree once it is built and gives every parameter a metavar that
names what to type (ID, NAME, DATE, won|lost, N), so commands added later get the same treatment without
repeating metavars everywhere; an explicit `metavar=` on an option or argument always wins.
"""

from __future__ import annotations

import inspect
import re

from typer.core import TyperArgument

from salesselect_cli import tree

NAMED = tree.metavars()  # option name (without --) -> the word that names what it takes (tree.VALUES)


def kind(param) -> tuple[list | None, type | None, bool]:
    """(choices, int or float or None, is a path) of a parameter, from its click type."""
    click_type = param.type
    choices = getattr(click_type, "choices", None)
    if choices is not None:
        return [str(getattr(choice, "value", choice)) for choice in choices], None, False
    classes = {cls.__name__ for cls in type(click_type).__mro__}
    number = int if "IntParamType" in classes else float if "FloatParamType" in classes else None
    return None, number, getattr(click_type, "name", "") in ("path", "filename", "file")


def metavar_for(param) -> str:
    """The word shown for what a parameter takes."""
    if isinstance(param, TyperArgument):
        return param.name.upper().replace("_", "-").removeprefix("OPPORTUNITY-")
    if getattr(param, "is_flag", False):
        return ""
    choices, number, is_path = kind(param)
    if choices is not None:
        return "|".join(choices)
    longest = max(param.opts, key=len).lstrip("-")
    if longest in NAMED:
        return NAMED[longest]
    if number is int:
        return "N"
    if number is float:
        return "NUMBER"
    if is_path:
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
    """Give every parameter of `command` (and of its loaded subcommands) a metavar, and reflow its help."""
    if not getattr(command, "_tidied", False):
        command._tidied = True
        command.__dict__.setdefault("_english_help", command.help)  # what main._speak_help translates
        command.help = reflow(command.help)
        for param in command.params:
            if param.metavar is None:
                param.metavar = metavar_for(param)
            if getattr(param, "help", None):
                param.__dict__.setdefault("_english_help", param.help)
                param.help = reflow(param.help)
    if recursive:
        commands = getattr(command, "commands", {})
        if hasattr(commands, "when_built"):  # a lazy group (groups.py): each command is tidied as it is built
            commands.when_built(tidy)
        else:
            for sub in commands.values():
                tidy(sub)


# ---------------------------------------------------------------- usage errors in one line


def usage_message(exc) -> str:
    """A click usage error as our one line: the option named, what it takes, what was given."""
    param = getattr(exc, "param", None)
    if param is None:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return " ".join(_parser_message(exc, message).split())
    hint = _hint(param)
    given = _given(exc)
    missing = type(exc).__name__ == "MissingParameter"
    from salesselect_cli.i18n import _ as tr

    if missing:
        return tr("missing {what}").format(
            what=hint + (f" {param.metavar}" if param.metavar and hint.startswith("-") else ""))
    choices, number, _ = kind(param)
    shown = " " + tr("(not {given})").format(given=repr(given)) if given is not None else ""
    if choices is not None:
        return tr("{option} must be one of {choices}").format(option=hint, choices=", ".join(choices)) + shown
    if number is not None:
        low, high = getattr(param.type, "min", None), getattr(param.type, "max", None)
        try:
            too_big = high is not None and given is not None and float(given) > high
        except ValueError:
            too_big = False
        whole = number is int
        if high is not None and (high < 2**63 - 1 or too_big):  # the SQLite bound only when it was hit
            if low is not None:
                text = (tr("{option} takes a whole number from {low} to {high}") if whole
                        else tr("{option} takes a number from {low} to {high}"))
            else:
                text = tr("{option} takes a whole number of {high} or less") if whole else tr("{option} takes a number of {high} or less")
        elif low is not None:
            text = tr("{option} takes a whole number of {low} or more") if whole else tr("{option} takes a number of {low} or more")
        else:
            text = tr("{option} takes a whole number") if whole else tr("{option} takes a number")
        return text.format(option=hint, low=low, high=high) + shown
    message = re.sub(r"^(Value error|Assertion failed), ", "", " ".join(str(exc.message).split()))
    return f"{hint}: {message}"


def _parser_message(exc, message: str) -> str:
    """Click's own parser messages (which it writes in English) in the interface language."""
    from salesselect_cli.i18n import N_, ngettext
    from salesselect_cli.i18n import _ as tr

    name = type(exc).__name__
    if name == "NoSuchOption":
        option = message.split(": ", 1)[1].split(" (Possible options: ")[0] if ": " in message else exc.option_name
        if exc.possibilities:
            return tr("No such option: {option} (Possible options: {options})").format(
                option=option, options=", ".join(sorted(exc.possibilities)))
        return tr("No such option: {option}").format(option=option)
    patterns = (
        (r"^Option '(?P<option>.+)' requires an argument\.$", N_("Option '{option}' requires an argument.")),
        (r"^Option '(?P<option>.+)' does not take a value\.$", N_("Option '{option}' does not take a value.")),
        (r"^Got unexpected extra argument\(s\) \((?P<arguments>.*)\)$",
         N_("Got unexpected extra argument(s) ({arguments})")),
        (r"^No such command '(?P<command>.*)'\.$", N_("No such command '{command}'.")),
        (r"^No such command '(?P<command>.*)'\. Did you mean '(?P<suggestion>.*)'\?$",
         N_("No such command '{command}'. Did you mean '{suggestion}'?")),
        (r"^Missing command\.$", N_("Missing command.")),
    )
    for pattern, text in patterns:
        found = re.match(pattern, message, re.S)
        if found:
            return tr(text).format(**found.groupdict())
    found = re.match(r"^Option '(?P<option>.+)' requires (?P<count>\d+) arguments\.$", message, re.S)
    if found:
        count = int(found["count"])
        return ngettext("Option '{option}' requires {count} argument.", "Option '{option}' requires {count} arguments.",
                        count).format(option=found["option"], count=count)
    return message


def _hint(param) -> str:
    if isinstance(param, TyperArgument) or getattr(param, "param_type_name", "") == "argument":
        return param.metavar or param.name.upper()
    longs = [opt for opt in param.opts if opt.startswith("--")]
    return (longs or param.opts)[0]


def _given(exc):
    """The value the user gave: click quotes it first in its message ('x' is not a valid integer.)."""
    found = re.match(r"^'(.*?)' is |^(\S+) is not in the range", str(getattr(exc, "message", "")), re.S)
    if found:
        return found.group(1) if found.group(1) is not None else found.group(2)
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
