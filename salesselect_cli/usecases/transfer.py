"""Deals in and out: import from CSV records, export as records or CSV rows, and a backup of the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:
    from pathlib import Path

    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.rules.importing import Mapping
    from salesselect_cli.session import Session
    from salesselect_cli.sql.imports import ImportResult

# What an export has beyond the SPEC shape, so that a re-import loses nothing.
EXPORT_EXTRAS = ("closed_from", "notes", "external_key")
CHANCE_KEYS = ("probability", "probability_basis")  # then the deal's win chance, last


class _DryRun(Exception):
    """Rolls a re-import's trial back once its summary has been computed."""


class Imported:
    """What an import did (or, in a dry run, would do): the counts (sql.imports.ImportResult), the summary by
    type, stage and status (sums in cents), and the agency's currency to show them in."""

    __slots__ = ("result", "summary", "currency")

    def __init__(self, result: "ImportResult", summary: list[dict], currency: str):
        self.result, self.summary, self.currency = result, summary, currency


def import_records(session: "Session", records: Iterable[tuple[int, list[str]]], mapping: "Mapping",
                   defaults: dict[str, str | None], translations: dict, orders: dict[str, str], name: str, *,
                   dry_run: bool = False, allow_duplicates: bool = False) -> Imported:
    """Import the CSV records after the header ((line number, cells) each): all rows or none.

    `defaults` fill what a row leaves empty (the owner: the acting user); `translations` read other systems'
    values as ours; `orders` say how each date column writes d/m/y dates; `name` is the file in messages. A dry
    run writes nothing: without a key column it only checks and counts (a read session suffices); with one it
    tries its updates and rolls them back."""
    from salesselect_cli.rules.importing import RowParser
    from salesselect_cli.sql.imports import ImportResult

    store = session.store
    keyed = "external_key" in mapping.columns
    defaults = dict(defaults, owner=defaults.get("owner") or session.identity.name)
    parser = RowParser(store.imports.import_names(), mapping, defaults, session.today, translations, orders)
    parsed = (parser.parse(line, cells) for line, cells in records)
    rows = (row for row in parsed if row is not None)
    if dry_run and not keyed:
        summary, count = store.imports.import_preview(rows)
        result = ImportResult(0, added=count)
        _raise_unknown(parser, name)
    else:
        try:
            with store.savepoint():
                result = store.imports.import_opportunities(rows, frozenset(mapping.columns), allow_duplicates)
                _raise_unknown(parser, name)
                summary = store.imports.import_summary(result.first_id)
                if dry_run:
                    raise _DryRun()
        except _DryRun:
            pass
    return Imported(result, summary, store.people.currency)


def _raise_unknown(parser, name: str) -> None:
    """The one error for every unknown value in the file, once all rows have been read."""
    unknown = parser.unknown_error(name)
    if unknown is not None:
        raise unknown


class Exported:
    """An export's rows, streamed (write them while the session is open): records in the JSON shape with
    EXPORT_EXTRAS, or CSV rows as tuples in `columns` order."""

    __slots__ = ("rows", "columns")

    def __init__(self, rows: Iterator, columns: list[str]):
        self.rows, self.columns = rows, columns


def export(session: "Session", flt: "OpportunityFilter", as_records: bool, decimal_mark: str = ".") -> Exported:
    """The deals `flt` matches, for `export`: records (`as_records`, for JSON) or CSV rows formatted by the
    database, numbers with `decimal_mark`."""
    from salesselect_cli.model import OPPORTUNITY_KEYS

    store = session.store
    columns = list(OPPORTUNITY_KEYS) + list(EXPORT_EXTRAS) + list(CHANCE_KEYS)
    if as_records:
        def records() -> Iterator[dict]:
            for record in store.forecast.with_chances(store.deals.list_opportunities(flt)):
                # what a re-import needs beyond the SPEC shape: where a closed deal was closed from, ...
                record["closed_from"] = record["_closed_from_stage"]
                record["notes"] = record["_notes"]
                record["external_key"] = record.pop("external_key")  # after notes, as in the CSV's columns
                for key in CHANCE_KEYS:  # and the chance last, as in the CSV's columns
                    record[key] = record.pop(key)
                yield record

        return Exported(records(), columns)
    return Exported(store.forecast.export_rows_with_chances(flt, decimal_mark), columns)


def backup(session: "Session", file: "Path") -> "Path | str":
    """Copy the whole database to `file` (a consistent snapshot, even while others keep working); returns the
    database it copied."""
    session.store.backup(file)
    return session.store.path


def copy_agency(source, target, progress=None, committed=None) -> dict[str, int]:
    """Copy one database into a new one (`db copy`), in one transaction; the source is only read. No session:
    neither database is the command's own. Returns the rows copied per table."""
    from salesselect_cli.store import copy_database

    return copy_database(source, target, progress, committed)
