"""The command line as text, before Typer parses it: what the console script and the root group both read.

Imports nothing heavy (of ours, only the registry: tree.py): `entry.py` uses it to answer `--version` before Typer is imported.
"""

from __future__ import annotations

import os

from salesselect_cli.tree import ROOT_FLAGS, ROOT_VALUE_OPTIONS

ENVIRONMENT = ("SALESSELECT_DB", "SALESSELECT_USER", "SALESSELECT_TODAY", "SALESSELECT_HOOK_TIMEOUT")
VALUE_OPTIONS = ROOT_VALUE_OPTIONS  # the root options that take a value (tree.py); --version and --help are flags


def undecodable(text: str) -> bool:
    """Bytes that were not UTF-8 reach Python as lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def all_text(args: list[str]) -> bool:
    """The arguments and our environment variables are all text (main._bad_encoding says what is not)."""
    return not any(undecodable(text) for text in [*args, *(os.environ.get(name, "") for name in ENVIRONMENT)])


def lang_option(args: list[str]) -> str | None:
    """The value of --lang among the arguments (the root callback sets it again once parsed)."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def after_root_options(args: list[str]) -> list[str]:
    """The words after the root's own options (--db PATH, --lang nl, --color=never ...): the command and its
    arguments. `salesselect --lang nl opp` -> ['opp']."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in VALUE_OPTIONS:
            index += 2
        elif arg.startswith(tuple(option + "=" for option in VALUE_OPTIONS)) or arg in ROOT_FLAGS:
            index += 1
        else:
            break
    return args[index:]


def take_root_options(args: list[str], own: set[str]) -> tuple[list[str], list[tuple[str, str | None]]]:
    """The root's value options given after the command (`board --db other.db`): the words without them, and
    (option, value) pairs in order. Options the command defines itself (`log --user`, `config add-business-type
    --color`) stay its own; after `--` everything is an argument; an option last without its value comes with
    None."""
    kept: list[str] = []
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            kept += args[index:]
            break
        name, equals, value = arg.partition("=")
        if name in VALUE_OPTIONS and name not in own:
            if equals:
                found.append((name, value))
                index += 1
                continue
            found.append((name, args[index + 1] if index + 1 < len(args) else None))  # None: its value is missing
            index += 2
            continue
        kept.append(arg)
        index += 1
    return kept, found


def help_wanted(args: list[str]) -> bool:
    """The line shows help: -h/--help anywhere, or it ends at a group (`salesselect`, `salesselect --lang nl opp`).
    A top-level command without arguments counts too (`board`): help texts are then translated for nothing."""
    return "-h" in args or "--help" in args or len(after_root_options(args)) <= 1


def only_version(args: list[str]) -> bool:
    """True when Typer would do nothing but print the version for these arguments, as far as a plain reading
    can tell: `--version` among the root's own options, before any command, and nothing Typer would refuse or
    act on first (an unknown option, --help, an option missing its value, text that is not UTF-8).

    When in doubt it says False and the app parses the line itself: the answer is the same, only slower.
    """
    if not all_text(args):
        return False
    version = False
    rest = iter(args)
    for arg in rest:
        if arg == "--version":
            version = True
        elif arg in VALUE_OPTIONS:
            if next(rest, None) is None:  # '--db' as the last word: Typer's usage error
                return False
        elif arg.startswith(tuple(option + "=" for option in VALUE_OPTIONS)):
            continue
        elif arg.startswith("-"):  # --help, -h, --, an unknown option: Typer decides
            return False
        else:  # the command: the root's options end here, and --version acts before the command is looked up
            break
    return version
