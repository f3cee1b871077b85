"""Win chances and forecast sums (rules/forecast.py, rules/backtest.py), tested on the pure functions.

A synthetic history stands in for the store: `count_history` tallies closed deals the way the store's
SQL is to (a deal counts for every stage it reached; the other fields at their closing value)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest

from salesselect_cli.errors import Invalid
from salesselect_cli.rules import backtest
from salesselect_cli.rules.forecast import (
    LEARNED_CEILING, MIN_LOST, MIN_WON, VALUE_BANDS, Bucket, Chance, History, Reason, Tally, chance_text,
    coverage, enough_history, forecast_rows, forecast_total, histories_from_bucket_counts, history_from_counts, learn,
    learned_chance, learning_window, parse_percent, stage_chance, stage_set_percent, value_band, weighted_cents,
    win_chance, window_buckets,
)

STAGES = ("Lead", "Contact", "Proposal", "Negotiation")


def count_history(deals) -> History:
    """deals: (stages reached, {field: value}, won?) -> the counts the store's SQL produces."""
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    won = lost = 0
    for reached, fields, was_won in deals:
        won, lost = won + was_won, lost + (not was_won)
        for stage in reached:
            counts["stage"][stage][0 if was_won else 1] += 1
        for field, value in fields.items():
            counts[field][value][0 if was_won else 1] += 1
    return History(won, lost, {field: {value: Tally(*pair) for value, pair in values.items()}
                               for field, values in counts.items()})


# ---------------------------------------------------------------- naive Bayes by hand


TINY = History(3, 2, {
    "stage": {"Lead": Tally(3, 2), "Proposal": Tally(3, 1)},
    "source": {"Referral": Tally(2, 0), "Google": Tally(1, 2)},
    "business_type": {"Agencies": Tally(2, 1), "Direct": Tally(1, 1)},
})
TINY_DEAL = {"stage": "Proposal", "source": "Referral", "business_type": "Agencies", "owner": "Ann",
             "value_band": None}


def test_learned_chance_equals_naive_bayes_worked_by_hand():
    # prior 3/5 won, 2/5 lost; each count + 0.1; stage over all won (3.1) / lost (2.1); source and type
    # over their own smoothed totals (won 2.1 + 1.1 = 3.2, lost 0.1 + 2.1 = 2.2 and 1.1 + 1.1 = 2.2);
    # owner Ann never closed a deal: no factor.
    won = 3 / 5 * (3.1 / 3.1) * (2.1 / 3.2) * (2.1 / 3.2)
    lost = 2 / 5 * (1.1 / 2.1) * (0.1 / 2.2) * (1.1 / 2.2)
    by_hand = won / (won + lost)
    assert round(by_hand, 4) == 0.9819
    model = learn(TINY, require_enough=False)
    assert model.fraction(model.factors(TINY_DEAL)) == pytest.approx(by_hand, rel=1e-12)
    chance = learned_chance(model, TINY_DEAL)
    assert (chance.probability, chance.basis) == (98, "learned")
    # the reasons: the chance minus the chance without that field, by hand too
    without_source = 3 / 5 * (2.1 / 3.2) / (3 / 5 * (2.1 / 3.2) + 2 / 5 * (1.1 / 2.1) * (1.1 / 2.2))
    assert chance.reasons[0] == Reason("source", "Referral", round(100 * (by_hand - without_source)))
    assert chance.reasons[0].points == 19
    assert [reason.field for reason in chance.reasons] == ["source", "stage", "business_type"]
    assert all(reason.points > 0 for reason in chance.reasons)


def test_history_from_the_stores_count_rows():
    rows = [("stage", "Lead", 3, 2), ("stage", "Proposal", 3, 1), ("source", "Referral", 2, 0),
            ("source", "Google", 1, 2), ("business_type", "Agencies", 2, 1), ("business_type", "Direct", 1, 1),
            ("source", None, 0, 4)]
    assert history_from_counts(3, 2, rows) == TINY
    with pytest.raises(ValueError):
        history_from_counts(1, 1, [("colour", "red", 1, 0)])


