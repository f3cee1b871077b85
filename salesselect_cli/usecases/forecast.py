"""The forecast and goals: what the open pipeline will bring in a period, against each owner's goal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from salesselect_cli.i18n import N_

if TYPE_CHECKING:
    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.rules.forecast import ForecastRow
    from salesselect_cli.rules.periods import Period
    from salesselect_cli.session import Session

BY = ("owner", "type", "source", "stage")
SET_GOALS = N_("set goals")


@dataclass(frozen=True)
class Forecast:
    """The forecast's rows (one per group; one row without --by), its total, the method used and the currency."""

    rows: "list[ForecastRow]"
    total: "ForecastRow"
    method: str
    learned: bool  # whether a learned model was in force
    currency: str


def forecast(session: "Session", flt: "OpportunityFilter", period: "Period", by: str | None = None,
             method: str = "auto") -> Forecast:
    """`report forecast`: open deals expected in the period, weighted by their chance, won value and goals.

    The store groups the deals by what decides a chance (stage, type, source, owner, value band, set
    percentage); each bucket's chance is computed once, so a million deals are a few thousand chances."""
    from salesselect_cli.rules.forecast import Bucket, forecast_rows, forecast_total

    store = session.store
    context = store.forecast.chance_context()
    buckets = []
    for group, stage, business_type, source, owner, band, set_percent, count, value in store.forecast.forecast_buckets(
            flt, period.start, period.end, by, session.today):
        deal = {"stage": stage, "business_type": business_type, "source": source, "owner": owner, "value_band": band}
        chance = context.chance(deal, set_percent, method, explain=False)
        buckets.append(Bucket(group, int(count), int(value or 0), chance.probability))
    won = store.forecast.forecast_won(flt, period.start, period.end, by)
    goals = store.forecast.goal_cents(period.start, period.end, by) if not (flt.business_type or flt.source) else {}
    if by is None:  # one row: the agency's
        buckets = [Bucket(None, b.count, b.value_cents, b.percent) for b in buckets]
    rows = forecast_rows(buckets, won, goals)
    if by is None and not rows:
        rows = forecast_rows([Bucket(None, 0, 0, 0)], {}, goals)
    # the total's goal: the sum of the rows' when every row has one (forecast_total), so coverage compares like with like
    return Forecast(rows, forecast_total(rows), method, context.model is not None, store.people.currency)


def _may_set_goals(session: "Session") -> None:
    from salesselect_cli.errors import PermissionDenied
    from salesselect_cli.i18n import _

    actor = session.store.people.actor()
    if not (actor.key_user or actor.role == "manager"):
        raise PermissionDenied(_("only managers and key users may {what}; '{name}' is not one").format(
            what=_(SET_GOALS), name=actor.name))


def set_goal(session: "Session", owner: str, amount_cents: int, period: "Period") -> None:
    """`goal set`: managers and key users."""
    _may_set_goals(session)
    session.store.forecast.set_goal(owner, period.start, period.end, amount_cents)


def remove_goal(session: "Session", owner: str, period: "Period", period_text: str) -> None:
    """`goal remove`: managers and key users."""
    _may_set_goals(session)
    session.store.forecast.remove_goal(owner, period.start, period.end, period_text)


def list_goals(session: "Session", period: "Period | None" = None) -> list[dict]:
    return session.store.forecast.list_goals(period.start if period else None, period.end if period else None)


@dataclass(frozen=True)
class Backtest:
    """What `report forecast --backtest` found: the snapshot dates, how many deal-snapshots were scored per
    method (the stage and learned methods score every one) and each method's scores, with the verdict."""

    snapshots: list
    deals_scored: int
    scores: dict
    verdict: object


def backtest(session: "Session", start=None, end=None, step: str = "month") -> Backtest:
    """Replay the history: at each snapshot, the deals open then (since closed) in the stage they were in,
    each method trained only on deals closed before the snapshot, scored against what happened.

    Per period, a method's forecast is Σ value x chance over the deals decided within the period, against the
    value of those that were won (what a forecast of the period's decisions should have said)."""
    from salesselect_cli.rules import backtest as scoring
    from salesselect_cli.rules.forecast import parse_percent

    store = session.store
    if start is None or end is None:
        first, last = scoring.default_range(session.today, step)
        start, end = start or first, end or last
    snapshots = scoring.snapshot_dates(start, end, step)
    pairs: dict[str, list] = {"stage": [], "learned": [], "set": []}
    periods: dict[str, list] = {"stage": [], "learned": [], "set": []}
    # every snapshot's counts in one statement, not one per snapshot (each a full count of two years of deals)
    contexts = store.forecast.chance_contexts([day for day, _period_end in snapshots])
    for context, deals in zip(contexts, store.forecast.backtest_snapshots(snapshots)):
        money = {method: [0, 0] for method in pairs}
        for stage, business_type, source, owner, band, set_then, status, in_period, count, value in deals:
            deal = {"stage": stage, "business_type": business_type, "source": source, "owner": owner,
                    "value_band": band}
            won = status == "won"
            chances = {method: context.chance(deal, None, method, explain=False).probability
                       for method in ("stage", "learned")}
            if set_then not in (None, "auto"):
                chances["set"] = parse_percent(set_then)
            for method, percent in chances.items():
                if percent is None:
                    continue  # nothing had closed before this snapshot: no chance to score
                pairs[method].extend([(percent, won)] * int(count))
                if in_period:
                    money[method][0] += int(value or 0) * percent // 100
                    money[method][1] += int(value or 0) if won else 0
        for method in pairs:
            periods[method].append(tuple(money[method]))
    scores = {method: scoring.score(pairs[method], periods[method]) for method in pairs}
    return Backtest([day for day, _end in snapshots], max(len(pairs["stage"]), len(pairs["learned"])), scores,
                    scoring.verdict(scores))
