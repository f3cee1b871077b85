"""Follow-ups: dated to-dos on deals."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from salesselect_cli.session import Session


class FollowupPlanned:
    """A follow-up that was planned: its id, the deal, the due date, the text, whose to-do it is and a warning
    for a date in the past or at a weekend (None when there is none: it is planned all the same)."""

    __slots__ = ("followup_id", "opportunity_id", "due", "text", "user", "warning")

    def __init__(self, followup_id: int, opportunity_id: int, due: "dt.date", text: str, user: str | None,
                 warning: str | None = None):
        self.followup_id, self.opportunity_id, self.due, self.text, self.user = (
            followup_id, opportunity_id, due, text, user)
        self.warning = warning


def add(session: "Session", opportunity_id: int, due: "dt.date", text: str,
        user: str | None = None) -> FollowupPlanned:
    """Plan a follow-up on a deal (`followup add`, the board's f): for `user`, else the deal's owner."""
    from salesselect_cli.rules.dates import followup_date_warning

    from salesselect_cli.usecases import undo

    before = undo.mark(session, opportunity_id)
    new_id = session.store.followups.add_followup(opportunity_id, due, text, user)
    undo.record(session, before, "followup")
    return FollowupPlanned(new_id, opportunity_id, due, text, user, followup_date_warning(due, session.today))
