"""rules.dates.due_window: the date bounds of follow-up list's --overdue / --today / --week."""

from __future__ import annotations

import datetime as dt

from salesselect_cli.rules.dates import due_window

FRIDAY = dt.date(2026, 11, 27)


def test_overdue_is_everything_before_today():
    assert due_window(FRIDAY, True, False, False) == (None, dt.date(2026, 11, 26))


def test_today_is_today_only():
    assert due_window(FRIDAY, False, True, False) == (FRIDAY, FRIDAY)


def test_week_is_up_to_six_days_ahead_overdue_included():
    assert due_window(FRIDAY, False, False, True) == (None, dt.date(2026, 12, 3))


def test_no_filter_has_no_bounds():
    assert due_window(FRIDAY, False, False, False) == (None, None)


def test_week_crosses_month_and_year_ends():
    assert due_window(dt.date(2026, 12, 29), False, False, True) == (None, dt.date(2027, 1, 4))
    assert due_window(dt.date(2027, 1, 1), True, False, False) == (None, dt.date(2026, 12, 31))
