"""How good each way to a win chance has been on the agency's own history. Pure: pairs in, scores out.

A scored pair is (chance 0-100, won?) for a deal open at a snapshot date, its chance as each method
would have given it then. Money per period (forecast against what was won) is integer cents.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import N_, _
from salesselect_cli.rules.periods import add_months

STEPS = ("month", "quarter")
# Chances are whole percentages: 1% short of certainty is the finest a shown chance can be, so log loss
# clips there and one confident miss costs log(100) = 4.6, not infinity.
LOG_LOSS_CLIP = 0.01
BINS = 10
# Fewer deals scored than this and no method is called better than another.
MIN_SCORED = 30
# A Brier difference under this is noise at the sizes an agency has: call it a tie.
BRIER_TIE = 0.01

Pair = tuple[int, bool]


def _fractions(pairs: Iterable[Pair]) -> list[tuple[float, int]]:
    return [(percent / 100, 1 if won else 0) for percent, won in pairs]


def brier(pairs: Iterable[Pair]) -> float | None:
    """Mean squared distance between chance and outcome (0 perfect, 0.25 a coin toss); None without pairs."""
    scored = _fractions(pairs)
    if not scored:
        return None
    return sum((p - won) ** 2 for p, won in scored) / len(scored)


def log_loss(pairs: Iterable[Pair], clip: float = LOG_LOSS_CLIP) -> float | None:
    """Mean negative log-likelihood of the outcomes, chances clipped to [clip, 1 - clip]; None without pairs."""
    scored = _fractions(pairs)
    if not scored:
        return None
    total = 0.0
    for p, won in scored:
        p = min(max(p, clip), 1 - clip)
        total -= math.log(p if won else 1 - p)
    return total / len(scored)


def auc(pairs: Iterable[Pair]) -> float | None:
    """The chance that a won deal was given a higher chance than a lost one (ties count half):
    0.5 is guessing, 1 a perfect ranking. None unless both outcomes occur."""
    ordered = sorted(pairs, key=lambda pair: pair[0])
    won_count = sum(1 for _chance, won in ordered if won)
    lost_count = len(ordered) - won_count
    if not won_count or not lost_count:
        return None
    rank_sum, index = 0.0, 0
    while index < len(ordered):  # average ranks over each group of equal chances (Mann-Whitney)
        end = index
        while end < len(ordered) and ordered[end][0] == ordered[index][0]:
            end += 1
        average_rank = (index + 1 + end) / 2
        rank_sum += average_rank * sum(1 for _chance, won in ordered[index:end] if won)
        index = end
    return (rank_sum - won_count * (won_count + 1) / 2) / (won_count * lost_count)


@dataclass(frozen=True)
class CalibrationRow:
    """The deals given a chance in [low, high) percent (the last tenth includes 100): their mean chance
    and the share of them that was won, both as fractions, and how many."""

    low: int
    high: int
    predicted: float
    actual: float
    count: int


def calibration(pairs: Iterable[Pair], bins: int = BINS) -> list[CalibrationRow]:
    """Per tenth of chance that has deals: mean predicted, actual win rate, count. The counts add up to the pairs."""
    width = 100 // bins
    sums: dict[int, list] = {}
    for percent, won in pairs:
        slot = min(percent // width, bins - 1)
        row = sums.setdefault(slot, [0, 0, 0])
        row[0] += percent
        row[1] += 1 if won else 0
        row[2] += 1
    return [CalibrationRow(slot * width, (slot + 1) * width, total / count / 100, won / count, count)
            for slot, (total, won, count) in sorted(sums.items())]


def wmape(periods: Iterable[tuple[int, int]]) -> Decimal | None:
    """Weighted mean absolute percentage error over periods of (forecast cents, won cents):
    Σ|forecast − won| / Σ won, 4 decimals. None when nothing was won in any period."""
    periods = list(periods)
    won = sum(actual for _forecast, actual in periods)
    if not won:
        return None
    return _ratio(sum(abs(forecast - actual) for forecast, actual in periods), won)


def bias(periods: Iterable[tuple[int, int]]) -> Decimal | None:
    """Σ(forecast − won) / Σ won, 4 decimals: above 0 the forecast promised more than came in."""
    periods = list(periods)
    won = sum(actual for _forecast, actual in periods)
    if not won:
        return None
    return _ratio(sum(forecast - actual for forecast, actual in periods), won)


def _ratio(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


@dataclass(frozen=True)
class MethodScore:
    """One method's record: `deals` pairs scored, the scores (None where undefined) and the money per period."""

    deals: int
    brier: float | None
    log_loss: float | None
    auc: float | None
    calibration: list[CalibrationRow]
    wmape: Decimal | None
    bias: Decimal | None


