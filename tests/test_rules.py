"""Pure rules, tested directly: dates, money, the indicator, transitions."""

from __future__ import annotations

import datetime as dt

import pytest

from salesselect_cli.errors import Invalid, InvalidTransition
from salesselect_cli.rules import transitions
from salesselect_cli.rules.dates import parse_date, parse_today
from salesselect_cli.rules.indicator import indicator, validate_thresholds
from salesselect_cli.rules.money import cents_to_decimal_string, format_money, parse_money

FRIDAY = dt.date(2026, 11, 27)


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("text, expected", [
    ("2026-12-01", dt.date(2026, 12, 1)),
    ("01-12-2026", dt.date(2026, 12, 1)),
    ("1-2-2027", dt.date(2027, 2, 1)),
    ("today", FRIDAY),
    ("Tomorrow", dt.date(2026, 11, 28)),
    ("yesterday", dt.date(2026, 11, 26)),
    ("+3d", dt.date(2026, 11, 30)),
    ("+2w", dt.date(2026, 12, 11)),
    ("+1m", dt.date(2026, 12, 27)),
    ("-1d", dt.date(2026, 11, 26)),
    ("monday", dt.date(2026, 11, 30)),
    ("friday", dt.date(2026, 12, 4)),  # the next one, never today
    ("saturday", dt.date(2026, 11, 28)),
    ("vrijdag", dt.date(2026, 12, 4)),
])
def test_parse_date(text, expected):
    assert parse_date(text, FRIDAY) == expected


def test_month_offset_clamps_to_month_end():
    assert parse_date("+1m", dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)


@pytest.mark.parametrize("text", ["31-02-2026", "2026-13-01", "soon", "", "+3x", "2026/02/30", "32-01-2026"])
def test_parse_date_refuses(text):
    with pytest.raises(Invalid):
        parse_date(text, FRIDAY)


def test_invalid_day_names_the_date():
    with pytest.raises(Invalid, match="31-02-2026"):
        parse_date("31-02-2026", FRIDAY)


def test_today_from_environment_value():
    assert parse_today("2026-01-05", FRIDAY) == dt.date(2026, 1, 5)
    assert parse_today(None, FRIDAY) == FRIDAY
    with pytest.raises(Invalid, match="SALESSELECT_TODAY"):
        parse_today("05-01-2026", FRIDAY)


# ---------------------------------------------------------------- money

@pytest.mark.parametrize("text, cents", [
    ("12000", 1_200_000), ("12,000", 1_200_000), ("12.000", 1_200_000), ("12000.5", 1_200_050),
    ("12.000,50", 1_200_050), ("12,000.50", 1_200_050), ("€ 12.000", 1_200_000), ("12k", 1_200_000),
    ("0", 0), ("0,99", 99), ("12.001", 1_200_100), ("1.234.567,89", 123_456_789), ("EUR 5", 500),
])
def test_parse_money(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["-5", "abc", "12.345.6", "1,2,3", "", "1.5.5", "0.001", "1234.567"])
def test_parse_money_refuses(text):
    with pytest.raises(Invalid):
        parse_money(text)


def test_money_out():
    assert cents_to_decimal_string(1_200_050) == "12000.50"
    assert cents_to_decimal_string(0) == "0.00"
    assert format_money(1_200_000) == "€12,000"
    assert format_money(1_200_050, "USD") == "$12,000.50"
    assert format_money(99, "SEK") == "SEK 0.99"


# ---------------------------------------------------------------- indicator

@pytest.mark.parametrize("days, expected", [
    (-1, "red"), (0, "red"), (2, "red"), (3, "orange"), (5, "orange"), (6, "green"), (400, "green"),
])
def test_indicator_boundaries(days, expected):
    assert indicator("open", FRIDAY + dt.timedelta(days=days), FRIDAY, 5, 2) == expected


def test_indicator_manual_example():
    # close date tomorrow, red_days 2: red today
    assert indicator("open", FRIDAY + dt.timedelta(days=1), FRIDAY, 5, 2) == "red"


def test_indicator_none_when_closed_or_undated():
    assert indicator("won", FRIDAY, FRIDAY, 5, 2) == "none"
    assert indicator("lost", FRIDAY - dt.timedelta(days=9), FRIDAY, 5, 2) == "none"
    assert indicator("open", None, FRIDAY, 5, 2) == "none"


def test_indicator_red_zero():
    assert indicator("open", FRIDAY, FRIDAY, 1, 0) == "red"
    assert indicator("open", FRIDAY + dt.timedelta(days=1), FRIDAY, 1, 0) == "orange"
    assert indicator("open", FRIDAY + dt.timedelta(days=2), FRIDAY, 1, 0) == "green"


