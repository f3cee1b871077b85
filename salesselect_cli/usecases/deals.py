"""Deals (opportunities): move, win or lose, reopen, edit: each the whole operation on a Session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesselect_cli.i18n import N_
from salesselect_cli.usecases import undo

if TYPE_CHECKING:
    from salesselect_cli.model import Change
    from salesselect_cli.session import Session


class DealChanged:
    """What a move, win, lose or reopen did (a plain class: a dataclass costs a millisecond per command).

    opportunity_id  the deal
    before, after   its record (model.opportunity_record) before and after the change
    change          the stage/status change the workflows matched on (model.Change)
    fired           the names of the workflows that fired
    cancelled       how many open follow-ups were cancelled because the deal was closed
    warnings        failed run: actions, one line each: filled after the commit, when the session closes
    """

    __slots__ = ("opportunity_id", "before", "after", "change", "fired", "cancelled", "warnings")

    def __init__(self, opportunity_id: int, before: dict, after: dict, change: "Change", fired: list[str],
                 cancelled: int, warnings: list[str]):
        self.opportunity_id, self.before, self.after, self.change = opportunity_id, before, after, change
        self.fired, self.cancelled, self.warnings = fired, cancelled, warnings


class DealEdited:
    """What an edit did: the fields it changed (in order, 'note' for an added note), the record before and
    after, and a warning for an expected close date set in the past (None when there is none)."""

    __slots__ = ("opportunity_id", "fields", "before", "after", "warning")

    def __init__(self, opportunity_id: int, fields: list[str], before: dict, after: dict, warning: str | None):
        self.opportunity_id, self.fields, self.before, self.after = opportunity_id, fields, before, after
        self.warning = warning


def _may_skip_workflows(session: "Session", workflows: bool) -> None:
    """Workflows carry the agency's rules (owner: reassignments among them): only key users skip them."""
    if not workflows:
        session.store.people.require_key_user(N_("skip workflows (--no-workflows)"))


def _closed(session: "Session", change: "Change", keep_followups: bool) -> int:
    """A deal that was just won or lost has nothing left to follow up: cancel its open follow-ups before the
    workflows run (so a workflow's follow-up for the closed deal, e.g. 'ask for feedback', stays open)."""
    if not keep_followups and change.from_status == "open" and change.to_status != "open":
        return session.store.followups.cancel_followups(change.opportunity_id) or 0
    return 0


def _changed(session: "Session", change: "Change", keep_followups: bool, workflows: bool) -> DealChanged:
    from salesselect_cli.usecases.workflows import fire

    cancelled = _closed(session, change, keep_followups)
    fired = fire(session.store, change, workflows)
    after = session.store.deals.get_opportunity(change.opportunity_id)
    return DealChanged(change.opportunity_id, change.before, after, change, fired, cancelled,
                       session.store.workflow_warnings)


def expecting_change(opportunity_id: int, workflows: bool = True):
    """For open_session(expect=...): what a move, win, lose or reopen of this deal will read (the deal, the
    stages, the workflows), so that a server across a network sends it with the session's first round trip."""

    def expect(store) -> None:
        store.deals.expect_deal(opportunity_id)
        store.setup.expect_stages()
        if workflows:
            store.workflows.expect_rules()

    return expect


def _expect_workflows(session: "Session", workflows: bool) -> None:
    """The change will look for the workflows it sets off: read them with the deal (one round trip)."""
    if workflows:
        session.store.workflows.expect_rules()


def move(session: "Session", opportunity_id: int, stage: str, reason: str | None = None, *, workflows: bool = True,
         keep_followups: bool = False) -> DealChanged:
    """Move a deal to a stage of its business type (`opp move`, the board's ] and [). A move into a won or
    lost stage closes it: its open follow-ups are cancelled unless `keep_followups`."""
    _may_skip_workflows(session, workflows)
    _expect_workflows(session, workflows)
    before = undo.mark(session, opportunity_id, read=False)
    change = session.store.deals.move_opportunity(opportunity_id, stage, reason)
    changed = _changed(session, change, keep_followups, workflows)
    undo.record(session, before, "move")
    return changed


def close(session: "Session", opportunity_id: int, status: str, reason: str | None = None, *,
          workflows: bool = True, keep_followups: bool = False, vacancy: str | None = None) -> DealChanged:
    """Win or lose a deal (with the vacancy a won deal led to); cancels its open follow-ups unless
    `keep_followups`."""
    _may_skip_workflows(session, workflows)
    _expect_workflows(session, workflows)
    before = undo.mark(session, opportunity_id, read=False)
    change = session.store.deals.close_opportunity(opportunity_id, status, reason)
    if vacancy is not None:
        session.store.deals.edit_opportunity(opportunity_id, {"vacancy": vacancy})
    changed = _changed(session, change, keep_followups, workflows)
    undo.record(session, before, "win" if status == "won" else "lose")
    return changed


def reopen(session: "Session", opportunity_id: int, stage: str | None = None, *,
           workflows: bool = True) -> DealChanged:
    """Open a won or lost deal again (into `stage`, else where it was closed from)."""
    _may_skip_workflows(session, workflows)
    _expect_workflows(session, workflows)
    before = undo.mark(session, opportunity_id, read=False)
    change = session.store.deals.reopen_opportunity(opportunity_id, stage)
    changed = _changed(session, change, True, workflows)
    undo.record(session, before, "reopen")
    return changed


_EDITED_AFTER_TYPE = ("value_cents", "expected_close", "owner")


def edit(session: "Session", opportunity_id: int, changes: dict[str, Any], note: str | None = None, *,
         workflows: bool = True) -> DealEdited:
    """Edit plain fields (`changes`: title, company, contact, vacancy, notes, source, owner, business_type,
    stage, value_cents, expected_close as a date or None) and add a note; a type change that moves the
    stage fires workflows.

    The workflows fire right after the type change, before value, close date and owner are written (the
    order the store applies them), so a workflow's owner action never overrides an explicit --owner.
    """
    from salesselect_cli.rules.dates import past_close_warning
    from salesselect_cli.usecases.workflows import fire

    store = session.store
    before = store.deals.get_opportunity(opportunity_id)
    mark = undo.mark(session, opportunity_id)
    later = {key: changes[key] for key in _EDITED_AFTER_TYPE if key in changes}
    first = {key: value for key, value in changes.items() if key not in later}
    done: list[str] = []
    if first or not later:
        done, change = store.deals.edit_opportunity(opportunity_id, first)
        if change is not None:
            fire(store, change, workflows)
    if later:
        done += store.deals.edit_opportunity(opportunity_id, later)[0]
    if note is not None:
        store.deals.add_note(opportunity_id, note)
        done.append("note")
    undo.record(session, mark, "note" if done == ["note"] else "edit")
    warning = None
    if "expected_close" in done:
        warning = past_close_warning(changes["expected_close"], session.today)
    return DealEdited(opportunity_id, done, before, store.deals.get_opportunity(opportunity_id), warning)
