"""Options that many commands share, and their parsing into rule values."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
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


FormatOpt = Format
OutputOpt = Optional[Path]
