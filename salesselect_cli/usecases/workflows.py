"""Workflow firing: match the workflows on a change, apply their data actions, run hooks.

The store's move/close/reopen/edit return a `model.Change` (before/after stage and status). Here the
enabled workflows (rules/workflows.py) are matched on it; followup, note and owner actions write through
the store in the same transaction, as 'workflow:NAME'; run: actions (hooks.py) wait for the commit, and a
failing one becomes a warning on `store.workflow_warnings` and a history row. The deal use cases
(usecases/deals.py) call `fire` for every change that fires workflows.

A run: action runs only on a machine whose user allowed its workflow (allowlist.py, in the user's config
folder: `workflow allow`; `workflow add` and `config import` allow what they add); elsewhere the change
goes through and one warning line says how to allow it. So a workflow written into a shared database
never runs a program on a colleague's machine.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from salesselect_cli.i18n import _
from salesselect_cli.model import Change

if TYPE_CHECKING:
    from salesselect_cli.session import Session

HOOK_TIMEOUT_ENV = "SALESSELECT_HOOK_TIMEOUT"
RUN_TOKEN_ENV = "SALESSELECT_RUN"  # a run: hook's marker (hooks.inside_hook); its own changes never trigger workflows


def _refused(store, workflow: str, raw: str, exc: Exception) -> Exception:
    """A workflow action that cannot be applied: the whole change is refused, saying what to do about it."""
    message = (_("workflow '{workflow}', action '{action}': {problem}; nothing was changed "
                 "(fix the workflow, or pass --no-workflows)") if store.people.user["key_user"]
               else _("workflow '{workflow}', action '{action}': {problem}; nothing was changed "
                      "(ask a key user to fix the workflow)"))
    return type(exc)(message.format(workflow=workflow, action=raw, problem=exc))


def hook_timeout(store) -> float:
    """Seconds a run: action may take: $SALESSELECT_HOOK_TIMEOUT, else the workflow_timeout setting, else 10."""
    return store.workflows.hook_timeout(os.environ.get(HOOK_TIMEOUT_ENV))


def preview(store, opportunity_id: int, to_stage: str | None, to_status: str | None) -> dict:
    """What a move/win/lose/reopen would fire, without writing."""
    return store.workflows.preview_workflows(opportunity_id, to_stage, to_status, os.environ.get(HOOK_TIMEOUT_ENV))


def fire(store, change: Change, workflows: bool = True) -> list[str]:
    """Run the workflows that `change` sets off; returns the names of the rules that fired."""
    from salesselect_cli.allowlist import run_actions
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
    allowed = None
    for rule in fired:
        actor = f"workflow:{rule.name}"
        runs_here = True
        if run_actions(rule.actions):
            if allowed is None:
                from salesselect_cli.allowlist import Allowlist

                allowed = Allowlist.load()
            runs_here = allowed.is_allowed(str(store.path), rule.name, list(rule.actions), rule.env)
            if not runs_here:
                store.workflow_warnings.append(skipped_line(store.path, rule.name))
        with store.workflow_acting(rule.name):  # PostgreSQL: the audit triggers name the workflow
            parsed = []
            for raw in rule.actions:
                try:
                    parsed.append((raw, wf.parse_action(raw)))
                except SalesSelectError as exc:
                    raise _refused(store, rule.name, raw, exc) from None
            handed_to = []
            for raw, action in parsed:
                if action.kind == "owner":  # checked first, in order, as the actions come
                    try:
                        handed_to.append(store.people.find_user(action.argument)["name"])
                    except SalesSelectError as exc:
                        raise _refused(store, rule.name, raw, exc) from None
            # the hand-over last: its notes and follow-ups (for the new owner) are written while whoever moved
            # the deal may still write it (on PostgreSQL the row rules refuse them on a colleague's deal)
            parsed.sort(key=lambda item: item[1].kind == "owner")
            for raw, action in parsed:
                try:
                    if action.kind == "followup":
                        opened = store.followups.open_workflow_followups(ident, rule.name)
                        if wf.duplicates_open_followup(action.argument, opened):
                            continue
                        store.followups.add_workflow_followup(ident, wf.followup_due(action, store.today),
                                                              action.argument, rule.name, actor,
                                                              user=handed_to[-1] if handed_to else None)
                    elif action.kind == "note":
                        store.deals.add_workflow_note(ident, action.argument, actor)
                    elif action.kind == "owner":
                        store.deals.change_owner(ident, action.argument, actor=actor)
                    elif runs_here:
                        hooks.append((rule, action))
                except SalesSelectError as exc:
                    raise _refused(store, rule.name, raw, exc) from None
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


def skipped_line(location, workflow: str) -> str:
    """The warning for a run: action this machine was not allowed to run, with the command that allows it."""
    return _("workflow '{workflow}': its run: program was skipped, as this machine's user has not allowed it "
             "(or its command changed since); to allow it here: {command}").format(
        workflow=workflow, command=allow_command(location, workflow))


def allow_command(location, workflow: str) -> str:
    """`salesselect workflow allow NAME`, with --db when the database is not $SALESSELECT_DB (never a password)."""
    import shlex

    from salesselect_cli.hooks import database_for_hook

    words = ["salesselect"]
    if str(location) != os.environ.get("SALESSELECT_DB", "").strip():
        words += ["--db", database_for_hook(str(location))]
    return shlex.join(words + ["workflow", "allow", workflow])


def _inside_hook(store) -> bool:
    """This command runs inside a run: hook on this database: its SALESSELECT_RUN names a live marker file.

    The marker lives in the user's config folder, never in the database (nobody forges it there), and is
    a file only the running hook's salesselect made, so nobody skips workflows by setting a variable.
    """
    marker = os.environ.get(RUN_TOKEN_ENV)
    if not marker:  # the usual case: no hook around, nothing to import
        return False
    import time

    from salesselect_cli.allowlist import database_identity
    from salesselect_cli.hooks import inside_hook

    return inside_hook(marker, database_identity(str(store.path)), time.time())


def _run_hook(store, workflow: str, action, event_json: dict, timeout: float, passthrough: tuple[str, ...] = ()) -> None:
    """After the commit: run one run: action; a failure becomes a warning and a history row."""
    import shlex
    import time

    from salesselect_cli.allowlist import database_identity, runs_dir
    from salesselect_cli.hooks import close_run_marker, open_run_marker, run_hook
    from salesselect_cli.sql.dialect import database_errors

    opportunity_id = event_json["opportunity_id"]
    marker = None
    try:
        # outside the database: the hook's own salesselect calls fire no workflows, and nobody forges that
        marker = open_run_marker(runs_dir(), database_identity(str(store.path)), time.time() + timeout + 5)
        env = dict(
            os.environ, SALESSELECT_EVENT=event_json["trigger"], SALESSELECT_OPPORTUNITY_ID=str(opportunity_id),
            SALESSELECT_WORKFLOW=workflow, SALESSELECT_DB=str(store.path), SALESSELECT_USER=event_json["user"],
            SALESSELECT_RUN=marker,
        )
        problem = run_hook(action.argv, json.dumps(event_json, ensure_ascii=False), env, timeout, passthrough)
    except Exception as exc:  # the change is committed: whatever happens here is only a warning
        problem = f"could not run it: {exc.__class__.__name__}: {exc}"
    finally:
        if marker is not None:
            try:
                close_run_marker(marker)
            except OSError:  # the run is over either way; its marker expires on its own
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


# --------------------------------------------------------------------------- the workflow commands


class Shown:
    """One workflow as `workflow show` shows it, with what its actions are described against: the time limit
    of its run: actions and the command's today (a follow-up's due date)."""

    __slots__ = ("row", "timeout", "today")

    def __init__(self, row: dict, timeout: float, today):
        self.row, self.timeout, self.today = row, timeout, today


def show(session: "Session", ref: str) -> Shown:
    """A workflow by name or id (`workflow show`)."""
    store = session.store
    return Shown(store.workflows.list_workflows(ref)[0], hook_timeout(store), session.today)


def remove(session: "Session", ref: str) -> str:
    """Remove a workflow (`workflow remove`); returns its name."""
    return session.store.workflows.remove_workflow(ref)


def switch(session: "Session", ref: str, enabled: bool) -> tuple[str, bool]:
    """Switch a workflow on or off (`workflow enable/disable`): (its name, whether that changed anything)."""
    workflows = session.store.workflows
    changed = workflows.set_workflow_enabled(ref, enabled)
    return workflows.find_workflow(ref)["name"], changed


class Tried:
    """What a change would fire (`workflow test`): the preview, and the time limit and today its actions are
    described against."""

    __slots__ = ("preview", "timeout", "today")

    def __init__(self, preview: dict, timeout: float, today):
        self.preview, self.timeout, self.today = preview, timeout, today


def try_change(session: "Session", opportunity_id: int, to_stage: str | None, to_status: str | None) -> Tried:
    """Which workflows moving the deal to `to_stage` / `to_status` would fire, and what they would do; writes
    nothing."""
    store = session.store
    return Tried(preview(store, opportunity_id, to_stage, to_status), hook_timeout(store), session.today)


def time_limit(session: "Session") -> tuple[float, str]:
    """How long a run: action may take, and where that comes from: 'env' ($SALESSELECT_HOOK_TIMEOUT),
    'setting' (the workflow_timeout setting) or 'default'."""
    store = session.store
    source = ("env" if os.environ.get(HOOK_TIMEOUT_ENV) else "setting" if store.people.setting("workflow_timeout")
              else "default")
    return hook_timeout(store), source


def set_time_limit(session: "Session", seconds: str | None) -> float:
    """Set the workflow_timeout setting (None: back to the default); returns the limit now in force."""
    session.store.workflows.set_hook_timeout(seconds)
    return hook_timeout(session.store)


# --------------------------------------------------------------------------- which workflows run programs here


def add(session: "Session", name: str, on: str, actions: list[str], *, to_stage: str | None = None,
        from_stage: str | None = None, to_status: str | None = None, business_type: str | None = None,
        enabled: bool = True, env: list[str] = ()) -> dict:
    """Add a workflow (`workflow add`) and, once it is saved, allow its run: actions on this machine, whose user
    wrote them. Returns it as `workflow list` shows it."""
    store = session.store
    new_id = store.workflows.add_workflow(name, on, list(actions), to_stage=to_stage, from_stage=from_stage,
                                          to_status=to_status, business_type=business_type, enabled=enabled, env=env)
    row = store.workflows.list_workflows(str(new_id))[0]
    allow_after_commit(session, [row])
    return row


def allow_after_commit(session: "Session", rows: list[dict]) -> None:
    """Once the command's transaction commits, allow these workflows (as stored) on this machine; a config
    folder that cannot be written becomes a warning (the workflows are saved all the same)."""
    store = session.store

    def allow_them() -> None:
        from salesselect_cli.allowlist import Allowlist
        from salesselect_cli.errors import os_problem

        allowed = Allowlist.load()
        for row in rows:
            allowed.allow(str(store.path), row["name"], row["actions"], row["env"], save=False)
        try:
            allowed.save()
        except OSError as exc:
            store.workflow_warnings.append(_(
                "the workflows were saved, but could not be allowed on this machine ({path}: {problem}); allow them "
                "with 'salesselect workflow allow NAME'").format(path=allowed.path, problem=os_problem(exc)))

    if rows:
        store.after_commit.append(allow_them)


def listed(session: "Session") -> list[dict]:
    """Every workflow (`workflow list`), each with `allowed_here`: whether its run: actions, as stored now, were
    allowed on this machine (True when it has none: nothing of it waits for an allowance)."""
    from salesselect_cli.allowlist import Allowlist, run_actions

    rows = session.store.workflows.list_workflows()
    allowed = Allowlist.load() if any(run_actions(row["actions"]) for row in rows) else None
    location = str(session.path)
    return [dict(row, allowed_here=not run_actions(row["actions"])
                 or allowed.is_allowed(location, row["name"], row["actions"], row["env"])) for row in rows]


def allow(session: "Session", ref: str) -> dict:
    """Allow a workflow's run: actions, as they are stored now, on this machine (`workflow allow`): a change
    to them later needs allowing again. Returns the workflow."""
    from salesselect_cli.allowlist import Allowlist

    row = session.store.workflows.list_workflows(ref)[0]
    allowed = Allowlist.load()
    allowed.allow(str(session.path), row["name"], row["actions"], row["env"], save=False)
    _save(allowed)
    return row


def disallow(session: "Session", ref: str) -> tuple[str, bool]:
    """Forget a workflow's allowance on this machine (`workflow disallow`): (its name, whether it was allowed).
    A workflow no longer in the database is forgotten by its name; an unknown name lists the workflows."""
    from salesselect_cli.allowlist import Allowlist
    from salesselect_cli.errors import NotFound

    allowed = Allowlist.load()
    location = str(session.path)
    try:
        name = session.store.workflows.find_workflow(ref)["name"]
    except NotFound:
        if not _forget(allowed, location, ref.strip()):
            raise
        return ref.strip(), True
    return name, _forget(allowed, location, name)


def _forget(allowed, location: str, name: str) -> bool:
    from salesselect_cli.errors import Invalid, os_problem

    try:
        return allowed.disallow(location, name)
    except OSError as exc:
        raise Invalid(_("cannot write {path}: {problem}").format(path=allowed.path, problem=os_problem(exc))) from None


def _save(allowed) -> None:
    from salesselect_cli.errors import Invalid, os_problem

    try:
        allowed.save()
    except OSError as exc:
        raise Invalid(_("cannot write {path}: {problem}").format(path=allowed.path, problem=os_problem(exc))) from None
