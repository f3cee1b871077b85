"""CSV import: the setup as lookup dicts, the batched bulk load, re-imports by key, and its summary."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from salesselect_cli.errors import Conflict, Invalid, PermissionDenied
from salesselect_cli.i18n import _, count, ngettext
from salesselect_cli.rules.money import cents_to_decimal_string
from salesselect_cli.rules.text import fold
from salesselect_cli.sql import dialect
from salesselect_cli.sql.base import BaseRoom, Floor
from salesselect_cli.sql.schema import (BULK_LOAD_KEY, FUNNEL_COUNTS_FROM_VISITS, STAGE_VISIT_EVENT,
                                       STAGE_VISITS_WITH_DAYS_FROM_HISTORY, STAGE_VISITS_WITH_DAYS_IN_EVENT_ORDER)

if TYPE_CHECKING:
    from salesselect_cli.sql.people import PeopleRoom
    from salesselect_cli.sql.opportunities import OpportunityRoom


@dataclass
class ImportResult:
    """What an import did: new ids start at first_id."""

    first_id: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0


# What a re-import compares (and `opp edit` changes) when the column is in the file.
_PLAIN = ("title", "company", "contact", "vacancy", "notes")


class ImportRoom(BaseRoom):
    """The CSV bulk load and re-imports. Uses opportunities (the lifecycle and edits, for updates by key)."""

    def __init__(self, floor: Floor, people: PeopleRoom, deals: OpportunityRoom):
        super().__init__(floor)
        self.people = people
        self.deals = deals

    def import_names(self):
        """The setup resolved once into dicts (rules.importing.Names) for validating many rows fast."""
        from salesselect_cli.rules.importing import Names, StageInfo

        links: dict[int, set[int]] = {}
        for row in self._all("SELECT stage_id, business_type_id FROM stage_business_types"):
            links.setdefault(row[0], set()).add(row[1])
        stages = [
            StageInfo(r["id"], r["name"], r["auto_status"], frozenset(links.get(r["id"], ())), bool(r["archived"]))
            for r in self._all("SELECT id, name, auto_status, archived FROM stages ORDER BY position")
        ]
        type_ids = [r[0] for r in self._all("SELECT id FROM business_types")]

        def by_name(sql: str) -> dict[str, tuple[int, str]]:
            return {fold(r[1]): (r[0], r[1]) for r in self._all(sql)}

        return Names(
            business_types=by_name("SELECT id, name FROM business_types ORDER BY id"),
            stages={fold(s.name): s for s in stages},
            type_stages={t: [s for s in stages if t in s.type_ids] for t in type_ids},
            sources=by_name("SELECT id, name FROM sources ORDER BY id"),
            users=by_name("SELECT id, name FROM users ORDER BY name COLLATE NOCASE"),
            reasons={(fold(r["text"]), r["status"]): (r["id"], r["text"])
                     for r in self._all("SELECT id, text, status FROM reasons ORDER BY id")},
            stage_names=[s.name for s in stages],
        )

    def import_opportunities(
        self, rows, fields: frozenset[str] = frozenset(), allow_duplicates: bool = True, batch_size: int = 5000,
    ) -> ImportResult:
        """Insert validated rows (rules.importing.ImportRow) in batches; rows whose external key (with their
        source) is already here update that deal instead (see `_update`). Without keys, rows that repeat an
        open deal (title, company, value, expected close) are refused unless `allow_duplicates`.

        Ids are assigned here (we hold the write lock) so each batch's history rows can point at
        their opportunities without a round trip per row. Creating is not a workflow trigger.
        """
        from salesselect_cli.rules import permissions

        first_id = (self._scalar("SELECT MAX(id) FROM opportunities") or 0) + 1
        result = ImportResult(first_id)
        clock = self.fixed_time or dt.datetime.now().strftime("%H:%M:%S")
        actor = self.history_actor
        own_only = not permissions.may_change_any(self.actor())  # a recruiter imports only their own deals
        next_id = first_id
        opportunities: list[tuple] = []
        history: list[tuple] = []
        keyed = "external_key" in fields
        keys_seen: dict[tuple[int, str], int] = {}

        def flush() -> None:
            self.conn.executemany(
                """INSERT INTO opportunities (id, title, company, contact, business_type_id, stage_id, source_id,
                       value_cents, expected_close, owner_id, status, reason_id, closed_from_stage_id, vacancy, notes,
                       created, closed, external_key, probability)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                opportunities,
            )
            if self.conn.audit_by_triggers:  # PostgreSQL: only a definer function writes history, for new deals only
                self.conn.executemany("SELECT salesselect_import_history(?, ?, ?, ?, ?, ?, ?)",
                                      [(r[0], r[1], r[3], r[4], r[5], r[6], r[7]) for r in history])
            else:
                self.conn.executemany(
                    """INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    history,
                )
            opportunities.clear()
            history.clear()

        self.people.set_setting(BULK_LOAD_KEY, "1")  # per-row stage_visits/funnel_counts triggers step aside (m004, m017)
        if self.conn.audit_by_triggers:  # the insert trigger leaves new deals' backdated history to the import
            self.conn.execute("SELECT set_config('salesselect.import', 'on', true)")
        for row in rows:
            if own_only and row.owner_id != self.user["id"]:
                raise PermissionDenied(permissions.create_refusal(self.actor(), self._scalar(
                    "SELECT name FROM users WHERE id = ?", [row.owner_id])))
            if keyed and row.external_key:
                key = (row.source_id, row.external_key.casefold())
                if key in keys_seen:
                    raise Invalid(_("line {line}: key '{key}' is already on line {other_line}; each row of a re-import "
                                    "needs its own key").format(line=row.line, key=row.external_key,
                                                                other_line=keys_seen[key]))
                keys_seen[key] = row.line
                existing = self._one("SELECT id FROM opportunities WHERE source_id = ? AND external_key = ?",
                                     [row.source_id, row.external_key])
                if existing is not None:
                    self.people.set_setting(BULK_LOAD_KEY, None)  # an update keeps stage_visits as `opp move` does
                    changed = self._update(existing["id"], row, fields)
                    self.people.set_setting(BULK_LOAD_KEY, "1")
                    if changed:
                        result.updated += 1
                    else:
                        result.unchanged += 1
                    continue
            ident = next_id
            next_id += 1
            stage, came_from = row.stage, row.closed_from
            opportunities.append((
                ident, row.title, row.company, row.contact, row.business_type_id, stage.id, row.source_id,
                row.value_cents, row.expected_close, row.owner_id, row.status, row.reason_id,
                came_from.id if came_from else None, row.vacancy, row.notes, row.created, row.closed,
                row.external_key if keyed else None, row.probability,
            ))
            entered = came_from or stage
            if row.path:  # the stages it went through, then on as below from the last (`entered`)
                previous = None
                for day, step in row.path:
                    history.append((ident, f"{day} {clock}", actor, "stage" if previous else "created",
                                    previous.name if previous else None, step.name,
                                    previous.id if previous else None, step.id))
                    previous = step
            else:
                history.append((ident, f"{row.created} {clock}", actor, "created", None, entered.name, None, entered.id))
            if row.notes:
                history.append((ident, f"{row.created} {clock}", actor, "note", None, row.notes, None, None))
            if row.status != "open":
                at = f"{row.closed} {clock}"
                if entered.id != stage.id:
                    history.append((ident, at, actor, "stage", entered.name, stage.name, entered.id, stage.id))
                to_value = f"{row.status} ({row.reason})" if row.reason else row.status
                history.append((ident, at, actor, "status", "open", to_value, entered.id, row.reason_id))
            if len(opportunities) >= batch_size:
                flush()
        if opportunities:
            flush()
        if next_id > first_id:
            self.conn.ids_taken("opportunities", next_id - 1)
        # stage_visits from the history sorts every new row: in 16 MiB, not in a 64 MiB cache on top of a
        # 64 MiB sorter (the pages freed by the smaller cache are what the sorter reuses)
        dialect.set_cache(self.conn, 16)
        last_visit = self._scalar("SELECT MAX(id) FROM stage_visits") or 0
        counted_by_trigger = self.conn.audit_by_triggers  # PostgreSQL: members may not write funnel_counts
        if counted_by_trigger:  # its trigger (run as the tables' owner, sql/pg_security.py) counts each visit
            self.people.set_setting(BULK_LOAD_KEY, None)
        self.conn.execute(STAGE_VISITS_WITH_DAYS_FROM_HISTORY.format(
            event=STAGE_VISIT_EVENT.format(h=""), which=f"opportunity_id >= {int(first_id)}",
            days=self.conn.days_between("substr(e.next_at, 1, 10)", "substr(e.at, 1, 10)")))
        if not counted_by_trigger:
            # the visits just added are the ones after the last before (ids only grow): a range of the table
            self.conn.execute(FUNNEL_COUNTS_FROM_VISITS.format(which=f"v.id > {int(last_visit)}"))
            self.people.set_setting(BULK_LOAD_KEY, None)
        if self.conn.audit_by_triggers:
            self.conn.execute("SELECT set_config('salesselect.import', '', true)")
        result.added = next_id - first_id
        if not keyed and not allow_duplicates and result.added:
            self._refuse_duplicates(first_id)
        return result

    @contextlib.contextmanager
    def new_deals_visits_at_the_end(self) -> Iterator[None]:
        """The deals made inside the block (init --demo filling a new database: every change in it is to a deal
        made in it) get their stage visits and funnel counts in two set-based statements when it ends, instead of
        from the per-row triggers on every history row: the same rows, with the ids the triggers would have
        given. PostgreSQL's triggers keep writing them: there the bulk flag would also quiet the history."""
        if self.conn.audit_by_triggers:
            yield
            return
        last_deal = self._scalar("SELECT MAX(id) FROM opportunities") or 0
        last_visit = self._scalar("SELECT MAX(id) FROM stage_visits") or 0
        self.people.set_setting(BULK_LOAD_KEY, "1")
        yield
        self.conn.execute(STAGE_VISITS_WITH_DAYS_IN_EVENT_ORDER.format(
            event=STAGE_VISIT_EVENT.format(h=""), which=f"opportunity_id > {int(last_deal)}",
            days=self.conn.days_between("substr(e.next_at, 1, 10)", "substr(e.at, 1, 10)")))
        self.conn.execute(FUNNEL_COUNTS_FROM_VISITS.format(which=f"v.id > {int(last_visit)}"))
        self.people.set_setting(BULK_LOAD_KEY, None)

    def _refuse_duplicates(self, first_id: int) -> None:
        """Refuse an import whose new rows repeat open deals that were already here."""
        if self._one("SELECT 1 FROM opportunities WHERE id < ? AND status = 'open' LIMIT 1", [first_id]) is None:
            return
        row = self._one(
            """SELECT COUNT(DISTINCT n.id) AS count, MIN(n.title) AS title, MIN(n.company) AS company
                 FROM opportunities n JOIN opportunities o
                   ON o.title = n.title AND o.company = n.company AND o.value_cents = n.value_cents
                  AND COALESCE(o.expected_close, '') = COALESCE(n.expected_close, '')
                WHERE n.id >= ? AND o.id < ? AND o.status = 'open'""",
            [first_id, first_id],
        )
        if row["count"]:
            raise Conflict(ngettext(
                "{count} row matches an open deal already here (same title, company, value and expected close; "
                "e.g. '{title}' at {company}); nothing was imported. To update them on a re-import, name the column "
                "with the source system's id: --key COLUMN; to add them anyway: --allow-duplicates",
                "{count} rows match open deals already here (same title, company, value and expected close; "
                "e.g. '{title}' at {company}); nothing was imported. To update them on a re-import, name the column "
                "with the source system's id: --key COLUMN; to add them anyway: --allow-duplicates",
                row["count"]).format(count=count(row["count"]), title=row["title"], company=row["company"]))

    def _update(self, ident: int, row, fields: frozenset[str]) -> bool:
        """Bring deal `ident` in line with a re-imported row through the lifecycle (move, win/lose, reopen:
        the same checks and history as `opp move/win/lose/reopen`) and `opp edit`. True when anything changed.

        Only the columns the file has are compared; created and closed dates stay as they are.
        """
        old = self._opportunity_row(ident)
        changed = False
        if row.business_type_id != old["business_type_id"]:
            if old["status"] != "open" or row.status != "open":
                raise Invalid(_("line {line}: key '{key}' changes the business type of a closed deal (#{id}); "
                                "reopen it first").format(line=row.line, key=row.external_key, id=ident))
            self.deals.change_type(old, self._scalar("SELECT name FROM business_types WHERE id = ?",
                                                [row.business_type_id]), row.stage.name)
            old, changed = self._opportunity_row(ident), True
        reason = row.reason
        if old["status"] != row.status or old["stage_id"] != row.stage.id or (
                row.status != "open" and old["reason_id"] != row.reason_id and "reason" in fields):
            changed = True
            if old["status"] != "open":
                self.deals.reopen_opportunity(ident, row.closed_from.name if row.closed_from else
                                        row.stage.name if row.status == "open" else None)
            if row.status == "open":
                if self._opportunity_row(ident)["stage_id"] != row.stage.id:
                    self.deals.move_opportunity(ident, row.stage.name)
            elif row.stage.auto_status is not None and row.closed_from is None:
                self.deals.move_opportunity(ident, row.stage.name, reason)
            else:
                if row.closed_from is not None and self._opportunity_row(ident)["stage_id"] != row.closed_from.id:
                    self.deals.move_opportunity(ident, row.closed_from.name)
                self.deals.close_opportunity(ident, row.status, reason)
        changes: dict = {}
        for name in _PLAIN:
            if name in fields and getattr(row, name) != old[name]:
                changes[name] = getattr(row, name) or ""
        if "value" in fields and row.value_cents != old["value_cents"]:
            changes["value_cents"] = row.value_cents
        if "expected_close" in fields and row.expected_close != old["expected_close"]:
            changes["expected_close"] = dt.date.fromisoformat(row.expected_close) if row.expected_close else None
        if "owner" in fields and row.owner_id != old["owner_id"]:
            changes["owner"] = self._scalar("SELECT name FROM users WHERE id = ?", [row.owner_id])
        if "probability" in fields and row.probability != old["probability"]:
            changes["probability"] = row.probability  # None: the method's chance again
        if changes:
            self.deals.edit_opportunity(ident, changes)  # with a history row for each field it changes
            changed = True
        return changed

    def import_preview(self, rows, batch_size: int = 5000) -> tuple[list[dict], int]:
        """What an import would add, as import_summary shows it, without writing the database.

        The rows go to a temporary table (its own file, not the database's), so a dry run runs in a
        read transaction: no write lock, and it works on a read-only file.
        """
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_preview "
                          "(business_type_id INTEGER, stage_id INTEGER, status TEXT, value_cents INTEGER)")
        self.conn.execute("DELETE FROM import_preview")
        batch: list[tuple] = []
        count = 0
        for row in rows:
            batch.append((row.business_type_id, row.stage.id, row.status, row.value_cents))
            count += 1
            if len(batch) >= batch_size:
                self.conn.executemany("INSERT INTO import_preview VALUES (?, ?, ?, ?)", batch)
                batch.clear()
        if batch:
            self.conn.executemany("INSERT INTO import_preview VALUES (?, ?, ?, ?)", batch)
        return self._summary("import_preview o", "1 = 1", []), count

    def import_summary(self, first_id: int) -> list[dict]:
        """What an import added (ids from `first_id`): count and value per type, stage and status."""
        return self._summary("opportunities o", "o.id >= ?", [first_id])

    def _summary(self, source: str, where: str, params: list) -> list[dict]:
        rows = self._all(
            f"""SELECT bt.name AS business_type, s.name AS stage, o.status, COUNT(*) AS count,
                      SUM(o.value_cents) AS value_cents
                 FROM {source} JOIN business_types bt ON bt.id = o.business_type_id
                 JOIN stages s ON s.id = o.stage_id
                WHERE {where}
                GROUP BY bt.id, s.id, o.status ORDER BY bt.id, s.position, o.status DESC""",
            params,
        )
        return [
            {"business_type": r["business_type"], "stage": r["stage"], "status": r["status"], "count": r["count"],
             "value": cents_to_decimal_string(r["value_cents"]), "_value_cents": r["value_cents"]}
            for r in rows
        ]
