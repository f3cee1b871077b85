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
    """The forecast's rows (one per group; one row without --by), its total and the method used."""

    rows: "list[ForecastRow]"
    total: "ForecastRow"
    method: str
    learned: bool  # whether a learned model was in force


def forecast(session: "Session", flt: "OpportunityFilter", period: "Period", by: str | None = None,
             method: str = "auto") -> Forecast:
    """`report forecast`: open deals expected in the period, weighted by their chance, won value and goals.

    The store groups the deals by what decides a chance (stage, type, source, owner, value band, set
    percentage); each bucket's chance is computed once, so a million deals are a few thousand chances."""
    from salesselect_cli.rules.forecast import Bucket, forecast_rows, forecast_total

    store = session.store
    context = store.chance_context()
    buckets = []
    for group, stage, business_type, source, owner, band, set_percent, count, value in store.forecast_buckets(
            flt, period.start, period.end, by, session.today):
        deal = {"stage": stage, "business_type": business_type, "source": source, "owner": owner, "value_band": band}
        chance = context.chance(deal, set_percent, method, explain=False)
        buckets.append(Bucket(group, int(count), int(value or 0), chance.probability))
    won = store.forecast_won(flt, period.start, period.end, by)
    goals = store.goal_cents(period.start, period.end, by) if not (flt.business_type or flt.source) else {}
    if by is None:  # one row: the agency's
        buckets = [Bucket(None, b.count, b.value_cents, b.percent) for b in buckets]
    rows = forecast_rows(buckets, won, goals)
    if by is None and not rows:
        rows = forecast_rows([Bucket(None, 0, 0, 0)], {}, goals)
    # the total's goal: the sum of the rows' when every row has one (forecast_total), so coverage compares like with like
    return Forecast(rows, forecast_total(rows), method, context.model is not None)


def _may_set_goals(session: "Session") -> None:
    from salesselect_cli.errors import PermissionDenied
    from salesselect_cli.i18n import _

    actor = session.store.actor()
    if not (actor.key_user or actor.role == "manager"):
        raise PermissionDenied(_("only managers and key users may {what}; '{name}' is not one").format(
            what=_(SET_GOALS), name=actor.name))


def set_goal(session: "Session", owner: str, amount_cents: int, period: "Period", period_text: str) -> None:
    """`goal set`: managers and key users."""
    _may_set_goals(session)
    session.store.set_goal(owner, period.start, period.end, amount_cents, period_text)


def remove_goal(session: "Session", owner: str, period: "Period", period_text: str) -> None:
    """`goal remove`: managers and key users."""
    _may_set_goals(session)
    session.store.remove_goal(owner, period.start, period.end, period_text)


def list_goals(session: "Session", period: "Period | None" = None) -> list[dict]:
    return session.store.list_goals(period.start if period else None, period.end if period else None)
