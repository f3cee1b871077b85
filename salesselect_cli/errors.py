"""Domain errors. The store and the rules raise these; main.py turns them into one line."""

from __future__ import annotations

import difflib

from salesselect_cli.i18n import N_


class SalesSelectError(Exception):
    """Base of every error a user may see: printed as `Error: <message>`."""

    exit_code = 1


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

    text = getattr(exc, "strerror", None) or str(exc)
    return _(OS_PROBLEMS[text]) if text in OS_PROBLEMS else text


def output_failed(exc: OSError) -> str:
    """The one line for output that could not be written: standard output on a full disk, for example."""
    from salesselect_cli.i18n import _

    return _("Error: cannot write the output: {problem}").format(problem=os_problem(exc))


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
