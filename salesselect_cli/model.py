"""Shapes shared by the commands, the store and automation: filters, the opportunity record, a change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from salesselect_cli.rules.indicator import days_left, indicator
from salesselect_cli.rules.money import cents_to_decimal_string

STATUSES = ("open", "won", "lost")

# The SPEC §3 JSON shape of one opportunity, in order. days_left/indicator are derived.
OPPORTUNITY_KEYS = (
    "id", "title", "company", "contact", "business_type", "stage", "source", "value",
    "expected_close", "owner", "status", "reason", "vacancy", "created", "closed",
    "days_left", "indicator", "next_followup",
)
# An opportunity record as opp list, board and hooks give it: the SPEC keys, then the stage a won or lost
# deal was closed from (as report winloss counts it; None while open) and the key a re-import matches on.
RECORD_KEYS = OPPORTUNITY_KEYS + ("closed_from", "external_key")

# `opp list --sort FIELD`: the orders a list can take (the store turns each into SQL).
SORT_FIELDS = ("value", "close", "created", "closed", "days-left", "stage", "title", "company", "owner")


@dataclass
class OpportunityFilter:
    """Filters shared by opp list, export, board and reports. Names are resolved by the store."""

    business_type: str | None = None
    stage: str | None = None
    source: str | None = None
    owner: str | None = None
    status: str | None = "open"  # None or 'all' means every status
    close_before: dt.date | None = None
    close_after: dt.date | None = None
    overdue: bool = False
    search: str | None = None
    ids: list[int] | None = field(default=None)
    closed_after: dt.date | None = None  # closed on or after (inclusive)
    closed_before: dt.date | None = None  # closed on or before (inclusive)
    closed_from: str | None = None  # won/lost deals closed from this stage (the win/loss report's stage)
    reason: str | None = None
    sort: str | None = None  # one of SORT_FIELDS; None keeps the board's order
    descending: bool = False


@dataclass(frozen=True)
class Change:
    """What a stage/status change did to one opportunity: what workflows match on (ids), and the record
    before it (for run: hooks' JSON)."""

    opportunity_id: int
    business_type_id: int
    from_stage_id: int
    to_stage_id: int
    from_status: str
    to_status: str
    before: dict


def _iso(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def public(record: dict) -> dict:
    """A record without its people-only ('_') keys: what JSON, CSV and workflow hooks get."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def opportunity_record(row: Mapping[str, Any], today: dt.date, orange: int | None, red: int | None) -> dict:
    """One opportunity in the SPEC §3 JSON shape (money as decimal string, derived fields added).

    Keys starting with '_' are for people (tables, show); JSON and CSV writers drop them.
    """
    status, close_text, cents = row["status"], row["expected_close"], row["value_cents"]
    close = _iso(close_text) if status == "open" else None
    return {
        "id": row["id"], "title": row["title"], "company": row["company"], "contact": row["contact"],
        "business_type": row["business_type"], "stage": row["stage"], "source": row["source"],
        "value": cents_to_decimal_string(cents), "expected_close": close_text, "owner": row["owner"],
        "status": status, "reason": row["reason"], "vacancy": row["vacancy"], "created": row["created"],
        "closed": row["closed"], "days_left": days_left(close, today),
        "indicator": indicator(status, close, today, orange, red), "next_followup": row["next_followup"],
        # the stage a won/lost deal was closed from, as the win/loss report counts it
        "closed_from": (row["closed_from_stage"] or row["stage"]) if status != "open" else None,
        # its id in the system it was imported from (import --key); None when it has none
        "external_key": row["external_key"],
        "_color": row["business_type_color"], "_value_cents": cents, "_notes": row["notes"],
        "_closed_from_stage": row["closed_from_stage"],
        "_probability_set": row["probability"],  # the deal's own chance; records gain the effective one by request
    }