def test_without_explaining_the_chance_is_the_same_and_has_no_reasons():
    model = learn(TINY, require_enough=False)
    quick = win_chance(TINY_DEAL, None, None, model, explain=False)
    assert quick == Chance(learned_chance(model, TINY_DEAL).probability, "learned", ())


def test_a_value_seen_only_lost_lowers_the_chance_and_unknown_values_add_nothing():
    model = learn(TINY, require_enough=False)
    google = learned_chance(model, dict(TINY_DEAL, source="Google"))
    assert google.probability < learned_chance(model, TINY_DEAL).probability
    assert any(r.field == "source" and r.points < 0 for r in google.reasons)
    only_unknown = {"stage": "Nowhere", "source": "Fax", "business_type": None}
    assert model.factors(only_unknown) == {}
    assert learned_chance(model, only_unknown) == Chance(60, "learned", ())  # the prior 3/5


def test_learned_chances_never_claim_certainty():
    certain = History(40, 40, {"source": {"Referral": Tally(40, 0), "Google": Tally(0, 40)}})
    model = learn(certain)
    assert learned_chance(model, {"source": "Referral"}).probability == LEARNED_CEILING
    assert learned_chance(model, {"source": "Google"}).probability == 1


def test_the_learned_chance_needs_enough_closed_deals():
    assert MIN_WON == MIN_LOST == 30
    assert not enough_history(History(29, 200, {}))
    assert not enough_history(History(200, 29, {}))
    assert enough_history(History(30, 30, {}))
    assert learn(History(29, 200, {})) is None
    assert learn(History(5, 0, {}), require_enough=False) is None  # one outcome only: nothing to learn from
    assert learn(TINY, require_enough=False) is not None


def test_learning_window_is_two_years_up_to_today():
    assert learning_window(dt.date(2026, 11, 27)) == (dt.date(2024, 11, 27), dt.date(2026, 11, 27))
    assert learning_window(dt.date(2028, 2, 29)) == (dt.date(2026, 2, 28), dt.date(2028, 2, 29))


def test_window_buckets_put_each_closing_day_in_the_windows_that_hold_it():
    day = dt.date(2026, 3, 1)
    windows = [(day, day + dt.timedelta(days=30)), (day + dt.timedelta(days=10), day + dt.timedelta(days=40)),
               (day + dt.timedelta(days=30), day + dt.timedelta(days=30)), (day + dt.timedelta(days=5), day)]
    buckets = window_buckets(windows)

    def bucket(closed: dt.date) -> int:
        text = closed.isoformat()
        return next((index for index, (comparison, edge) in enumerate(buckets.tests)
                     if (text < edge if comparison == "<" else text <= edge)), len(buckets.tests))

    for offset in range(-3, 45):
        closed = day + dt.timedelta(days=offset)
        for (start, end), (first, last) in zip(windows, buckets.spans):
            assert (first <= bucket(closed) <= last) == (start <= closed <= end), (closed, start, end)
    assert buckets.spans[3][0] > buckets.spans[3][1]  # a window that ends before it starts holds nothing
    assert len(buckets.tests) == 7  # one test per distinct first day and per distinct last day


