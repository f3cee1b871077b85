"""Domain errors. The store and the rules raise these; main.py turns them into one line."""

from __future__ import annotations

import difflib

from salesselect_cli.i18n import N_


LINE_LIMIT = 4000  # bytes: no error line is longer, whatever names or files it quotes
MOST_NAMED = 20  # names listed in one error line; the rest are counted


class SalesSelectError(Exception):
    """Base of every error a user may see: printed as `Error: <message>`."""

    exit_code = 1

    def __str__(self) -> str:
        text = super().__str__()
        raw = text.encode("utf-8", "surrogateescape")
        if len(raw) <= LINE_LIMIT:
            return text
        half = (LINE_LIMIT - 8) // 2  # the last resort: the line's start and end, a cut in the middle
        return (raw[:half].decode("utf-8", "ignore") + " … " + raw[-half:].decode("utf-8", "ignore"))


class NotFound(SalesSelectError):
    """An id or a name that does not exist."""


class Invalid(SalesSelectError):
    """A value that breaks a rule (bad date, negative money, orange <= red, ...)."""


class Conflict(SalesSelectError):
    """A duplicate name, or something still in use."""


class InvalidTransition(SalesSelectError):
    """A status or stage change that the lifecycle does not allow."""


class PermissionDenied(SalesSelectError):
    """Not a key user, an unknown user, or the module is off for this user."""

    exit_code = 3


class DatabaseProblem(SalesSelectError):
    """Missing file, not a database, or a schema newer than this code."""


# What the C library says about a file (OSError.strerror), for the catalogue
OS_PROBLEMS = {
    "No such file or directory": N_("No such file or directory"), "Permission denied": N_("Permission denied"),
    "Is a directory": N_("Is a directory"), "Not a directory": N_("Not a directory"),
    "No space left on device": N_("No space left on device"), "Read-only file system": N_("Read-only file system"),
    "File exists": N_("File exists"), "File name too long": N_("File name too long"),
    "Disk quota exceeded": N_("Disk quota exceeded"), "Input/output error": N_("Input/output error"),
}


def os_problem(exc: BaseException) -> str:
    """Why a file operation failed, in the interface language when it is one of the usual reasons."""
    from salesselect_cli.i18n import _

    import errno

    text = getattr(exc, "strerror", None) or str(exc)
    text = _(OS_PROBLEMS[text]) if text in OS_PROBLEMS else text
    if getattr(exc, "errno", None) == errno.ENAMETOOLONG and getattr(exc, "filename", None) is not None:
        return str(name_too_long(str(exc.filename)))  # which name, and the limit
    return text


def output_failed(exc: OSError) -> str:
    """The one line for output that could not be written: standard output on a full disk, for example."""
    from salesselect_cli.i18n import _

    return _("Error: cannot write the output: {problem}").format(problem=os_problem(exc))


def named(items, more: str | None = None, limit: int = MOST_NAMED) -> str:
    """At most `limit` names, comma-separated (each shortened), then 'and 99,980 more': an error line's list.
    `more` is the text for the rest, with {count} (e.g. 'and {count} more (first at line 22)')."""
    from salesselect_cli.i18n import _, count

    items = list(items)
    shown = ", ".join(shortened(item, 60) for item in items[:limit])
    if len(items) <= limit:
        return shown
    return f"{shown} " + (more or _("and {count} more")).format(count=count(len(items) - limit))


def closest_first(name: str, valid: list[str]) -> list[str]:
    """Order valid names by likeness to `name`, the closest first (case-insensitive)."""
    wanted = name.casefold()

    def likeness(candidate: str) -> float:
        other = candidate.casefold()
        score = difflib.SequenceMatcher(None, wanted, other).ratio()
        if other.startswith(wanted) or wanted.startswith(other):
            score += 1
        return score

    return sorted(valid, key=lambda candidate: (-likeness(candidate), candidate.casefold()))


