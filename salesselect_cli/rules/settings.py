"""Settings read defensively: one pure parser per stored setting.

Whoever may write the `settings` table may store anything there; a bad value must name itself and the
command that fixes it, and never break a command that merely reads it (`read`, `read_indicator`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from salesselect_cli.i18n import N_, _

from salesselect_cli.rules.indicator import MAX_DAYS

MAX_HOOK_TIMEOUT = 3600.0  # seconds: the longest a run: hook may take (workflow_timeout, $SALESSELECT_HOOK_TIMEOUT)


class BadSetting(ValueError):
    """A stored setting that is not what it must be; str() is the one line for the user."""

    def __init__(self, name: str, value: str, message: str):
        super().__init__(message)
        self.name, self.value = name, value


def _days(raw: str) -> int | None:
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 5 and int(text) <= MAX_DAYS:  # isdigit: no sign, no '1e3', no '1.5'
        return int(text)
    return None


def _seconds(raw: str) -> float | None:
    try:
        seconds = float(raw)
    except (ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_HOOK_TIMEOUT else None


def _currency(raw: str) -> str | None:
    text = raw.strip().upper()
    return text if len(text) == 3 and text.isalpha() else None  # as set_currency accepts


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
        from salesselect_cli.errors import shortened

        raise BadSetting(name, str(raw), _("the {name} setting holds '{value}', which is not {expected}; a key user "
                                           "fixes it with '{command}'").format(
            name=name, value=shortened(" ".join(str(raw).split()), 40), expected=_(spec.expected), command=spec.fix))
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


def read_indicator(orange_raw: str | None, red_raw: str | None) -> Reading:
    """The indicator's (orange, red) days as stored: (None, None) while not set, and also when either value or
    the pair is bad (orange must be more than red), with the one-line warning."""
    orange, red = read("orange_days", orange_raw), read("red_days", red_raw)
    for reading in (orange, red):
        if reading.problem:
            return Reading((None, None), reading.problem)
    if orange.value is None and red.value is None:
        return Reading((None, None))
    if orange.value is None or red.value is None or orange.value <= red.value:
        return Reading((None, None), _(
            "the indicator settings hold orange_days '{orange}' and red_days '{red}', but orange must be more than "
            "red; a key user fixes it with '{command}'").format(
            orange=orange_raw, red=red_raw, command=SETTINGS["red_days"].fix))
    return Reading((orange.value, red.value))