def test_histories_from_bucket_counts_sum_each_windows_buckets():
    one = window_buckets([(dt.date(2026, 1, 1), dt.date(2026, 1, 31))])
    rows = [("total", None, 1, 3, 2), ("stage", "Lead", 1, 3, 2), ("stage", "Proposal", 1, 3, 1),
            ("source", "Referral", 1, 2, 0), ("source", "Google", 1, 1, 2), ("business_type", "Agencies", 1, 2, 1),
            ("business_type", "Direct", 1, 1, 1), ("source", None, 1, 0, 4)]
    assert histories_from_bucket_counts(rows, one) == [TINY]
    two = window_buckets([(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), (dt.date(2026, 1, 15), dt.date(2026, 2, 10))])
    # buckets: 0 before 1 January, 1 up to 14 January, 2 up to 31 January, 3 up to 10 February, 4 after
    assert two.spans == ((1, 2), (2, 3))
    rows = [("total", None, 1, 1, 0), ("total", None, 2, 1, 1), ("total", None, 3, 0, 1), ("total", None, 4, 9, 9),
            ("source", "Google", 1, 1, 0), ("source", "Google", 2, 0, 1), ("source", "Referral", 2, 1, 0),
            ("source", "Referral", 3, 0, 1), ("source", "Google", 0, 7, 7)]
    first, second = histories_from_bucket_counts(rows, two)
    assert (first.won, first.lost, second.won, second.lost) == (2, 1, 1, 2)
    assert first.counts["source"] == {"Google": Tally(1, 1), "Referral": Tally(1, 0)}
    assert second.counts["source"] == {"Google": Tally(0, 1), "Referral": Tally(1, 1)}
    assert histories_from_bucket_counts([], two) == [History(0, 0, {}), History(0, 0, {})]


# ---------------------------------------------------------------- where the source decides


def synthetic_deals(count: int, seed: int):
    """Referral wins 75%, Google 15%, whatever the stage; a lost deal stops at a random stage."""
    rng = random.Random(seed)
    deals = []
    for _ in range(count):
        source = rng.choice(("Referral", "Google"))
        won = rng.random() < (0.75 if source == "Referral" else 0.15)
        reached = STAGES if won else STAGES[: rng.randint(1, len(STAGES))]
        fields = {"source": source, "business_type": rng.choice(("Agencies", "Direct")),
                  "owner": rng.choice(("Ann", "Bob")), "value_band": value_band(rng.randint(1, 40) * 100_000)}
        deals.append((reached, fields, won))
    return deals


def test_where_the_source_decides_a_referral_deal_is_far_likelier_than_a_google_deal():
    history = count_history(synthetic_deals(400, seed=1))
    model = learn(history)
    assert model is not None
    same = {"stage": "Proposal", "business_type": "Agencies", "owner": "Ann", "value_band": "10k-20k"}
    referral = learned_chance(model, dict(same, source="Referral"))
    google = learned_chance(model, dict(same, source="Google"))
    assert referral.probability - google.probability >= 40
    assert referral.reasons[0].field == "source" and referral.reasons[0].points > 0
    assert google.reasons[0].field == "source" and google.reasons[0].points < 0
    stage = stage_chance(None, history.counts["stage"]["Proposal"], history.overall)
    assert google.probability < stage < referral.probability  # the stage alone cannot tell them apart


def test_where_the_source_decides_the_learned_method_scores_a_lower_brier_than_the_stage_method():
    train = count_history(synthetic_deals(400, seed=2))
    model = learn(train)
    rng = random.Random(3)
    learned_pairs, stage_pairs = [], []
    for reached, fields, won in synthetic_deals(300, seed=4):
        stage = rng.choice(reached[:-1] or reached)  # open in a stage it reached before closing
        deal = dict(fields, stage=stage)
        learned_pairs.append((win_chance(deal, None, None, model, "learned").probability, won))
        stage_pairs.append((stage_chance(None, train.counts["stage"].get(stage), train.overall), won))
    learned, stage = backtest.score(learned_pairs), backtest.score(stage_pairs)
    assert learned.brier < stage.brier - 0.03
    assert learned.auc > stage.auc
    assert sum(row.count for row in learned.calibration) == learned.deals == 300
    judged = backtest.verdict({"learned": learned, "stage": stage})
    assert judged.best == "learned" and not judged.tie
    assert "learned" in judged.text and "300 deals" in judged.text


# ---------------------------------------------------------------- stage percentages and the basis


