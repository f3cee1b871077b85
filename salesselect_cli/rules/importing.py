"""CSV import rules: header mapping, separator detection, row validation into typed values.

Pure: the setup arrives as plain dicts (`Names`, built once by the store) and `today` is passed
in, so validating a row is a handful of dict look-ups: fast enough for 100,000 rows.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from salesselect_cli.errors import (MOST_NAMED, Invalid, SalesSelectError, _unknown, closest_first, named, shortened,
                                    unknown_name)
from salesselect_cli.i18n import N_, _, count, ngettext
from salesselect_cli.rules.dates import parse_date
from salesselect_cli.rules.money import parse_money
from salesselect_cli.rules.text import FORMULA_STARTS, clean_name, clean_text, fold

# The fields a CSV column can fill, in the order of the export (SPEC §3) plus the export's extras.
FIELDS = (
    "title", "company", "contact", "business_type", "stage", "source", "value", "expected_close",
    "owner", "status", "reason", "vacancy", "created", "closed", "notes", "closed_from",
    "external_key", "probability", "probability_basis",
)
# Export columns that are not data to import: the id is the database's, the rest is derived.
IGNORED = ("id", "days_left", "indicator", "next_followup")
# Header spellings people use for a field (after normalising: lower case, '_' for spaces).
ALIASES = {
    "type": "business_type", "close": "expected_close", "close_date": "expected_close",
    "note": "notes", "closed_from_stage": "closed_from", "value_eur": "value", "amount": "value",
    # what HubSpot, Pipedrive and Odoo call them in their exports
    "deal_name": "title", "contact_name": "contact", "opportunity": "title", "company_name": "company", "organization": "company",
    "customer": "company", "deal_stage": "stage", "deal_owner": "owner", "salesperson": "owner",
    "expected_revenue": "value", "expected_closing": "expected_close", "expected_close_date": "expected_close",
    "create_date": "created", "created_on": "created", "closed_won_reason": "reason",
    "closed_lost_reason": "reason", "lost_reason": "reason",
}
DEFAULTABLE = ("business_type", "stage", "source", "owner")
# Fields whose cells are names from a list: `--map-value FIELD:FROM=TO` translates them.
VALUE_FIELDS = ("stage", "owner", "business_type", "source", "status", "reason")
DATE_FIELDS = ("expected_close", "created", "closed")
DATE_ORDERS = ("dmy", "mdy", "ymd")
CACHE_LIMIT = 20_000  # parsed dates and amounts kept per import (exports repeat them)


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
            raise Invalid(_("--map needs CSV_COLUMN=field, not '{item}'").format(item=item))
        wanted = normalise_header(target)
        wanted = ALIASES.get(wanted, wanted)
        if wanted not in FIELDS:
            raise Invalid(_("--map {item}: '{target}' is not a field; fields: {fields}").format(
                item=item, target=target, fields=", ".join(FIELDS)))
        result[normalise_header(column)] = wanted
    return result


def parse_value_maps(items: list[str]) -> dict[str, dict[str, str]]:
    """`--map-value FIELD:FROM=TO` options into {field: {casefolded FROM: TO}}; an empty TO empties the cell."""
    result: dict[str, dict[str, str]] = {}
    for item in items:
        name, colon, rest = item.partition(":")
        source, equals, target = rest.rpartition("=")
        wanted = ALIASES.get(normalise_header(name), normalise_header(name))
        if not colon or not equals or not source.strip():
            raise Invalid(_("--map-value needs FIELD:FROM=TO (e.g. 'stage:New=Lead'), not '{item}'").format(item=item))
        if wanted not in VALUE_FIELDS:
            raise Invalid(_("--map-value {item}: '{name}' is not a field with named values; fields: {fields}").format(
                item=item, name=name.strip(), fields=", ".join(VALUE_FIELDS)))
        result.setdefault(wanted, {})[fold(source)] = target.strip()
    return result


# ---------------------------------------------------------------- dates as exports write them

# a time after the date, as CRM exports add it: 10:00, T10:00:00Z, 10:00:00.123+02:00, 3:15 PM
_TIME_TAIL = re.compile(
    r"(?:[T ]|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUMERIC = re.compile(r"^(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})$")


def date_part(text: str) -> str:
    """'2026-12-01 10:00', '2026-12-01T10:00:00Z', '01/12/2026 10:00 +02:00' -> the date as written."""
    return _TIME_TAIL.sub("", text.strip(), count=1) if ":" in text else text.strip()


def slash_order(text: str) -> str | None:
    """What one slash date says about its column: 'dmy' (25/12/2026), 'mdy' (12/25/2026), '' when it could
    be either (01/12/2026), None when it is no two-way slash date (ISO, words, year first)."""
    match = _NUMERIC.match(date_part(text))
    if match is None or match.group(2) != "/" or len(match.group(1)) == 4:
        return None
    first, second = int(match.group(1)), int(match.group(3))
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return ""


@dataclass
class DateOrderScan:
    """The first pass over a file: which order each date column's slash dates are in.

    A value with a day above 12 decides its column; a column where every slash date could be either way
    is read day-first (the Dutch order) and named in one warning.
    """

    seen: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)  # field -> order -> (line, text)

    def see(self, name: str, line: int, text: str) -> None:
        order = slash_order(text) if "/" in text else None
        if order is not None:
            self.seen.setdefault(name, {}).setdefault(order, (line, text.strip()))

    def decided(self, headers: dict[str, str]) -> tuple[dict[str, str], str | None]:
        """({field: order}, the warning or None); `headers` names each field's column for messages."""
        orders: dict[str, str] = {}
        guessed: list[str] = []
        for name, found in self.seen.items():
            if "dmy" in found and "mdy" in found:
                (day_line, day_text), (month_line, month_text) = found["dmy"], found["mdy"]
                raise Invalid(_(
                    "column '{column}' mixes day-first dates (line {day_line}: '{day_text}') and month-first dates "
                    "(line {month_line}: '{month_text}'); fix the file or give --date-format dmy|mdy"
                ).format(column=headers[name], day_line=day_line, day_text=day_text, month_line=month_line,
                         month_text=month_text))
            orders[name] = "mdy" if "mdy" in found else "dmy"
            if "dmy" not in found and "mdy" not in found:
                guessed.append(name)
        if not guessed:
            return orders, None
        columns = ", ".join(f"'{headers[name]}'" for name in guessed)
        return orders, ngettext(
            "dates in column {columns} such as '{example}' could be day-first or month-first; they were read "
            "day-first. Give --date-format dmy|mdy|ymd to settle it.",
            "dates in columns {columns} such as '{example}' could be day-first or month-first; they were read "
            "day-first. Give --date-format dmy|mdy|ymd to settle it.",
            len(guessed),
        ).format(columns=columns, example=self.seen[guessed[0]][''][1])


