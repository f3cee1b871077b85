"""Report periods: every name, boundaries, --from/--to, and the refusals."""

import datetime as dt

import pytest

from salesselect_cli.errors import Invalid
from salesselect_cli.rules.periods import (
    EARLIEST, LATEST, add_months, coming_months, month_end, named_period, resolve_period,
)

D = dt.date
TODAY = D(2026, 11, 27)


@pytest.mark.parametrize("name, today, start, end", [
    ("this-month", TODAY, D(2026, 11, 1), D(2026, 11, 30)),
    ("last-month", TODAY, D(2026, 10, 1), D(2026, 10, 31)),
    ("last-month", D(2026, 1, 15), D(2025, 12, 1), D(2025, 12, 31)),
    ("last-month", D(2026, 3, 31), D(2026, 2, 1), D(2026, 2, 28)),
    ("this-quarter", TODAY, D(2026, 10, 1), D(2026, 12, 31)),
    ("this-quarter", D(2026, 3, 31), D(2026, 1, 1), D(2026, 3, 31)),
    ("this-quarter", D(2026, 4, 1), D(2026, 4, 1), D(2026, 6, 30)),
    ("last-quarter", TODAY, D(2026, 7, 1), D(2026, 9, 30)),
    ("last-quarter", D(2026, 10, 1), D(2026, 7, 1), D(2026, 9, 30)),
    ("last-quarter", D(2026, 2, 10), D(2025, 10, 1), D(2025, 12, 31)),
    ("this-year", TODAY, D(2026, 1, 1), D(2026, 12, 31)),
    ("last-year", TODAY, D(2025, 1, 1), D(2025, 12, 31)),
    ("2026-Q3", TODAY, D(2026, 7, 1), D(2026, 9, 30)),
    ("2026-q1", TODAY, D(2026, 1, 1), D(2026, 3, 31)),
    ("2024Q1", TODAY, D(2024, 1, 1), D(2024, 3, 31)),
    ("2027-Q4", TODAY, D(2027, 10, 1), D(2027, 12, 31)),
    ("2026-07", TODAY, D(2026, 7, 1), D(2026, 7, 31)),
    ("2024-02", TODAY, D(2024, 2, 1), D(2024, 2, 29)),
    ("2026-2", TODAY, D(2026, 2, 1), D(2026, 2, 28)),
    ("2026", TODAY, D(2026, 1, 1), D(2026, 12, 31)),
    ("  Last-Quarter ", TODAY, D(2026, 7, 1), D(2026, 9, 30)),
    ("all", TODAY, EARLIEST, LATEST),
    ("next-month", TODAY, D(2026, 12, 1), D(2026, 12, 31)),
    ("next-month", D(2026, 12, 31), D(2027, 1, 1), D(2027, 1, 31)),
    ("next-month", D(2026, 1, 31), D(2026, 2, 1), D(2026, 2, 28)),
    ("next-quarter", TODAY, D(2027, 1, 1), D(2027, 3, 31)),
    ("next-quarter", D(2026, 3, 31), D(2026, 4, 1), D(2026, 6, 30)),
    ("next-quarter", D(2026, 7, 1), D(2026, 10, 1), D(2026, 12, 31)),
    ("next-year", TODAY, D(2027, 1, 1), D(2027, 12, 31)),
    ("Next_Quarter", TODAY, D(2027, 1, 1), D(2027, 3, 31)),
])
def test_named_periods(name, today, start, end):
    period = named_period(name, today)
    assert (period.start, period.end) == (start, end)
    assert start in period and end in period
    assert start == EARLIEST or start - dt.timedelta(days=1) not in period
    assert end == LATEST or end + dt.timedelta(days=1) not in period


def test_labels_name_the_period_and_its_days():
    assert named_period("last-quarter", TODAY).label == "last-quarter (2026-07-01 to 2026-09-30)"
    assert named_period("2026-q3", TODAY).label == "2026-Q3 (2026-07-01 to 2026-09-30)"
    assert named_period("all", TODAY).label == "all time"
    assert resolve_period(None, D(2026, 7, 2), D(2026, 9, 29), TODAY).label == "2026-07-02 to 2026-09-29"
    assert resolve_period(None, None, D(2026, 9, 29), TODAY).label == "until 2026-09-29"


