"""Undo: take back the acting user's last change to a deal (`salesselect undo`, the board's u)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesselect_cli.i18n import N_

if TYPE_CHECKING:
    from salesselect_cli.session import Session

# What each use case records as its step's action (stored in English, shown through _()).
ACTIONS = {"move": N_("move"), "win": N_("win"), "lose": N_("lose"), "reopen": N_("reopen"), "edit": N_("edit"),
           "followup": N_("follow-up"), "note": N_("note")}


class Undone:
    """What an undo took back: the deal, the step's action and when it was done, and how many follow-ups came
    back open, follow-ups went and notes went."""

    __slots__ = ("opportunity_id", "title", "action", "at", "reopened", "removed", "notes")

    def __init__(self, opportunity_id: int, title: str, action: str, at: str, reopened: int, removed: int,
                 notes: int):
        self.opportunity_id, self.title, self.action, self.at = opportunity_id, title, action, at
        self.reopened, self.removed, self.notes = reopened, removed, notes


def mark(session: "Session", opportunity_id: int, read: bool = True) -> dict | None:
    """Where a deal stands before a use case changes it (pass to `record` after the change). Without `read`
    the store's own read of the deal before a move, win, lose or reopen notes it (one statement fewer)."""
    return session.store.deals.undo_mark(opportunity_id, read)


def record(session: "Session", before: dict | None, action: str) -> None:
    """The change since `before` as one undo step of the acting user (nothing when nothing changed)."""
    session.store.deals.record_undo_step(before, action)


def steps(session: "Session", limit: int = 20) -> list[dict]:
    """What `undo` would take back, the next first (id, opportunity_id, at, action, title, company)."""
    return session.store.deals.undo_steps(limit)


def undo(session: "Session") -> Undone:
    """Take back the acting user's last step; refused when someone else changed the deal since."""
    done = session.store.deals.undo_last()
    return Undone(done["opportunity_id"], done["title"], done["action"], done["at"], done["reopened"],
                  done["removed"], done["notes"])
