"""Settings read defensively: one pure parser per stored setting.

`settings` is a table any key user (and, before issue 24, any member) could write; a bad value there must
name itself and the command that fixes it, and never break a command that merely reads it (`read`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from salesselect_cli.i18n import N_, _

MAX_DAYS = 3650  # rules.indicator.MAX_DAYS
MAX_HOOK_SECONDS = 3600.0  # rules.workflows.MAX_HOOK_TIMEOUT


class BadSetting(ValueError):
    """A stored setting that is not what it must be; str() is the one line for the user."""

    def __init__(self, name: str, value: str, message: str):
        super().__init__(message)
        self.name, self.value = name, value


def _days(raw: str) -> int | None:
    text = raw.strip()
    if text.isdigit() and int(text) <= MAX_DAYS:  # isdigit: no sign, no '1e3', no '1.5'
        return int(text)
    return None


def _seconds(raw: str) -> float | None:
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_HOOK_SECONDS else None


def _currency(raw: str) -> str | None:
    text = raw.strip().upper()
    return text if len(text) == 3 and text.isascii() and text.isalpha() else None


def _choice(*allowed: str) -> Callable[[str], str | None]:
    def parse(raw: str) -> str | None:
        text = raw.strip().lower()
        return text if text in allowed else None
    return parse


@dataclass(frozen=True)
class Spec:
    parse: Callable[[str], Any]
    expected: str  # N_() text: what the value must be
    fix: str  # the command a key user runs to set it right


SETTINGS: dict[str, Spec] = {
    "orange_days": Spec(_days, N_("a whole number of days from 0 to 3650"),
                        "salesselect config set-indicator --orange DAYS --red DAYS"),
    "red_days": Spec(_days, N_("a whole number of days from 0 to 3650"),
                     "salesselect config set-indicator --orange DAYS --red DAYS"),
    "workflow_timeout": Spec(_seconds, N_("a number of seconds above 0 and at most 3600"),
                             "salesselect workflow timeout SECONDS"),
    "currency": Spec(_currency, N_("a three-letter currency code"), "salesselect config set-currency CODE"),
    "language": Spec(_choice("en", "nl"), N_("en or nl"), "salesselect config set-language en"),
    "module": Spec(_choice("on", "off"), N_("on or off"), "salesselect config module enable"),
}


def parse(name: str, raw: str | None) -> Any:
    """The stored value of setting `name` as its type (None when not set); BadSetting naming the fix."""
    if raw is None:
        return None
    spec = SETTINGS[name]
    value = spec.parse(str(raw))
    if value is None:
        raise BadSetting(name, str(raw), _("the {name} setting holds '{value}', which is not {expected}; a key user "
                                           "fixes it with '{command}'").format(
            name=name, value=raw, expected=_(spec.expected), command=spec.fix))
    return value


@dataclass(frozen=True)
class Reading:
    """A setting as a reader gets it: the value (the default when the stored one is bad) and the problem."""

    value: Any
    problem: str | None = None


def read(name: str, raw: str | None, default: Any = None) -> Reading:
    """Never raises: a bad value reads as `default`, with the one-line warning in `problem`."""
    try:
        value = parse(name, raw)
    except BadSetting as bad:
        return Reading(default, str(bad))
    return Reading(default if value is None else value)
