"""`workflow`: rules that act when an opportunity's stage or status changes."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from salesselect_cli.usecases import workflows as automation
from salesselect_cli.commands.options import Format, format_option, output_option
from salesselect_cli.context import open_session
from salesselect_cli.i18n import _, N_
from salesselect_cli.render import Column, emit, escape, moment, stderr_line, word

MANAGE = N_("manage workflows")

app = typer.Typer(
    no_args_is_help=True,
    help="Workflows: actions that run when an opportunity's stage or status changes.",
    epilog=(
        "Actions: followup:+3d:TEXT, note:TEXT, owner:NAME, run:COMMAND. A run: program gets the event as JSON "
        "on stdin, runs after the change is saved, and is stopped after the time limit (workflow timeout)."
    ),
)


class Trigger(str, Enum):
    stage = "stage"
    status = "status"


class Status(str, Enum):
    open = "open"
    won = "won"
    lost = "lost"


def _when(row: dict) -> str:
    from salesselect_cli.rules.workflows import conditions_text

    return conditions_text(row["on"], row["to_stage"], row["from_stage"], row["to_status"], row["business_type"])


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A unique name, e.g. 'Call after proposal'."),
    on: Trigger = typer.Option(..., "--on", help="The trigger: stage (the stage changed) or status (the status changed).",
                               case_sensitive=False),
    to_stage: Optional[str] = typer.Option(None, "--to-stage", help="Only when the opportunity enters this stage."),
    from_stage: Optional[str] = typer.Option(None, "--from-stage", help="Only when it leaves this stage.", metavar="STAGE"),
    to_status: Optional[Status] = typer.Option(None, "--to-status", help="Only when its status becomes this.",
                                               case_sensitive=False),
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Only opportunities of this business type."),
    actions: List[str] = typer.Option(
        ..., "--action", "-a",
        help="followup:+3d:TEXT, note:TEXT, owner:NAME or run:COMMAND (repeat for several, run in order).",
    ),
    disabled: bool = typer.Option(False, "--disabled", help="Add it switched off."),
    env: List[str] = typer.Option([], "--env", metavar="NAME",
                                  help="Let its run: programs see this environment variable (repeatable); "
                                       "they get only PATH, HOME, LANG and the SALESSELECT_* event variables otherwise."),
) -> None:
    """Add a workflow (key users); prints its id.

    Its run: programs may run on this machine from now on (workflow allow)."""
    actions = resolve_programs(actions)
    with open_session(ctx, write=True, key_user=MANAGE) as opened:
        row = automation.add(
            opened, name, on.value, list(actions), to_stage=to_stage, from_stage=from_stage,
            to_status=to_status.value if to_status else None, business_type=business_type, enabled=not disabled,
            env=env,
        )
    typer.echo(row["id"])
    stderr_line(_("Added workflow '{name}': when {row}, {actions} action(s).").format(name=row['name'], row=_when(row), actions=len(row['actions'])))
    warn(opened.warnings)


def warn(warnings: list[str]) -> None:
    """The lines a command's work left for after the commit (a workflow it could not allow here)."""
    for warning in warnings:
        stderr_line(_("Warning: {warning}").format(warning=warning))


def resolve_programs(actions: List[str]) -> list[str]:
    """run: actions with their program as an absolute path, found now on the adding user's PATH.

    Hooks run with the tool's own PATH, so what a key user tested is what runs, never a program
    that someone later puts earlier on a mover's PATH.
    """
    import os
    import shlex
    import shutil

    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules import workflows as wf

    resolved = []
    for raw in actions:
        action = wf.parse_action(raw)
        if action.kind != "run":
            resolved.append(raw)
            continue
        program = action.argv[0]
        found = shutil.which(program) if os.sep not in program else (
            program if os.path.isfile(program) and os.access(program, os.X_OK) else None)
        if found is None:
            raise Invalid(_("program not found: {program} (give a program on your PATH or its full path)").format(program=program))
        resolved.append("run:" + shlex.join((os.path.abspath(found),) + action.argv[1:]))
    return resolved


