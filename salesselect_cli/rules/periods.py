"""Report periods: named periods and --from/--to ranges as inclusive date ranges. Pure: `today` is passed in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import N_, _

NAMES = ("this-month", "last-month", "this-quarter", "last-quarter", "this-year", "last-year", "all",
         "next-month", "next-quarter", "next-year")
HINT = N_(
    "use this-month, last-month, this-quarter, last-quarter, this-year, last-year, all, "
    "next-month, next-quarter, next-year, "
    "a quarter like 2026-Q3, a month like 2026-07, a year like 2026, or --from/--to"
)
EARLIEST = dt.date(1, 1, 1)
LATEST = dt.date(9999, 12, 31)

_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """An inclusive range of days with a label for people ('last-quarter (2026-07-01 to 2026-09-30)')."""

    start: dt.date
    end: dt.date
    name: str

    @property
    def label(self) -> str:
        """For people, in the interface language: 'last-quarter (2026-07-01 to 2026-09-30)',
        Dutch 'vorig kwartaal (01-07-2026 t/m 30-09-2026)'."""
        from salesselect_cli.i18n import _
        from salesselect_cli.rules.dates import format_date

        if self.start == EARLIEST and self.end == LATEST:
            return _("all time")
        if self.start == EARLIEST:
            return _("until {date}").format(date=format_date(self.end))
        if self.end == LATEST:
            return _("from {date}").format(date=format_date(self.start))
        dates = _("{start} to {end}").format(start=format_date(self.start), end=format_date(self.end))
        if self.name == "custom":
            return dates
        names = {"this-month": _("this month"), "last-month": _("last month"), "this-quarter": _("this quarter"),
                 "last-quarter": _("last quarter"), "this-year": _("this year"), "last-year": _("last year"),
                 "next-month": _("next month"), "next-quarter": _("next quarter"), "next-year": _("next year")}
        from salesselect_cli.i18n import dutch

        return f"{names.get(self.name, self.name) if dutch() else self.name} ({dates})"

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    if not 1 <= index // 12 <= 9999:
        raise Invalid(_("a period around {isoformat} reaches past the years 1 to 9999").format(isoformat=day.isoformat()))
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    if day.month == 12:
        return day.replace(day=31)
    return add_months(day, 1) - dt.timedelta(days=1)


def _month(year: int, month: int, name: str) -> Period:
    start = dt.date(year, month, 1)
    return Period(start, month_end(start), name)


def _quarter(year: int, quarter: int, name: str) -> Period:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    return Period(start, month_end(add_months(start, 2)), name)


def _year(year: int, name: str) -> Period:
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), name)


def named_period(text: str, today: dt.date) -> Period:
    """A period by name ('last-quarter', '2026-Q3', '2026-07', '2026', ...) relative to `today`."""
    from salesselect_cli.rules.words import period as english_period  # vorig-kwartaal, deze maand, 2026-K3

    word = english_period(text or "").strip().casefold().replace("_", "-").replace(" ", "-")
    quarter = (today.month - 1) // 3 + 1
    if word == "this-month":
        return _month(today.year, today.month, word)
    if word == "last-month":
        previous = add_months(today, -1)
        return _month(previous.year, previous.month, word)
    if word == "this-quarter":
        return _quarter(today.year, quarter, word)
    if word == "last-quarter":
        year, quarter = (today.year - 1, 4) if quarter == 1 else (today.year, quarter - 1)
        return _quarter(year, quarter, word)
    if word == "this-year":
        return _year(today.year, word)
    if word == "last-year":
        return _year(today.year - 1, word)
    if word == "all":
        return Period(EARLIEST, LATEST, word)
    if word == "next-month":  # a forecast looks ahead
        following = add_months(today, 1)
        return _month(following.year, following.month, word)
    if word == "next-quarter":
        following = add_months(dt.date(today.year, 3 * quarter - 2, 1), 3)
        return _quarter(following.year, (following.month - 1) // 3 + 1, word)
    if word == "next-year":
        return _year(add_months(dt.date(today.year, 1, 1), 12).year, word)
    if match := _QUARTER.match(word):
        year, number = int(match.group(1)), int(match.group(2))
        return _quarter(_check_year(year, text), number, f"{year}-Q{number}")
    if match := _MONTH.match(word):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise Invalid(_("period '{text}': month must be 01 to 12").format(text=text))
        return _month(_check_year(year, text), month, f"{year}-{month:02d}")
    if match := _YEAR.match(word):
        year = int(match.group(1))
        return _year(_check_year(year, text), str(year))
    raise Invalid(_("unknown period '{text}'; {hint}").format(text=text, hint=_(HINT)))


def _check_year(year: int, text: str) -> int:
    if year < 1:
        raise Invalid(_("period '{text}': year must be 0001 or later").format(text=text))
    return year


def resolve_period(
    period: str | None, start: dt.date | None, end: dt.date | None, today: dt.date, default: str = "this-quarter",
    open_end: bool = False,
) -> Period:
    """--period, or --from/--to (inclusive), else `default`.

    --to alone runs from the beginning; --from alone runs to today, or without end when `open_end`
    (the pipeline looks at expected close dates, which lie ahead).
    """
    if period is not None and (start is not None or end is not None):
        raise Invalid(_("use --period or --from/--to, not both"))
    if period is not None:
        return named_period(period, today)
    if start is None and end is None:
        return named_period(default, today)
    start = start or EARLIEST
    end = end or (LATEST if open_end else max(today, start))
    if start > end:
        raise Invalid(_("--from {isoformat} is after --to {isoformat2}").format(isoformat=start.isoformat(), isoformat2=end.isoformat()))
    return Period(start, end, "custom")


def coming_months(today: dt.date, count: int) -> list[dt.date]:
    """The first days of this month and the `count - 1` months after it."""
    if count < 1:
        raise Invalid(_("--months must be 1 or more, not {count}").format(count=count))
    return [add_months(today, offset) for offset in range(count)]
