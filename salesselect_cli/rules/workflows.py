"""Workflow rules: parse and check action strings, decide which rules fire, say what they would do.

Pure: no database, no clock, no processes. The store resolves names to ids and applies actions;
`salesselect_cli.hooks` runs `run:` programs.

Action strings (the part before the first ':' names the kind, case-insensitive):
  followup:+3d:TEXT   plan a follow-up relative to today (+Nd, +Nw, +Nm, +Ny; +0d is today)
  note:TEXT           add a note to the opportunity's history
  owner:NAME          reassign the opportunity to a user
  run:COMMAND         run a program after the change is saved; argv split like a shell, never a shell
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import N_, _
from salesselect_cli.rules.settings import MAX_HOOK_TIMEOUT

KINDS = ("followup", "note", "owner", "run")
TRIGGERS = ("stage", "status")
DEFAULT_HOOK_TIMEOUT = 10.0
_OFFSET = re.compile(r"^\+?(\d{1,4})([dwmy])$")
_UNITS = {"d": "day", "w": "week", "m": "month", "y": "year"}
SYNTAX = N_("followup:+3d:TEXT, note:TEXT, owner:NAME or run:COMMAND")  # the words to type stay as they are


@dataclass(frozen=True)
class Action:
    """One parsed action. `argument` is the note or follow-up text, the user name or the command line."""

    kind: str
    argument: str
    raw: str
    amount: int = 0  # follow-up offset
    unit: str = "d"
    argv: tuple[str, ...] = ()  # run: the program and its arguments

    @property
    def changes_data(self) -> bool:
        """Followup, note and owner write in the triggering transaction; run: waits for the commit."""
        return self.kind != "run"


@dataclass(frozen=True)
class Rule:
    """A stored workflow, with names resolved to ids."""

    id: int
    name: str
    trigger: str  # 'stage' or 'status'
    actions: tuple[str, ...]
    to_stage_id: int | None = None
    from_stage_id: int | None = None
    to_status: str | None = None
    business_type_id: int | None = None
    enabled: bool = True
    env: tuple[str, ...] = ()  # variables its run: hooks may see (workflow add --env NAME)


@dataclass(frozen=True)
class Event:
    """One change of an opportunity: its stage and status before and after."""

    opportunity_id: int
    business_type_id: int
    from_stage_id: int
    to_stage_id: int
    from_status: str
    to_status: str

    @property
    def triggers(self) -> tuple[str, ...]:
        """The triggers this change sets off: 'stage' when the stage changed, 'status' when the status did."""
        fired = []
        if self.from_stage_id != self.to_stage_id:
            fired.append("stage")
        if self.from_status != self.to_status:
            fired.append("status")
        return tuple(fired)


def parse_action(text: str) -> Action:
    """Parse one action string; Invalid with the accepted syntax when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid(_("an action must not be empty; use {syntax}").format(syntax=_(SYNTAX)))
    raw = text.strip()
    kind, colon, rest = raw.partition(":")
    kind = kind.strip().lower()
    if not colon or kind not in KINDS:
        raise Invalid(_("unknown action '{action}'; use {syntax}").format(action=_short(raw), syntax=_(SYNTAX)))
    if kind == "followup":
        offset, colon, words = rest.partition(":")
        match = _OFFSET.match(offset.strip().lower())
        if not colon or match is None:
            raise Invalid(_(
                "bad follow-up offset in '{action}'; write followup:+3d:TEXT (+Nd, +Nw, +Nm or +Ny from the day it fires)"
            ).format(action=raw))
        _require_text(words, raw, N_("a follow-up needs text"))
        amount, unit = int(match.group(1)), match.group(2)
        if amount * {"d": 1, "w": 7, "m": 31, "y": 366}[unit] > 3660:
            raise Invalid(_("follow-up offset in '{action}' is more than ten years ahead").format(action=raw))
        return Action("followup", words.strip(), raw, amount, unit)
    if kind == "note":
        _require_text(rest, raw, N_("a note needs text"))
        return Action("note", rest.strip(), raw)
    if kind == "owner":
        _require_text(rest, raw, N_("owner: needs a user name"))
        from salesselect_cli.rules.text import clean_name

        return Action("owner", clean_name(rest, N_("owner: user name")), raw)
    _require_text(rest, raw, N_("run: needs a command"))
    try:
        argv = tuple(shlex.split(rest))
    except ValueError as exc:
        raise Invalid(_("cannot split the command in '{action}': {problem}").format(action=raw, problem=exc)) from None
    if not argv or not argv[0].strip():
        raise Invalid(_("run: needs a command in '{action}'").format(action=raw))
    return Action("run", rest.strip(), raw, argv=argv)


def _require_text(text: str, raw: str, message: str) -> None:
    """Within the limits of the note, follow-up or name the action will write, so it never fails later."""
    from salesselect_cli.rules.text import MAX_TEXT, clean_text

    if not text.strip():
        raise Invalid(_("{problem} ('{action}')").format(problem=_(message), action=_short(raw)))
    if len(text.strip()) > MAX_TEXT:
        raise Invalid(_("an action's text is longer than {max_text} characters ('{action}')").format(
            max_text=MAX_TEXT, action=_short(raw)))
    try:
        clean_text(text, N_("an action"))
    except Invalid:
        raise Invalid(_("an action must not contain control characters ('{action}')").format(
            action=_short(raw.strip()))) from None


