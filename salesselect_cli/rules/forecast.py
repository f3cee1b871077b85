"""Win chances and the forecast. Pure: the store counts, these functions decide.

Three ways to a deal's chance (its `basis`):
- `set`: a percentage put on the deal itself (`opp edit --probability`);
- `learned`: naive Bayes over the agency's closed deals, in the manner of Odoo's predictive lead
  scoring (`_pls_get_naive_bayes_probabilities`, addons/crm/models/crm_lead.py): per field value a
  won and a lost count, each plus SMOOTHING; a deal counts for every stage it reached;
- `stage`: the stage's set percentage, else the stage's own historical win rate.
Chances are whole percentages, 0-100: what a person sees is what the forecast sums and the backtest scores.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import accumulate

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import N_, _
from salesselect_cli.rules.stages import stage_set_percent

# The fields the learned chance looks at, in the order reasons are listed when their points tie.
FIELDS = ("stage", "business_type", "source", "owner", "value_band")
FIELD_LABELS = {"stage": N_("stage"), "business_type": N_("type"), "source": N_("source"), "owner": N_("owner"),
                "value_band": N_("value")}
BASES = ("set", "learned", "stage")
METHODS = ("auto", "stage", "learned")

# Odoo's smoothing: a value never seen lost must not make a deal certain; +1 would swamp small counts.
SMOOTHING = 0.1
# Learned chances need both outcomes well represented: 30 + 30 closed deals in the window keep one
# source's or owner's estimate within about ten points; Salesforce asks 200 + 200, Odoo nothing.
MIN_WON = 30
MIN_LOST = 30
LEARNING_YEARS = 2
# A stage's historical rate is pulled towards the overall rate as if it had this many more closed deals,
# so a stage with one closed deal does not claim 0% or 100%.
STAGE_PRIOR_DEALS = 5
# A learned chance never claims certainty (Odoo clamps to 0.01-99.99%; we show whole percentages).
LEARNED_FLOOR, LEARNED_CEILING = 1, 99
TOP_REASONS = 3


@dataclass(frozen=True)
class ValueBand:
    """Deal values from `low_cents` up to (not including) `high_cents`; None: no upper end."""

    key: str
    low_cents: int
    high_cents: int | None


# Bands of a recruitment fee: the store groups by these edges (a CASE over value_cents), so keys are stable text.
VALUE_BANDS = (
    ValueBand("0", 0, 1),
    ValueBand("<5k", 1, 500_000),
    ValueBand("5k-10k", 500_000, 1_000_000),
    ValueBand("10k-20k", 1_000_000, 2_000_000),
    ValueBand("20k-50k", 2_000_000, 5_000_000),
    ValueBand("50k+", 5_000_000, None),
)


def value_band(value_cents: int) -> str:
    """The band key of a deal's value in cents ('0' for a deal without a value)."""
    for band in VALUE_BANDS:
        if value_cents >= band.low_cents and (band.high_cents is None or value_cents < band.high_cents):
            return band.key
    raise ValueError(f"negative value: {value_cents}")


def learning_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """Closed deals the learned chance trains on: closed from this day two years back up to `today`, inclusive."""
    year = today.year - LEARNING_YEARS
    if year < 1:
        return dt.date(1, 1, 1), today
    day = today.day if not (today.month == 2 and today.day == 29) else 28
    return dt.date(year, today.month, day), today


@dataclass(frozen=True)
class Tally:
    """Closed deals: how many were won and how many lost."""

    won: int
    lost: int

    @property
    def closed(self) -> int:
        return self.won + self.lost


@dataclass(frozen=True)
class History:
    """What the store counts over the closed deals in the learning window.

    `won`/`lost`: the closed deals. `counts[field][value]`: the won and lost deals with that value:
    for `stage`, every deal that reached the stage (from stage history, once per deal); for the other
    FIELDS, the deal's value at closing (business type, source and owner names, VALUE_BANDS key).
    Values with no closed deal are simply absent.
    """

    won: int
    lost: int
    counts: Mapping[str, Mapping[str, Tally]]

    @property
    def overall(self) -> Tally:
        return Tally(self.won, self.lost)


def history_from_counts(won: int, lost: int, rows: Iterable[tuple[str, str | None, int, int]]) -> History:
    """A History from the store's counting query: rows of (field, value, won, lost), one per field value
    (a value of None, such as a deal without a source, is left out: it tells nothing)."""
    counts: dict[str, dict[str, Tally]] = {}
    for field, value, value_won, value_lost in rows:
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}")
        if value is not None:
            counts.setdefault(field, {})[str(value)] = Tally(int(value_won), int(value_lost))
    return History(won, lost, counts)


