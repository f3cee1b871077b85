"""Reports: win/loss, sources, pipeline and the stage funnel over a period, each with the agency's currency."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.session import Session


class Report:
    """A report's rows (the store's shape, sums in cents) and the currency to show its money in.

    months  the pipeline by month (empty for the other reports, and for a pipeline by stage only)
    """

    __slots__ = ("rows", "months", "currency")

    def __init__(self, rows: list[dict], currency: str, months: list[dict] | None = None):
        self.rows, self.currency, self.months = rows, currency, months or []


def expecting_winloss(flt: "OpportunityFilter", span, with_ids: bool = False, by_owner: bool = False):
    """For open_session(expect=...): the win/loss report's read over `span` (its period built ahead; None: not
    known before the session opens), sent with the session's first round trip when it needs no name looked up."""

    def expect(store) -> None:
        if span is not None:
            store.reports.expect_winloss(flt, span.start, span.end, with_ids=with_ids, by_owner=by_owner)

    return expect


def winloss(session: "Session", flt: "OpportunityFilter", start: "dt.date", end: "dt.date",
            with_ids: bool = False, by_owner: bool = False) -> Report:
    """Deals won and lost between `start` and `end`, by stage and reason (`with_ids`: their ids too; `by_owner`:
    per owner first)."""
    store = session.store
    return Report(store.reports.report_winloss(flt, start, end, with_ids=with_ids, by_owner=by_owner),
                  store.people.currency)


def sources(session: "Session", flt: "OpportunityFilter", start: "dt.date", end: "dt.date",
            by_owner: bool = False) -> Report:
    """Deals created between `start` and `end`, by source (by owner when `by_owner`), with their outcomes and a
    total row."""
    store = session.store
    return Report(store.reports.report_sources(flt, start, end, by_owner=by_owner), store.people.currency)


def pipeline(session: "Session", flt: "OpportunityFilter", start: "dt.date | None", end: "dt.date | None",
             by_stage: bool, months: "list[dt.date] | None", by_owner: bool = False) -> Report:
    """The open pipeline (expected to close between `start` and `end` when given): by stage when `by_stage`
    (by owner instead when `by_owner`), and by the given coming `months` when they are given."""
    store = session.store
    if by_owner:
        return Report(store.reports.report_pipeline_owners(flt, start, end), store.people.currency)
    rows = store.reports.report_pipeline(flt, start, end) if by_stage else []
    by_month = store.reports.report_pipeline_months(flt, months, start, end) if months is not None else []
    return Report(rows, store.people.currency, by_month)


def stages(session: "Session", flt: "OpportunityFilter", start: "dt.date", end: "dt.date") -> Report:
    """The stage funnel: deals that entered each stage between `start` and `end`, and where they went."""
    store = session.store
    return Report(store.reports.report_stages(flt, start, end), store.people.currency)
