"""Shell completion (bash, zsh, fish) of the names and ids in the database.

Two paths give the same answers:
- the full one: Typer's completion classes, registered for our app (`shell_classes`): a value the registry
  knows (tree.py: an option's value or a command's positional) completes from the database, command and
  option names come from the click tree (tests check the registry against the click tree's metavars);
- a fast one, tried first by the console script before Typer is even imported: when the word being
  completed is the value of a known option, or a positional of a command in POSITIONALS, it answers
  from the database directly. Anything else (command and option names) goes the full way.
Both open the database read-only and fail silently: a broken file completes nothing, it never prints an error.
"""

from __future__ import annotations

import os
import sys

from salesselect_cli import tree

COMPLETE_VAR = tree.COMPLETE_VAR
KIND_BY_METAVAR = tree.KIND_BY_METAVAR
USER_OPTIONS = tree.user_options()
# options that take the same kind of value in every command, and commands whose positionals the fast path
# completes: both from the registry (tests check they agree with the click tree)
OPTIONS = tree.completed_options()
POSITIONALS = tree.POSITIONALS


def kind_of(param) -> str | None:
    """Which database list completes this parameter, from what its help calls it."""
    metavar = param.metavar or ""
    if metavar in KIND_BY_METAVAR:
        return KIND_BY_METAVAR[metavar]
    if getattr(param, "param_type_name", "") == "option" and any(opt in USER_OPTIONS for opt in param.opts):
        return "users"
    return None


def suggestions(kind: str, incomplete: str, db_option: str | None) -> list[tuple[str, str | None]]:
    """(value, description) pairs from the database; [] whatever goes wrong."""
    try:
        from salesselect_cli.sql.completion import completion_values

        return completion_values(_db_path(db_option), kind, incomplete)
    except Exception:  # completion never complains: no file, locked, not a database, old schema
        return []


def _db_path(option: str | None):
    """--db, else $SALESSELECT_DB, else the app dir: context.resolve_db_path's rule without importing Typer
    (its get_app_dir, spelled out; a test checks the two agree)."""
    from pathlib import Path

    from salesselect_cli.sql.dialect import is_postgres

    given = option or os.environ.get("SALESSELECT_DB")
    if given and is_postgres(given):
        return given  # a URL stays a string (Path would fold its //)
    if given:
        return Path(given).expanduser()
    if sys.platform.startswith("win"):
        folder = os.environ.get("APPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        folder = os.path.expanduser("~/Library/Application Support")
    else:
        folder = os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))
    return Path(folder) / "salesselect" / "salesselect.db"


def shell_classes() -> None:
    """Register Typer's completion classes for bash, zsh and fish, answering from the database what the
    registry knows (as the fast path does) and leaving command and option names to Typer (click's
    add_completion_class: the public way to bring a shell's completion)."""
    from typer._click.shell_completion import CompletionItem, add_completion_class
    from typer._completion_classes import BashComplete, FishComplete, ZshComplete

    def answering(base):
        class Answering(base):
            def get_completions(self, args, incomplete):
                kind, db = fast_kind(args)
                if kind is None:
                    return super().get_completions(args, incomplete)
                return [CompletionItem(value, help=help_) for value, help_ in suggestions(kind, incomplete, db)]

        return Answering

    for shell, base in (("bash", BashComplete), ("zsh", ZshComplete), ("fish", FishComplete)):
        add_completion_class(answering(base), shell)


# ---------------------------------------------------------------- the fast path


def words_and_incomplete(shell: str, environ) -> tuple[list[str], str]:
    """The words typed after the program name, and the one being completed, as Typer's classes read them."""
    import shlex

    def split(text: str) -> list[str]:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        out = []
        try:
            for token in lexer:
                out.append(token)
        except ValueError:  # an open quote: keep what was read, like click's split_arg_string
            out.append(lexer.token)
        return out

    if shell == "bash":
        words = split(environ.get("COMP_WORDS", ""))
        index = int(environ.get("COMP_CWORD", "0"))
        return words[1:index], (words[index] if index < len(words) else "")
    typed = environ.get("_TYPER_COMPLETE_ARGS", "")
    words = split(typed)[1:]
    if words and not typed.endswith(" "):
        return words[:-1], words[-1]
    return words, ""


def fast_kind(words: list[str]) -> tuple[str | None, str | None]:
    """(kind, --db value) when the fast path knows what is being completed, else (None, None)."""
    db = None
    rest: list[str] = []
    index = 0
    while index < len(words):  # the root options with their values, before the command or after it
        if words[index] in tree.ROOT_VALUE_OPTIONS and index + 1 < len(words):
            if words[index] == "--db":
                db = words[index + 1]
            index += 2
        else:
            rest.append(words[index])
            index += 1
    if words and words[-1] in OPTIONS:
        return OPTIONS[words[-1]], db
    for path, options in tree.COMMAND_OPTIONS.items():
        if tuple(rest[: len(path)]) == path and words and words[-1] in options:
            return options[words[-1]], db
    for path, kinds in POSITIONALS.items():
        if tuple(rest[: len(path)]) == path:
            given = rest[len(path):]
            if any(word.startswith("-") for word in given) or len(given) >= len(kinds):
                return None, None
            return kinds[len(given)], db
    return None, None


def format_items(shell: str, items: list[tuple[str, str | None]]) -> str:
    """What Typer's completion classes print for these items."""
    if shell == "bash":
        return "\n".join(value for value, _ in items)
    if shell == "zsh":
        def escape(text: str) -> str:
            return (text.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`")
                    .replace(":", r"\\:"))

        if not items:
            return "_files"
        lines = [f'"{escape(value)}":"{escape(help_)}"' if help_ else f'"{escape(value)}"' for value, help_ in items]
        return "_arguments '*: :((" + "\n".join(lines) + "))'"
    return "\n".join(f"{value}\t{' '.join(help_.split())}" if help_ else value for value, help_ in items)


def fast(environ=os.environ) -> bool:
    """Answer a completion request without Typer when possible; True when answered."""
    instruction = environ.get(COMPLETE_VAR, "")
    shell = instruction.partition("_")[2]
    if not instruction.startswith("complete_") or shell not in ("bash", "zsh", "fish"):
        return False
    try:
        words, incomplete = words_and_incomplete(shell, environ)
        kind, db = fast_kind(words)
    except Exception:
        return False
    if kind is None:
        return False
    items = suggestions(kind, incomplete, db)
    if shell == "fish":
        action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            raise SystemExit(0 if items else 1)
        if action != "get-args" or not items:
            return True
    sys.stdout.write(format_items(shell, items) + "\n")  # as click's echo of Typer's answer
    return True