def _unknown(kind: str) -> str:
    """'unknown stage' in the interface language (Dutch adjectives follow the noun's gender)."""
    from salesselect_cli.i18n import _

    phrases = {
        "business type": _("unknown business type"), "stage": _("unknown stage"), "source": _("unknown source"),
        "user": _("unknown user"), "workflow": _("unknown workflow"), "reason": _("unknown reason"),
        "won reason": _("unknown won reason"), "lost reason": _("unknown lost reason"),
        "owner": _("unknown owner"), "status": _("unknown status"), "sort field": _("unknown sort field"),
    }
    return phrases.get(kind) or _("unknown {kind}").format(kind=kind)


def unknown_name(kind: str, name: str, valid: list[str]) -> NotFound:
    """The error for an unknown name, listing the valid ones closest first."""
    from salesselect_cli.i18n import _

    if not valid:
        return NotFound(_("{unknown} '{name}': there are none yet").format(unknown=_unknown(kind), name=name))
    return NotFound(_("{unknown} '{name}'; valid: {valid}").format(
        unknown=_unknown(kind), name=name, valid=", ".join(closest_first(name, valid))))


# --------------------------------------------------------------------------- what the catch-all would not know

def shortened(text: str, limit: int = 80) -> str:
    """`text` cut in the middle to at most `limit` characters, so one line stays short whatever a name holds."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = (limit - 1) // 2
    return f"{text[:keep]}…{text[-keep:]}"


def _name_limits(path: str) -> tuple[int, int]:
    """(longest name, longest path) in bytes where `path` would be made (POSIX defaults if unknown)."""
    import os

    folder = os.path.dirname(os.path.abspath(path))
    while folder and not os.path.isdir(folder):  # the nearest folder that exists
        folder = os.path.dirname(folder)
    try:
        return os.pathconf(folder or "/", "PC_NAME_MAX"), os.pathconf(folder or "/", "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        return 255, 4096


def name_too_long(path: str) -> DatabaseProblem:
    """Which part of `path` is too long for the file system, and the limit."""
    import os

    from salesselect_cli.i18n import _

    import re

    name_max, path_max = _name_limits(path)
    # a temporary file beside the wanted one (.NAME.PID[.RANDOM].init/.copy/.tmp): speak of the name the user gave
    own = re.fullmatch(r"\.(.+)\.\d+(?:\.\w+)?\.(?:init|copy|tmp)", os.path.basename(str(path)))
    if own:
        path = os.path.join(os.path.dirname(str(path)), own.group(1))
    for part in str(path).split(os.sep):
        if len(os.fsencode(part)) > name_max:
            return DatabaseProblem(_("the name '{name}' is too long for the file system: {length} bytes, at most "
                                     "{limit} (in {path})").format(name=shortened(part, 40), length=len(os.fsencode(part)),
                                                                  limit=name_max, path=shortened(path)))
    return DatabaseProblem(_("the path {path} is too long for the file system: {length} bytes, at most {limit}").format(
        path=shortened(path), length=len(os.fsencode(str(path))), limit=path_max))


def damaged_database(path, problem: str) -> DatabaseProblem:
    """The line for a database file whose pages cannot be read: what to do about it."""
    from salesselect_cli.i18n import _

    where = str(path) if path else _("the database")
    return DatabaseProblem(_("{path} is damaged ({problem}); nothing was changed. Restore your latest copy (made with "
                             "'salesselect backup FILE'), or rescue what can be read: sqlite3 {path} .recover | sqlite3 "
                             "rescued.db").format(path=where, problem=shortened(problem, 120)))


def explain(exc: BaseException, database=None) -> SalesSelectError | None:
    """The own message for an exception the commands let through, or None when it is truly unexpected.
    `database` is the open database file, if any (named in the line for a damaged one)."""
    import errno
    import os

    from salesselect_cli.i18n import _

    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG and exc.filename is not None:
        return name_too_long(os.fsdecode(exc.filename))
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        where = os.fsdecode(exc.filename) if exc.filename is not None else ""
        folder = os.path.dirname(where) or where or "."
        return DatabaseProblem(_("{folder} is on a read-only file system; nothing was written there (choose another "
                                 "folder)").format(folder=shortened(folder, 200)))
    if isinstance(exc, UnicodeDecodeError):  # SQLite's own message quotes the damaged schema's bytes
        return damaged_database(database, _("its schema cannot be read"))
    return None