def _list_columns() -> list[Column]:
    return [
        Column("id", "ID", justify="right", no_wrap=True),
        Column("name", "Workflow", cell=lambda r: escape(r["name"])),
        Column("when", "When", cell=lambda r: escape(_when(r))),
        Column("actions", "Actions", cell=lambda r: escape("\n".join(r["actions"]))),
        Column("enabled", "On", cell=lambda r: word("yes") if r["enabled"] else f"[dim]{word('no')}[/]"),
        Column("allowed_here", "Runs here", cell=lambda r: word("yes") if r["allowed_here"] else f"[bold]{word('no')}[/]"),
    ]


@app.command("list")
def list_(
    ctx: typer.Context,
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """List the workflows in the order they fire, and whether they run programs here."""
    with open_session(ctx) as opened:
        rows = automation.listed(opened)
    if fmt is Format.csv:  # one cell per workflow; actions one per line inside it
        rows = [dict(row, actions="\n".join(row["actions"]), env=" ".join(row["env"])) for row in rows]
    emit(rows, fmt.value, output, _list_columns(), empty=N_("Workflows: none yet — add one with salesselect workflow add NAME --on stage|status --action ACTION"))


@app.command("show")
def show(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., metavar="NAME|ID", help="The workflow's name or id."),
    fmt: Format = format_option(),
) -> None:
    """Show one workflow: its trigger, conditions and what each action does."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.render import emit_object
    from salesselect_cli.rules import workflows as wf

    with open_session(ctx) as opened:
        shown = automation.show(opened, workflow)
    row, timeout, today = shown.row, shown.timeout, shown.today
    if fmt is Format.csv:
        emit_object(dict(row, actions="\n".join(row["actions"]), env=" ".join(row["env"])), "csv")
        return
    if fmt is Format.json:
        emit_object(row, "json")
        return

    def card(console) -> None:
        state = (_("enabled, added {date}") if row["enabled"] else _("disabled, added {date}")).format(
            date=moment(row["created"]) if _dutch() else row["created"])
        console.print(f"[bold]#{row['id']} {escape(row['name'])}[/] ({escape(state)})")
        console.print(escape(_("When {conditions}:").format(conditions=_when(row))))
        for raw in row["actions"]:
            try:
                effect = wf.describe(wf.parse_action(raw), today, timeout, for_people=True)
            except Invalid as exc:  # stored before it was checked: say so rather than fail
                effect = _("cannot run: {problem}").format(problem=exc)
            console.print(f"  {escape(raw)}")
            console.print(f"    → {escape(effect)}")
        if row["env"]:
            console.print(escape(_("run: programs also see: {names}").format(names=", ".join(row["env"]))))

    emit_object(row, "table", None, card)


@app.command("allow")
def allow(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., metavar="NAME|ID", help="The workflow's name or id."),
) -> None:
    """Let a workflow's run: programs run on this machine (kept in your config folder).

    A workflow stored in a shared database runs no program on a machine whose user did not allow it; if
    someone changes its commands, it needs allowing again."""
    with open_session(ctx) as opened:
        row = automation.allow(opened, workflow)
    from salesselect_cli.allowlist import run_actions

    if run_actions(row["actions"]):
        stderr_line(_("Workflow '{name}' may run its programs on this machine: {commands}").format(
            name=row["name"], commands="; ".join(action.strip()[4:].strip() for action in run_actions(row["actions"]))))
    else:
        stderr_line(_("Workflow '{name}' is allowed on this machine; it runs no program now (a run: action added "
                      "later needs allowing again).").format(name=row["name"]))


@app.command("disallow")
def disallow(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., metavar="NAME|ID", help="The workflow's name or id."),
) -> None:
    """Stop a workflow's run: programs from running on this machine; the workflow stays."""
    with open_session(ctx) as opened:
        name, was = automation.disallow(opened, workflow)
    message = (_("Workflow '{name}' no longer runs programs on this machine.") if was
               else _("Workflow '{name}' was not allowed on this machine."))
    stderr_line(message.format(name=name))


@app.command("remove")
def remove(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., metavar="NAME|ID", help="The workflow's name or id."),
) -> None:
    """Remove a workflow (key users)."""
    with open_session(ctx, write=True, key_user=MANAGE) as opened:
        name = automation.remove(opened, workflow)
    stderr_line(_("Removed workflow '{name}'.").format(name=name))


def _switch(ctx: typer.Context, workflow: str, enabled: bool) -> None:
    with open_session(ctx, write=True, key_user=MANAGE) as opened:
        name, changed = automation.switch(opened, workflow, enabled)
    if enabled:
        message = _("Workflow '{name}' enabled.") if changed else _("Workflow '{name}' was already enabled.")
    else:
        message = _("Workflow '{name}' disabled.") if changed else _("Workflow '{name}' was already disabled.")
    stderr_line(message.format(name=name))