@pytest.mark.parametrize("text", ["", "next-week", "coming-month", "2026-13", "2026-00", "2026-Q5", "Q3", "26", "0000", "2026-07-01"])
def test_unknown_periods_are_refused_with_the_accepted_forms(text):
    with pytest.raises(Invalid) as caught:
        named_period(text, TODAY)
    assert "period" in str(caught.value)


def test_from_to_is_inclusive_and_defaults():
    period = resolve_period(None, D(2026, 7, 2), D(2026, 9, 29), TODAY)
    assert (period.start, period.end) == (D(2026, 7, 2), D(2026, 9, 29))
    only_from = resolve_period(None, D(2026, 11, 1), None, TODAY)
    assert (only_from.start, only_from.end) == (D(2026, 11, 1), TODAY)
    future_from = resolve_period(None, D(2027, 1, 1), None, TODAY)
    assert (future_from.start, future_from.end) == (D(2027, 1, 1), D(2027, 1, 1))
    only_to = resolve_period(None, None, D(2026, 1, 31), TODAY)
    assert (only_to.start, only_to.end) == (EARLIEST, D(2026, 1, 31))
    one_day = resolve_period(None, TODAY, TODAY, TODAY)
    assert (one_day.start, one_day.end) == (TODAY, TODAY)


def test_default_and_refusals():
    assert resolve_period(None, None, None, TODAY).name == "this-quarter"
    assert resolve_period(None, None, None, TODAY, default="last-year").start == D(2025, 1, 1)
    with pytest.raises(Invalid, match="not both"):
        resolve_period("last-quarter", D(2026, 1, 1), None, TODAY)
    with pytest.raises(Invalid, match="after --to"):
        resolve_period(None, D(2026, 9, 2), D(2026, 9, 1), TODAY)


def test_month_arithmetic():
    assert add_months(D(2026, 11, 27), 2) == D(2027, 1, 1)
    assert add_months(D(2026, 1, 31), -1) == D(2025, 12, 1)
    assert month_end(D(2028, 2, 10)) == D(2028, 2, 29)
    assert coming_months(TODAY, 3) == [D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1)]
    with pytest.raises(Invalid):
        coming_months(TODAY, 0)


def test_open_end_for_dates_ahead():
    ahead = resolve_period(None, D(2026, 12, 1), None, TODAY, open_end=True)
    assert (ahead.start, ahead.end) == (D(2026, 12, 1), LATEST)
    assert ahead.label == "from 2026-12-01"


@pytest.mark.parametrize("text, end", [("9999-12", dt.date(9999, 12, 31)), ("9999-Q4", dt.date(9999, 12, 31)),
                                       ("9999", dt.date(9999, 12, 31)), ("0001-01", dt.date(1, 1, 31))])
def test_periods_at_the_ends_of_the_calendar(text, end):
    from salesselect_cli.rules import periods

    assert periods.named_period(text, dt.date(2026, 11, 27)).end == end


def test_months_past_the_calendar_are_refused():
    from salesselect_cli.rules import periods

    with pytest.raises(Invalid, match="years 1 to 9999"):
        periods.add_months(dt.date(9999, 12, 1), 1)


@pytest.mark.parametrize("text, today", [("next-month", D(9999, 12, 5)), ("next-quarter", D(9999, 11, 5)),
                                         ("next-year", D(9999, 1, 5))])
def test_next_periods_past_the_calendar_are_refused(text, today):
    with pytest.raises(Invalid, match="years 1 to 9999"):
        named_period(text, today)


def test_next_periods_have_labels_and_are_listed():
    from salesselect_cli.rules.periods import HINT, NAMES

    assert named_period("next-quarter", TODAY).label == "next-quarter (2027-01-01 to 2027-03-31)"
    assert {"next-month", "next-quarter", "next-year"} <= set(NAMES)
    assert all(name in HINT for name in NAMES)


def test_next_periods_in_dutch():
    from salesselect_cli import i18n

    i18n.configure("nl")
    try:
        assert named_period("next-quarter", TODAY).label == "volgend kwartaal (01-01-2027 t/m 31-03-2027)"
        assert named_period("next-month", TODAY).label.startswith("volgende maand (")
        assert named_period("next-year", TODAY).label.startswith("volgend jaar (")
    finally:
        i18n.configure(None)