def test_stage_chance_set_else_smoothed_historical_rate():
    overall = Tally(40, 60)
    assert stage_chance(70, Tally(1, 9), overall) == 70
    assert stage_chance(0, None, overall) == 0
    # (8 won + 5 x 0.4) / (10 closed + 5) = 10 / 15
    assert stage_chance(None, Tally(8, 2), overall) == 67
    assert stage_chance(None, Tally(1, 0), overall) == 50  # (1 + 2) / 6: one win is not certainty
    assert stage_chance(None, None, overall) == 40  # nothing closed from this stage: the overall rate
    assert stage_chance(None, None, Tally(0, 0)) is None


def test_win_chance_basis_by_method():
    model = learn(TINY, require_enough=False)
    assert win_chance(TINY_DEAL, 35, 20, model) == Chance(35, "set")
    assert win_chance(TINY_DEAL, None, 20, model).basis == "learned"
    assert win_chance(TINY_DEAL, None, 20, None) == Chance(20, "stage")
    assert win_chance(TINY_DEAL, 35, 20, model, "stage") == Chance(20, "stage")
    assert win_chance(TINY_DEAL, 35, 20, model, "learned").basis == "learned"
    assert win_chance(TINY_DEAL, 35, 20, None, "learned") == Chance(20, "stage")
    with pytest.raises(ValueError):
        win_chance(TINY_DEAL, None, 20, model, "guess")


def test_chance_text_for_people():
    chance = Chance(64, "learned", (Reason("source", "Referral", 18), Reason("stage", "Proposal", 6),
                                    Reason("business_type", "Agencies", -4)))
    assert chance_text(chance) == "Win chance 64% (learned: source Referral +18 pts, stage Proposal +6 pts, type Agencies −4 pts)"
    assert chance_text(Chance(30, "set")) == "Win chance 30% (set)"
    assert chance_text(Chance(None, "stage")) == "Win chance unknown (no closed deals yet)"


def test_chance_text_in_dutch():
    from salesselect_cli import i18n

    i18n.configure("nl")
    try:
        text = chance_text(Chance(64, "learned", (Reason("source", "Referral", 18),)))
        assert text == "Winkans 64% (geleerd: bron Referral +18 ptn)"
        assert chance_text(Chance(20, "stage")) == "Winkans 20% (fase)"
    finally:
        i18n.configure(None)


@pytest.mark.parametrize("cents, band", [(0, "0"), (1, "<5k"), (499_999, "<5k"), (500_000, "5k-10k"),
                                         (1_999_999, "10k-20k"), (2_000_000, "20k-50k"), (5_000_000, "50k+"),
                                         (10**14, "50k+")])
def test_value_bands(cents, band):
    assert value_band(cents) == band


def test_value_bands_cover_every_value_without_gaps():
    assert VALUE_BANDS[0].low_cents == 0 and VALUE_BANDS[-1].high_cents is None
    assert all(a.high_cents == b.low_cents for a, b in zip(VALUE_BANDS, VALUE_BANDS[1:]))
    assert len({band.key for band in VALUE_BANDS}) == len(VALUE_BANDS)
    with pytest.raises(ValueError):
        value_band(-1)


# ---------------------------------------------------------------- the forecast sums


def test_weighted_value_and_coverage_are_exact():
    assert weighted_cents(1_000_001, 33) == Decimal("330000.33")
    assert weighted_cents(500_000, None) == 0
    assert coverage(1_000_000, Decimal(500_000), 3_000_000) == Decimal("0.5000")
    assert coverage(1_000_000, Decimal(500_000), None) is None
    assert coverage(1_000_000, Decimal(500_000), 0) is None