@dataclass(frozen=True)
class WindowBuckets:
    """How one grouped count serves several learning windows (the backtest's snapshots).

    `tests`: (comparison, day) pairs in order, each passed by every closing day the one before it passes; a
    closing day's bucket is the index of the first test it passes (len(tests) when none). `spans`: per window,
    its first and last bucket (first > last: an empty window). A window's counts are the sums of its buckets'."""

    tests: tuple[tuple[str, str], ...]
    spans: tuple[tuple[int, int], ...]


def window_buckets(windows: Sequence[tuple[dt.date, dt.date]]) -> WindowBuckets:
    """The buckets of closing days that the windows (first and last day, inclusive) are made of: a day d is in
    window (s, e) when it fails `d < s` and passes `d <= e`, i.e. when its bucket lies after the first test
    and not after the second. On one day `<` comes before `<=` (what it passes, `<=` passes too)."""
    tests = sorted({("<", start.isoformat()) for start, _end in windows}
                   | {("<=", end.isoformat()) for _start, end in windows}, key=lambda test: (test[1], test[0]))
    position = {test: index for index, test in enumerate(tests)}
    spans = tuple((position["<", start.isoformat()] + 1, position["<=", end.isoformat()]) for start, end in windows)
    return WindowBuckets(tuple(tests), spans)


def histories_from_bucket_counts(rows: Iterable[tuple[str, str | None, int, int, int]],
                                 buckets: WindowBuckets) -> list[History]:
    """One History per window from the store's counts per bucket: rows of (field, value, bucket, won, lost),
    field 'total' for all closed deals (value None). A value is in a window when a row of it falls in one of
    the window's buckets; values keep the order their first rows come in (the store sorts them by name, so
    the learned model's float sums run in the order one window alone would give)."""
    size = len(buckets.tests) + 1
    # per (field, value): won and lost per bucket, then running sums, so each window costs two subtractions
    counts: dict[tuple[str, str | None], tuple[list[int], list[int], list[int]]] = {}
    for field, value, bucket, value_won, value_lost in rows:
        won, lost, rows_in = counts.setdefault((field, value), ([0] * size, [0] * size, [0] * size))
        won[bucket] += int(value_won)
        lost[bucket] += int(value_lost)
        rows_in[bucket] += 1
    running = {key: tuple(list(accumulate(series, initial=0)) for series in value) for key, value in counts.items()}

    def between(series: list[int], first: int, last: int) -> int:
        return series[last + 1] - series[first] if first <= last else 0

    histories = []
    for first, last in buckets.spans:
        total_won = total_lost = 0
        found = []
        for (field, value), (won, lost, rows_in) in running.items():
            if not between(rows_in, first, last):
                continue
            if field == "total":
                total_won, total_lost = between(won, first, last), between(lost, first, last)
            else:
                found.append((field, value, between(won, first, last), between(lost, first, last)))
        histories.append(history_from_counts(total_won, total_lost, found))
    return histories


def enough_history(history: History) -> bool:
    """Whether the learned chance is in force: at least MIN_WON won and MIN_LOST lost closed deals."""
    return history.won >= MIN_WON and history.lost >= MIN_LOST


def parse_percent(text: str | int, allow_auto: bool = False) -> int | None:
    """A percentage typed by a person: '64', '64%' or ' 64 % ' -> 64; 'auto' -> None when `allow_auto`
    (`opp edit --probability auto`: follow the method again). Whole numbers 0-100 only."""
    raw = str(text).strip()
    if allow_auto and raw.casefold() == "auto":
        return None
    number = raw.removesuffix("%").strip()
    if not number.isascii() or not number.isdigit() or int(number) > 100:
        if allow_auto:
            raise Invalid(_("probability must be a whole percentage from 0 to 100 or 'auto', not '{text}'").format(text=raw))
        raise Invalid(_("probability must be a whole percentage from 0 to 100, not '{text}'").format(text=raw))
    return int(number)


def stage_chance(set_percent: int | None, reached: Tally | None, overall: Tally) -> int | None:
    """A stage's percentage: the one set for it, else the win rate of the closed deals that reached it,
    smoothed towards the overall win rate (STAGE_PRIOR_DEALS). None when nothing has closed yet."""
    if set_percent is not None:
        return set_percent
    if overall.closed == 0:
        return None
    prior = overall.won / overall.closed
    won, closed = (reached.won, reached.closed) if reached else (0, 0)
    return _whole_percent((won + STAGE_PRIOR_DEALS * prior) / (closed + STAGE_PRIOR_DEALS))