@pytest.mark.parametrize("orange, red", [(2, 2), (1, 2), (3, -1)])
def test_thresholds_refused(orange, red):
    with pytest.raises(Invalid):
        validate_thresholds(orange, red)


# ---------------------------------------------------------------- transitions

STAFFING, AGENCIES = 1, 2
LEAD = transitions.Stage(1, "Lead", 1, None, frozenset({STAFFING, AGENCIES}))
PROPOSAL = transitions.Stage(2, "Proposal", 2, None, frozenset({STAFFING, AGENCIES}))
FRAMEWORK = transitions.Stage(3, "Framework", 3, None, frozenset({AGENCIES}))
WON = transitions.Stage(4, "Won", 4, "won", frozenset({STAFFING, AGENCIES}))
LOST = transitions.Stage(5, "Lost", 5, "lost", frozenset({STAFFING, AGENCIES}))
STAFFING_STAGES = [LEAD, PROPOSAL, WON, LOST]
TOO_EXPENSIVE = transitions.Reason(1, "Too expensive", "lost")
GOOD_FIT = transitions.Reason(2, "Good fit", "won")


def state(status="open", stage=PROPOSAL, closed_from=None):
    return transitions.State(7, status, stage.id, STAFFING, "Staffing", closed_from)


def test_move_to_open_stage():
    out = transitions.move(state(stage=LEAD), PROPOSAL, STAFFING_STAGES, None, FRIDAY)
    assert out == transitions.Outcome(PROPOSAL.id, "open", None, None, None)


def test_move_into_lost_stage_closes_from_current_stage():
    out = transitions.move(state(), LOST, STAFFING_STAGES, TOO_EXPENSIVE, FRIDAY)
    assert out == transitions.Outcome(LOST.id, "lost", TOO_EXPENSIVE.id, FRIDAY, PROPOSAL.id)


def test_move_into_won_stage_reason_optional():
    out = transitions.move(state(), WON, STAFFING_STAGES, None, FRIDAY)
    assert (out.status, out.reason_id, out.closed_from_stage_id) == ("won", None, PROPOSAL.id)


def test_move_refusals():
    with pytest.raises(Invalid, match="needs a lost reason"):
        transitions.move(state(), LOST, STAFFING_STAGES, None, FRIDAY)
    with pytest.raises(Invalid, match="is a won reason"):
        transitions.move(state(), LOST, STAFFING_STAGES, GOOD_FIT, FRIDAY)
    with pytest.raises(Invalid, match="not a stage of business type 'Staffing'; valid: Lead, Proposal, Won, Lost"):
        transitions.move(state(), FRAMEWORK, STAFFING_STAGES, None, FRIDAY)
    with pytest.raises(InvalidTransition, match="reopen"):
        transitions.move(state("won", WON), LEAD, STAFFING_STAGES, None, FRIDAY)
    with pytest.raises(InvalidTransition, match="already in stage"):
        transitions.move(state(), PROPOSAL, STAFFING_STAGES, None, FRIDAY)
    with pytest.raises(Invalid, match="--reason applies only"):
        transitions.move(state(stage=LEAD), PROPOSAL, STAFFING_STAGES, TOO_EXPENSIVE, FRIDAY)


def test_close_moves_into_single_auto_stage():
    out = transitions.close(state(), "lost", STAFFING_STAGES, TOO_EXPENSIVE, FRIDAY)
    assert out == transitions.Outcome(LOST.id, "lost", TOO_EXPENSIVE.id, FRIDAY, PROPOSAL.id)


def test_close_stays_without_single_auto_stage():
    two_won = STAFFING_STAGES + [transitions.Stage(6, "Won big", 6, "won", frozenset({STAFFING}))]
    out = transitions.close(state(), "won", two_won, GOOD_FIT, FRIDAY)
    assert (out.stage_id, out.status) == (PROPOSAL.id, "won")
    out = transitions.close(state(), "won", [LEAD, PROPOSAL], None, FRIDAY)
    assert (out.stage_id, out.status, out.closed) == (PROPOSAL.id, "won", FRIDAY)


def test_close_refusals():
    with pytest.raises(Invalid, match="needs a lost reason"):
        transitions.close(state(), "lost", STAFFING_STAGES, None, FRIDAY)
    with pytest.raises(Invalid, match="is a lost reason, not a won reason"):
        transitions.close(state(), "won", STAFFING_STAGES, TOO_EXPENSIVE, FRIDAY)
    with pytest.raises(InvalidTransition, match="is lost"):
        transitions.close(state("lost", LOST), "won", STAFFING_STAGES, None, FRIDAY)


def test_reopen_goes_back_to_the_stage_it_was_closed_from():
    out = transitions.reopen(state("lost", LOST, closed_from=PROPOSAL.id), None, STAFFING_STAGES)
    assert out == transitions.Outcome(PROPOSAL.id, "open", None, None, None)


