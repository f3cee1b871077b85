"""Date parsing as the agency writes dates. Pure: `today` is always passed in."""

from __future__ import annotations

import datetime as dt
import re

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import N_, _

WEEKDAYS = {
    "monday": 0, "mon": 0, "maandag": 0, "ma": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "dinsdag": 1, "di": 1,
    "wednesday": 2, "wed": 2, "woensdag": 2, "wo": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "donderdag": 3, "do": 3,
    "friday": 4, "fri": 4, "vrijdag": 4, "vr": 4,
    "saturday": 5, "sat": 5, "zaterdag": 5, "za": 5,
    "sunday": 6, "sun": 6, "zondag": 6, "zo": 6,
}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_OFFSET = re.compile(r"^([+-])\s*(\d{1,4})\s*([dwmy])$")

HINT = N_("use YYYY-MM-DD, DD-MM-YYYY, today, tomorrow, +3d, +2w, +1m or a weekday name")


# what Python's calendar says about an impossible date, for the catalogue ("31-02-2026")
CALENDAR_PROBLEMS = (N_("day is out of range for month"), N_("month must be in 1..12"))

FIRST_YEAR, LAST_YEAR = 1900, 9999
LAST_TODAY = dt.date(LAST_YEAR - 10, 12, 31)  # ten years of indicator and follow-up room after today


def _build(text: str, year: int, month: int, day: int) -> dt.date:
    try:
        return _in_range(dt.date(year, month, day), text)
    except ValueError as exc:
        raise Invalid(_("invalid date '{text}': {problem}").format(text=text, problem=_(str(exc)))) from None


def _in_range(day: dt.date, text: str) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Invalid(_("date '{text}' is outside the years {first} to {last}").format(text=text, first=FIRST_YEAR, last=LAST_YEAR))
    return day


def add_offset(start: dt.date, sign: int, amount: int, unit: str) -> dt.date:
    """`start` moved by amount days/weeks/months/years; month ends clamp (31 Jan +1m = 28/29 Feb)."""
    from dateutil.relativedelta import relativedelta

    step = {
        "d": relativedelta(days=amount),
        "w": relativedelta(weeks=amount),
        "m": relativedelta(months=amount),
        "y": relativedelta(years=amount),
    }[unit]
    try:
        moved = start + step if sign > 0 else start - step
    except (OverflowError, ValueError):
        moved = None
    if moved is None or not FIRST_YEAR <= moved.year <= LAST_YEAR:
        raise Invalid(_("date offset {offset} is out of range").format(offset=f"{'+' if sign > 0 else '-'}{amount}{unit}")) from None
    return moved


def parse_date(text: str, today: dt.date) -> dt.date:
    """Parse `text` (ISO, day-first, today/tomorrow/yesterday, +3d/+2w/+1m, weekday) relative to `today`."""
    raw = text.strip()
    word = raw.casefold()
    if not word:
        raise Invalid(_("empty date; {hint}").format(hint=_(HINT)))
    if word in ("today", "vandaag"):
        return today
    try:
        if word in ("tomorrow", "morgen"):
            return _in_range(today + dt.timedelta(days=1), raw)
        if word in ("overmorgen", "day after tomorrow"):
            return _in_range(today + dt.timedelta(days=2), raw)
        if word in ("eergisteren",):
            return _in_range(today - dt.timedelta(days=2), raw)
        if word in ("yesterday", "gisteren"):
            return _in_range(today - dt.timedelta(days=1), raw)
        if word in WEEKDAYS:
            ahead = (WEEKDAYS[word] - today.weekday() - 1) % 7 + 1
            return _in_range(today + dt.timedelta(days=ahead), raw)
    except OverflowError:
        raise Invalid(_("date '{text}' is out of range").format(text=raw)) from None
    if match := _ISO.match(word):
        year, month, day = (int(part) for part in match.groups())
        return _build(raw, year, month, day)
    if match := _DAY_FIRST.match(word):
        day, month, year = (int(part) for part in match.groups())
        return _build(raw, year, month, day)
    if match := _OFFSET.match(word):
        sign, amount, unit = match.groups()
        return add_offset(today, 1 if sign == "+" else -1, int(amount), unit)
    raise Invalid(_("cannot read date '{text}'; {hint}").format(text=raw, hint=_(HINT)))


