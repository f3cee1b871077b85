"""Follow-ups: dated to-dos on deals: plan, list, mark done, edit and remove."""

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


def listing(session: "Session", *, mine: bool = False, overdue: bool = False, due_today: bool = False,
            week: bool = False, period: str | None = None, opportunity_id: int | None = None,
            include_done: bool = False, status: str | None = None) -> list[dict]:
    """The follow-ups `followup list` shows, earliest first: due in the window one of `overdue`, `due_today`,
    `week` or `period` (a report period name) sets, open ones unless `include_done` or `status` says."""
    from salesselect_cli.rules.dates import due_window

    after, before = due_window(session.today, overdue, due_today, week)
    if period is not None:
        from salesselect_cli.rules.periods import named_period

        span = named_period(period, session.today)
        after, before = span.start, span.end
    return session.store.followups.list_followups(
        mine=mine, due_before=before, due_on_or_after=after, opportunity_id=opportunity_id,
        include_done=include_done, status=status.strip().lower() if status is not None else None)


def complete(session: "Session", followup_id: int) -> dict:
    """Mark a follow-up done; returns it."""
    return session.store.followups.complete_followup(followup_id)


class FollowupEdited:
    """What an edit did to a follow-up: its row before and after, whether anything changed, and a warning for
    a new date in the past or at a weekend (None when there is none, or nothing changed)."""

    __slots__ = ("followup_id", "before", "after", "changed", "warning")

    def __init__(self, followup_id: int, before: dict, after: dict, warning: str | None):
        self.followup_id, self.before, self.after = followup_id, before, after
        self.changed = (before["due"], before["text"]) != (after["due"], after["text"])
        self.warning = warning if self.changed else None


def edit(session: "Session", followup_id: int, due: "dt.date | None" = None, text: str | None = None) -> FollowupEdited:
    """Reschedule (`due`) or reword (`text`) an open follow-up."""
    from salesselect_cli.rules.dates import followup_date_warning

    before, after = session.store.followups.edit_followup(followup_id, due, text)
    return FollowupEdited(followup_id, before, after, followup_date_warning(due, session.today))


def remove(session: "Session", followup_id: int) -> dict:
    """Remove a follow-up (the deal's history keeps what it was); returns what it was."""
    return session.store.followups.remove_followup(followup_id)
