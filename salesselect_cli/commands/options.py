"""Options that many commands share, and their parsing into rule values."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Optional

import typer


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def format_option(default: Format = Format.table):
    return typer.Option(default, "--format", "-f", help="Output format: table, json or csv.", case_sensitive=False)


def output_option():
    return typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.", metavar="FILE",
                        dir_okay=False)


def parse_date_option(value: Optional[str], today: dt.date) -> Optional[dt.date]:
    """Parse a date option with the agency's date rules; None stays None."""
    if value is None:
        return None
    from salesselect_cli.rules.dates import parse_date

    return parse_date(value, today)




def owner_of(store, owner: Optional[str], mine: bool) -> Optional[str]:
    """--owner NAME or --mine (the current user), never both."""
    if mine and owner:
        from salesselect_cli.errors import Invalid

        raise Invalid("use --owner or --mine, not both")
    return store.user["name"] if mine else owner


def opportunity_filter(
    store, *, business_type=None, stage=None, source=None, owner=None, mine=False, status="open",
    close_before=None, close_after=None, overdue=False, search=None,
):
    """The filters of `opp list` and `export`, parsed (dates relative to the store's today)."""
    from salesselect_cli.store import OpportunityFilter

    return OpportunityFilter(
        business_type=business_type, stage=stage, source=source, owner=owner_of(store, owner, mine),
        status=status.lower(), close_before=parse_date_option(close_before, store.today),
        close_after=parse_date_option(close_after, store.today), overdue=overdue, search=search,
    )