def parse_today(value: str | None, clock_today: dt.date) -> dt.date:
    """Today: `$SALESSELECT_TODAY` (YYYY-MM-DD) when set, else the clock's date."""
    if not value:
        return clock_today
    match = _ISO.match(value.strip())
    if not match:
        raise Invalid(_("SALESSELECT_TODAY must be YYYY-MM-DD, not '{value}'").format(value=value))
    year, month, day = (int(part) for part in match.groups())
    try:
        today = dt.date(year, month, day)
    except ValueError as exc:
        raise Invalid(_("SALESSELECT_TODAY '{value}' is not a date: {problem}").format(value=value, problem=_(str(exc)))) from None
    if not dt.date(FIRST_YEAR, 1, 1) <= today <= LAST_TODAY:
        raise Invalid(_("SALESSELECT_TODAY '{value}' is out of range; use a day from {first} to {last}").format(
            value=value, first=f"{FIRST_YEAR}-01-01", last=LAST_TODAY.isoformat()))
    return today


DUTCH_WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                "oktober", "november", "december")
ENGLISH_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")


def _dutch(dutch: bool | None) -> bool:
    if dutch is None:
        from salesselect_cli.i18n import dutch as interface_is_dutch

        return interface_is_dutch()
    return dutch


def format_date(day: dt.date | str | None, dutch: bool | None = None) -> str:
    """A date for people: '2026-11-27' in English, '27-11-2026' in Dutch (default: the interface
    language). Accepts an ISO string as stored; anything that is not one comes back as it is."""
    if day is None:
        return ""
    if isinstance(day, str):
        match = _ISO.match(day.strip())
        if not match or not _dutch(dutch):
            return day
        year, month, date = match.groups()
        return f"{int(date):02d}-{int(month):02d}-{year}"
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}" if _dutch(dutch) else day.isoformat()


def weekday_name(day: dt.date, short: bool = False, dutch: bool | None = None) -> str:
    """'Friday'/'Fri', or Dutch 'vrijdag'/'vr'."""
    if _dutch(dutch):
        name = DUTCH_WEEKDAYS[day.weekday()]
        return name[:2] if short else name
    name = ENGLISH_WEEKDAYS[day.weekday()]
    return name[:3] if short else name


def month_name(month: int, short: bool = False, dutch: bool | None = None) -> str:
    """'November'/'Nov', or Dutch 'november'/'nov' (March is 'mrt', as Dutch abbreviates it)."""
    if _dutch(dutch):
        return ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")[month - 1] \
            if short else DUTCH_MONTHS[month - 1]
    name = ENGLISH_MONTHS[month - 1]
    return name[:3] if short else name


def due_window(today: dt.date, overdue: bool, due_today: bool, week: bool) -> tuple[dt.date | None, dt.date | None]:
    """(due on or after, due on or before) for the --overdue / --today / --week filters."""
    if overdue:
        return None, today - dt.timedelta(days=1)
    if due_today:
        return today, today
    if week:
        return None, today + dt.timedelta(days=6)
    return None, None


def past_close_warning(expected_close: dt.date | None, today: dt.date) -> str | None:
    """What to warn about an expected close date that has already passed (accepted, but likely a typo)."""
    if expected_close is None or expected_close >= today:
        return None
    from salesselect_cli.i18n import ngettext

    days = (today - expected_close).days
    return ngettext("the expected close date {date} is in the past ({days} day ago)",
                    "the expected close date {date} is in the past ({days} days ago)", days).format(
        date=format_date(expected_close), days=days)


WEEKEND_DAYS = (N_("Saturday"), N_("Sunday"))


def followup_date_warning(due: dt.date | None, today: dt.date) -> str | None:
    """What to warn about a follow-up's date (accepted, but likely a slip): in the past, or at a weekend.
    One warning at most; the past wins."""
    if due is None:
        return None
    if due < today:
        from salesselect_cli.i18n import ngettext

        days = (today - due).days
        return ngettext("the follow-up date {date} is in the past ({days} day ago)",
                        "the follow-up date {date} is in the past ({days} days ago)", days).format(
            date=format_date(due), days=days)
    if due.weekday() >= 5:
        return _("the follow-up date {date} is a {weekday}").format(
            date=format_date(due), weekday=_(WEEKEND_DAYS[due.weekday() - 5]))
    return None


def trash_cutoff(text: str, today: dt.date) -> dt.date:
    """The first day a deal may have been trashed and be kept: --older-than 30d keeps the last 30 days."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dw]?)\s*", text.lower())
    if not match:
        raise Invalid(_("--older-than takes days or weeks like 30d or 8w, not '{text}'").format(text=text))
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    return today - dt.timedelta(days=days)