def read_date(text: str, order: str, today: dt.date) -> dt.date:
    """A date cell: date-times as their date; d/m/y numbers in `order` (dmy, mdy or ymd); else parse_date."""
    raw = date_part(text)
    match = _NUMERIC.match(raw)
    if match is None:
        return parse_date(raw, today)
    first, separator, middle, last = match.groups()
    if len(first) == 4 and separator == "-":  # ISO
        return parse_date(raw, today)
    if len(first) == 4 or order == "ymd":
        year, month, day = first, middle, last
    elif order == "mdy":
        month, day, year = first, middle, last
    else:
        day, month, year = first, middle, last
    if len(year) != 4:
        raise Invalid(_("cannot read date '{text}'; write the year with four digits").format(text=text.strip()))
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        problem = _(str(exc))  # Python's words, in the catalogue (dates.CALENDAR_PROBLEMS)
        if order == "ymd":
            raise Invalid(_("invalid date '{text}': {problem}").format(text=text.strip(), problem=problem)) from None
        message = (_("invalid date '{text}' (read as month-first): {problem}") if order == "mdy"
                   else _("invalid date '{text}' (read as day-first): {problem}"))
        raise Invalid(message.format(text=text.strip(), problem=problem)) from None


@dataclass(frozen=True)
class Mapping:
    """Which cell index fills which field, and which columns are left out."""

    columns: dict[str, int]  # field -> index of its cell
    ignored: list[str]  # headers that fill no field (export's derived columns not included)
    header_count: int = 0


