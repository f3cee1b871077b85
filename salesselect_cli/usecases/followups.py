"""Follow-ups: dated to-dos on deals."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from salesselect_cli.session import Session


class FollowupPlanned:
    """A follow-up that was planned: its id, the deal, the due date, the text and whose to-do it is."""

    __slots__ = ("followup_id", "opportunity_id", "due", "text", "user")

    def __init__(self, followup_id: int, opportunity_id: int, due: "dt.date", text: str, user: str | None):
        self.followup_id, self.opportunity_id, self.due, self.text, self.user = (
            followup_id, opportunity_id, due, text, user)


def add(session: "Session", opportunity_id: int, due: "dt.date", text: str,
        user: str | None = None) -> FollowupPlanned:
    """Plan a follow-up on a deal (`followup add`, the board's f): for `user`, else the deal's owner."""
    new_id = session.store.followups.add_followup(opportunity_id, due, text, user)
    return FollowupPlanned(new_id, opportunity_id, due, text, user)
