"""Deals (opportunities): add, list, show, move, win or lose, reopen, edit, and the trash: each the whole
operation on a Session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesselect_cli.i18n import N_
from salesselect_cli.usecases import undo

if TYPE_CHECKING:
    import datetime as dt
    from typing import Callable, Iterator

    from salesselect_cli.model import Change, OpportunityFilter
    from salesselect_cli.session import Session


class DealChanged:
    """What a move, win, lose or reopen did (a plain class: a dataclass costs a millisecond per command).

    opportunity_id  the deal
    before, after   its record (model.opportunity_record) before and after the change; `after` is read with
                    the COMMIT (deals.record_at_commit) and taken once the session committed
    change          the stage/status change the workflows matched on (model.Change)
    fired           the names of the workflows that fired
    cancelled       how many open follow-ups were cancelled because the deal was closed
    warnings        failed run: actions, one line each: filled after the commit, when the session closes
    """

    __slots__ = ("opportunity_id", "before", "_after", "_read_after", "change", "fired", "cancelled", "warnings")

    def __init__(self, opportunity_id: int, before: dict, read_after: "Callable[[], dict]", change: "Change",
                 fired: list[str], cancelled: int, warnings: list[str]):
        self.opportunity_id, self.before, self.change = opportunity_id, before, change
        self._after, self._read_after = None, read_after
        self.fired, self.cancelled, self.warnings = fired, cancelled, warnings

    @property
    def after(self) -> dict:
        if self._after is None:
            self._after = self._read_after()
        return self._after


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
    # the record after goes with the COMMIT (one round trip fewer across a network), taken before the store closes
    after = session.store.deals.record_at_commit(change.opportunity_id)
    changed = DealChanged(change.opportunity_id, change.before, after, change, fired, cancelled,
                          session.store.workflow_warnings)
    # first after the COMMIT: a failed run: hook writes its history line in a new transaction, which would
    # drop the answer that came with the COMMIT, and the record would be read again after the hook's own changes
    session.store.after_commit.insert(0, lambda: changed.after)
    return changed


def expecting_change(opportunity_id: int, workflows: bool = True, reason: bool = False):
    """For open_session(expect=...): what a move, win, lose or reopen of this deal will read (the deal, the
    stages, the workflows and their open follow-ups on it; the reasons when one is given), so that a server
    across a network sends it with the session's first round trip."""

    def expect(store) -> None:
        store.deals.expect_deal(opportunity_id)
        store.setup.expect_stages()
        if reason:
            store.setup.expect_reasons()
        if workflows:
            store.workflows.expect_rules()
            store.followups.expect_workflow_followups(opportunity_id)

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


# ---------------------------------------------------------------- add, list, show


class DealAdded:
    """A deal that was added: its id, and a warning for an expected close date in the past (None if none)."""

    __slots__ = ("opportunity_id", "warning")

    def __init__(self, opportunity_id: int, warning: str | None):
        self.opportunity_id, self.warning = opportunity_id, warning


def add(session: "Session", *, title: str, company: str, business_type: str, source: str, stage: str | None = None,
        value_cents: int = 0, expected_close: "dt.date | None" = None, owner: str | None = None,
        contact: str | None = None, vacancy: str | None = None, note: str | None = None) -> DealAdded:
    """Add a deal (`opp add`): in `stage`, else its type's first; owned by `owner`, else the acting user."""
    from salesselect_cli.rules.dates import past_close_warning

    new_id = session.store.deals.add_opportunity(
        title=title, company=company, business_type=business_type, source=source, stage=stage,
        value_cents=value_cents, expected_close=expected_close, owner=owner,
        contact=contact, vacancy=vacancy, note=note,
    )
    return DealAdded(new_id, past_close_warning(expected_close, session.today))


class DealList:
    """The deals a filter matches, streamed (read them while the session is open), with what a table needs.

    rows        the records (model.opportunity_record), with their win chance when asked for
    thresholds  the indicator's (orange, red) days; (None, None) while it is not set
    currency    the agency's currency
    """

    __slots__ = ("rows", "thresholds", "currency")

    def __init__(self, rows: "Iterator[dict]", thresholds: tuple[int | None, int | None], currency: str):
        self.rows, self.thresholds, self.currency = rows, thresholds, currency