def build_mapping(
    headers: list[str], maps: dict[str, str], defaults: dict[str, str | None], skip: list[str] = (),
    key: str | None = None,
) -> Mapping:
    """Map headers to fields: explicit --map (and --key) first, then headers named like a field
    (case-insensitively); --skip columns fill nothing."""
    normalised = [normalise_header(h) for h in headers]
    seen: dict[str, int] = {}
    for index, name in enumerate(normalised):
        if name and name in seen:
            raise Invalid(_("the header has column '{column}' twice").format(column=headers[index].strip()))
        seen[name] = index
    listing = named(h.strip() for h in headers)
    for column in maps:
        if column not in seen:
            raise Invalid(_("--map: no column '{column}' in the header; columns: {columns}").format(
                column=column, columns=listing))
    skipped = set()
    for column in skip:
        if normalise_header(column) not in seen:
            raise Invalid(_("--skip: no column '{column}' in the header; columns: {columns}").format(
                column=column.strip(), columns=listing))
        skipped.add(seen[normalise_header(column)])
    maps = dict(maps)
    if key is not None:
        if normalise_header(key) not in seen:
            raise Invalid(_("--key: no column '{column}' in the header; columns: {columns}").format(
                column=key.strip(), columns=listing))
        if seen[normalise_header(key)] in skipped:
            raise Invalid(_("--key {column}: that column is also given to --skip").format(column=key.strip()))
        maps = {column: target for column, target in maps.items() if target != "external_key"}
        maps[normalise_header(key)] = "external_key"
    columns: dict[str, int] = {}
    for column, target in maps.items():
        if target in columns:
            raise Invalid(_("--map: two columns map to field '{field}'").format(field=target))
        columns[target] = seen[column]
    ignored: list[str] = []
    for index, name in enumerate(normalised):
        if index in columns.values() or index in skipped:
            continue
        target = ALIASES.get(name, name)
        if target in FIELDS and target not in columns:
            columns[target] = index
        elif name not in IGNORED and name:
            ignored.append(headers[index].strip())
    for required in ("title", "company"):
        if required not in columns:
            raise Invalid(_(
                "no column for {field}; name a column '{field}' or map one with --map COLUMN={field} (columns: {columns})"
            ).format(field=required, columns=named(h.strip() for h in headers)))
    for needed, option in (("business_type", "--type"), ("source", "--source")):
        if needed not in columns and not defaults.get(needed):
            raise Invalid(_("no column for {field}; map one with --map COLUMN={field} or give {option}").format(
                field=needed, option=option))
    return Mapping(columns, ignored, len(headers))


@dataclass(frozen=True)
class StageInfo:
    id: int
    name: str
    auto_status: str | None
    type_ids: frozenset[int]
    archived: bool = False  # no open deal may be in it; deals closed from it keep it


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
    external_key: str | None = None
    probability: int | None = None  # the deal's own win chance (an export's 'set' one); None: the method's
    line: int = 0  # where it is in the file, for messages about the row as a whole
    # The open stages it went through, each with the day it entered it: the first is where it was created, the
    # last is closed_from (or its stage). Empty (a CSV row): created straight into that stage.
    path: tuple[tuple[str, StageInfo], ...] = ()


def own_chance(cell: str, basis: str) -> int | None:
    """A deal's own win chance from an import's cells: the percentage when the file says it was set on the deal
    (an export's `probability_basis` 'set', or no basis column at all: another CRM's probability); a learned or
    stage chance is the method's, worked out again here, so it is not frozen onto the deal."""
    from salesselect_cli.rules.forecast import parse_percent

    if not cell.strip() or basis.strip().casefold() not in ("", "set"):
        return None
    return parse_percent(cell)


