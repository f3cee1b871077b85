"""Follow-ups: add, list, complete."""

from __future__ import annotations

import datetime as dt

from salesselect_cli.errors import Conflict, Invalid, NotFound
from salesselect_cli.i18n import _
from salesselect_cli.rules.text import clean_text as _blank_to_none
from salesselect_cli.sql.people import PeopleRoom


class FollowupRoom(PeopleRoom):
    """Follow-ups. Uses people (whose to-do) and the base room (history rows)."""

    def add_followup(self, opportunity_id: int, due: dt.date, text: str, user: str | None = None,
                     actor: str | None = None) -> int:
        row = self._opportunity_row(opportunity_id)
        text = _blank_to_none(text, "a follow-up")
        if text is None:
            raise Invalid("a follow-up needs text")
        user_id = self.find_user(user)["id"] if user else row["owner_id"]
        cursor = self.conn.execute(
            "INSERT INTO followups (opportunity_id, due, text, user_id, created) VALUES (?, ?, ?, ?, ?)",
            [opportunity_id, due.isoformat(), text, user_id, self.today.isoformat()],
        )
        self._history(opportunity_id, "followup", None, f"{due.isoformat()} {text}", actor=actor)
        return cursor.lastrowid

    def list_followups(
        self, *, mine: bool = False, due_before: dt.date | None = None, due_on_or_after: dt.date | None = None,
        opportunity_id: int | None = None, include_done: bool = False, user: str | None = None,
    ) -> list[dict]:
        clauses, params = ["1 = 1"], []
        if not include_done:
            clauses.append("f.done IS NULL")
        if mine:
            clauses.append("f.user_id = ?")
            params.append(self.user["id"])
        if user:
            clauses.append("f.user_id = ?")
            params.append(self.find_user(user)["id"])
        if due_before is not None:
            clauses.append("f.due <= ?")
            params.append(due_before.isoformat())
        if due_on_or_after is not None:
            clauses.append("f.due >= ?")
            params.append(due_on_or_after.isoformat())
        if opportunity_id is not None:
            clauses.append("f.opportunity_id = ?")
            params.append(opportunity_id)
        rows = self._all(
            f"""SELECT f.id, f.due, f.text, u.name AS user, f.opportunity_id, o.title, o.company, f.done
                  FROM followups f JOIN users u ON u.id = f.user_id JOIN opportunities o ON o.id = f.opportunity_id
                 WHERE {' AND '.join(clauses)} ORDER BY f.due, f.id""",
            params,
        )
        result = []
        for r in rows:
            item = dict(r)
            item["overdue"] = r["done"] is None and r["due"] < self.today.isoformat()
            result.append(item)
        return result

    def complete_followup(self, followup_id: int) -> dict:
        row = self._one("SELECT * FROM followups WHERE id = ?", [followup_id])
        if row is None:
            raise NotFound(_("no follow-up #{id}").format(id=followup_id))
        if row["done"] is not None:
            raise Conflict(f"follow-up #{followup_id} was already done on {row['done']}")
        self.conn.execute("UPDATE followups SET done = ? WHERE id = ?", [self.today.isoformat(), followup_id])
        self._history(row["opportunity_id"], "followup done", None, f"{row['due']} {row['text']}")
        return dict(row)