def _short(raw: str) -> str:
    return raw if len(raw) <= 60 else raw[:57] + "..."


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SET_BY_THE_TOOL = ("PATH", "HOME", "LANG", "SALESSELECT_EVENT", "SALESSELECT_OPPORTUNITY_ID", "SALESSELECT_WORKFLOW",
                   "SALESSELECT_DB", "SALESSELECT_USER", "SALESSELECT_TODAY", "SALESSELECT_RUN")


def parse_env_names(names: list[str]) -> list[str]:
    """The variable names a workflow passes to its hooks: valid names, once each, none the tool sets."""
    result: list[str] = []
    for name in names:
        name = name.strip() if isinstance(name, str) else ""
        if not _ENV_NAME.match(name):
            raise Invalid(_("--env needs a variable name (letters, digits, _), not '{name}'").format(name=name))
        if name in SET_BY_THE_TOOL:
            raise Invalid(_("--env {name}: the tool sets {name} for every hook itself").format(name=name))
        if name not in result:
            result.append(name)
    return result


def parse_actions(texts: list[str]) -> list[Action]:
    """Parse every action of a rule; at least one."""
    if not texts:
        raise Invalid(_("a workflow needs at least one --action"))
    return [parse_action(text) for text in texts]


def followup_due(action: Action, today: dt.date) -> dt.date:
    """The due date of a follow-up action firing on `today`."""
    from salesselect_cli.rules.dates import add_offset

    return add_offset(today, 1, action.amount, action.unit)


def duplicates_open_followup(text: str, open_texts: list[str]) -> bool:
    """Whether a workflow's follow-up `text` is already open on the deal from the same workflow (so it is not
    planned twice, e.g. when a reopened deal enters the same stage again)."""
    return text.strip() in {planned.strip() for planned in open_texts}


def match(event: Event, rules: list[Rule]) -> list[Rule]:
    """The enabled rules this change fires, in the order given. Each rule fires at most once."""
    triggers = event.triggers
    return [rule for rule in rules if rule.enabled and rule.trigger in triggers and _conditions_hold(rule, event)]


def _conditions_hold(rule: Rule, event: Event) -> bool:
    return (
        (rule.to_stage_id is None or rule.to_stage_id == event.to_stage_id)
        and (rule.from_stage_id is None or rule.from_stage_id == event.from_stage_id)
        and (rule.to_status is None or rule.to_status == event.to_status)
        and (rule.business_type_id is None or rule.business_type_id == event.business_type_id)
    )


def describe(action: Action, today: dt.date, timeout: float = DEFAULT_HOOK_TIMEOUT, for_people: bool = False) -> str:
    """What an action would do if it fired today, in one line: English for scripts (JSON, CSV), or in the
    interface language with the date as it writes dates when `for_people`."""
    tr = _ if for_people else (lambda message: message)
    if action.kind == "followup":
        due = followup_due(action, today)
        if for_people:
            from salesselect_cli.rules.dates import format_date

            shown_due = format_date(due.isoformat())
        else:
            shown_due = due.isoformat()
        return tr("plan a follow-up on {date}: {text}").format(date=shown_due, text=action.argument)
    if action.kind == "note":
        return tr("add the note: {text}").format(text=action.argument)
    if action.kind == "owner":
        return tr("reassign to {user}").format(user=action.argument)
    return tr("after saving, run {command} (event JSON on stdin, time limit {limit} s)").format(
        command=shlex.join(action.argv), limit=f"{timeout:g}")


def describe_offset(action: Action) -> str:
    unit = _UNITS[action.unit] + ("" if action.amount == 1 else "s")
    return f"+{action.amount} {unit}"


def parse_timeout(value: str | float | None, where: str) -> float | None:
    """A hook time limit in seconds (0 < t <= 3600); None stays None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise Invalid(_("{where} must be a number of seconds, not '{value}'").format(where=where, value=value)) from None
    if not (0 < seconds <= MAX_HOOK_TIMEOUT):  # also refuses nan
        raise Invalid(_("{where} must be more than 0 and at most {limit} seconds, not '{value}'").format(
            where=where, limit=f"{MAX_HOOK_TIMEOUT:g}", value=value))
    return seconds


def hook_timeout(env_value: str | None, setting_value: str | None) -> float:
    """The time limit of run: actions: $SALESSELECT_HOOK_TIMEOUT, else the workflow_timeout setting, else 10 s."""
    return (
        parse_timeout(env_value, "$SALESSELECT_HOOK_TIMEOUT")
        or parse_timeout(setting_value, "the workflow_timeout setting")
        or DEFAULT_HOOK_TIMEOUT
    )


def conditions_text(on: str, to_stage: str | None, from_stage: str | None, to_status: str | None,
                    business_type: str | None) -> str:
    """'stage changes from Lead to Proposal, Staffing only': a rule's trigger and conditions for people."""
    from salesselect_cli.i18n import _

    status = {"open": _("open"), "won": _("won"), "lost": _("lost")}
    if on == "stage":
        head = _("stage changes") + (" " + _("from {stage}").format(stage=from_stage) if from_stage else "") \
            + (" " + _("to {stage}").format(stage=to_stage) if to_stage else "")
        extras = [_("status then {status}").format(status=status.get(to_status, to_status))] if to_status else []
    else:
        head = _("status changes") + (" " + _("to {status}").format(status=status.get(to_status, to_status))
                                      if to_status else "")
        extras = ([_("stage before {stage}").format(stage=from_stage)] if from_stage else []) + \
            ([_("stage after {stage}").format(stage=to_stage)] if to_stage else [])
    if business_type:
        extras.append(_("{type} only").format(type=business_type))
    return ", ".join([head, *extras])