def test_forecast_rows_per_group_with_won_and_goals():
    buckets = [
        Bucket("Ann", 2, 2_000_000, 50),   # two deals of 10k at 50%
        Bucket("Ann", 1, 333_333, 33),     # 3,333.33 at 33% = 1,099.9989 -> 1,100.00 once summed
        Bucket("Bob", 1, 1_000_000, None),  # no chance known: counted, not weighted
        Bucket("Bob", 1, 1_000_000, 10),
    ]
    rows = forecast_rows(buckets, {"Ann": 500_000, "Cas": 200_000}, {"Ann": 4_000_000, "Dee": 1_000_000})
    assert [row.group for row in rows] == ["Ann", "Bob", "Cas", "Dee"]
    ann, bob, cas, dee = rows
    assert (ann.count, ann.value_cents, ann.weighted_cents, ann.won_cents) == (3, 2_333_333, 1_110_000, 500_000)
    assert ann.coverage == Decimal("0.4025")  # (5,000 + 11,100) / 40,000
    assert (bob.count, bob.weighted_cents, bob.unknown, bob.goal_cents, bob.coverage) == (2, 100_000, 1, None, None)
    assert (cas.count, cas.won_cents, cas.coverage) == (0, 200_000, None)
    assert (dee.goal_cents, dee.coverage) == (1_000_000, Decimal("0.0000"))
    total = forecast_total(rows)
    assert (total.count, total.value_cents, total.weighted_cents, total.won_cents, total.unknown) == (
        5, 4_333_333, 1_210_000, 700_000, 1)
    assert total.goal_cents is None and total.coverage is None  # not every group has a goal
    assert forecast_total(rows, goal_cents=10_000_000).coverage == Decimal("0.1910")


def test_forecast_rows_without_groups_and_without_deals():
    assert forecast_rows([], {}, {}) == []
    rows = forecast_rows([Bucket(None, 1, 100, 100)], {None: 50}, {None: 300})
    assert rows[0].group is None and rows[0].coverage == Decimal("0.5000")
    assert forecast_total([]).count == 0


# ---------------------------------------------------------------- the backtest's scores


def test_brier_and_log_loss_by_hand():
    pairs = [(80, True), (30, False), (100, False)]
    assert backtest.brier(pairs) == pytest.approx((0.04 + 0.09 + 1.0) / 3)
    import math

    # 100% for a lost deal is clipped to 99%: one confident miss costs -log(0.01)
    assert backtest.log_loss(pairs) == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.01)) / 3)
    assert backtest.brier([]) is None and backtest.log_loss([]) is None


def test_auc_on_a_known_case_with_ties():
    # won at 90, 60, 40; lost at 60, 20: of 6 won/lost pairs 5 are ordered right and one (60 vs 60) ties
    assert backtest.auc([(90, True), (60, True), (40, True), (60, False), (20, False)]) == pytest.approx(4.5 / 6)
    assert backtest.auc([(50, True), (50, False)]) == 0.5
    assert backtest.auc([(10, True), (90, False)]) == 0.0
    assert backtest.auc([(10, True), (90, True)]) is None


def test_calibration_rows_per_tenth_add_up():
    pairs = [(5, False), (9, True), (10, False), (55, True), (55, False), (100, True), (95, True)]
    rows = backtest.calibration(pairs)
    assert [(r.low, r.high, r.count) for r in rows] == [(0, 10, 2), (10, 20, 1), (50, 60, 2), (90, 100, 2)]
    assert sum(r.count for r in rows) == len(pairs)
    assert rows[0].predicted == pytest.approx(0.07) and rows[0].actual == 0.5
    assert rows[-1].predicted == pytest.approx(0.975) and rows[-1].actual == 1.0


def test_wmape_and_bias_per_period():
    periods = [(1_200_000, 1_000_000), (500_000, 1_000_000), (0, 0)]
    assert backtest.wmape(periods) == Decimal("0.3500")  # (2,000 + 5,000) / 20,000
    assert backtest.bias(periods) == Decimal("-0.1500")  # promised 3,000 less than came in
    assert backtest.wmape([(100, 0)]) is None and backtest.bias([]) is None


