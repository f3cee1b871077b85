"""Stored workflows: create, list, check, switch, remove, and the data a preview needs.

Matching and running them is automation.py's job, above the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesselect_cli.errors import Conflict, Invalid, NotFound, unknown_name
from salesselect_cli.model import STATUSES
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.sql.base import BaseRoom, Floor
from salesselect_cli.sql.dialect import Row
from salesselect_cli.i18n import N_, _

if TYPE_CHECKING:
    from salesselect_cli.sql.people import PeopleRoom
    from salesselect_cli.sql.setup import SetupRoom


RULES_READ = "SELECT * FROM workflows WHERE enabled = 1 ORDER BY id"


class WorkflowRoom(BaseRoom):
    """Stored workflows. Uses the setup lists (stages, types) and people (owner actions)."""

    def __init__(self, floor: Floor, people: PeopleRoom, setup: SetupRoom):
        super().__init__(floor)
        self.people = people
        self.setup = setup

    def workflow_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM workflows ORDER BY id")]

    def find_workflow(self, ref: str) -> Row:
        """A workflow by name (case-insensitive) or by id; NotFound listing the names."""
        text = (ref or "").strip()
        row = self._named("workflows", text)
        if row is None and text.isdigit() and len(text) < 19:  # an id SQLite can hold
            row = self._one("SELECT * FROM workflows WHERE id = ?", [int(text)])
        if row is None:
            raise unknown_name("workflow", ref, self.workflow_names())
        return row

    def list_workflows(self, ref: str | None = None) -> list[dict]:
        """Every workflow (or the one `ref` names) with stage and type names, in the order they fire."""
        import json

        where, params = ("WHERE w.id = ?", [self.find_workflow(ref)["id"]]) if ref is not None else ("", [])
        rows = self._all(
            f"""SELECT w.id, w.name, w.trigger, ts.name AS to_stage, fs.name AS from_stage, w.to_status,
                       bt.name AS business_type, w.actions, w.enabled, w.created, w.env
                  FROM workflows w
                  LEFT JOIN stages ts ON ts.id = w.to_stage_id
                  LEFT JOIN stages fs ON fs.id = w.from_stage_id
                  LEFT JOIN business_types bt ON bt.id = w.business_type_id
                  {where} ORDER BY w.id""",
            params,
        )
        return [
            {"id": r["id"], "name": r["name"], "on": r["trigger"], "to_stage": r["to_stage"],
             "from_stage": r["from_stage"], "to_status": r["to_status"], "business_type": r["business_type"],
             "actions": json.loads(r["actions"]), "enabled": bool(r["enabled"]), "created": r["created"],
             "env": json.loads(r["env"])}
            for r in rows
        ]

    def remove_workflow(self, ref: str) -> str:
        row = self.find_workflow(ref)
        self.conn.execute("DELETE FROM workflows WHERE id = ?", [row["id"]])
        self._setup_log(f"workflow {row['name']} removed", _summary(self._workflow_dict(row)), None)
        return row["name"]

    def set_workflow_enabled(self, ref: str, enabled: bool) -> bool:
        """Switch a workflow on or off; True when that changed something."""
        row = self.find_workflow(ref)
        if bool(row["enabled"]) == enabled:
            return False
        self.conn.execute("UPDATE workflows SET enabled = ? WHERE id = ?", [int(enabled), row["id"]])
        self._setup_log(f"workflow {row['name']} enabled", "no" if enabled else "yes", "yes" if enabled else "no")
        return True

    def export_workflows(self) -> list[dict]:
        return [self._workflow_dict(row) for row in self._all("SELECT * FROM workflows ORDER BY id")]

    def _workflow_dict(self, row: Row) -> dict:
        import json

        def name_of(table: str, column: str, ident: int | None) -> str | None:
            if ident is None:
                return None
            return self._scalar(f"SELECT {column} FROM {table} WHERE id = ?", [ident])

        workflow = {
            "name": row["name"],
            "on": row["trigger"],
            "to_stage": name_of("stages", "name", row["to_stage_id"]),
            "from_stage": name_of("stages", "name", row["from_stage_id"]),
            "to_status": row["to_status"],
            "business_type": name_of("business_types", "name", row["business_type_id"]),
            "actions": json.loads(row["actions"]),
            "enabled": bool(row["enabled"]),
        }
        env = json.loads(row["env"])
        if env:  # only when set: setup files without it stay as they were
            workflow["env"] = env
        return workflow

    def import_workflows(self, workflows: list[dict]) -> list[str]:
        changes = []
        for workflow in workflows:
            existing = self._named("workflows", workflow["name"])
            current = None
            if existing is not None:
                current = self._workflow_dict(existing)
                if {k: current.get(k, [] if k == "env" else None) for k in workflow} == workflow:
                    continue
                self.conn.execute("DELETE FROM workflows WHERE id = ?", [existing["id"]])
            self.add_workflow(
                workflow["name"], workflow["on"], workflow["actions"], to_stage=workflow.get("to_stage"),
                from_stage=workflow.get("from_stage"), to_status=workflow.get("to_status"),
                business_type=workflow.get("business_type"), enabled=workflow.get("enabled", True),
                replaces=current, env=workflow.get("env", []),
            )
            changes.append((_("workflow {name} replaced") if existing else _("workflow {name} added"))
                           .format(name=workflow["name"]))
        return changes

    def add_workflow(
        self, name: str, trigger: str, actions: list[str], *, to_stage: str | None = None,
        from_stage: str | None = None, to_status: str | None = None, business_type: str | None = None,
        enabled: bool = True, env: list[str] | tuple[str, ...] = (), replaces: dict | None = None,
    ) -> int:
        """Store a workflow rule. Actions are validated by the caller (rules.workflows).

        env: variable names its run: hooks may see (their environment is clean otherwise).
        replaces: the workflow (as `_workflow_dict`) this one replaces, for the audit log's old value.
        """
        import json

        from salesselect_cli.rules.workflows import parse_env_names

        name = _clean_name(name, N_("workflow name"))
        env_names = parse_env_names(list(env))
        if trigger not in ("stage", "status"):
            raise Invalid(_("--on must be stage or status, not '{trigger}'").format(trigger=trigger))
        if to_status is not None and to_status not in STATUSES:
            raise Invalid(_("--to-status must be open, won or lost, not '{to_status}'").format(to_status=to_status))
        if not actions:
            raise Invalid(_("a workflow needs at least one --action"))
        if self._named("workflows", name):
            raise Conflict(_("workflow '{name}' already exists").format(name=name))
        to_stage_id = self.setup.find_stage(to_stage)["id"] if to_stage else None
        from_stage_id = self.setup.find_stage(from_stage)["id"] if from_stage else None
        type_id = self.setup.find_business_type(business_type)["id"] if business_type else None
        self.check_workflow(trigger, actions, to_stage_id, from_stage_id, to_status, type_id)
        cursor = self.conn.execute(
            """INSERT INTO workflows (name, trigger, to_stage_id, from_stage_id, to_status, business_type_id,
                                      actions, enabled, created, env) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               RETURNING id""",
            [name, trigger, to_stage_id, from_stage_id, to_status, type_id, json.dumps(actions),
             int(enabled), self.today.isoformat(), json.dumps(env_names)],
        )
        new_id = cursor.fetchone()[0]
        self._setup_log(f"workflow {name} {'replaced' if replaces else 'added'}",
                        _summary(replaces) if replaces else None,
                        _summary({"name": name, "on": trigger, "to_stage": to_stage, "from_stage": from_stage,
                                  "to_status": to_status, "business_type": business_type, "actions": actions,
                                  "enabled": enabled, "env": env_names}))
        return new_id

    def check_workflow(
        self, trigger: str, actions: list[str], to_stage_id: int | None, from_stage_id: int | None,
        to_status: str | None, business_type_id: int | None,
    ) -> None:
        """Refuse actions that cannot run (syntax, unknown user) and conditions that can never hold."""
        from salesselect_cli.rules import workflows as wf

        for action in wf.parse_actions(actions):
            if action.kind == "owner":
                self.people.find_user(action.argument)
        stages = {s["id"]: s for s in self._all("SELECT * FROM stages WHERE id IN (?, ?)", [to_stage_id, from_stage_id])}
        if to_stage_id is not None and to_stage_id == from_stage_id and trigger == "stage":
            raise Invalid(_("--from-stage and --to-stage are the same stage: a stage change never does that"))
        to_auto = stages[to_stage_id]["auto_status"] if to_stage_id is not None else None
        if to_status is not None and to_auto is not None and to_auto != to_status:
            raise Invalid(
                _("stage '{name}' marks opportunities {to_auto}, so --to-status {to_status} would never hold there").format(name=stages[to_stage_id]['name'], to_auto=to_auto, to_status=to_status)
            )
        if business_type_id is not None:
            linked = {r[0] for r in self._all(
                "SELECT stage_id FROM stage_business_types WHERE business_type_id = ?", [business_type_id])}
            for stage_id in (to_stage_id, from_stage_id):
                if stage_id is not None and stage_id not in linked:
                    type_name = self._scalar("SELECT name FROM business_types WHERE id = ?", [business_type_id])
                    raise Invalid(
                        _("stage '{name}' is not a stage of business type '{type_name}', so this workflow would never fire").format(name=stages[stage_id]['name'], type_name=type_name)
                    )

    def workflow_rules(self) -> list:
        """The enabled workflows as pure rules, in the order they fire."""
        import json

        from salesselect_cli.rules import workflows as wf

        return [
            wf.Rule(r["id"], r["name"], r["trigger"], tuple(json.loads(r["actions"])), r["to_stage_id"],
                    r["from_stage_id"], r["to_status"], r["business_type_id"], bool(r["enabled"]),
                    tuple(json.loads(r["env"])))
            for r in self._all(RULES_READ)
        ]

    def expect_rules(self) -> None:
        """The workflow rules will be needed (a deal is about to change): a server across a network sends
        them with the next statement."""
        self.conn.prefetch(RULES_READ)

    def hook_timeout(self, env_value: str | None = None) -> float:
        """Seconds a run: action may take: `env_value` ($SALESSELECT_HOOK_TIMEOUT, which the caller reads), else
        the workflow_timeout setting, else 10."""
        from salesselect_cli.rules import workflows as wf

        return wf.parse_timeout(env_value, "$SALESSELECT_HOOK_TIMEOUT") or self.people.setting(
            "workflow_timeout", wf.DEFAULT_HOOK_TIMEOUT)

    def set_hook_timeout(self, seconds: str | None) -> None:
        """Set (or with None, reset to the default) the workflow_timeout setting."""
        from salesselect_cli.rules import workflows as wf

        value = wf.parse_timeout(seconds, _("the time limit"))
        old = self.people.get_setting("workflow_timeout")
        new = None if value is None else f"{value:g}"
        self.people.set_setting("workflow_timeout", new)
        if old != new:
            self._setup_log("workflow time limit", old or "default", new or "default")

    def record_hook_failure(self, opportunity_id: int, workflow: str, problem: str) -> bool:
        """A failed run: action in the opportunity's history; False when the opportunity is gone."""
        if self._one("SELECT 1 FROM opportunities WHERE id = ?", [opportunity_id]) is None:
            return False
        if self.conn.audit_by_triggers:  # after the commit, outside any trigger: a definer function writes it
            self.conn.execute("SELECT salesselect_hook_failed(?, ?, ?)", [opportunity_id, workflow, problem])
            return True
        self._history(opportunity_id, "hook failed", None, problem, actor=f"workflow:{workflow}")
        return True

    def preview_workflows(self, opportunity_id: int, to_stage: str | None = None, to_status: str | None = None,
                          hook_timeout_env: str | None = None) -> dict:
        """What `move`/`win`/`lose`/`reopen` to this stage or status would fire, computed without writing.

        hook_timeout_env: $SALESSELECT_HOOK_TIMEOUT as the caller read it (see hook_timeout)."""
        from salesselect_cli.rules import transitions
        from salesselect_cli.rules import workflows as wf

        if to_stage is None and to_status is None:
            raise Invalid(_("pass --to-stage STAGE and/or --to-status won|lost|open"))
        if to_status is not None and to_status not in STATUSES:
            raise Invalid(_("--to-status must be open, won or lost, not '{to_status}'").format(to_status=to_status))
        row = self._opportunity_row(opportunity_id)
        state = self._state(row)
        type_stages = self.setup.stages_of_type(row["business_type_id"])
        target = self.setup.stage_rule(self.setup.find_stage(to_stage)) if to_stage else None
        if to_status == "open":
            outcome = transitions.reopen(state, target, type_stages)
        elif target is not None:
            any_reason = transitions.Reason(0, "any", target.auto_status) if target.auto_status else None
            outcome = transitions.move(state, target, type_stages, any_reason, self.today)
            if to_status is not None and outcome.status != to_status:
                raise Invalid(_("moving to '{name}' leaves it {status}, not {to_status}").format(name=target.name, status=outcome.status, to_status=to_status))
        else:
            outcome = transitions.close(state, to_status, type_stages, transitions.Reason(0, "any", to_status), self.today)
        event = wf.Event(row["id"], row["business_type_id"], row["stage_id"], outcome.stage_id, row["status"],
                         outcome.status)
        names = {r["id"]: r["name"] for r in self._all("SELECT id, name FROM stages")}
        timeout = self.hook_timeout(hook_timeout_env)
        fires = []
        for rule in wf.match(event, self.workflow_rules()):
            for raw in rule.actions:
                action = wf.parse_action(raw)
                effect = wf.describe(action, self.today, timeout)
                if action.kind == "owner":
                    try:
                        self.people.find_user(action.argument)
                    except NotFound:
                        effect += " (unknown user: the change would be refused)"
                fires.append({"workflow": rule.name, "trigger": rule.trigger, "action": raw, "effect": effect})
        return {
            "opportunity_id": row["id"],
            "from_stage": names.get(row["stage_id"]), "to_stage": names.get(outcome.stage_id),
            "from_status": row["status"], "to_status": outcome.status,
            "triggers": list(event.triggers),
            "fires": fires,
        }


def _summary(workflow: dict) -> str:
    """A workflow in one line for the audit log: its trigger, filters and actions."""
    parts = [f"on {workflow['on']}"]
    for key in ("from_stage", "to_stage", "to_status", "business_type"):
        if workflow.get(key):
            parts.append(f"{key.replace('_', ' ')} {workflow[key]}")
    parts.append("actions " + "; ".join(workflow["actions"]))
    if workflow.get("env"):
        parts.append("env " + ", ".join(workflow["env"]))
    if not workflow.get("enabled", True):
        parts.append("disabled")
    return ", ".join(parts)
