"""CSV import rules: header mapping, separator detection, row validation into typed values.

Pure: the setup arrives as plain dicts (`Names`, built once by the store) and `today` is passed
in, so validating a row is a handful of dict look-ups: fast enough for 100,000 rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from salesselect_cli.errors import Invalid, SalesSelectError, unknown_name
from salesselect_cli.rules.dates import parse_date
from salesselect_cli.rules.money import parse_money
from salesselect_cli.rules.text import FORMULA_STARTS, clean_name, clean_text, fold

# The fields a CSV column can fill, in the order of the export (SPEC §3) plus two extras.
FIELDS = (
    "title", "company", "contact", "business_type", "stage", "source", "value", "expected_close",
    "owner", "status", "reason", "vacancy", "created", "closed", "notes", "closed_from",
)
# Export columns that are not data to import: the id is the database's, the rest is derived.
IGNORED = ("id", "days_left", "indicator", "next_followup")
# Header spellings people use for a field (after normalising: lower case, '_' for spaces).
ALIASES = {
    "type": "business_type", "close": "expected_close", "close_date": "expected_close",
    "note": "notes", "closed_from_stage": "closed_from", "value_eur": "value", "amount": "value",
}
DEFAULTABLE = ("business_type", "stage", "source", "owner")


def normalise_header(header: str) -> str:
    """'Business Type ' -> 'business_type': how a header is compared with field names."""
    return "_".join(header.strip().casefold().replace("-", " ").split())


def detect_delimiter(header_line: str) -> str:
    """';' when the header has more semicolons than commas (Dutch Excel), ',' otherwise."""
    outside = "".join(header_line.split('"')[::2])  # separators inside quoted headers do not count
    return ";" if outside.count(";") > outside.count(",") else ","


def parse_maps(maps: list[str]) -> dict[str, str]:
    """`--map CSV_COLUMN=field` options into {normalised column: field}."""
    result: dict[str, str] = {}
    for item in maps:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise Invalid(f"--map needs CSV_COLUMN=field, not '{item}'")
        wanted = normalise_header(target)
        wanted = ALIASES.get(wanted, wanted)
        if wanted not in FIELDS:
            raise Invalid(f"--map {item}: '{target}' is not a field; fields: {', '.join(FIELDS)}")
        result[normalise_header(column)] = wanted
    return result


@dataclass(frozen=True)
class Mapping:
    """Which cell index fills which field, and which columns are left out."""

    columns: dict[str, int]  # field -> index of its cell
    ignored: list[str]  # headers that fill no field (export's derived columns not included)
    header_count: int = 0


def build_mapping(headers: list[str], maps: dict[str, str], defaults: dict[str, str | None]) -> Mapping:
    """Map headers to fields: explicit --map first, then headers named like a field (case-insensitively)."""
    normalised = [normalise_header(h) for h in headers]
    seen: dict[str, int] = {}
    for index, name in enumerate(normalised):
        if name and name in seen:
            raise Invalid(f"the header has column '{headers[index].strip()}' twice")
        seen[name] = index
    for column in maps:
        if column not in seen:
            raise Invalid(
                f"--map: no column '{column}' in the header; columns: {', '.join(h.strip() for h in headers)}"
            )
    columns: dict[str, int] = {}
    for column, target in maps.items():
        if target in columns:
            raise Invalid(f"--map: two columns map to field '{target}'")
        columns[target] = seen[column]
    ignored: list[str] = []
    for index, name in enumerate(normalised):
        if index in columns.values():
            continue
        target = ALIASES.get(name, name)
        if target in FIELDS and target not in columns:
            columns[target] = index
        elif name not in IGNORED and name:
            ignored.append(headers[index].strip())
    for required in ("title", "company"):
        if required not in columns:
            raise Invalid(
                f"no column for {required}; name a column '{required}' or map one with --map COLUMN={required} "
                f"(columns: {', '.join(h.strip() for h in headers)})"
            )
    for needed, option in (("business_type", "--type"), ("source", "--source")):
        if needed not in columns and not defaults.get(needed):
            raise Invalid(f"no column for {needed}; map one with --map COLUMN={needed} or give {option}")
    return Mapping(columns, ignored, len(headers))


@dataclass(frozen=True)
class StageInfo:
    id: int
    name: str
    auto_status: str | None
    type_ids: frozenset[int]


@dataclass
class Names:
    """The setup resolved once: casefolded name -> (id, name) dicts, stage facts per type."""

    business_types: dict[str, tuple[int, str]]
    stages: dict[str, StageInfo]
    type_stages: dict[int, list[StageInfo]]  # in position order
    sources: dict[str, tuple[int, str]]
    users: dict[str, tuple[int, str]]
    reasons: dict[tuple[str, str], tuple[int, str]]  # (casefolded text, status) -> (id, text)
    stage_names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ImportRow:
    """One validated opportunity, ready to insert (ids resolved, dates ISO, money in cents)."""

    title: str
    company: str
    contact: str | None
    business_type_id: int
    stage: StageInfo
    source_id: int
    value_cents: int
    expected_close: str | None
    owner_id: int
    status: str
    reason_id: int | None
    reason: str | None
    closed_from: StageInfo | None
    vacancy: str | None
    notes: str | None
    created: str
    closed: str | None


def unquote_formula(cell: str) -> str:
    """Undo the export's formula guard: "'=SUM(1)" -> "=SUM(1)", so an export re-imports as it was."""
    if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS and len(cell) > 1:
        return cell[1:]
    return cell