@dataclass(frozen=True)
class LearnedModel:
    """The frequency tables of naive Bayes, read off a History once; `factors` and `fraction` apply them to a deal."""

    history: History
    field_totals: Mapping[str, tuple[float, float]]

    def factors(self, deal: Mapping[str, str | None]) -> dict[str, tuple[float, float]]:
        """Per field of the deal the table knows: P(value | won) and P(value | lost), smoothed."""
        found = {}
        for field in FIELDS:
            value = deal.get(field)
            tally = self.history.counts.get(field, {}).get(value) if value is not None else None
            if tally is None:
                continue  # a value never seen closed tells nothing (as Odoo skips it)
            total_won, total_lost = self.field_totals[field]
            if not total_won or not total_lost:
                continue
            found[field] = ((tally.won + SMOOTHING) / total_won, (tally.lost + SMOOTHING) / total_lost)
        return found

    def fraction(self, factors: Mapping[str, tuple[float, float]]) -> float:
        """P(won | the deal's values) = S(won) / (S(won) + S(lost)), S = prior x the product of the factors."""
        closed = self.history.won + self.history.lost
        score_won, score_lost = self.history.won / closed, self.history.lost / closed
        for won, lost in factors.values():
            score_won *= won
            score_lost *= lost
        return score_won / (score_won + score_lost)


def learn(history: History, require_enough: bool = True) -> LearnedModel | None:
    """The learned model, or None when the history is too thin (enough_history) or one outcome never occurred."""
    if history.won == 0 or history.lost == 0 or (require_enough and not enough_history(history)):
        return None
    totals = {}
    for field in FIELDS:
        if field == "stage":
            # every closed deal reached some first stage; its smoothed count is the whole (as in Odoo)
            totals[field] = (history.won + SMOOTHING, history.lost + SMOOTHING)
        else:
            tallies = history.counts.get(field, {}).values()
            totals[field] = (sum(t.won + SMOOTHING for t in tallies), sum(t.lost + SMOOTHING for t in tallies))
    return LearnedModel(history, totals)


@dataclass(frozen=True)
class Reason:
    """One field's part in a learned chance: how many points the chance moves when this field is counted."""

    field: str
    value: str
    points: int


@dataclass(frozen=True)
class Chance:
    """A deal's win chance: 0-100 (None: nothing to go on yet), how it was reached and, when learned, why."""

    probability: int | None
    basis: str
    reasons: tuple[Reason, ...] = ()


def learned_chance(model: LearnedModel, deal: Mapping[str, str | None], explain: bool = True) -> Chance:
    """The learned chance of one deal (`deal`: FIELDS -> its value) with its top reasons (`explain`).

    A reason's points: the chance with every field minus the chance without that field, so each says
    what that field alone moves; listed by size, largest first. A forecast over many deals leaves
    `explain` off: the reasons cost four times the chance."""
    factors = model.factors(deal)
    full = model.fraction(factors)
    reasons = []
    for field in factors if explain else ():
        without = {other: pair for other, pair in factors.items() if other != field}
        points = round(100 * (full - model.fraction(without)))
        if points:
            reasons.append(Reason(field, str(deal[field]), points))
    reasons.sort(key=lambda reason: (-abs(reason.points), FIELDS.index(reason.field)))
    probability = min(max(_whole_percent(full), LEARNED_FLOOR), LEARNED_CEILING)
    return Chance(probability, "learned", tuple(reasons[:TOP_REASONS]))


