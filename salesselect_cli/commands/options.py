"""Options that many commands share, and their parsing into rule values."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Optional

import typer
from salesselect_cli.i18n import _


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def format_option(default: Format = Format.table):
    return typer.Option(default, "--format", "-f", help="Output format: table, json or csv.", case_sensitive=False)


def output_option(writable: tuple[str, ...] | None = None):
    """-o FILE; a name whose extension the command cannot write (`writable`, default what reports write:
    .txt, .csv, .json, .xlsx) is refused while the options are read, before the command does anything."""
    def refuse_unwritable(value):
        from salesselect_cli.rules.output_files import REPORT_FORMATS, output_format

        output_format(value, REPORT_FORMATS if writable is None else writable)
        return value

    return typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.", metavar="FILE",
                        dir_okay=False, callback=refuse_unwritable)


def english_status(value: Optional[str]) -> Optional[str]:
    """--status in Dutch (gewonnen, verloren, alle) as the English word; other words unchanged (checked later)."""
    from salesselect_cli.rules.words import STATUSES, english

    return english(STATUSES, value)


def english_followup_status(value: Optional[str]) -> Optional[str]:
    """followup list --status in Dutch (gedaan, geannuleerd, alle) as the English word."""
    from salesselect_cli.rules.words import FOLLOWUP_STATUSES, english

    return english(FOLLOWUP_STATUSES, value)


def english_auto(value: Optional[str]) -> Optional[str]:
    """--auto in Dutch (gewonnen, verloren, geen) as the English word."""
    from salesselect_cli.rules.words import AUTO, english

    return english(AUTO, value)


def english_role(value: Optional[str]) -> Optional[str]:
    """A role in other words (verkoper, leidinggevende) as the stored one."""
    from salesselect_cli.rules.words import ROLES, english

    return english(ROLES, value)


def wide_option():
    return typer.Option(False, "--wide", "-w", help="Every column whole, however wide the terminal (the table "
                                                    "otherwise leaves the least important columns out to fit).")


def excel_option():
    return typer.Option(False, "--excel", help="CSV as Excel opens it in the Netherlands and Belgium: BOM, ';', "
                                               "decimal comma, CRLF. Implies --format csv.")


def excel_format(fmt, excel: bool):
    """--excel means CSV: it refuses JSON and turns the default table into CSV."""
    if not excel:
        return fmt
    if fmt.value == "json":
        from salesselect_cli.errors import Invalid

        raise Invalid(_("--excel writes CSV; leave out --format json"))
    return Format.csv if isinstance(fmt, Format) else fmt


def parse_date_option(value: Optional[str], today: dt.date) -> Optional[dt.date]:
    """Parse a date option with the agency's date rules; None stays None."""
    if value is None:
        return None
    from salesselect_cli.rules.dates import parse_date

    return parse_date(value, today)


def ahead(build):
    """What a command builds from its options once its session is open (a filter, a period), built before it
    opens, from today, so that its read can go with the session's first round trip: `build(today)`, or None
    when that fails (the session's own build then says why, where it always did)."""
    from salesselect_cli.context import current_today
    from salesselect_cli.errors import SalesSelectError

    try:
        return build(current_today())
    except (SalesSelectError, ValueError):
        return None


def filter_ahead(**options):
    """`opportunity_filter(session, **options)` built before the session opens (see `ahead`); None with --mine,
    which needs the session's acting user."""
    if options.get("mine"):
        return None
    from types import SimpleNamespace

    return ahead(lambda today: opportunity_filter(SimpleNamespace(today=today), **options))


def owner_of(session, owner: Optional[str], mine: bool) -> Optional[str]:
    """--owner NAME or --mine (the session's acting user), never both."""
    if mine and owner:
        from salesselect_cli.errors import Invalid

        raise Invalid(_("use --owner or --mine, not both"))
    return session.identity.name if mine else owner


def opportunity_filter(
    session, *, business_type=None, stage=None, source=None, owner=None, mine=False, status="open",
    close_before=None, close_after=None, overdue=False, search=None, closed_in=None, closed_after=None,
    closed_before=None, closed_from=None, reason=None, sort=None, descending=False,
):
    """The filters of `opp list` and `export`, parsed (dates relative to the session's today).

    status None means open, unless a closed-date, closed-from or reason filter asks about closed deals
    (then every status: only won and lost deals have those).
    """
    from salesselect_cli.model import OpportunityFilter

    today = session.today
    after, before = closed_range(today, closed_in, closed_after, closed_before)
    if status is None:
        status = "all" if (after or before or closed_from or reason) else "open"
    return OpportunityFilter(
        business_type=business_type, stage=stage, source=source, owner=owner_of(session, owner, mine),
        status=status.strip().lower(), close_before=parse_date_option(close_before, today),
        close_after=parse_date_option(close_after, today), overdue=overdue, search=search,
        closed_after=after, closed_before=before, closed_from=closed_from, reason=reason, sort=sort,
        descending=descending,
    )


def closed_range(today: dt.date, closed_in: Optional[str], closed_after: Optional[str],
                 closed_before: Optional[str]) -> tuple[Optional[dt.date], Optional[dt.date]]:
    """--closed-in PERIOD (the reports' period names) or --closed-after/--closed-before DATE, as inclusive days."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules.periods import named_period

    if closed_in is not None:
        if closed_after is not None or closed_before is not None:
            raise Invalid(_("use --closed-in or --closed-after/--closed-before, not both"))
        try:
            period = named_period(closed_in, today)
        except Invalid as exc:
            raise Invalid(str(exc).replace("--from/--to", "--closed-after/--closed-before")) from None
        return period.start, period.end
    after, before = parse_date_option(closed_after, today), parse_date_option(closed_before, today)
    if after and before and after > before:
        raise Invalid(_("--closed-after {isoformat} is after --closed-before {isoformat2}").format(isoformat=after.isoformat(), isoformat2=before.isoformat()))
    return after, before