def test_reopen_stays_in_open_stage_and_takes_target():
    assert transitions.reopen(state("won", PROPOSAL), None, STAFFING_STAGES).stage_id == PROPOSAL.id
    assert transitions.reopen(state("won", WON), LEAD, STAFFING_STAGES).stage_id == LEAD.id
    assert transitions.reopen(state("won", WON), None, STAFFING_STAGES).stage_id == LEAD.id  # no closed-from


def test_reopen_refusals():
    with pytest.raises(InvalidTransition, match="already open"):
        transitions.reopen(state(), None, STAFFING_STAGES)
    with pytest.raises(Invalid, match="marks opportunities lost"):
        transitions.reopen(state("won", WON), LOST, STAFFING_STAGES)
    with pytest.raises(Invalid, match="not a stage of business type"):
        transitions.reopen(state("won", WON), FRAMEWORK, STAFFING_STAGES)


def test_default_stage_skips_auto_stages():
    assert transitions.default_stage([WON, LEAD, PROPOSAL], "Staffing") == LEAD
    with pytest.raises(Invalid, match="no stages"):
        transitions.default_stage([WON, LOST], "Staffing")


def test_close_date_bounds_agree_with_the_indicator():
    from salesselect_cli.rules.indicator import close_date_bounds

    for orange, red in ((5, 2), (1, 0), (None, None)):
        overdue_until, red_until, orange_until = close_date_bounds(FRIDAY, orange, red)
        for offset in range(-3, 10):
            close = FRIDAY + dt.timedelta(days=offset)
            shade = indicator("open", close, FRIDAY, orange, red)
            by_bounds = "red" if close <= red_until else "orange" if close <= orange_until else "green"
            assert by_bounds == shade, (orange, red, offset)
            assert (close <= overdue_until) == (offset < 0)


@pytest.mark.parametrize("orange, red", [(5, 2), (1, 0), (None, None), (3650, 3649), (3650, 0)])
def test_indicator_counts_agree_with_the_indicator_card_by_card(orange, red):
    """The board's column counts from its per-day counts (what SQL returns without the settings) are the
    indicator's shades counted card by card, at every boundary, the reach's edges included."""
    from salesselect_cli.rules.indicator import MAX_DAYS, indicator_counts, reach_bounds

    overdue_until, reach_until = reach_bounds(FRIDAY)
    assert (overdue_until, reach_until) == (FRIDAY - dt.timedelta(days=1), FRIDAY + dt.timedelta(days=MAX_DAYS))
    offsets = [-400, -2, -1, 0, 1, 2, 3, 5, 6, 100, MAX_DAYS - 1, MAX_DAYS, MAX_DAYS + 1, 9000]
    closes = [FRIDAY + dt.timedelta(days=offset) for offset in offsets for _ in range(offset % 3 + 1)]
    shades = [indicator("open", close, FRIDAY, orange, red) for close in closes]
    overdue = sum(1 for close in closes if close <= overdue_until)
    within = {}
    for close in closes:  # as the columns' statement groups them: only the days the thresholds can reach
        if overdue_until < close <= reach_until:
            within[close.isoformat()] = within.get(close.isoformat(), 0) + 1
    counted = indicator_counts(overdue, sorted(within.items()), FRIDAY, orange, red)
    assert counted == (overdue, shades.count("red"), shades.count("orange")), (orange, red)


@pytest.mark.parametrize("name, step, expected", [
    ("Lead", 1, PROPOSAL), ("proposal", 1, WON), ("Proposal", -1, LEAD), ("Won", 1, LOST),
])
def test_adjacent_stage_of_the_type(name, step, expected):
    assert transitions.adjacent_stage(7, "open", name, STAFFING_STAGES, "Staffing", step) == expected


def test_adjacent_stage_has_nothing_past_either_end():
    with pytest.raises(InvalidTransition, match="'Lead' is the first stage of business type 'Staffing'"):
        transitions.adjacent_stage(7, "open", "Lead", STAFFING_STAGES, "Staffing", -1)
    with pytest.raises(InvalidTransition, match="'Lost' is the last stage"):
        transitions.adjacent_stage(7, "open", "Lost", STAFFING_STAGES, "Staffing", 1)
    with pytest.raises(Invalid, match="not a stage of business type"):
        transitions.adjacent_stage(7, "open", "Framework", STAFFING_STAGES, "Staffing", 1)


def test_adjacent_stage_refuses_a_closed_opportunity():
    with pytest.raises(InvalidTransition, match=r"opportunity #7 is won; reopen it before you move it"):
        transitions.adjacent_stage(7, "won", "Won", STAFFING_STAGES, "Staffing", 1)
