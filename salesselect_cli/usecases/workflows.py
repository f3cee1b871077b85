"""Workflow firing: match the workflows on a change, apply their data actions, run hooks.

The store's move/close/reopen/edit return a `model.Change` (before/after stage and status). Here the
enabled workflows (rules/workflows.py) are matched on it; followup, note and owner actions write through
the store in the same transaction, as 'workflow:NAME'; run: actions (hooks.py) wait for the commit, and a
failing one becomes a warning on `store.workflow_warnings` and a history row. The deal use cases
(usecases/deals.py) call `fire` for every change that fires workflows.
"""

from __future__ import annotations

import json
import os

from salesselect_cli.i18n import _
from salesselect_cli.model import Change

HOOK_TIMEOUT_ENV = "SALESSELECT_HOOK_TIMEOUT"
RUN_TOKEN_ENV = "SALESSELECT_RUN"  # a run: hook's token; its own changes never trigger workflows


def hook_timeout(store) -> float:
    """Seconds a run: action may take: $SALESSELECT_HOOK_TIMEOUT, else the workflow_timeout setting, else 10."""
    return store.workflows.hook_timeout(os.environ.get(HOOK_TIMEOUT_ENV))


def preview(store, opportunity_id: int, to_stage: str | None, to_status: str | None) -> dict:
    """What a move/win/lose/reopen would fire, without writing."""
    return store.workflows.preview_workflows(opportunity_id, to_stage, to_status, os.environ.get(HOOK_TIMEOUT_ENV))


def fire(store, change: Change, workflows: bool = True) -> list[str]:
    """Run the workflows that `change` sets off; returns the names of the rules that fired."""
    from salesselect_cli.errors import SalesSelectError
    from salesselect_cli.rules import workflows as wf

    if not workflows or _inside_hook(store):
        return []
    event = wf.Event(change.opportunity_id, change.business_type_id, change.from_stage_id, change.to_stage_id,
                     change.from_status, change.to_status)
    if not event.triggers:
        return []
    ident = change.opportunity_id
    fired = wf.match(event, store.workflows.workflow_rules())
    hooks = []
    for rule in fired:
        actor = f"workflow:{rule.name}"
        with store.workflow_acting(rule.name):  # PostgreSQL: the audit triggers name the workflow
            for raw in rule.actions:
                try:
                    action = wf.parse_action(raw)
                    if action.kind == "followup":
                        if wf.duplicates_open_followup(action.argument, store.followups.open_workflow_followups(ident, rule.name)):
                            continue
                        store.followups.add_followup(ident, wf.followup_due(action, store.today), action.argument, actor=actor,
                                           workflow=rule.name)
                    elif action.kind == "note":
                        store.deals.add_note(ident, action.argument, actor=actor)
                    elif action.kind == "owner":
                        store.deals.change_owner(ident, action.argument, actor=actor)
                    else:
                        hooks.append((rule, action))
                except SalesSelectError as exc:
                    message = (_("workflow '{workflow}', action '{action}': {problem}; nothing was changed "
                                 "(fix the workflow, or pass --no-workflows)") if store.people.user["key_user"]
                               else _("workflow '{workflow}', action '{action}': {problem}; nothing was changed "
                                      "(ask a key user to fix the workflow)"))
                    raise type(exc)(message.format(workflow=rule.name, action=raw, problem=exc)) from None
    if hooks:
        import functools

        from salesselect_cli.model import public

        timeout = hook_timeout(store)
        common = {
            "opportunity_id": ident,
            "before": public(change.before),
            "after": public(store.deals.get_opportunity(ident)),
            "user": store.people.user["name"],
            "time": store.people.now().replace(" ", "T"),
        }
        for rule, action in hooks:
            event_json = {"trigger": rule.trigger, "workflow": rule.name, **common}
            store.after_commit.append(functools.partial(_run_hook, store, rule.name, action, event_json, timeout,
                                                      rule.env))
    return [rule.name for rule in fired]


def _inside_hook(store) -> bool:
    """This command runs inside a run: hook: its token is one the database knows as running now.

    A per-run random token, recorded in the database for the hook's time limit, so nobody skips
    workflows by setting a variable.
    """
    import time

    token = os.environ.get(RUN_TOKEN_ENV)
    return bool(token) and store.people.hook_run_active(token, time.time())


def _run_hook(store, workflow: str, action, event_json: dict, timeout: float, passthrough: tuple[str, ...] = ()) -> None:
    """After the commit: run one run: action; a failure becomes a warning and a history row."""
    import secrets
    import shlex
    import time

    from salesselect_cli.hooks import run_hook
    from salesselect_cli.sql.dialect import database_errors

    opportunity_id = event_json["opportunity_id"]
    token = secrets.token_hex(16)
    env = dict(
        os.environ, SALESSELECT_EVENT=event_json["trigger"], SALESSELECT_OPPORTUNITY_ID=str(opportunity_id),
        SALESSELECT_WORKFLOW=workflow, SALESSELECT_DB=str(store.path), SALESSELECT_USER=event_json["user"],
        SALESSELECT_RUN=token,
    )
    try:
        with store.transaction(write=True):
            store.people.open_hook_run(token, time.time() + timeout + 5)
        problem = run_hook(action.argv, json.dumps(event_json, ensure_ascii=False), env, timeout, passthrough)
    except Exception as exc:  # the change is committed: whatever happens here is only a warning
        problem = f"could not run it: {exc.__class__.__name__}: {exc}"
    finally:
        try:
            with store.transaction(write=True):
                store.people.close_hook_run(token)
        except database_errors():  # the run is over either way; its marker expires on its own
            pass
    if problem is None:
        return
    command = shlex.join(action.argv)
    store.workflow_warnings.append(
        _("workflow '{workflow}': {command} failed ({problem}); opportunity #{id} was changed all the same").format(
            workflow=workflow, command=command, problem=problem, id=opportunity_id)
    )
    try:
        with store.transaction(write=True):
            store.workflows.record_hook_failure(opportunity_id, workflow, f"{command}: {problem}")
    except database_errors() as exc:
        store.workflow_warnings.append(_("workflow '{workflow}': the failure could not be recorded in the history "
                                         "({problem})").format(workflow=workflow, problem=exc))
