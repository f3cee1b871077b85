"""Opportunities: filters, records, add/edit/move/close/reopen/delete, notes and history."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable, Iterator

from salesselect_cli.errors import Conflict, Invalid, NotFound, PermissionDenied
from salesselect_cli.model import STATUSES, Change, OpportunityFilter, opportunity_record
from salesselect_cli.i18n import N_, _
from salesselect_cli.rules.money import cents_to_decimal_string
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.rules.text import clean_text as _blank_to_none
from salesselect_cli.sql import dialect
from salesselect_cli.sql.base import BaseRoom, Floor
from salesselect_cli.sql.dialect import Row, ascii_lower
from salesselect_cli.sql.schema import STAGE_VISIT_EVENT, STAGE_VISITS_WITH_DAYS_FROM_HISTORY

if TYPE_CHECKING:  # imported where used: a command that changes no deal never loads them (start-up)
    from salesselect_cli.rules import transitions
    from salesselect_cli.sql.people import PeopleRoom
    from salesselect_cli.sql.setup import SetupRoom


# An opportunity with the names its ids point to: the list, show and the export read it (aliases as below).
OPPORTUNITY_FROM = """
  FROM opportunities o
  JOIN business_types bt ON bt.id = o.business_type_id
  JOIN stages s ON s.id = o.stage_id
  JOIN sources src ON src.id = o.source_id
  JOIN users u ON u.id = o.owner_id
  LEFT JOIN reasons r ON r.id = o.reason_id
  LEFT JOIN stages cs ON cs.id = o.closed_from_stage_id
"""

OPPORTUNITY_SELECT = """
SELECT o.id, o.title, o.company, o.contact,
       bt.name AS business_type, s.name AS stage, src.name AS source,
       o.value_cents, o.expected_close, u.name AS owner, o.status,
       r.text AS reason, o.vacancy, o.created, o.closed, o.notes,
       (SELECT MIN(f.due) FROM followups f
         WHERE f.opportunity_id = o.id AND f.status = 'open') AS next_followup,
       bt.color AS business_type_color, s.position AS stage_position,
       cs.name AS closed_from_stage, o.external_key, o.deleted, o.deleted_by, o.probability
""" + OPPORTUNITY_FROM

# A deal's row (every column, ids included) and its record's columns in one read: what a change needs
# before it writes (the row for the rules, the record for the result and the hooks' JSON).
DEAL_SELECT = """
SELECT o.*, bt.name AS business_type, s.name AS stage, src.name AS source, u.name AS owner,
       r.text AS reason,
       (SELECT MIN(f.due) FROM followups f
         WHERE f.opportunity_id = o.id AND f.status = 'open') AS next_followup,
       bt.color AS business_type_color, s.position AS stage_position, cs.name AS closed_from_stage,
       (SELECT MAX(id) FROM history) AS history_mark, (SELECT MAX(id) FROM followups) AS followup_mark
