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


def test_a_followup_in_the_past_or_at_a_weekend_gets_one_warning():
    import datetime as dt

    from salesselect_cli.rules.dates import followup_date_warning

    friday = dt.date(2026, 11, 27)
    assert followup_date_warning(friday, friday) is None
    assert followup_date_warning(dt.date(2026, 11, 30), friday) is None  # Monday
    assert followup_date_warning(None, friday) is None
    assert followup_date_warning(dt.date(2026, 11, 28), friday) == "the follow-up date 2026-11-28 is a Saturday"
    assert followup_date_warning(dt.date(2026, 11, 29), friday) == "the follow-up date 2026-11-29 is a Sunday"
    assert followup_date_warning(dt.date(2026, 11, 26), friday) == "the follow-up date 2026-11-26 is in the past (1 day ago)"
    # a past Sunday: one warning, the past
    assert followup_date_warning(dt.date(2026, 11, 22), friday) == "the follow-up date 2026-11-22 is in the past (5 days ago)"


# ---------------------------------------------------------------- trash_cutoff: opp purge --older-than


def test_the_trash_cutoff_counts_days_or_weeks_back():
    from salesselect_cli.rules.dates import trash_cutoff

    assert trash_cutoff("30d", FRIDAY) == dt.date(2026, 10, 28)
    assert trash_cutoff(" 8W ", FRIDAY) == dt.date(2026, 10, 2)
    assert trash_cutoff("0", FRIDAY) == FRIDAY


def test_the_trash_cutoff_refuses_other_words():
    import pytest

    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules.dates import trash_cutoff

    for text in ("30 days", "-3d", "2m", ""):
        with pytest.raises(Invalid, match="--older-than takes days or weeks"):
            trash_cutoff(text, FRIDAY)
