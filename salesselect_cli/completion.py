"""Shell completion (bash, zsh, fish) of the names and ids in the database.

Two paths give the same answers:
- the full one: Typer's completion walks the click tree; every parameter whose metavar names a kind of
  thing (STAGE, TYPE, SOURCE, REASON, USER, ID, or an --owner/--user NAME) completes from the database
  (helptext.Argument/Option.shell_complete call `suggestions`);
- a fast one, tried first by the console script before Typer is even imported: when the word being
  completed is the value of a known option, or a positional of a command in POSITIONALS, it answers
  from the database directly. Anything else (command and option names) goes the full way.
Both open the database read-only and fail silently: a broken file completes nothing, it never prints an error.
"""

from __future__ import annotations

import os
import sys

COMPLETE_VAR = "_SALESSELECT_COMPLETE"

KIND_BY_METAVAR = {"STAGE": "stages", "TYPE": "business_types", "SOURCE": "sources", "REASON": "reasons",
                   "USER": "users", "ID": "open_ids"}
USER_OPTIONS = ("--owner", "--user", "--user-for")

# options that take the same kind of value in every command (the fast path answers these)
OPTIONS = {
    "--type": "business_types", "-t": "business_types", "--business-type": "business_types",
    "--link": "business_types", "--unlink": "business_types",
    "--stage": "stages", "--to-stage": "stages", "--from-stage": "stages",
    "--source": "sources", "-s": "sources", "--reason": "reasons", "-r": "reasons",
    "--owner": "users", "--user": "users", "--user-for": "users", "--opp": "open_ids",
}
# commands whose positionals the fast path completes (tests check these agree with the click tree)
POSITIONALS = {
    ("opp", "show"): ["open_ids"], ("opp", "edit"): ["open_ids"], ("opp", "move"): ["open_ids", "stages"],
    ("opp", "win"): ["open_ids"], ("opp", "lose"): ["open_ids"], ("opp", "delete"): ["open_ids"],
    ("followup", "add"): ["open_ids"], ("workflow", "test"): ["open_ids"],
    ("config", "edit-stage"): ["stages"], ("config", "remove-stage"): ["stages"],
    ("config", "move-stage"): ["stages"], ("config", "link-stage"): ["stages", "business_types"],
    ("config", "unlink-stage"): ["stages", "business_types"],
    ("config", "edit-business-type"): ["business_types"], ("config", "remove-business-type"): ["business_types"],
    ("config", "rename-source"): ["sources"], ("config", "remove-source"): ["sources"],
    ("config", "edit-reason"): ["reasons"], ("config", "remove-reason"): ["reasons"],
    ("user", "remove"): ["users"], ("user", "set-key-user"): ["users"],
}


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

    if option:
        return Path(option).expanduser()
    if os.environ.get("SALESSELECT_DB"):
        return Path(os.environ["SALESSELECT_DB"]).expanduser()
    if sys.platform.startswith("win"):
        folder = os.environ.get("APPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        folder = os.path.expanduser("~/Library/Application Support")
    else:
        folder = os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))
    return Path(folder) / "salesselect" / "salesselect.db"


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
    rest = list(words)
    while len(rest) >= 2 and rest[0] in ("--db", "--user", "--color"):  # the root options before the command
        if rest[0] == "--db":
            db = rest[1]
        rest = rest[2:]
    if words and words[-1] in OPTIONS:
        return OPTIONS[words[-1]], db
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