def _named(table: dict[str, tuple[int, str]], kind: str, name: str) -> tuple[int, str]:
    found = table.get(fold(name))
    if found is None:
        raise unknown_name(kind, name.strip(), [n for _, n in table.values()])
    return found


class RowParser:
    """Validates rows against one setup, one mapping and the defaults; `parse` raises Invalid with the line."""

    def __init__(self, names: Names, mapping: Mapping, defaults: dict[str, str | None], today: dt.date):
        self.names = names
        self.mapping = mapping
        self.today = today
        self.width = max(mapping.columns.values()) + 1
        self.items = sorted(mapping.columns.items(), key=lambda item: item[1])
        self._dates: dict[str, dt.date] = {}  # exports repeat dates and amounts: parse each text once
        self._money: dict[str, int] = {}
        # defaults are resolved once: an unknown --type is refused before any row is read
        self.default_type = _named(names.business_types, "business type", defaults["business_type"]) \
            if defaults.get("business_type") else None
        self.default_source = _named(names.sources, "source", defaults["source"]) if defaults.get("source") else None
        self.default_owner = _named(names.users, "user", defaults["owner"]) if defaults.get("owner") else None
        self.default_stage = self._stage(defaults["stage"]) if defaults.get("stage") else None

    def _stage(self, name: str) -> StageInfo:
        found = self.names.stages.get(fold(name))
        if found is None:
            raise unknown_name("stage", name.strip(), self.names.stage_names)
        return found

    def parse(self, line: int, cells: list[str]) -> ImportRow:
        try:
            return self._parse(cells)
        except SalesSelectError as exc:  # unknown names are NotFound: reported the same way, with the line
            raise Invalid(f"line {line}: {exc}") from None

    def _parse(self, cells: list[str]) -> ImportRow:
        extra = self.mapping.header_count
        if len(cells) > extra and any(cell.strip() for cell in cells[extra:]):
            raise Invalid(f"{len(cells)} cells, but the header has {extra} columns")
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        # unquote_formula inlined: this line runs for every cell of every row
        get = {name: cells[index][1:] if cells[index][:1] == "'" and cells[index][1:2] in FORMULA_STARTS
               and len(cells[index]) > 1 else cells[index] for name, index in self.items}
        names = self.names
        title = clean_name(get["title"], "title")
        company = clean_name(get["company"], "company")
        type_cell = get.get("business_type", "").strip()
        if type_cell:
            type_id, type_name = _named(names.business_types, "business type", type_cell)
        elif self.default_type:
            type_id, type_name = self.default_type
        else:
            raise Invalid("business type is empty (give --type for empty cells)")
        source_cell = get.get("source", "").strip()
        if source_cell:
            source_id = _named(names.sources, "source", source_cell)[0]
        elif self.default_source:
            source_id = self.default_source[0]
        else:
            raise Invalid("source is empty (give --source for empty cells)")
        owner_cell = get.get("owner", "").strip()
        owner_id = _named(names.users, "user", owner_cell)[0] if owner_cell else self.default_owner[0]
        type_stages = names.type_stages.get(type_id, [])
        stage_cell = get.get("stage", "").strip()
        stage = self._stage(stage_cell) if stage_cell else self.default_stage
        if stage is not None and type_id not in stage.type_ids:
            raise Invalid(
                f"stage '{stage.name}' is not a stage of business type '{type_name}'; "
                f"valid: {', '.join(s.name for s in type_stages) or 'none'}"
            )
        status = self._status(get.get("status", ""), stage)
        reason_id, reason = self._reason(get.get("reason", ""), status)
        stage, closed_from = self._closing_stage(status, stage, get.get("closed_from", ""), type_id, type_name)
        value_cell = get.get("value", "").strip()
        value_cents = self._cents(value_cell) if value_cell else 0
        close_cell = get.get("expected_close", "").strip()
        expected_close = self._date(close_cell).isoformat() if close_cell else None
        created = self._past_date(get.get("created", ""), "created") or self.today
        closed = self._past_date(get.get("closed", ""), "closed")
        if status == "open":
            if closed is not None:
                raise Invalid(f"closed date {closed.isoformat()} given for an open opportunity")
        else:
            closed = closed or self.today
            if closed < created:
                raise Invalid(f"closed date {closed.isoformat()} is before the created date {created.isoformat()}")
        return ImportRow(
            title=title, company=company, contact=clean_text(get.get("contact", ""), "contact"), business_type_id=type_id,
            stage=stage, source_id=source_id, value_cents=value_cents, expected_close=expected_close,
            owner_id=owner_id, status=status, reason_id=reason_id, reason=reason, closed_from=closed_from,
            vacancy=clean_text(get.get("vacancy", ""), "vacancy"),
            notes=clean_text(get.get("notes", ""), "notes", multiline=True),
            created=created.isoformat(), closed=closed.isoformat() if closed else None,
        )

    def _status(self, cell: str, stage: StageInfo | None) -> str:
        text = cell.strip().lower()
        if not text:
            return stage.auto_status if stage and stage.auto_status else "open"
        if text not in ("open", "won", "lost"):
            raise Invalid(f"status must be open, won or lost, not '{cell.strip()}'")
        if stage is not None and stage.auto_status is not None and stage.auto_status != text:
            raise Invalid(f"stage '{stage.name}' marks opportunities {stage.auto_status}, but the status is {text}")
        return text

    def _reason(self, cell: str, status: str) -> tuple[int | None, str | None]:
        text = cell.strip()
        if status == "open":
            if text:
                raise Invalid(f"reason '{text}' given for an open opportunity")
            return None, None
        if not text:
            if status == "lost":
                raise Invalid("a lost opportunity needs a lost reason (reason column)")
            return None, None
        found = self.names.reasons.get((fold(text), status))
        if found is None:
            other = "won" if status == "lost" else "lost"
            valid = [t for (_, s), (_, t) in self.names.reasons.items() if s == status]
            if (fold(text), other) in self.names.reasons:
                raise Invalid(f"reason '{text}' is a {other} reason, not a {status} reason; "
                              f"{status} reasons: {', '.join(valid) or 'none'}")
            raise unknown_name(f"{status} reason", text, valid)
        return found

    def _closing_stage(
        self, status: str, stage: StageInfo | None, from_cell: str, type_id: int, type_name: str
    ) -> tuple[StageInfo, StageInfo | None]:
        """The stage the opportunity sits in and, when closed, the stage it was closed from."""
        type_stages = self.names.type_stages.get(type_id, [])
        open_stages = [s for s in type_stages if s.auto_status is None]
        closed_from = self._stage(from_cell) if from_cell.strip() else None
        if closed_from is not None:
            if status == "open":
                raise Invalid("closed_from given for an open opportunity")
            if type_id not in closed_from.type_ids or closed_from.auto_status is not None:
                raise Invalid(f"closed_from '{closed_from.name}' is not an open stage of business type "
                              f"'{type_name}'; valid: {', '.join(s.name for s in open_stages) or 'none'}")
        if status == "open":
            if stage is None:
                if not open_stages:
                    raise Invalid(f"business type '{type_name}' has no stages yet")
                return open_stages[0], None
            if stage.auto_status is not None:  # only reachable through a --stage default
                raise Invalid(f"stage '{stage.name}' marks opportunities {stage.auto_status}; the status is open")
            return stage, None
        auto = [s for s in type_stages if s.auto_status == status]
        if stage is None:
            if closed_from is None and len(auto) != 1:
                if not open_stages:
                    raise Invalid(f"business type '{type_name}' has no stages yet")
                stage = open_stages[0]
            else:
                return (auto[0] if len(auto) == 1 else closed_from), closed_from
        if stage.auto_status is None:
            if closed_from is not None and closed_from.id != stage.id:
                raise Invalid(f"closed_from '{closed_from.name}' differs from the stage '{stage.name}'")
            # as `opp win/lose` does: park it in the type's one won/lost stage, remember where it was
            return (auto[0] if len(auto) == 1 else stage), stage
        return stage, closed_from

    def _date(self, text: str) -> dt.date:
        value = self._dates.get(text)
        if value is None:
            value = self._dates[text] = parse_date(text, self.today)
        return value

    def _cents(self, text: str) -> int:
        value = self._money.get(text)
        if value is None:
            value = self._money[text] = parse_money(text)
        return value

    def _past_date(self, cell: str, what: str) -> dt.date | None:
        text = cell.strip()
        if not text:
            return None
        value = self._date(text)
        if value > self.today:
            raise Invalid(f"{what} date {value.isoformat()} is in the future")
        return value