def expecting_listing(flt: "OpportunityFilter | None", limit: int | None = None):
    """For open_session(expect=...): the list's read (`listing` of `flt`, built ahead; None: not known before the
    session opens), sent with the session's first round trip when it needs no name looked up."""

    def expect(store) -> None:
        if flt is not None:
            store.deals.expect_list(flt, limit)

    return expect


def listing(session: "Session", flt: "OpportunityFilter", limit: int | None = None, *,
            chances: bool = False) -> DealList:
    """The deals `flt` matches (`opp list`), in its order, at most `limit`; `chances`: each with its win chance
    (that costs the forecast model's counts, so only records for machines carry it)."""
    store = session.store
    rows = store.deals.list_opportunities(flt, limit)
    if chances:
        rows = store.forecast.with_chances(rows)
    return DealList(rows, store.setup.thresholds(), store.people.currency)


class DealSheet:
    """One deal with everything `opp show` and the board's card show: the record (with its win chance and why,
    when asked for), its history timeline, every follow-up and the agency's currency."""

    __slots__ = ("record", "history", "followups", "currency")

    def __init__(self, record: dict, history: list[dict], followups: list[dict], currency: str):
        self.record, self.history, self.followups, self.currency = record, history, followups, currency


def sheet(session: "Session", opportunity_id: int, *, chances: bool = True) -> DealSheet:
    """One deal, its history and its follow-ups (`opp show`; the board's card without `chances`)."""
    store = session.store
    record = store.deals.get_opportunity(opportunity_id)
    if chances:
        record = next(store.forecast.with_chances([record], explain=True))
    history = store.deals.history(opportunity_id)
    followups = store.followups.list_followups(opportunity_id=opportunity_id, status="all")
    return DealSheet(record, history, followups, store.people.currency)


def adjacent_stage(session: "Session", opportunity_id: int, step: int):
    """The next (1) or previous (-1) stage of the deal's business type (a rules.transitions.Stage)."""
    from salesselect_cli.rules.transitions import adjacent_stage as adjacent

    store = session.store
    record = store.deals.get_opportunity(opportunity_id)
    stages = store.setup.stages_of_type(store.setup.find_business_type(record["business_type"])["id"])
    return adjacent(opportunity_id, record["status"], record["stage"], stages, record["business_type"], step)


# ---------------------------------------------------------------- the trash


def trash_preview(session: "Session", opportunity_id: int) -> dict:
    """The deal `opp delete` would move to the trash (refused when the acting user may not change it)."""
    session.store.deals.check_may_change(opportunity_id)
    return session.store.deals.get_opportunity(opportunity_id)


def trash(session: "Session", opportunity_id: int) -> dict:
    """Move a deal to the trash, with its history and follow-ups; returns its record."""
    return session.store.deals.trash_opportunity(opportunity_id)


def trashed(session: "Session") -> list[dict]:
    """The deals in the trash, most recently deleted first."""
    return session.store.deals.list_trash()


def restore(session: "Session", opportunity_id: int) -> dict:
    """Bring a deal back from the trash exactly as it was; returns its record."""
    return session.store.deals.restore_opportunity(opportunity_id)


class PurgePlan:
    """What `opp purge` would delete for good: the deals in the trash, and the first day a deal may have been
    trashed and be kept (None when one deal is named)."""

    __slots__ = ("doomed", "cutoff")

    def __init__(self, doomed: list[dict], cutoff: "dt.date | None"):
        self.doomed, self.cutoff = doomed, cutoff


def purge_plan(session: "Session", opportunity_id: int | None, older_than: str | None) -> PurgePlan:
    """The deal in the trash, or every deal in it longer than `older_than` (30d, 8w); key users only."""
    from salesselect_cli.rules.dates import trash_cutoff

    store = session.store
    store.deals.require_may_purge()
    cutoff = trash_cutoff(older_than, session.today) if older_than is not None else None
    if opportunity_id is not None:
        return PurgePlan([store.deals.trashed_opportunity(opportunity_id)], cutoff)
    return PurgePlan(store.deals.trashed_before(cutoff), cutoff)


def purge(session: "Session", opportunity_id: int | None, cutoff: "dt.date | None") -> list[dict]:
    """Delete the deal in the trash, or those trashed before `cutoff`, for good; returns what went."""
    if opportunity_id is not None:
        return [session.store.deals.purge_opportunity(opportunity_id)]
    return session.store.deals.purge_trashed_before(cutoff)