def test_verdict_ties_and_too_few():
    def scored(brier_score, deals=100):
        return backtest.MethodScore(deals, brier_score, None, None, [], None, None)

    assert backtest.verdict({"stage": scored(0.2, 10)}).best is None
    tie = backtest.verdict({"learned": scored(0.195), "stage": scored(0.2)})
    assert tie.tie and tie.best == "stage"
    assert tie.text.endswith("keep to the simpler, the stage percentages.")
    clear = backtest.verdict({"learned": scored(0.15), "stage": scored(0.2), "set": scored(0.3)})
    assert (clear.best, clear.runner_up) == ("learned", "stage")
    assert "25% better" in clear.text
    assert backtest.verdict({"set": scored(0.3), "stage": scored(None)}).best == "set"


def test_every_verdict_is_a_sentence_in_either_language():
    from salesselect_cli import i18n

    def scored(brier_score, deals=100):
        return backtest.MethodScore(deals, brier_score, None, None, [], None, None)

    cases = [{"stage": scored(0.2, 10)}, {"learned": scored(0.195), "stage": scored(0.2)},
             {"learned": scored(0.15), "stage": scored(0.2)}, {"set": scored(0.3), "stage": scored(None)}]
    english = [backtest.verdict(case).text for case in cases]
    i18n.configure("nl")
    try:
        dutch = [backtest.verdict(case).text for case in cases]
    finally:
        i18n.configure(None)
    for text in english + dutch:
        assert text[0].isupper() and text.endswith("."), text
    assert dutch[1].startswith("Hier ongeveer even goed: de geleerde kansen (Brier 0.195) en de fasepercentages")
    assert all(nl != en for nl, en in zip(dutch, english))


def test_snapshot_dates_by_month_and_quarter():
    months = backtest.snapshot_dates(dt.date(2025, 1, 15), dt.date(2025, 12, 31), "month")
    assert len(months) == 11 and months[0] == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert months[-1] == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    quarters = backtest.snapshot_dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "quarter")
    assert [start for start, _end in quarters] == [dt.date(2025, m, 1) for m in (1, 4, 7, 10)]
    assert quarters[0][1] == dt.date(2025, 3, 31)
    assert backtest.snapshot_dates(dt.date(2025, 2, 2), dt.date(2025, 2, 27), "month") == []
    with pytest.raises(Invalid, match="month or quarter"):
        backtest.snapshot_dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "week")
    with pytest.raises(Invalid, match="after --to"):
        backtest.snapshot_dates(dt.date(2025, 2, 1), dt.date(2025, 1, 1), "month")


def test_default_backtest_range_is_the_last_twelve_whole_months():
    start, end = backtest.default_range(dt.date(2026, 11, 27), "month")
    assert (start, end) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    assert len(backtest.snapshot_dates(start, end, "month")) == 12
    assert backtest.default_range(dt.date(2026, 11, 27), "quarter") == (dt.date(2025, 10, 1), dt.date(2026, 9, 30))
    assert backtest.default_range(dt.date(2026, 10, 1), "quarter") == (dt.date(2025, 10, 1), dt.date(2026, 9, 30))


@pytest.mark.parametrize("text, percent", [("64", 64), ("64%", 64), (" 0 % ", 0), ("100", 100), (35, 35)])
def test_percentages_people_type(text, percent):
    assert parse_percent(text) == percent
    assert parse_percent(text, allow_auto=True) == percent


@pytest.mark.parametrize("text", ["101", "-5", "12.5", "", "%", "abc", "６４", "auto"])
def test_percentages_refused(text):
    with pytest.raises(Invalid, match="whole percentage from 0 to 100"):
        parse_percent(text)


def test_auto_lets_the_chance_follow_the_method_again():
    assert parse_percent("AUTO", allow_auto=True) is None
    with pytest.raises(Invalid, match="or 'auto'"):
        parse_percent("often", allow_auto=True)


def test_automatic_won_and_lost_stages_are_100_and_0():
    assert stage_set_percent("won", 40) == 100
    assert stage_set_percent("lost", None) == 0
    assert stage_set_percent(None, 40) == 40 and stage_set_percent(None, None) is None