def score(pairs: Sequence[Pair], periods: Iterable[tuple[int, int]] = ()) -> MethodScore:
    """Every score of one method from its (chance, won?) pairs and its (forecast, won) cents per period."""
    periods = list(periods)
    return MethodScore(len(pairs), brier(pairs), log_loss(pairs), auc(pairs), calibration(pairs), wmape(periods),
                       bias(periods))


@dataclass(frozen=True)
class Verdict:
    """Which method to trust (None: too little to tell), the runner-up and the Brier scores behind it."""

    best: str | None
    runner_up: str | None
    best_brier: float | None
    runner_up_brier: float | None
    tie: bool
    text: str


METHOD_NAMES = {"set": N_("the percentages set on deals"), "learned": N_("the learned chances"),
                "stage": N_("the stage percentages")}


def verdict(scores: Mapping[str, MethodScore]) -> Verdict:
    """The one line for people: the method with the lowest Brier score among those with MIN_SCORED deals,
    and by how much it beats the next; within BRIER_TIE they tie and the simpler stage method is advised."""
    ranked = sorted(((s.brier, method) for method, s in scores.items() if s.deals >= MIN_SCORED and s.brier is not None),
                    key=lambda item: (item[0], item[1] != "stage"))
    if not ranked:
        most = max((s.deals for s in scores.values()), default=0)
        return Verdict(None, None, None, None, False,
                       _("Too few deals to judge any method ({count} scored, {minimum} needed).").format(
                           count=most, minimum=MIN_SCORED))
    best_brier, best = ranked[0]
    if len(ranked) == 1:
        return Verdict(best, None, best_brier, None, False,
                       _("Only {method} could be scored: Brier {brier} ({count} deals).").format(
                           method=_(METHOD_NAMES[best]), brier=f"{best_brier:.3f}", count=scores[best].deals))
    second_brier, second = ranked[1]
    if second_brier - best_brier < BRIER_TIE:
        simpler = "stage" if "stage" in (best, second) else best
        other = second if simpler == best else best
        return Verdict(simpler, other, scores[simpler].brier, scores[other].brier, True,
                       _("About as good here: {method} (Brier {brier}) and {other} (Brier {other_brier}); "
                         "keep to the simpler, {simple}.").format(
                           method=_(METHOD_NAMES[best]), other=_(METHOD_NAMES[second]), brier=f"{best_brier:.3f}",
                           other_brier=f"{second_brier:.3f}", simple=_(METHOD_NAMES[simpler])))
    better = round(100 * (second_brier - best_brier) / second_brier) if second_brier else 0
    return Verdict(best, second, best_brier, second_brier, False,
                   _("Trust {method} here: Brier {brier} against {other_brier} for {other} ({better}% better, "
                     "{count} deals).").format(method=_(METHOD_NAMES[best]), brier=f"{best_brier:.3f}",
                                              other_brier=f"{second_brier:.3f}", other=_(METHOD_NAMES[second]),
                                              better=better, count=scores[best].deals))


# ---------------------------------------------------------------- snapshot dates


def _step_months(step: str) -> int:
    if step not in STEPS:
        raise Invalid(_("--step must be month or quarter, not '{step}'").format(step=step))
    return 1 if step == "month" else 3


def _boundary_on_or_after(day: dt.date, months: int) -> dt.date:
    start = day.replace(day=1)
    if months == 3:
        start = start.replace(month=3 * ((start.month - 1) // 3) + 1)
    return start if start == day else add_months(start, months)


def snapshot_dates(start: dt.date, end: dt.date, step: str) -> list[tuple[dt.date, dt.date]]:
    """The backtest's snapshots from `start` to `end` inclusive: each first day of a month (or quarter) in the
    range, with the last day of the period it forecasts (the day before the next snapshot boundary)."""
    months = _step_months(step)
    if start > end:
        raise Invalid(_("--from {isoformat} is after --to {isoformat2}").format(
            isoformat=start.isoformat(), isoformat2=end.isoformat()))
    snapshots = []
    day = _boundary_on_or_after(start, months)
    while day <= end:
        following = add_months(day, months)
        snapshots.append((day, following - dt.timedelta(days=1)))
        day = following
    return snapshots


def default_range(today: dt.date, step: str) -> tuple[dt.date, dt.date]:
    """Without --from/--to: the twelve months (four quarters) before the current one, so each snapshot's
    period is over and its outcome known."""
    months = _step_months(step)
    current = _boundary_on_or_after(today, months)
    if current > today:
        current = add_months(current, -months)
    return add_months(current, -12), current - dt.timedelta(days=1)
