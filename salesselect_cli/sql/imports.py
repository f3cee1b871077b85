"""CSV import: the setup as lookup dicts, the batched bulk load, and its summary."""

from __future__ import annotations

import datetime as dt

from salesselect_cli.rules.money import cents_to_decimal_string
from salesselect_cli.rules.text import fold
from salesselect_cli.sql.people import PeopleRoom
from salesselect_cli.sql.schema import BULK_LOAD_KEY, STAGE_VISIT_EVENT, STAGE_VISITS_FROM_HISTORY


class ImportRoom(PeopleRoom):
    """The CSV bulk load. Uses people (settings, the acting user)."""

    def import_names(self):
        """The setup resolved once into dicts (rules.importing.Names) for validating many rows fast."""
        from salesselect_cli.rules.importing import Names, StageInfo

        links: dict[int, set[int]] = {}
        for row in self._all("SELECT stage_id, business_type_id FROM stage_business_types"):
            links.setdefault(row[0], set()).add(row[1])
        stages = [
            StageInfo(r["id"], r["name"], r["auto_status"], frozenset(links.get(r["id"], ())))
            for r in self._all("SELECT id, name, auto_status FROM stages ORDER BY position")
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

    def import_opportunities(self, rows, batch_size: int = 5000) -> tuple[int, int]:
        """Insert validated rows (rules.importing.ImportRow) in batches; returns (first id, count).

        Ids are assigned here (we hold the write lock) so each batch's history rows can point at
        their opportunities without a round trip per row. Creating is not a workflow trigger.
        """
        first_id = (self._scalar("SELECT MAX(id) FROM opportunities") or 0) + 1
        clock = self.fixed_time or dt.datetime.now().strftime("%H:%M:%S")
        actor = self.user["name"]
        next_id = first_id
        opportunities: list[tuple] = []
        history: list[tuple] = []

        def flush() -> None:
            self.conn.executemany(
                """INSERT INTO opportunities (id, title, company, contact, business_type_id, stage_id, source_id,
                       value_cents, expected_close, owner_id, status, reason_id, closed_from_stage_id, vacancy, notes,
                       created, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                opportunities,
            )
            self.conn.executemany(
                """INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                history,
            )
            opportunities.clear()
            history.clear()

        self.set_setting(BULK_LOAD_KEY, "1")  # per-row stage_visits triggers step aside (m004)
        for row in rows:
            ident = next_id
            next_id += 1
            stage, came_from = row.stage, row.closed_from
            opportunities.append((
                ident, row.title, row.company, row.contact, row.business_type_id, stage.id, row.source_id,
                row.value_cents, row.expected_close, row.owner_id, row.status, row.reason_id,
                came_from.id if came_from else None, row.vacancy, row.notes, row.created, row.closed,
            ))
            entered = came_from or stage
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
        self.conn.execute(STAGE_VISITS_FROM_HISTORY.format(
            event=STAGE_VISIT_EVENT.format(h=""), which=f"opportunity_id >= {int(first_id)}"))
        self.set_setting(BULK_LOAD_KEY, None)
        return first_id, next_id - first_id

    def import_preview(self, rows, batch_size: int = 5000) -> tuple[list[dict], int]:
        """What an import would add, as import_summary shows it, without writing the database.

        The rows go to a temporary table (its own file, not the database's), so a dry run runs in a
        read transaction: no write lock, and it works on a read-only file.
        """
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_preview "
                          "(business_type_id INTEGER, stage_id INTEGER, status TEXT, value_cents INTEGER)")
        self.conn.execute("DELETE FROM temp.import_preview")
        batch: list[tuple] = []
        count = 0
        for row in rows:
            batch.append((row.business_type_id, row.stage.id, row.status, row.value_cents))
            count += 1
            if len(batch) >= batch_size:
                self.conn.executemany("INSERT INTO temp.import_preview VALUES (?, ?, ?, ?)", batch)
                batch.clear()
        if batch:
            self.conn.executemany("INSERT INTO temp.import_preview VALUES (?, ?, ?, ?)", batch)
        return self._summary("temp.import_preview o", "1 = 1", []), count

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
