"""Follow-ups: add, list, edit, complete, remove, and cancel those of a closed deal."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from salesselect_cli.errors import Conflict, Invalid, NotFound
from salesselect_cli.i18n import _
from salesselect_cli.rules.text import clean_text as _blank_to_none
from salesselect_cli.sql.base import BaseRoom, Floor
from salesselect_cli.sql.dialect import Row

if TYPE_CHECKING:
    from salesselect_cli.sql.people import PeopleRoom

FOLLOWUP_STATUSES = ("open", "done", "cancelled")
# The open follow-ups workflows planned on one deal, by workflow: read once however many workflows fire
WORKFLOW_FOLLOWUPS_READ = ("SELECT workflow, text FROM followups "
                           "WHERE opportunity_id = ? AND status = 'open' AND workflow IS NOT NULL ORDER BY id")


class FollowupRoom(BaseRoom):
    """Follow-ups. Uses people (whose to-do) and the base room (history rows).

    Every change of a follow-up goes through `_followup_for_change`, which finds it and its deal: the one
    place a per-deal permission check covers add, edit, done and remove alike.
    """

    def __init__(self, floor: Floor, people: PeopleRoom):
        super().__init__(floor)
        self.people = people

    def _followup_for_change(self, followup_id: int) -> Row:
        """The follow-up a command is about to change (its deal must exist and be changeable).

        Whose to-do it is may always change it; anyone else needs the right to change the deal (exit 3)."""
        row = self._one("SELECT * FROM followups WHERE id = ?", [followup_id])
        if row is None:
            raise NotFound(_("no follow-up #{followup_id}").format(followup_id=followup_id))
        if row["user_id"] == self.user["id"]:
            self._opportunity_row(row["opportunity_id"])  # not in the trash
        else:
            self._changeable_row(row["opportunity_id"])
        return row

    @staticmethod
    def _not_open(row: Row, verb: str) -> Conflict:
        when = row["done"] if row["status"] == "done" else None
        state = f"done on {when}" if when else row["status"]
        return Conflict(_("follow-up #{id} is {state}; only open follow-ups can be {verb}").format(id=row['id'], state=state, verb=verb))

    def add_followup(self, opportunity_id: int, due: dt.date, text: str, user: str | None = None,
                     actor: str | None = None, workflow: str | None = None) -> int:
        """Plan a follow-up (for `user`, default the deal's owner); `workflow` names the rule that planned it."""
        row = self._changeable_row(opportunity_id, actor)
        text = _blank_to_none(text, "a follow-up")
        if text is None:
            raise Invalid(_("a follow-up needs text"))
        user_id = self.people.find_user(user)["id"] if user else row["owner_id"]
        cursor = self.conn.execute(
            """INSERT INTO followups (opportunity_id, due, text, user_id, created, status, workflow)
               VALUES (?, ?, ?, ?, ?, 'open', ?) RETURNING id""",
            [opportunity_id, due.isoformat(), text, user_id, self.today.isoformat(), workflow],
        )
        new_id = cursor.fetchone()[0]
        self._history(opportunity_id, "followup", None, f"{due.isoformat()} {text}", actor=actor)
        return new_id

    def add_workflow_followup(self, opportunity_id: int, due: dt.date, text: str, workflow: str, actor: str,
                              user: str | None = None) -> None:
        """A follow-up workflow `workflow` plans as it fires (for `user`, default the deal's owner), written
        without waiting for an answer: a workflow may change any deal (rules/permissions), so the deal's row
        is not read for the check, and the owner comes from the row in the same statement."""
        from salesselect_cli.rules import permissions

        if not permissions.may_change_any(self.actor(actor)):
            self.add_followup(opportunity_id, due, text, user, actor, workflow)
            return
        text = _blank_to_none(text, "a follow-up")
        if text is None:
            raise Invalid(_("a follow-up needs text"))
        user_id = self.people.find_user(user)["id"] if user else None
        self.conn.defer(
            """INSERT INTO followups (opportunity_id, due, text, user_id, created, status, workflow)
               SELECT o.id, ?, ?, COALESCE(?, o.owner_id), ?, 'open', ? FROM opportunities o WHERE o.id = ?""",
            [due.isoformat(), text, user_id, self.today.isoformat(), workflow, opportunity_id],
        )
        self._history(opportunity_id, "followup", None, f"{due.isoformat()} {text}", actor=actor)

    def open_workflow_followups(self, opportunity_id: int, workflow: str) -> list[str]:
        """The texts of the open follow-ups that workflow `workflow` planned on this deal."""
        return [r["text"] for r in self._all(WORKFLOW_FOLLOWUPS_READ, [opportunity_id]) if r["workflow"] == workflow]

    def expect_workflow_followups(self, opportunity_id: int) -> None:
        """Workflows may fire on a change to this deal: a server across a network sends the read of its open
        workflow follow-ups (open_workflow_followups) with the next statement."""
        self.conn.prefetch(WORKFLOW_FOLLOWUPS_READ, [opportunity_id])

    def list_followups(
        self, *, mine: bool = False, due_before: dt.date | None = None, due_on_or_after: dt.date | None = None,
        opportunity_id: int | None = None, include_done: bool = False, user: str | None = None,
        status: str | None = None,
    ) -> list[dict]:
        """Follow-ups, earliest first. status: open (default), done, cancelled or all; include_done = open and done."""
        clauses, params = ["o.deleted IS NULL"], []  # deals in the trash keep their follow-ups, out of sight
        if status is None:
            clauses.append("f.status IN ('open', 'done')" if include_done else "f.status = 'open'")
        elif status != "all":
            if status not in FOLLOWUP_STATUSES:
                raise Invalid(_("status must be open, done, cancelled or all, not '{status}'").format(status=status))
            clauses.append("f.status = ?")
            params.append(status)
        if mine:
            clauses.append("f.user_id = ?")
            params.append(self.user["id"])
        if user:
            clauses.append("f.user_id = ?")
            params.append(self.people.find_user(user)["id"])
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
            f"""SELECT f.id, f.due, f.text, u.name AS user, f.opportunity_id, o.title, o.company, f.done, f.status,
                       f.workflow
                  FROM followups f JOIN users u ON u.id = f.user_id JOIN opportunities o ON o.id = f.opportunity_id
                 WHERE {' AND '.join(clauses)} ORDER BY f.due, f.id""",
            params,
        )
        result = []
        for r in rows:
            item = dict(r)
            item["overdue"] = r["status"] == "open" and r["due"] < self.today.isoformat()
            result.append(item)
        return result

    def complete_followup(self, followup_id: int) -> dict:
        row = self._followup_for_change(followup_id)
        if row["status"] == "done":
            raise Conflict(_("follow-up #{followup_id} was already done on {done}").format(followup_id=followup_id, done=row['done']))
        if row["status"] != "open":
            raise self._not_open(row, "marked done")
        self.conn.execute("UPDATE followups SET done = ?, status = 'done' WHERE id = ?",
                          [self.today.isoformat(), followup_id])
        self._history(row["opportunity_id"], "followup done", None, f"{row['due']} {row['text']}")
        return dict(row)

    def edit_followup(self, followup_id: int, due: dt.date | None = None, text: str | None = None) -> tuple[dict, dict]:
        """Reschedule and/or reword an open follow-up; returns it (before, after). A history row on the deal."""
        row = self._followup_for_change(followup_id)
        if due is None and text is None:
            raise Invalid(_("nothing to change: pass --due or --text"))
        if row["status"] != "open":
            raise self._not_open(row, "edited")
        new_text = row["text"]
        if text is not None:
            new_text = _blank_to_none(text, "a follow-up")
            if new_text is None:
                raise Invalid(_("a follow-up needs text"))
        new_due = due.isoformat() if due is not None else row["due"]
        after = {**dict(row), "due": new_due, "text": new_text}
        if (new_due, new_text) != (row["due"], row["text"]):
            self.conn.execute("UPDATE followups SET due = ?, text = ? WHERE id = ?", [new_due, new_text, followup_id])
            self._history(row["opportunity_id"], "followup edited", f"{row['due']} {row['text']}",
                          f"{new_due} {new_text}", followup_id, followup_id)
        return dict(row), after

    def remove_followup(self, followup_id: int) -> dict:
        """Delete a follow-up (any status); a history row on the deal keeps what it was."""
        row = self._followup_for_change(followup_id)
        self.conn.execute("DELETE FROM followups WHERE id = ?", [followup_id])
        self._history(row["opportunity_id"], "followup removed", f"{row['due']} {row['text']}", None, followup_id)
        return dict(row)

    def cancel_followups(self, opportunity_id: int) -> int:
        """Cancel the deal's open follow-ups (it was won or lost), one history row each; returns how many."""
        where = "opportunity_id = ? AND status = 'open'"
        if not self.conn.audit_by_triggers:  # PostgreSQL: the follow-up's trigger writes each row
            self.conn.execute(
                f"""INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                    SELECT opportunity_id, ?, ?, 'followup cancelled', NULL, due || ' ' || text, id, NULL
                      FROM followups WHERE {where} ORDER BY due, id""",
                [self.now(), self.user["name"], opportunity_id],
            )
        return self.conn.execute(f"UPDATE followups SET status = 'cancelled' WHERE {where}", [opportunity_id]).rowcount