@app.command("enable")
def enable(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., metavar="NAME|ID", help="The workflow's name or id."),
) -> None:
    """Switch a workflow on (key users)."""
    _switch(ctx, workflow, True)


@app.command("disable")
def disable(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., metavar="NAME|ID", help="The workflow's name or id."),
) -> None:
    """Switch a workflow off without removing it (key users)."""
    _switch(ctx, workflow, False)


@app.command("test")
def test(
    ctx: typer.Context,
    opportunity_id: int = typer.Argument(..., metavar="ID", min=1, max=2**63 - 1, help="The opportunity to try it on."),
    to_stage: Optional[str] = typer.Option(None, "--to-stage", help="Suppose it moved to this stage."),
    to_status: Optional[Status] = typer.Option(None, "--to-status", help="Suppose it were won, lost or reopened.",
                                               case_sensitive=False),
    fmt: Format = format_option(),
) -> None:
    """Show which workflows a change would fire and what they would do; changes nothing."""
    with open_session(ctx) as opened:
        tried = automation.try_change(opened, opportunity_id, to_stage, to_status.value if to_status else None)
    preview, today, timeout = tried.preview, tried.today, tried.timeout
    if fmt is not Format.table:
        emit(preview["fires"], fmt.value, None, csv_columns=["workflow", "trigger", "action", "effect"])
        return
    from salesselect_cli.render import status_word

    def state(value):
        return status_word(value) if isinstance(value, str) else value

    change = (
        f"#{preview['opportunity_id']}: {preview['from_stage']} → {preview['to_stage']}, "
        f"{state(preview['from_status'])} → {state(preview['to_status'])}"
    )
    kinds = {(): _("no change"), ("stage",): _("stage change"), ("status",): _("status change"),
             ("stage", "status"): _("stage and status change")}
    what = kinds[tuple(preview["triggers"])]
    title = _("{change} ({what})").format(change=change, what=what)
    on = {"stage": _("stage"), "status": _("status")}
    emit(
        preview["fires"], "table", None,
        [Column("workflow", "Workflow", cell=lambda r: escape(r["workflow"])),
         Column("trigger", "On", cell=lambda r: escape(on.get(r["trigger"], r["trigger"]))),
         Column("action", "Action", cell=lambda r: escape(r["action"])),
         Column("effect", "Would", cell=lambda r: escape(_effect(r["action"], today, timeout, r["effect"])))],
        title=escape(title),
        empty=escape(_("{title}: no workflow would fire.").format(title=title)),
    )


@app.command("timeout")
def timeout(
    ctx: typer.Context,
    seconds: Optional[str] = typer.Argument(None, help="New limit in seconds; 'default' goes back to 10. Omit to show it."),
) -> None:
    """Show or set how long a run: action may take (key users set it; $SALESSELECT_HOOK_TIMEOUT overrides)."""
    if seconds is None:
        with open_session(ctx) as opened:
            current, source = automation.time_limit(opened)
        source = {"env": "$SALESSELECT_HOOK_TIMEOUT", "setting": _("workflow_timeout setting"),
                  "default": _("default")}[source]
        typer.echo(f"{current:g}")
        stderr_line(_("run: actions are stopped after {current} s ({source}).").format(current=f"{current:g}", source=source))
        return
    with open_session(ctx, write=True, key_user=MANAGE) as opened:
        current = automation.set_time_limit(opened, None if seconds.strip().lower() == "default" else seconds)
    stderr_line(_("run: actions are stopped after {current} s.").format(current=f"{current:g}"))


def _dutch() -> bool:
    from salesselect_cli.i18n import dutch

    return dutch()


def _effect(raw: str, today, timeout: float, stored: str) -> str:
    """What an action would do, for a table (the JSON keeps the English `effect`)."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules import workflows as wf

    try:
        effect = wf.describe(wf.parse_action(raw), today, timeout, for_people=True)
    except Invalid:
        return stored
    if stored.endswith(UNKNOWN_USER):
        effect += _(UNKNOWN_USER)
    return effect


UNKNOWN_USER = N_(" (unknown user: the change would be refused)")  # sql/workflows.py adds it to an owner: effect
