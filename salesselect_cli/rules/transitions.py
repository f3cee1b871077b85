"""Opportunity lifecycle: move, win, lose, reopen. Pure: decides, the store applies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from salesselect_cli.errors import Invalid, InvalidTransition
from salesselect_cli.i18n import N_, _


@dataclass(frozen=True)
class Stage:
    id: int
    name: str
    position: int
    auto_status: str | None  # 'won', 'lost' or None
    business_type_ids: frozenset[int]
    archived: bool = False  # kept for the deals closed from it; nothing new enters it


@dataclass(frozen=True)
class Reason:
    id: int
    text: str
    status: str  # 'won' or 'lost'


@dataclass(frozen=True)
class State:
    """What a transition reads of an opportunity."""

    id: int
    status: str
    stage_id: int
    business_type_id: int
    business_type: str
    closed_from_stage_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a transition writes: the new stage, status, reason and closing facts."""

    stage_id: int
    status: str
    reason_id: int | None
    closed: dt.date | None
    closed_from_stage_id: int | None


def _check_reason(status: str, reason: Reason | None, required: bool) -> None:
    if reason is None:
        if required:
            raise Invalid(_("a lost opportunity needs a lost reason (--reason)") if status == "lost"
                          else _("a won opportunity needs a won reason (--reason)"))
        return
    if reason.status != status:
        raise Invalid((_("reason '{text}' is a lost reason, not a won reason") if status == "won"
                       else _("reason '{text}' is a won reason, not a lost reason")).format(text=reason.text))


def check_open(state: State, verb: str) -> None:
    """Refuse to `verb` a closed opportunity, with the reopen hint (the first thing a move or close checks)."""
    _require_open(state.id, state.status, verb)


def _require_open(opportunity_id: int, status: str, verb: str) -> None:
    if status != "open":
        raise InvalidTransition(
            _("opportunity #{id} is {status}; reopen it before you {verb} it (salesselect opp reopen {id})").format(
                id=opportunity_id, status=_status(status), verb=_(verb))
        )


def _status(status: str) -> str:
    return {"won": _("won"), "lost": _("lost"), "open": _("open")}.get(status, status)


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


def check_stage_of_type(state: State, stage: Stage, type_stages: list[Stage]) -> None:
    """Refuse a stage that is not linked to the opportunity's business type, or that is archived."""
    if stage.archived:
        raise Invalid(_(
            "stage '{name}' is archived; use another stage ({valid}) or unarchive it "
            "(salesselect config unarchive-stage {quoted})"
        ).format(name=stage.name, valid=", ".join(s.name for s in type_stages) or _("none"), quoted=_quoted(stage.name)))
    if state.business_type_id not in stage.business_type_ids:
        valid = ", ".join(s.name for s in type_stages) or "none"
        raise Invalid(_("stage '{stage}' is not a stage of business type '{type}'; valid: {valid}").format(
            stage=stage.name, type=state.business_type, valid=valid))


MOVE, CLOSE = N_("move"), N_("win or lose")  # the verbs of check_open's refusal


def move(state: State, target: Stage, type_stages: list[Stage], reason: Reason | None, today: dt.date) -> Outcome:
    """Move an open opportunity to a stage of its type; an auto-select stage closes it."""
    check_open(state, MOVE)
    check_stage_of_type(state, target, type_stages)
    if target.id == state.stage_id:
        raise InvalidTransition(_("opportunity #{id} is already in stage '{stage}'").format(id=state.id, stage=target.name))
    if target.auto_status is None:
        if reason is not None:
            raise Invalid(_("--reason applies only when the move closes the opportunity; "
                            "'{stage}' is not a won or lost stage").format(stage=target.name))
        return Outcome(target.id, "open", None, None, None)
    _check_reason(target.auto_status, reason, required=target.auto_status == "lost")
    return Outcome(target.id, target.auto_status, reason.id if reason else None, today, state.stage_id)


def close(state: State, status: str, type_stages: list[Stage], reason: Reason | None, today: dt.date) -> Outcome:
    """Win or lose: set the status, and enter the type's one auto-select stage for it if there is one."""
    check_open(state, CLOSE)
    _check_reason(status, reason, required=status == "lost")
    auto = [s for s in type_stages if s.auto_status == status]
    stage_id = auto[0].id if len(auto) == 1 else state.stage_id
    return Outcome(stage_id, status, reason.id if reason else None, today, state.stage_id)


def reopen(state: State, target: Stage | None, type_stages: list[Stage]) -> Outcome:
    """Open a closed opportunity again: in `target`, else where it was closed from, else the type's first stage."""
    if state.status == "open":
        raise InvalidTransition(_("opportunity #{id} is already open").format(id=state.id))
    open_stages = [s for s in type_stages if s.auto_status is None]
    if target is not None:
        check_stage_of_type(state, target, type_stages)
        if target.auto_status is not None:
            raise Invalid(_("stage '{name}' marks opportunities {auto_status}; reopen into an open stage: {valid}").format(
                name=target.name, auto_status=_status(target.auto_status),
                valid=", ".join(s.name for s in open_stages) or _("none")))
        return Outcome(target.id, "open", None, None, None)
    current = next((s for s in type_stages if s.id == state.stage_id), None)
    if current is not None and current.auto_status is None:
        return Outcome(current.id, "open", None, None, None)
    back = next((s for s in open_stages if s.id == state.closed_from_stage_id), None)
    if back is None:
        if not open_stages:
            raise Invalid(_("business type '{name}' has no open stage to reopen into").format(name=state.business_type))
        back = open_stages[0]
    return Outcome(back.id, "open", None, None, None)


def default_stage(type_stages: list[Stage], business_type: str) -> Stage:
    """The first stage (by position) of a business type that does not close the opportunity."""
    for stage in type_stages:
        if stage.auto_status is None:
            return stage
    raise Invalid(_("business type '{type}' has no stages yet (salesselect config add-stage NAME --business-type {quoted})")
                  .format(type=business_type, quoted=repr(business_type)))


def adjacent_stage(opportunity_id: int, status: str, stage_name: str, type_stages: list[Stage], business_type: str,
                   step: int) -> Stage:
    """The next (step 1) or previous (step -1) stage of an open opportunity's type, by position.

    The interactive board's `]` and `[`: past the last open stage lie the type's won/lost stages,
    so `]` on the last open stage proposes closing it; there is nothing past either end.
    """
    _require_open(opportunity_id, status, N_("move"))
    names = [stage.name.casefold() for stage in type_stages]
    if stage_name.casefold() not in names:
        raise Invalid(_("stage '{name}' is not a stage of business type '{business_type}'").format(
            name=stage_name, business_type=business_type))
    index = names.index(stage_name.casefold()) + step
    if not 0 <= index < len(type_stages):
        message = (_("'{name}' is the last stage of business type '{business_type}'") if step > 0
                   else _("'{name}' is the first stage of business type '{business_type}'"))
        raise InvalidTransition(message.format(name=stage_name, business_type=business_type))
    return type_stages[index]