""" + OPPORTUNITY_FROM + " WHERE o.id = ?"


def _percent_text(percent: int | None) -> str:
    return "auto" if percent is None else f"{percent}%"


def live(alias: str = "o") -> str:
    """The trash scope: the condition that keeps deals in the trash out of a query on `opportunities alias`.

    Every list, board, report, export and count of deals goes through it (or through `filter_sql`). The stage
    funnel reads stage_visits, which holds no rows for a deal in the trash (trash drops them, restore rebuilds
    them from the history)."""
    return f"{alias}.deleted IS NULL"


def names_nothing(flt: OpportunityFilter) -> bool:
    """Whether the filter's SQL needs no name looked up (a type, stage, source, owner or reason): it can be
    made before anything is read."""
    return not any((flt.business_type, flt.stage, flt.source, flt.owner, flt.closed_from, flt.reason))


class OpportunityRoom(BaseRoom):
    """Opportunities. Uses the setup lists and people to resolve names."""

    def __init__(self, floor: Floor, people: PeopleRoom, setup: SetupRoom):
        super().__init__(floor)
        self.people = people
        self.setup = setup

    def filter_sql(self, flt: OpportunityFilter) -> tuple[str, list]:
        """WHERE clause (without the keyword) and parameters for a filter; names must exist."""
        clauses, params = [live("o")], []
        if flt.business_type:
            clauses.append("o.business_type_id = ?")
            params.append(self.setup.find_business_type(flt.business_type)["id"])
        if flt.stage:
            clauses.append("o.stage_id = ?")
            params.append(self.setup.find_stage(flt.stage)["id"])
        if flt.source:
            clauses.append("o.source_id = ?")
            params.append(self.setup.find_source(flt.source)["id"])
        if flt.owner:
            clauses.append("o.owner_id = ?")
            params.append(self.people.find_user(flt.owner)["id"])
        if flt.status and flt.status != "all":
            if flt.status not in STATUSES:
                raise Invalid(_("status must be open, won, lost or all, not '{status}'").format(status=flt.status))
            clauses.append("o.status = ?")
            params.append(flt.status)
        if flt.close_before:
            clauses.append("o.expected_close <= ?")
            params.append(flt.close_before.isoformat())
        if flt.close_after:
            clauses.append("o.expected_close >= ?")
            params.append(flt.close_after.isoformat())
        if flt.overdue:
            clauses.append("o.status = 'open' AND o.expected_close < ?")
            params.append(self.today.isoformat())
        if flt.search:
            searched = ("o.title", "o.company", "o.contact", "o.vacancy", "o.notes")
            clauses.append("(" + " OR ".join(f"{self.conn.like_ci(column)} ESCAPE '\\'" for column in searched) + ")")
            pattern = "%" + ascii_lower(flt.search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern] * len(searched)
        if flt.closed_after or flt.closed_before:
            # half-open by day, as the reports count: a closed date with a time part stays on its day
            clauses.append("o.closed >= ? AND o.closed < ?")
            params += self._closed_range(flt.closed_after, flt.closed_before)
        if flt.closed_from:
            clauses.append("o.status != 'open' AND COALESCE(o.closed_from_stage_id, o.stage_id) = ?")
            params.append(self.setup.find_stage(flt.closed_from)["id"])
        if flt.reason:
            status = flt.status if flt.status in ("won", "lost") else None
            clauses.append("o.reason_id = ?")
            params.append(self.setup.find_reason(flt.reason, status)["id"])
        if flt.ids is not None:
            clauses.append(f"o.id IN ({','.join('?' * len(flt.ids))})" if flt.ids else "1 = 0")
            params += list(flt.ids)
        return " AND ".join(clauses), params

    @staticmethod
    def _closed_range(after: dt.date | None, before: dt.date | None) -> list[str]:
        """[after, before] inclusive as half-open ISO bounds (open ends reach the first and last days)."""
        start = after.isoformat() if after else "0001-01-01"
        end = (before + dt.timedelta(days=1)).isoformat() if before and before < dt.date.max else "9999-12-32"
        return [start, end]

    # `opp list --sort`: each field's SQL, undated/empty last in either direction, then by id
    SORT_SQL = {
        "value": "o.value_cents", "close": "o.expected_close", "created": "o.created", "closed": "o.closed",
        "days-left": "CASE WHEN o.status = 'open' THEN o.expected_close END", "stage": "s.position",
        "title": "LOWER(o.title)", "company": "LOWER(o.company)", "owner": "LOWER(u.name)",
    }

    def _order_sql(self, flt: OpportunityFilter) -> str:
        from salesselect_cli.errors import unknown_name
        from salesselect_cli.model import SORT_FIELDS

        if flt.sort is None:
            return "s.position, o.expected_close IS NULL, o.expected_close, o.id"
        field = flt.sort.strip().lower()
        if field not in SORT_FIELDS:
            raise unknown_name("sort field", flt.sort, list(SORT_FIELDS))
        column = self.SORT_SQL[field]
        return f"{column} IS NULL, {column}{' DESC' if flt.descending else ''}, o.id"

    def record(self, row: Row) -> dict:
        """One opportunity in the SPEC §3 JSON shape (model.opportunity_record with today's thresholds)."""
        return opportunity_record(row, self.today, *self.setup.thresholds())

    def list_opportunities(self, flt: OpportunityFilter, limit: int | None = None) -> Iterator[dict]:
        """Opportunities matching `flt`, ordered by stage position then urgency, as records."""
        for row in self.conn.execute(*self._list_sql(flt, limit)):
            yield self.record(row)

    def _list_sql(self, flt: OpportunityFilter, limit: int | None) -> tuple[str, list]:
        where, params = self.filter_sql(flt)
        sql = OPPORTUNITY_SELECT + f" WHERE {where} ORDER BY {self._order_sql(flt)}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return sql, params

    def expect_list(self, flt: OpportunityFilter, limit: int | None = None) -> None:
        """list_opportunities(flt, limit) will follow: when `flt` names nothing to look up (a look-up is a read
        of its own), a server across a network sends its read with the next statement, even ahead of the
        session's checks (a refused session drops the answer unread)."""
        if not names_nothing(flt):
            return
        try:
            self.conn.prefetch(*self._list_sql(flt, limit))
        except (Invalid, NotFound):  # a bad status or sort: the list itself says so, in its place
            return

    def export_rows(self, flt: OpportunityFilter, decimal_mark: str = ".", extra_columns: str = "") -> Iterator[tuple]:
        """The export's CSV rows as tuples, formatted by the database itself (see export_sql)."""
        sql, params = self.export_sql(flt, decimal_mark, extra_columns)
        dialect.set_cache(self.conn, 8)  # a one-pass read gains nothing from a big cache
        return self.conn.execute(sql, params)

    def export_sql(self, flt: OpportunityFilter, decimal_mark: str = ".", extra_columns: str = "") -> tuple[str, list]:
        """The export's SELECT and its parameters: the export columns in order (commands/io.py).

        What `list_opportunities` gives as records, but money, days_left, the indicator and the formula
        guard (a leading quote on text Excel would run) are computed in SQL, so a big export is one C
        loop from the cursor to the CSV writer. A small page cache keeps its memory flat.
        extra_columns: more SELECT expressions last (', s.name, ...' over OPPORTUNITY_FROM's aliases), for a
        higher room that adds to every row (ForecastRoom.export_rows_with_chances).
        """

        from salesselect_cli.rules.indicator import close_date_bounds
        from salesselect_cli.rules.text import FORMULA_STARTS
        days_between = self.conn.days_between

        where, params = self.filter_sql(flt)
        _overdue, red, orange = (d.isoformat() for d in close_date_bounds(self.today, *self.setup.thresholds()))
        starts = ", ".join("'" + c.replace("'", "''") + "'" for c in FORMULA_STARTS)

        def guard(column: str) -> str:
            return f"CASE WHEN substr({column}, 1, 1) IN ({starts}) THEN '''' || {column} ELSE {column} END"

        texts = (("o.title", "title"), ("o.company", "company"), ("o.contact", "contact"),
                 ("bt.name", "business_type"), ("s.name", "stage"), ("src.name", "source"))
        sql = f"""
            SELECT o.id, {', '.join(f'{guard(c)} AS {name}' for c, name in texts)},
                   (o.value_cents / 100) || ? || CASE WHEN o.value_cents % 100 < 10 THEN '0' ELSE '' END
                       || (o.value_cents % 100) AS value,
                   o.expected_close, {guard('u.name')} AS owner, o.status, {guard('r.text')} AS reason,
                   {guard('o.vacancy')} AS vacancy, o.created, o.closed,
                   CASE WHEN o.status = 'open' AND o.expected_close IS NOT NULL
                        THEN {days_between('o.expected_close', '?')} END AS days_left,
                   CASE WHEN o.status != 'open' OR o.expected_close IS NULL THEN 'none'
                        WHEN o.expected_close <= ? THEN 'red' WHEN o.expected_close <= ? THEN 'orange'
                        ELSE 'green' END AS indicator,
                   (SELECT MIN(f.due) FROM followups f WHERE f.opportunity_id = o.id AND f.status = 'open')
                       AS next_followup,
                   {guard('cs.name')} AS closed_from, {guard('o.notes')} AS notes,
                   {guard('o.external_key')} AS external_key{extra_columns}
            {OPPORTUNITY_FROM}
             WHERE {where}
             ORDER BY s.position, o.expected_close IS NULL, o.expected_close, o.id"""
        return sql, [decimal_mark, self.today.isoformat(), red, orange, *params]

    def get_opportunity(self, opportunity_id: int) -> dict:
        row = self._one(OPPORTUNITY_SELECT + " WHERE o.id = ?", [opportunity_id])
        if row is None or row["deleted"] is not None:
            self._opportunity_row(opportunity_id)  # raises: not there, or in the trash (with the restore hint)
        return self.record(row)

    def record_at_commit(self, opportunity_id: int) -> Callable[[], dict]:
        """The deal's record as the command's transaction leaves it, read with the COMMIT (a server across a
        network: no round trip of its own); call the function returned once the transaction has committed."""
        rows = self.conn.read_at_commit(OPPORTUNITY_SELECT + " WHERE o.id = ?", [opportunity_id])

        def record() -> dict:
            found = rows()
            if not found or found[0]["deleted"] is not None:
                self._opportunity_row(opportunity_id)  # raises: not there, or in the trash
            return self.record(found[0])

        return record

    def history(self, opportunity_id: int) -> list[dict]:
        self._opportunity_row(opportunity_id)
        return [
            dict(r) for r in self._all(
                """SELECT at, actor, field, from_value, to_value FROM history
                    WHERE opportunity_id = ? ORDER BY id""",
                [opportunity_id],
            )
        ]

    def opportunity_counts(self) -> dict[str, int]:
        """How many opportunities per status (open, won, lost), zeros included."""
        counts = dict(self._all(f"SELECT status, COUNT(*) FROM opportunities o WHERE {live('o')} GROUP BY status"))
        return {status: counts.get(status, 0) for status in STATUSES}

    def add_note(self, opportunity_id: int, text: str, actor: str | None = None) -> None:
        """A note in the opportunity's timeline."""
        self._changeable_row(opportunity_id, actor)
        text = _blank_to_none(text, "a note", multiline=True)
        if text is None:
            raise Invalid(_("a note needs text"))
        if self.conn.audit_by_triggers:  # members may not write history: a definer function checks and writes
            self.conn.execute("SELECT salesselect_note(?, ?)", [opportunity_id, text])
            return
        self._history(opportunity_id, "note", None, text, actor=actor)

    def add_workflow_note(self, opportunity_id: int, text: str, actor: str) -> None:
        """A note a workflow (`actor`, 'workflow:NAME') adds as it fires on the deal the command changed, written
        without waiting for an answer: a workflow may change any deal (rules/permissions), so the deal's row is
        not read for the check."""
        from salesselect_cli.rules import permissions

        if not permissions.may_change_any(self.actor(actor)):
            self.add_note(opportunity_id, text, actor)
            return
        text = _blank_to_none(text, "a note", multiline=True)
        if text is None:
            raise Invalid(_("a note needs text"))
        if self.conn.audit_by_triggers:  # the definer function checks and writes, as for add_note
            self.conn.defer("SELECT salesselect_note(?, ?)", [opportunity_id, text])
            return
        self._history(opportunity_id, "note", None, text, actor=actor)

    def add_opportunity(
        self, *, title: str, company: str, business_type: str, source: str, stage: str | None = None,
        value_cents: int = 0, expected_close: dt.date | None = None, owner: str | None = None,
        contact: str | None = None, vacancy: str | None = None, note: str | None = None,
    ) -> int:
        """Create an open opportunity (stage defaults to the type's first); returns its id."""
        from salesselect_cli.rules import permissions, transitions

        title = _clean_name(title, N_("title"))
        company = _clean_name(company, N_("company"))
        bt = self.setup.find_business_type(business_type)
        src = self.setup.find_source(source)
        type_stages = self.setup.stages_of_type(bt["id"])
        if stage is None:
            target = transitions.default_stage(type_stages, bt["name"])
        else:
            target = self.setup.stage_rule(self.setup.find_stage(stage))
            state = transitions.State(0, "open", 0, bt["id"], bt["name"])
            transitions.check_stage_of_type(state, target, type_stages)
            if target.auto_status is not None:
                raise Invalid(
                    _("stage '{name}' marks opportunities {auto_status}; add it in an open stage, then 'opp {command}'").format(
                        name=target.name, auto_status=_status_word(target.auto_status),
                        command="win" if target.auto_status == "won" else "lose")
                )
        owner_row = self.people.find_user(owner) if owner else self.user
        if not permissions.may_give_to(self.actor(), owner_row["name"]):
            raise PermissionDenied(permissions.create_refusal(self.actor(), owner_row["name"]))
        if value_cents < 0:
            raise Invalid(_("value must not be negative"))
        cursor = self.conn.execute(
            """INSERT INTO opportunities (title, company, contact, business_type_id, stage_id, source_id, value_cents,
                                          expected_close, owner_id, status, vacancy, notes, created)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id""",
            [title, company, _blank_to_none(contact, "contact"), bt["id"], target.id, src["id"], value_cents,
             expected_close.isoformat() if expected_close else None, owner_row["id"],
             _blank_to_none(vacancy, "vacancy"), _blank_to_none(note, "note", multiline=True), self.today.isoformat()],
        )
        new_id = cursor.fetchone()[0]
        self._history(new_id, "created", None, target.name, None, target.id)
        if note and note.strip():
            self._history(new_id, "note", None, note.strip())
        return new_id

    def edit_opportunity(self, opportunity_id: int, changes: dict[str, Any]) -> tuple[list[str], Change | None]:
        """Change plain fields. Keys: title, company, contact, vacancy, notes, business_type, stage (with a type
        change), source, value_cents, expected_close (date or None), owner.

        Returns the changed field names, and the stage Change when a type change moved the stage (else None).
        """
        row = self._changeable_row(opportunity_id)
        done: list[str] = []
        change = None
        for key in ("title", "company"):
            if key in changes and changes[key] != row[key]:
                value = _clean_name(changes[key], key)
                self.conn.execute(f"UPDATE opportunities SET {key} = ? WHERE id = ?", [value, opportunity_id])
                self._history(opportunity_id, key, row[key], value)
                done.append(key)
        for key in ("contact", "vacancy", "notes"):
            value = _blank_to_none(changes[key], key, multiline=key == "notes") if key in changes else None
            if key in changes and value != row[key]:
                self.conn.execute(f"UPDATE opportunities SET {key} = ? WHERE id = ?", [value, opportunity_id])
                self._history(opportunity_id, key, row[key], value)
                done.append(key)
        if "source" in changes:
            src = self.setup.find_source(changes["source"])
            if src["id"] != row["source_id"]:
                self.conn.execute("UPDATE opportunities SET source_id = ? WHERE id = ?", [src["id"], opportunity_id])
                done.append("source")
        if "business_type" in changes:
            before = self.get_opportunity(opportunity_id)
            changed = self.change_type(row, changes["business_type"], changes.get("stage"))
            done += changed
            if "stage" in changed:
                change = self._change(row, before)
        elif changes.get("stage") is not None:
            raise Invalid(_("use 'salesselect opp move {opportunity_id} STAGE' to change the stage").format(opportunity_id=opportunity_id))
        if "value_cents" in changes and changes["value_cents"] != row["value_cents"]:
            if changes["value_cents"] < 0:
                raise Invalid(_("value must not be negative"))
            self.conn.execute(
                "UPDATE opportunities SET value_cents = ? WHERE id = ?", [changes["value_cents"], opportunity_id]
            )
            self._history(opportunity_id, "value", cents_to_decimal_string(row["value_cents"]),
                          cents_to_decimal_string(changes["value_cents"]))
            done.append("value")
        if "expected_close" in changes:
            new = changes["expected_close"].isoformat() if changes["expected_close"] else None
            if new != row["expected_close"]:
                self.conn.execute("UPDATE opportunities SET expected_close = ? WHERE id = ?", [new, opportunity_id])
                self._history(opportunity_id, "expected_close", row["expected_close"], new)
                done.append("expected_close")
        if "probability" in changes and changes["probability"] != row["probability"]:
            new = changes["probability"]  # None: follow the forecast method again ('auto')
            if new is not None and not 0 <= new <= 100:
                raise Invalid(_("probability must be a whole percentage from 0 to 100 or 'auto', not '{text}'").format(text=new))
            self.conn.execute("UPDATE opportunities SET probability = ? WHERE id = ?", [new, opportunity_id])
            self._history(opportunity_id, "probability", _percent_text(row["probability"]), _percent_text(new))
            done.append("probability")
        if "owner" in changes:
            self.change_owner(opportunity_id, changes["owner"]) and done.append("owner")
        return done, change

    def change_owner(self, opportunity_id: int, owner: str, actor: str | None = None) -> bool:
        """Reassign an opportunity; True when the owner changed."""
        row = self._changeable_row(opportunity_id, actor)
        new = self.people.find_user(owner)
        if new["id"] == row["owner_id"]:
            return False
        old_name = self._scalar("SELECT name FROM users WHERE id = ?", [row["owner_id"]])
        self.conn.execute("UPDATE opportunities SET owner_id = ? WHERE id = ?", [new["id"], opportunity_id])
        self._history(opportunity_id, "owner", old_name, new["name"], row["owner_id"], new["id"], actor=actor)
        return True

    def change_type(self, row: Row, business_type: str, stage: str | None) -> list[str]:
        from salesselect_cli.rules import transitions

        bt = self.setup.find_business_type(business_type)
        if bt["id"] == row["business_type_id"]:
            if stage is not None:
                raise Invalid(_("#{id} is already of business type '{name}'; use 'salesselect opp move {id} STAGE'").format(id=row['id'], name=bt['name']))
            return []
        type_stages = self.setup.stages_of_type(bt["id"])
        state = transitions.State(row["id"], row["status"], row["stage_id"], bt["id"], bt["name"])
        if stage is not None:
            target = self.setup.stage_rule(self.setup.find_stage(stage))
            transitions.check_stage_of_type(state, target, type_stages)
        else:
            current = next((s for s in type_stages if s.id == row["stage_id"]), None)
            if current is None:
                raise Invalid(
                    _("stage '{stage}' is not a stage of business type '{business_type}'; pass --stage with one of: {valid}").format(
                        stage=self._scalar("SELECT name FROM stages WHERE id = ?", [row["stage_id"]]),
                        business_type=bt["name"], valid=", ".join(s.name for s in type_stages) or _("none"))
                )
            target = current
        if (target.auto_status or "open") != row["status"]:
            raise Invalid(_("stage '{name}' does not fit a {status} opportunity").format(name=target.name, status=row['status']))
        self.conn.execute(
            "UPDATE opportunities SET business_type_id = ?, stage_id = ? WHERE id = ?", [bt["id"], target.id, row["id"]]
        )
        self._history(row["id"], "business_type", row["business_type"], bt["name"], row["business_type_id"], bt["id"])
        changed = ["business_type"]
        if target.id != row["stage_id"]:
            old = self._scalar("SELECT name FROM stages WHERE id = ?", [row["stage_id"]])
            self._history(row["id"], "stage", old, target.name, row["stage_id"], target.id)
            changed.append("stage")
        return changed

    def trash_opportunity(self, opportunity_id: int) -> dict:
        """Move a deal to the trash (`opp delete`): it keeps its history and follow-ups and leaves every view."""
        self._changeable_row(opportunity_id)
        record = self.get_opportunity(opportunity_id)
        self.conn.execute(
            "UPDATE opportunities SET deleted = ?, deleted_by = ? WHERE id = ?",
            [self.now(), self.user["name"], opportunity_id],
        )
        self.conn.execute("DELETE FROM stage_visits WHERE opportunity_id = ?", [opportunity_id])
        self._setup_log("opportunity deleted", f"{record['title']} ({record['company']})", "trash", opportunity_id)
        return record

    def restore_opportunity(self, opportunity_id: int) -> dict:
        """Bring a deal back from the trash exactly as it was."""
        self._changeable_row(opportunity_id, trashed=True)
        self.conn.execute("UPDATE opportunities SET deleted = NULL, deleted_by = NULL WHERE id = ?", [opportunity_id])
        self.conn.execute(STAGE_VISITS_WITH_DAYS_FROM_HISTORY.format(
            event=STAGE_VISIT_EVENT.format(h=""), which="opportunity_id = ?",
            days=self.conn.days_between("substr(e.next_at, 1, 10)", "substr(e.at, 1, 10)")), [opportunity_id])
        record = self.get_opportunity(opportunity_id)
        self._setup_log("opportunity restored", "trash", f"{record['title']} ({record['company']})", opportunity_id)
        return record

    def check_may_change(self, opportunity_id: int) -> None:
        """Refuse (exit 3) unless the acting user may change the opportunity; for commands that ask first."""
        self._changeable_row(opportunity_id)

    def trashed_opportunity(self, opportunity_id: int) -> dict:
        """One deal in the trash (id, title, company, owner, deleted, deleted_by); NotFound when not there."""
        row = self._opportunity_row(opportunity_id, trashed=True)
        return {key: row[key] for key in ("id", "title", "company", "owner", "deleted", "deleted_by")}

    def list_trash(self) -> list[dict]:
        """The deals in the trash, most recently deleted first."""
        return [dict(r) for r in self._all(
            """SELECT o.id, o.title, o.company, u.name AS owner, o.deleted, o.deleted_by
                 FROM opportunities o JOIN users u ON u.id = o.owner_id
                WHERE o.deleted IS NOT NULL ORDER BY o.deleted DESC, o.id DESC"""
        )]

    def require_may_purge(self) -> None:
        from salesselect_cli.rules import permissions

        who = self.actor()
        if not permissions.may_purge(who):
            raise PermissionDenied(_("only key users may delete opportunities for good; '{name}' is not a key user").format(name=who.name))

    def purge_opportunity(self, opportunity_id: int) -> dict:
        """Delete a deal in the trash for good, with its history and follow-ups (key users only)."""
        self.require_may_purge()
        row = self._opportunity_row(opportunity_id, trashed=True)
        return self._purge([row])[0]

    def purge_trashed_before(self, day: dt.date) -> list[dict]:
        """Delete for good every deal moved to the trash before `day` (key users only); returns them."""
        self.require_may_purge()
        return self._purge(self._trashed_before(day))

    def trashed_before(self, day: dt.date) -> list[dict]:
        """What `purge_trashed_before(day)` would delete (for the question before it)."""
        return [{"id": r["id"], "title": r["title"]} for r in self._trashed_before(day)]

    def _trashed_before(self, day: dt.date) -> list[Row]:
        return self._all(
            """SELECT o.*, u.name AS owner FROM opportunities o JOIN users u ON u.id = o.owner_id
                WHERE o.deleted IS NOT NULL AND o.deleted < ? ORDER BY o.id""", [day.isoformat()])

    def _purge(self, rows: list[Row]) -> list[dict]:
        purged = []
        for row in rows:
            self._setup_log("opportunity purged", f"{row['title']} ({row['company']})", None, row["id"])
            self.conn.execute("DELETE FROM opportunities WHERE id = ?", [row["id"]])
            purged.append({"id": row["id"], "title": row["title"], "company": row["company"], "owner": row["owner"]})
        return purged

    def _reason_rule(self, text: str | None, status: str | None) -> transitions.Reason | None:
        from salesselect_cli.rules import transitions

        if text is None:
            return None
        if status is None:
            raise Invalid(_("--reason applies only when the opportunity is won or lost"))
        row = self.setup.find_reason(text, status)
        return transitions.Reason(row["id"], row["text"], row["status"])

    def _change(self, row: Row, before: dict, outcome: transitions.Outcome | None = None) -> Change:
        """The stage/status change from `row` (as it was) to `outcome` (when given, else as it is now)."""
        after = outcome or self._opportunity_row(row["id"])
        stage_id = outcome.stage_id if outcome else after["stage_id"]
        status = outcome.status if outcome else after["status"]
        return Change(row["id"], row["business_type_id"], row["stage_id"], stage_id, row["status"], status, before)

    def _apply(self, row: Row, outcome: transitions.Outcome, actor: str | None = None) -> None:
        """Write a transition's outcome and its history rows."""
        stage_names = self.setup.stage_name_by_id()
        self.conn.defer(
            """UPDATE opportunities SET stage_id = ?, status = ?, reason_id = ?, closed = ?, closed_from_stage_id = ?
                WHERE id = ?""",
            [outcome.stage_id, outcome.status, outcome.reason_id,
             outcome.closed.isoformat() if outcome.closed else None, outcome.closed_from_stage_id, row["id"]],
        )
        if outcome.stage_id != row["stage_id"]:
            self._history(row["id"], "stage", stage_names.get(row["stage_id"]), stage_names.get(outcome.stage_id),
                          row["stage_id"], outcome.stage_id, actor=actor)
        if outcome.status != row["status"] and not self.conn.audit_by_triggers:  # PostgreSQL: the trigger's row
            reason = self._scalar("SELECT text FROM reasons WHERE id = ?", [outcome.reason_id]) if outcome.reason_id else None
            to_value = f"{outcome.status} ({reason})" if reason else outcome.status
            self._history(row["id"], "status", row["status"], to_value,
                          row["stage_id"], outcome.reason_id, actor=actor)

    def expect_deal(self, opportunity_id: int) -> None:
        """A change to this deal is coming: a server across a network sends its read (_changeable_deal) with
        the next statement."""
        self.conn.prefetch(DEAL_SELECT, [opportunity_id])

    def _changeable_deal(self, opportunity_id: int) -> tuple[Row, dict]:
        """The deal's row and its record before a change, in one read, when the acting user may change it
        (the stages every transition checks go with that read)."""
        self.setup.expect_stages()
        row = self._cleared_row(self._found(self._one(DEAL_SELECT, [opportunity_id]), opportunity_id))
        # where things stood before the change, for its undo step (record_undo_step): no extra statement
        self.__dict__.setdefault("_undo_before", {}).setdefault(row["id"], self._undo_mark_of(row))
        return row, self.record(row)

    def move_opportunity(self, opportunity_id: int, stage: str, reason: str | None = None) -> Change:
        """Move to a stage of the opportunity's type; returns the change (automation fires workflows on it)."""
        from salesselect_cli.rules import transitions

        row, before = self._changeable_deal(opportunity_id)
        target = self.setup.stage_rule(self.setup.find_stage(stage))
        state = self._state(row)
        transitions.check_open(state, transitions.MOVE)  # the reopen hint comes before a reason is looked up
        reason_rule = self._reason_rule(reason, target.auto_status) if reason is not None else None
        outcome = transitions.move(state, target, self.setup.stages_of_type(row["business_type_id"]), reason_rule, self.today)
        self._apply(row, outcome)
        return self._change(row, before, outcome)

    def close_opportunity(self, opportunity_id: int, status: str, reason: str | None = None) -> Change:
        """Win or lose; returns the change."""
        from salesselect_cli.rules import transitions

        row, before = self._changeable_deal(opportunity_id)
        state = self._state(row)
        transitions.check_open(state, transitions.CLOSE)  # the reopen hint comes before a reason is looked up
        reason_rule = self._reason_rule(reason, status)
        outcome = transitions.close(state, status, self.setup.stages_of_type(row["business_type_id"]), reason_rule, self.today)
        self._apply(row, outcome)
        return self._change(row, before, outcome)

    def reopen_opportunity(self, opportunity_id: int, stage: str | None = None) -> Change:
        """Open a won or lost opportunity again; returns the change."""
        from salesselect_cli.rules import transitions

        row, before = self._changeable_deal(opportunity_id)
        target = self.setup.stage_rule(self.setup.find_stage(stage)) if stage else None
        outcome = transitions.reopen(self._state(row), target, self.setup.stages_of_type(row["business_type_id"]))
        self._apply(row, outcome)
        return self._change(row, before, outcome)

    # ---- undo steps: what a use case changed, so `salesselect undo` can take it back (undo_log, m031)

    @staticmethod
    def _undo_mark_of(row: Row) -> dict:
        return {"opportunity_id": row["id"], "before": {column: row[column] for column in UNDO_COLUMNS},
                "history": row["history_mark"] or 0, "followups": row["followup_mark"] or 0}

    def undo_mark(self, opportunity_id: int, read: bool = True) -> dict | None:
        """Where things stand before a use case changes a deal (None when there is no such deal). Without
        `read`, the change's own read of the deal (_changeable_deal: move, win, lose, reopen) notes it."""
        if not read:
            return {"opportunity_id": opportunity_id, "noted": True}
        row = self._one(f"""SELECT id, {', '.join(UNDO_COLUMNS)}, (SELECT MAX(id) FROM history) AS history_mark,
                                   (SELECT MAX(id) FROM followups) AS followup_mark
                              FROM opportunities WHERE id = ?""", [opportunity_id])
        return None if row is None else self._undo_mark_of(row)

    def record_undo_step(self, mark: dict | None, action: str) -> None:
        """One undo step for the acting user: the change since `mark` (undo_mark), read and written in one
        statement (each change command stays within its statement budget)."""
        import json

        if mark is not None and mark.get("noted"):
            mark = self.__dict__.get("_undo_before", {}).pop(mark["opportunity_id"], None)
        if mark is None:
            return
        after = ", ".join(f"o.{column}" for column in UNDO_COLUMNS)
        self.conn.defer(
            f"""INSERT INTO undo_log (user_id, actor, opportunity_id, at, action, before_values, history_from,
                                      history_to, followup_from, followup_to,
                                      {", ".join(f"after_{column}" for column in UNDO_COLUMNS)})
                SELECT ?, ?, o.id, ?, ?, ?, ?, COALESCE((SELECT MAX(id) FROM history), 0), ?,
                       COALESCE((SELECT MAX(id) FROM followups), 0), {after}
                  FROM opportunities o WHERE o.id = ?""",
            [self.user["id"], self.history_actor, self.now(), action, json.dumps(mark["before"]), mark["history"],
             mark["followups"], mark["opportunity_id"]],
        )

    def undo_steps(self, limit: int = 20) -> list[dict]:
        """The acting user's steps an undo would take back, the next one first."""
        return [dict(r) for r in self._all(
            """SELECT u.id, u.opportunity_id, u.at, u.action, o.title, o.company
                 FROM undo_log u JOIN opportunities o ON o.id = u.opportunity_id
                WHERE u.user_id = ? AND u.undone IS NULL ORDER BY u.id DESC LIMIT ?""",
            [self.user["id"], limit])]

    def undo_last(self) -> dict:
        """Take back the acting user's last step: the deal's columns, follow-ups and notes as they were before it.

        Refused (nothing changed) when someone else changed the deal since, or a value it set has changed."""
        import json

        step = self._one("SELECT * FROM undo_log WHERE user_id = ? AND undone IS NULL ORDER BY id DESC LIMIT 1",
                         [self.user["id"]])
        if step is None:
            raise NotFound(_("nothing to undo"))
        ident = step["opportunity_id"]
        row = self._changeable_row(ident)
        # a colleague's change since refuses; the plain fields' rows (PostgreSQL's triggers write them) are
        # left to the column check below, which keeps a later title the step did not touch
        other = self._one(f"""SELECT actor, at, field FROM history WHERE opportunity_id = ? AND id > ? AND actor <> ?
                                AND field NOT IN ({", ".join(f"'{c}'" for c in _TEXT_COLUMNS)})
                              ORDER BY id LIMIT 1""", [ident, step["history_to"], step["actor"]])
        if other is not None:
            raise Conflict(_("#{id} was changed by {user} at {time} ({what}); undo would overwrite it").format(
                id=ident, user=other["actor"], time=_undo_time(other["at"], self.today),
                what=_(UNDO_FIELD_WORDS.get(other["field"], other["field"]))))
        before, after = json.loads(step["before_values"]), {c: step[f"after_{c}"] for c in UNDO_COLUMNS}
        now = self.undo_mark(ident)["before"]
        moved = [column for column in UNDO_COLUMNS if before[column] != after[column] and now[column] != after[column]]
        if moved:
            raise Conflict(_("#{id} was changed since ({what}); undo would overwrite it").format(
                id=ident, what=_(UNDO_FIELD_WORDS.get(moved[0], moved[0]))))
        written = self._all("""SELECT id, field, from_id FROM history WHERE opportunity_id = ? AND id > ? AND id <= ?
                                  AND field IN ('note', 'followup cancelled')""",
                            [ident, step["history_from"], step["history_to"]])
        notes = [r["id"] for r in written if r["field"] == "note"]
        cancelled = [r["from_id"] for r in written if r["field"] == "followup cancelled" and r["from_id"] is not None]
        # marked first: on PostgreSQL the mark's trigger writes the 'undo' row and takes the step's notes back
        self.conn.execute("UPDATE undo_log SET undone = ? WHERE id = ?", [self.now(), step["id"]])
        self._history(ident, "undo", None, step["action"], step["id"])
        # only what the step changed goes back: a later change it did not touch (a colleague's title) stays
        self._undo_columns(row, {c: before[c] if before[c] != after[c] else now[c] for c in UNDO_COLUMNS}, now)
        reopened = self._reopen_followups(ident, cancelled)
        removed = self._remove_followups(ident, step["followup_from"], step["followup_to"])
        if notes and not self.conn.audit_by_triggers:
            self.conn.execute(f"DELETE FROM history WHERE field = 'note' AND id IN ({_id_list(notes)})")
        return {"opportunity_id": ident, "action": step["action"], "at": step["at"], "title": row["title"],
                "reopened": reopened, "removed": removed, "notes": len(notes)}

    def _undo_columns(self, row: Row, before: dict, now: dict) -> None:
        """Put the deal's columns back, with the history rows the forward paths write for them."""
        from salesselect_cli.rules import transitions

        ident = row["id"]
        plain = [column for column in _PLAIN_COLUMNS if before[column] != now[column]]
        if plain:
            self.conn.execute(f"UPDATE opportunities SET {', '.join(f'{c} = ?' for c in plain)} WHERE id = ?",
                              [before[c] for c in plain] + [ident])
            if "business_type_id" in plain:
                names = dict(self._all("SELECT id, name FROM business_types"))
                self._history(ident, "business_type", names.get(now["business_type_id"]),
                              names.get(before["business_type_id"]))
            for column in _TEXT_COLUMNS:  # in the order PostgreSQL's trigger writes them (sql/pg_security.py)
                if column in plain:
                    self._history(ident, column, now[column], before[column])
        if any(before[c] != now[c] for c in _TRANSITION_COLUMNS):
            closed = dt.date.fromisoformat(before["closed"][:10]) if before["closed"] else None
            self._apply(row, transitions.Outcome(before["stage_id"], before["status"], before["reason_id"], closed,
                                                 before["closed_from_stage_id"]))
        if before["value_cents"] != now["value_cents"]:
            self.conn.execute("UPDATE opportunities SET value_cents = ? WHERE id = ?", [before["value_cents"], ident])
            self._history(ident, "value", cents_to_decimal_string(now["value_cents"]),
                          cents_to_decimal_string(before["value_cents"]))
        if before["expected_close"] != now["expected_close"]:
            self.conn.execute("UPDATE opportunities SET expected_close = ? WHERE id = ?",
                              [before["expected_close"], ident])
            self._history(ident, "expected_close", now["expected_close"], before["expected_close"])
        if before["owner_id"] != now["owner_id"]:
            self.change_owner(ident, self._scalar("SELECT name FROM users WHERE id = ?", [before["owner_id"]]))

    def _reopen_followups(self, ident: int, cancelled: list[int]) -> int:
        """The follow-ups a close cancelled are open again (a history row each); how many."""
        if not cancelled:
            return 0
        where = f"opportunity_id = ? AND status = 'cancelled' AND id IN ({_id_list(cancelled)})"
        if not self.conn.audit_by_triggers:  # PostgreSQL: the follow-up's trigger writes each row
            self.conn.execute(
                f"""INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                    SELECT opportunity_id, ?, ?, 'followup reopened', NULL, due || ' ' || text, id, NULL
                      FROM followups WHERE {where} ORDER BY due, id""",
                [self.now(), self.history_actor, ident])
        return self.conn.execute(f"UPDATE followups SET status = 'open' WHERE {where}", [ident]).rowcount

    def _remove_followups(self, ident: int, after_id: int, up_to_id: int) -> int:
        """The follow-ups a step planned on the deal go (a history row each); how many."""
        if up_to_id <= after_id:
            return 0
        where = "opportunity_id = ? AND id > ? AND id <= ?"
        if not self.conn.audit_by_triggers:  # PostgreSQL: the follow-up's trigger writes each row
            self.conn.execute(
                f"""INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                    SELECT opportunity_id, ?, ?, 'followup removed', due || ' ' || text, NULL, id, NULL
                      FROM followups WHERE {where} ORDER BY due, id""",
                [self.now(), self.history_actor, ident, after_id, up_to_id])
        return self.conn.execute(f"DELETE FROM followups WHERE {where}", [ident, after_id, up_to_id]).rowcount


def _status_word(status: str) -> str:
    """open / won / lost / none in the interface language, for messages (stored values stay English)."""
    from salesselect_cli.i18n import _

    return {"open": _("open"), "won": _("won"), "lost": _("lost"), "none": _("none")}.get(status, status)


# ------------------------------------------------------------------------ undo steps (sql/schema.py m031)
# The deal's columns an undo puts back: everything a use case may change (not its id, creation or trash mark).
UNDO_COLUMNS = ("title", "company", "contact", "vacancy", "notes", "source_id", "business_type_id", "stage_id",
                "status", "reason_id", "closed", "closed_from_stage_id", "value_cents", "expected_close", "owner_id")
# What a refused undo names: the history row's field or the column that changed.
UNDO_FIELD_WORDS = {
    "value": N_("value"), "value_cents": N_("value"), "stage": N_("stage"), "stage_id": N_("stage"),
    "status": N_("status"), "reason_id": N_("reason"), "closed": N_("status"), "closed_from_stage_id": N_("stage"),
    "owner": N_("owner"), "owner_id": N_("owner"), "expected_close": N_("expected close"),
    "business_type": N_("business type"), "business_type_id": N_("business type"), "source_id": N_("source"),
    "title": N_("title"), "company": N_("company"), "contact": N_("contact"), "vacancy": N_("vacancy"),
    "notes": N_("notes"), "note": N_("note"), "followup": N_("follow-up"), "followup done": N_("follow-up"),
    "followup edited": N_("follow-up"), "followup removed": N_("follow-up"), "followup cancelled": N_("follow-up"),
    "followup reopened": N_("follow-up"), "undo": N_("undo"), "created": N_("created"),
}
# Columns the transitions write together (with stage and status history rows): put back through _apply.
_TRANSITION_COLUMNS = ("stage_id", "status", "reason_id", "closed", "closed_from_stage_id")
# Columns edit writes one by one (business type and the text fields with a history row); an undo writes them the
# same way.
_PLAIN_COLUMNS = ("title", "company", "contact", "vacancy", "notes", "source_id", "business_type_id")
_TEXT_COLUMNS = ("title", "company", "contact", "vacancy", "notes")


def _id_list(ids: list[int]) -> str:
    return ", ".join(str(int(ident)) for ident in ids)  # ids from our own rows: integers, safe to inline



def _undo_time(at: str, today: dt.date) -> str:
    """When a history row was written, for a message: the clock time today, else the date and time."""
    return at[11:16] if at[:10] == today.isoformat() else f"{at[:10]} {at[11:16]}"