def unquote_formula(cell: str) -> str:
    """Undo the export's formula guard: "'=SUM(1)" -> "=SUM(1)", so an export re-imports as it was."""
    if cell[:1] == "'" and cell[1:2] in FORMULA_STARTS and len(cell) > 1:
        return cell[1:]
    return cell


def _stripped(_name: str, cell: str) -> str:
    return cell.strip()


def _alike(text: str, name: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, text.casefold(), name.casefold()).ratio() >= 0.6


def _named(table: dict[str, tuple[int, str]], kind: str, name: str) -> tuple[int, str]:
    found = table.get(fold(name))
    if found is None:
        raise unknown_name(kind, name.strip(), [n for _id, n in table.values()])
    return found


def _status_word(status: str) -> str:
    return {"open": _("open"), "won": _("won"), "lost": _("lost")}.get(status, status)


class _Unknown(Exception):
    """A cell names something the setup does not have: collected, reported with all the others at the end."""


@dataclass
class UnknownValue:
    text: str
    rows: int
    first_line: int


class RowParser:
    """Validates rows against one setup, one mapping and the defaults.

    `parse` raises Invalid with the line for a bad row; a row naming an unknown stage, owner, type,
    source, status or reason returns None and is counted in `unknown`, so that one error (`unknown_error`)
    can list every unknown value of the file at once.
    """

    def __init__(
        self, names: Names, mapping: Mapping, defaults: dict[str, str | None], today: dt.date,
        value_maps: dict[str, dict[str, str]] | None = None, date_orders: dict[str, str] | None = None,
    ):
        self.names = names
        self.mapping = mapping
        self.today = today
        self.width = max(mapping.columns.values()) + 1
        self.items = sorted(mapping.columns.items(), key=lambda item: item[1])
        self.value_maps = value_maps or {}
        self.date_orders = date_orders or {}
        self.unknown: dict[str, dict[str, UnknownValue]] = {}  # field -> casefolded text -> where seen
        self._line = 0
        self._dates: dict[tuple[str, str], dt.date] = {}  # exports repeat dates and amounts: parse each text once
        self._money: dict[str, int] = {}
        self._check_value_maps()
        # defaults are resolved once: an unknown --type is refused before any row is read
        self.default_type = _named(names.business_types, "business type", defaults["business_type"]) \
            if defaults.get("business_type") else None
        self.default_source = _named(names.sources, "source", defaults["source"]) if defaults.get("source") else None
        self.default_owner = _named(names.users, "user", defaults["owner"]) if defaults.get("owner") else None
        self.default_stage = self._stage(defaults["stage"]) if defaults.get("stage") else None

    def _valid(self, name: str) -> list[str]:
        """The names a field's cells may hold, for messages."""
        names = self.names
        if name == "stage":
            return list(names.stage_names)
        if name == "status":
            return ["open", "won", "lost"]
        if name == "reason":
            return list(dict.fromkeys(text for _id, text in names.reasons.values()))
        table = {"owner": names.users, "business_type": names.business_types, "source": names.sources}[name]
        return [n for _id, n in table.values()]

    def _check_value_maps(self) -> None:
        for name, pairs in self.value_maps.items():
            valid = self._valid(name)
            folded = {fold(v) for v in valid}
            for target in pairs.values():
                if target and fold(target) not in folded:
                    raise Invalid(_("--map-value: {problem}").format(problem=unknown_name(name.replace("_", " "), target, valid)))

    def _mapped(self, name: str, cell: str) -> str:
        text = cell.strip()
        pairs = self.value_maps.get(name)
        if pairs and fold(text) in pairs:
            return pairs[fold(text)]
        return text

    def _miss(self, name: str, text: str) -> _Unknown:
        seen = self.unknown.setdefault(name, {})
        found = seen.get(fold(text))
        if found is None:
            seen[fold(text)] = UnknownValue(text, 1, self._line)
        else:
            found.rows += 1
        return _Unknown()

    def _lookup(self, name: str, table: dict[str, tuple[int, str]], text: str) -> tuple[int, str]:
        found = table.get(fold(text))
        if found is None:
            raise self._miss(name, text)
        return found

    def _stage(self, name: str) -> StageInfo:
        found = self.names.stages.get(fold(name))
        if found is None:
            raise unknown_name("stage", name.strip(), self.names.stage_names)
        return found

    def _cell_stage(self, text: str) -> StageInfo:
        found = self.names.stages.get(fold(text))
        if found is None:
            raise self._miss("stage", text)
        return found

    def parse(self, line: int, cells: list[str]) -> ImportRow | None:
        """The row validated, or None when it names unknown values (see `unknown`)."""
        self._line = line
        try:
            return self._parse(cells)
        except _Unknown:
            return None
        except SalesSelectError as exc:
            raise Invalid(_("line {line}: {problem}").format(line=line, problem=exc)) from None

    def unknown_error(self, file: str) -> Invalid | None:
        """One error naming every unknown value per field (rows, first line), the valid names and the
        --map-value options to add; None when every value was known."""
        if not self.unknown:
            return None
        parts, options, unmapped = [], [], 0
        for name in VALUE_FIELDS:
            values = sorted(self.unknown.get(name, {}).values(), key=lambda v: v.first_line)
            if not values:
                continue
            valid = self._valid(name) if name == "status" else closest_first(values[0].text, self._valid(name))
            listed = ", ".join(ngettext("'{text}' ({rows} row, line {line})", "'{text}' ({rows} rows, first line {line})",
                                        v.rows).format(text=shortened(v.text, 60), rows=count(v.rows), line=v.first_line)
                               for v in values[:MOST_NAMED])
            if len(values) > MOST_NAMED:  # the line stays short: 20 named, the rest counted
                listed += " " + _("and {count} more (first at line {line})").format(
                    count=count(len(values) - MOST_NAMED), line=values[MOST_NAMED].first_line)
            parts.append(_("{unknown} {values}; valid: {valid}").format(
                unknown=_unknown(name.replace("_", " ")), values=listed, valid=named(valid) or _("none yet")))
            for value in values:
                if len(options) >= MOST_NAMED:
                    unmapped += 1
                    continue
                likely = closest_first(value.text, valid)[:1]
                target = likely[0] if likely and _alike(value.text, likely[0]) else name.upper()
                options.append(f"--map-value '{name}:{shortened(value.text, 60)}={target}'")
        if unmapped:
            options.append(_("and {count} more like them").format(count=count(unmapped)))
        return Invalid(_("{file}: {problems}. Nothing was imported; add {options}").format(
            file=file, problems=" | ".join(parts), options=" ".join(options)))

    def _parse(self, cells: list[str]) -> ImportRow:
        extra = self.mapping.header_count
        if len(cells) > extra and any(cell.strip() for cell in cells[extra:]):
            raise Invalid(ngettext("{cells} cells, but the header has {columns} column",
                                   "{cells} cells, but the header has {columns} columns", extra).format(
                cells=len(cells), columns=extra))
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        # unquote_formula inlined: this line runs for every cell of every row
        get = {name: cells[index][1:] if cells[index][:1] == "'" and cells[index][1:2] in FORMULA_STARTS
               and len(cells[index]) > 1 else cells[index] for name, index in self.items}
        names = self.names
        mapped = self._mapped if self.value_maps else _stripped
        title = clean_name(get["title"], N_("title"))
        company = clean_name(get["company"], N_("company"))
        missing = False
        type_cell = mapped("business_type", get.get("business_type", ""))
        type_id = type_name = None
        try:
            if type_cell:
                type_id, type_name = self._lookup("business_type", names.business_types, type_cell)
            elif self.default_type:
                type_id, type_name = self.default_type
            else:
                raise Invalid(_("business type is empty (give --type for empty cells)"))
        except _Unknown:
            missing = True
        source_cell = mapped("source", get.get("source", ""))
        source_id = None
        try:
            if source_cell:
                source_id = self._lookup("source", names.sources, source_cell)[0]
            elif self.default_source:
                source_id = self.default_source[0]
            else:
                raise Invalid(_("source is empty (give --source for empty cells)"))
        except _Unknown:
            missing = True
        owner_cell = mapped("owner", get.get("owner", ""))
        owner_id = None
        try:
            owner_id = self._lookup("owner", names.users, owner_cell)[0] if owner_cell else self.default_owner[0]
        except _Unknown:
            missing = True
        stage_cell = mapped("stage", get.get("stage", ""))
        stage = None
        try:
            stage = self._cell_stage(stage_cell) if stage_cell else self.default_stage
        except _Unknown:
            missing = True
        from_cell = mapped("stage", get.get("closed_from", ""))
        try:
            if from_cell:
                self._cell_stage(from_cell)
        except _Unknown:
            missing = True
        status_cell = mapped("status", get.get("status", ""))
        if status_cell and status_cell.lower() not in ("open", "won", "lost"):
            raise self._miss("status", status_cell)
        if missing:
            raise _Unknown()
        type_stages = names.type_stages.get(type_id, [])
        if stage is not None and type_id not in stage.type_ids:
            raise Invalid(_("stage '{name}' is not a stage of business type '{business_type}'; valid: {valid}").format(
                name=stage.name, business_type=type_name, valid=", ".join(s.name for s in type_stages) or _("none")))
        status = self._status(status_cell, stage)
        reason_id, reason = self._reason(mapped("reason", get.get("reason", "")), status)
        stage, closed_from = self._closing_stage(status, stage, from_cell, type_id, type_name)
        value_cell = get.get("value", "").strip()
        value_cents = self._cents(value_cell) if value_cell else 0
        close_cell = get.get("expected_close", "").strip()
        expected_close = self._date(close_cell, "expected_close").isoformat() if close_cell else None
        created = self._past_date(get.get("created", ""), "created") or self.today
        closed = self._past_date(get.get("closed", ""), "closed")
        if status == "open":
            if closed is not None:
                raise Invalid(_("closed date {closed} given for an open opportunity").format(closed=closed.isoformat()))
        else:
            closed = closed or self.today
            if closed < created:
                raise Invalid(_("closed date {closed} is before the created date {created}").format(
                    closed=closed.isoformat(), created=created.isoformat()))
        return ImportRow(
            title=title, company=company, contact=clean_text(get.get("contact", ""), N_("contact")), business_type_id=type_id,
            stage=stage, source_id=source_id, value_cents=value_cents, expected_close=expected_close,
            owner_id=owner_id, status=status, reason_id=reason_id, reason=reason, closed_from=closed_from,
            vacancy=clean_text(get.get("vacancy", ""), N_("vacancy")),
            notes=clean_text(get.get("notes", ""), N_("notes"), multiline=True),
            created=created.isoformat(), closed=closed.isoformat() if closed else None,
            external_key=clean_text(get.get("external_key", ""), N_("external key")), line=self._line,
            probability=own_chance(get.get("probability", ""), get.get("probability_basis", "")),
        )

    def _status(self, cell: str, stage: StageInfo | None) -> str:
        text = cell.strip().lower()
        if not text:
            return stage.auto_status if stage and stage.auto_status else "open"
        if text not in ("open", "won", "lost"):
            raise Invalid(_("status must be open, won or lost, not '{text}'").format(text=cell.strip()))
        if stage is not None and stage.auto_status is not None and stage.auto_status != text:
            raise Invalid(_("stage '{name}' marks opportunities {auto_status}, but the status is {status}").format(
                name=stage.name, auto_status=_status_word(stage.auto_status), status=_status_word(text)))
        return text

    def _reason(self, cell: str, status: str) -> tuple[int | None, str | None]:
        text = cell.strip()
        if status == "open":
            if text:
                raise Invalid(_("reason '{text}' given for an open opportunity").format(text=text))
            return None, None
        if not text:
            if status == "lost":
                raise Invalid(_("a lost opportunity needs a lost reason (reason column)"))
            return None, None
        found = self.names.reasons.get((fold(text), status))
        if found is None:
            other = "won" if status == "lost" else "lost"
            valid = [t for (_fold, s), (_id, t) in self.names.reasons.items() if s == status]
            if (fold(text), other) in self.names.reasons:
                message = (_("reason '{text}' is a won reason, not a lost reason; lost reasons: {valid}") if status == "lost"
                           else _("reason '{text}' is a lost reason, not a won reason; won reasons: {valid}"))
                raise Invalid(message.format(text=text, valid=", ".join(valid) or _("none")))
            raise self._miss("reason", text)
        return found

    def _closing_stage(
        self, status: str, stage: StageInfo | None, from_cell: str, type_id: int, type_name: str
    ) -> tuple[StageInfo, StageInfo | None]:
        """The stage the opportunity sits in and, when closed, the stage it was closed from."""
        type_stages = self.names.type_stages.get(type_id, [])
        open_stages = [s for s in type_stages if s.auto_status is None and not s.archived]
        closed_from = self._cell_stage(from_cell.strip()) if from_cell.strip() else None
        if closed_from is not None:
            if status == "open":
                raise Invalid(_("closed_from given for an open opportunity"))
            if type_id not in closed_from.type_ids or closed_from.auto_status is not None:  # archived is fine here
                raise Invalid(_("closed_from '{name}' is not an open stage of business type '{business_type}'; "
                                "valid: {valid}").format(name=closed_from.name, business_type=type_name,
                                                         valid=", ".join(s.name for s in open_stages) or _("none")))
        if status == "open":
            if stage is None:
                if not open_stages:
                    raise Invalid(_("business type '{name}' has no stages yet").format(name=type_name))
                return open_stages[0], None
            if stage.auto_status is not None:  # only reachable through a --stage default
                raise Invalid(_("stage '{name}' marks opportunities {auto_status}; the status is open").format(
                    name=stage.name, auto_status=_status_word(stage.auto_status)))
            if stage.archived:
                raise Invalid(_("stage '{name}' is archived: no open deal can be in it; valid: {valid}").format(
                    name=stage.name, valid=", ".join(s.name for s in open_stages) or _("none")))
            return stage, None
        auto = [s for s in type_stages if s.auto_status == status]
        if stage is None:
            if closed_from is None and len(auto) != 1:
                if not open_stages:
                    raise Invalid(_("business type '{name}' has no stages yet").format(name=type_name))
                stage = open_stages[0]
            else:
                return (auto[0] if len(auto) == 1 else closed_from), closed_from
        if stage.auto_status is None:
            if closed_from is not None and closed_from.id != stage.id:
                raise Invalid(_("closed_from '{closed_from}' differs from the stage '{stage}'").format(
                    closed_from=closed_from.name, stage=stage.name))
            # as `opp win/lose` does: park it in the type's one won/lost stage, remember where it was
            return (auto[0] if len(auto) == 1 else stage), stage
        return stage, closed_from

    def _date(self, text: str, name: str) -> dt.date:
        order = self.date_orders.get(name, "dmy")
        value = self._dates.get((text, order))
        if value is None:
            if len(self._dates) >= CACHE_LIMIT:  # memory stays flat on files with ever new values
                self._dates.clear()
            value = self._dates[(text, order)] = read_date(text, order, self.today)
        return value

    def _cents(self, text: str) -> int:
        value = self._money.get(text)
        if value is None:
            if len(self._money) >= CACHE_LIMIT:
                self._money.clear()
            value = self._money[text] = parse_money(text)
        return value

    def _past_date(self, cell: str, what: str) -> dt.date | None:
        text = cell.strip()
        if not text:
            return None
        value = self._date(text, what)
        if value > self.today:
            message = _("created date {date} is in the future") if what == "created" else _("closed date {date} is in the future")
            raise Invalid(message.format(date=value.isoformat()))
        return value