def win_chance(deal: Mapping[str, str | None], set_percent: int | None, stage_percent: int | None,
               model: LearnedModel | None, method: str = "auto", explain: bool = True) -> Chance:
    """A deal's chance by `method`: `auto` takes the deal's own set percentage, else the learned chance when
    a model is in force, else the stage's; `learned` and `stage` ignore the set percentage; `learned`
    without a model falls back to the stage (the basis says so)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    if method == "auto" and set_percent is not None:
        return Chance(set_percent, "set")
    if method != "stage" and model is not None:
        return learned_chance(model, deal, explain)
    return Chance(stage_percent, "stage")


@dataclass(frozen=True)
class ChanceContext:
    """What a deal's chance needs, read once per command: the history, the learned model (None when too thin)
    and per stage name (auto_status, the percentage set)."""

    history: History
    model: LearnedModel | None
    stages: dict[str, tuple[str | None, int | None]]

    def stage_percent(self, stage: str) -> int | None:
        auto, set_percent = self.stages.get(stage, (None, None))
        reached = self.history.counts.get("stage", {}).get(stage)
        return stage_chance(stage_set_percent(auto, set_percent), reached, self.history.overall)

    def chance(self, deal: dict, set_percent: int | None, method: str = "auto", explain: bool = True) -> Chance:
        """`deal`: FIELDS -> value (stage, business_type, source, owner, value_band)."""
        auto = self.stages.get(deal["stage"], (None, None))[0]
        if auto is not None:  # a closed deal's chance is its outcome
            return Chance(stage_set_percent(auto, None), "stage")
        return win_chance(deal, set_percent, self.stage_percent(deal["stage"]), self.model, method, explain)


def chance_text(chance: Chance) -> str:
    """For people: 'Win chance 64% (learned: source Referral +18 pts, stage Proposal +6 pts, type Agencies −4 pts)'."""
    if chance.probability is None:
        return _("Win chance unknown (no closed deals yet)")
    basis = {"set": _("set"), "learned": _("learned"), "stage": _("stage")}[chance.basis]
    parts = [_("{field} {value} {points} pts").format(field=_(FIELD_LABELS[r.field]), value=r.value,
                                                     points=f"{'+' if r.points > 0 else '−'}{abs(r.points)}")
             for r in chance.reasons]
    detail = f"{basis}: {', '.join(parts)}" if parts else basis
    return _("Win chance {percent}% ({detail})").format(percent=chance.probability, detail=detail)


def _whole_percent(fraction: float) -> int:
    return int(Decimal(repr(100 * fraction)).quantize(Decimal(1), ROUND_HALF_EVEN)) if math.isfinite(fraction) else 0


# ---------------------------------------------------------------- the forecast sums

CENT = Decimal("0.01")


def weighted_cents(value_cents: int, percent: int | None) -> Decimal:
    """value x chance, exact (a fraction of a cent is kept until the total is rounded). No chance: 0."""
    return Decimal(value_cents) * (percent or 0) / 100


def coverage(won_cents: int, weighted: Decimal, goal_cents: int | None) -> Decimal | None:
    """(won + weighted) / goal as a fraction, 4 decimals; None without a goal (or with a goal of 0)."""
    if not goal_cents:
        return None
    return ((Decimal(won_cents) + weighted) / Decimal(goal_cents)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Bucket:
    """One row of the store's GROUP BY over the open deals expected in the period: the deals of one group
    that share one chance (same FIELDS values and the same set percentage)."""

    group: str | None
    count: int
    value_cents: int
    percent: int | None


@dataclass(frozen=True)
class ForecastRow:
    """One line of `report forecast`. `weighted_cents` is rounded to whole cents; `unknown` counts deals
    without a chance (no set percentage and nothing closed yet), which add nothing to `weighted_cents`."""

    group: str | None
    count: int
    value_cents: int
    weighted_cents: int
    won_cents: int
    goal_cents: int | None
    coverage: Decimal | None
    unknown: int = 0


def forecast_rows(buckets: Iterable[Bucket], won_cents: Mapping[str | None, int],
                  goal_cents: Mapping[str | None, int]) -> list[ForecastRow]:
    """The forecast per group: open count and value, weighted value, value won in the period, goal and coverage.
    A group with only won value or only a goal gets a row too. Ordered by group name, no group last."""
    sums: dict[str | None, list] = {}
    for bucket in buckets:
        row = sums.setdefault(bucket.group, [0, 0, Decimal(0), 0])
        row[0] += bucket.count
        row[1] += bucket.value_cents
        row[2] += weighted_cents(bucket.value_cents, bucket.percent)
        row[3] += bucket.count if bucket.percent is None else 0
    groups = set(sums) | set(won_cents) | set(goal_cents)
    rows = []
    for group in sorted(groups, key=lambda g: (g is None, str(g).casefold() if g is not None else "")):
        count, value, weighted, unknown = sums.get(group, (0, 0, Decimal(0), 0))
        won, goal = won_cents.get(group, 0), goal_cents.get(group)
        rows.append(ForecastRow(group, count, value, _cents(weighted), won, goal, coverage(won, weighted, goal), unknown))
    return rows


def forecast_total(rows: Iterable[ForecastRow], goal_cents: int | None = None) -> ForecastRow:
    """The total line: sums of the rows; its goal is `goal_cents` when given (the agency's), else the sum of
    the rows' goals when every row has one, else None."""
    rows = list(rows)
    count, value = sum(r.count for r in rows), sum(r.value_cents for r in rows)
    weighted, won = sum(r.weighted_cents for r in rows), sum(r.won_cents for r in rows)
    if goal_cents is None and rows and all(r.goal_cents is not None for r in rows):
        goal_cents = sum(r.goal_cents for r in rows)
    return ForecastRow(None, count, value, weighted, won, goal_cents, coverage(won, Decimal(weighted), goal_cents),
                       sum(r.unknown for r in rows))


def _cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_EVEN))
