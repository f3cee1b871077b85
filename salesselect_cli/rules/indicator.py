"""The remaining-days indicator (SPEC §1): red / orange / green / none, from thresholds and today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from salesselect_cli.i18n import _
from salesselect_cli.i18n import count as number


MAX_DAYS = 3650


def days_left(expected_close: dt.date | None, today: dt.date) -> int | None:
    """Days from today to the expected close date; None without a date."""
    if expected_close is None:
        return None
    return (expected_close - today).days


def indicator(
    status: str,
    expected_close: dt.date | None,
    today: dt.date,
    orange_days: int | None,
    red_days: int | None,
) -> str:
    """'red', 'orange', 'green' or 'none' for one opportunity.

    Closed or undated opportunities are 'none'. Overdue (days_left < 0) is red. Without
    configured thresholds only overdue is flagged.
    """
    left = days_left(expected_close, today)
    if status != "open" or left is None:
        return "none"
    if left < 0:
        return "red"
    if red_days is not None and left <= red_days:
        return "red"
    if orange_days is not None and left <= orange_days:
        return "orange"
    return "green"


def close_date_bounds(
    today: dt.date, orange_days: int | None, red_days: int | None
) -> tuple[dt.date, dt.date, dt.date]:
    """The last expected close dates that are overdue, red and orange: `indicator` as bounds for SQL.

    Without thresholds only overdue deals are red (and none orange).
    """
    overdue_until = today - dt.timedelta(days=1)
    red_until = today + dt.timedelta(days=red_days) if red_days is not None else overdue_until
    orange_until = today + dt.timedelta(days=orange_days) if orange_days is not None else red_until
    return overdue_until, red_until, orange_until


def reach_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last overdue close date and the last one any thresholds can colour (orange at most MAX_DAYS ahead):
    between them, a close date's colour depends on the thresholds; outside, it does not."""
    return today - dt.timedelta(days=1), today + dt.timedelta(days=MAX_DAYS)


def indicator_counts(overdue: int, closing: Iterable[tuple[str, int]], today: dt.date, orange_days: int | None,
                     red_days: int | None) -> tuple[int, int, int]:
    """(overdue, red, orange) counts of a column's open deals, red including overdue: from its `overdue` count
    and its counts per expected close day (ISO text, as stored) within `reach_bounds`, by `indicator`'s thresholds.

    The days compare as text, as SQL compares the stored dates (close_date_bounds)."""
    _overdue_until, red_until, orange_until = (day.isoformat() for day in close_date_bounds(today, orange_days, red_days))
    red = orange = 0
    for day, count in closing:
        if day <= red_until:
            red += count
        elif day <= orange_until:
            orange += count
    return overdue, overdue + red, orange


def validate_thresholds(orange_days: int, red_days: int) -> None:
    """MAX_DAYS >= orange_days > red_days >= 0, else Invalid."""
    from salesselect_cli.errors import Invalid

    if red_days < 0:
        raise Invalid(_("red days must be 0 or more, not {red_days}").format(red_days=red_days))
    if orange_days > MAX_DAYS:  # more would push the board's date bounds past the calendar
        raise Invalid(_("orange days must be at most {max_days} (ten years), not {orange_days}").format(max_days=number(MAX_DAYS), orange_days=number(orange_days)))
    if orange_days <= red_days:
        raise Invalid(_("orange days ({orange_days}) must be greater than red days ({red_days})").format(orange_days=orange_days, red_days=red_days))
