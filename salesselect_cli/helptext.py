"""Help and usage errors written for people: metavars that name the thing, paragraphs that wrap, one-line errors.

Typer shows a parameter's Python type (`<str>`, `<bool>`, `<int range> [1<=x<=...]`, `{name}`) unless told
otherwise. `tidy(command)` walks the click tree once it is built and gives every parameter a metavar that
names what to type (ID, NAME, DATE, won|lost, N), so commands added later get the same treatment without
repeating metavars everywhere; an explicit `metavar=` on an option or argument always wins.
"""

from __future__ import annotations

import inspect

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
        return " ".join(_parser_message(exc).split())
    hint = _hint(param)
    given = given_value(exc)
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
    return f"{hint}: {' '.join(str(exc.message).split())}"


def _parser_message(exc) -> str:
    """What the parser refused, in the interface language, from the error's own fields (never its English text)."""
    from salesselect_cli.i18n import _ as tr, ngettext

    name, ctx = type(exc).__name__, getattr(exc, "ctx", None)
    if name == "UnknownCommand":  # groups.py
        if exc.close:
            return tr("No such command '{command}'. Did you mean '{suggestion}'?").format(
                command=exc.name, suggestion="', '".join(exc.close))
        return tr("No such command '{command}'.").format(command=exc.name)
    if name == "ExtraArguments":  # groups.py
        return tr("Got unexpected extra argument(s) ({arguments})").format(arguments=" ".join(exc.arguments))
    if name == "NoSuchOption":
        if exc.possibilities:
            return tr("No such option: {option} (Possible options: {options})").format(
                option=exc.option_name, options=", ".join(sorted(exc.possibilities)))
        return tr("No such option: {option}").format(option=exc.option_name)
    if name == "BadOptionUsage" and ctx is not None:
        option = next((param for param in ctx.command.params if exc.option_name in (*param.opts, *param.secondary_opts)),
                      None)
        if option is not None and (option.is_flag or option.count):
            return tr("Option '{option}' does not take a value.").format(option=exc.option_name)
        if option is not None:
            if option.nargs == 1:
                return tr("Option '{option}' requires an argument.").format(option=exc.option_name)
            return ngettext("Option '{option}' requires {count} argument.", "Option '{option}' requires {count} arguments.",
                            option.nargs).format(option=exc.option_name, count=option.nargs)
    if name == "UsageError" and ctx is not None and hasattr(ctx.command, "commands") and not ctx.args:
        return tr("Missing command.")  # a group given its options but no command
    return exc.format_message()


def given_value(exc):
    """The value the user gave for the parameter that refused it, read from the command line as the command
    received it (groups.remember_args); None when it cannot be told."""
    ctx, param = getattr(exc, "ctx", None), exc.param
    args = ctx.meta.get(("salesselect.args", id(ctx))) if ctx is not None else None
    if args is None:
        return None
    takes_value = {opt for other in ctx.command.params if other.param_type_name == "option"
                   and not (other.is_flag or other.count) for opt in other.opts}
    positionals, index = [], 0
    while index < len(args):
        word = args[index]
        if word == "--":
            positionals += args[index + 1:]
            break
        if param.param_type_name == "option":
            if word in param.opts and index + 1 < len(args):
                return args[index + 1]
            for opt in param.opts:
                if opt.startswith("--") and word.startswith(opt + "="):
                    return word.split("=", 1)[1]
        if word.startswith("-") and word != "-":
            index += 2 if word in takes_value else 1
            continue
        positionals.append(word)
        index += 1
    if param.param_type_name == "argument":
        arguments = [other for other in ctx.command.params if other.param_type_name == "argument"]
        position = arguments.index(param)
        return positionals[position] if position < len(positionals) else None
    return None


def _hint(param) -> str:
    if isinstance(param, TyperArgument) or getattr(param, "param_type_name", "") == "argument":
        return param.metavar or param.name.upper()
    longs = [opt for opt in param.opts if opt.startswith("--")]
    return (longs or param.opts)[0]
