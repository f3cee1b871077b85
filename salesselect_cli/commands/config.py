"""`init` and `config`: the agency's setup (the manual's GE366 lists and SE3573 module switch)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from salesselect_cli.commands.options import Format, english_auto, english_status, format_option, output_option
from salesselect_cli.context import current_today, current_user_name, open_session, options
from salesselect_cli.i18n import N_, _, ngettext
from salesselect_cli.render import Column, emit, escape, shown, stderr_line, word
from salesselect_cli.rules.output_files import SETUP_FORMATS, SETUP_SHOW_FORMATS

app = typer.Typer(no_args_is_help=True, help="Set up the agency: the five settings lists and the module switch.")
module_app = typer.Typer(no_args_is_help=True, help="Switch the Sales Select module on or off (client or one user).")
app.add_typer(module_app, name="module")

SETUP = N_("change the setup")


def init(
    ctx: typer.Context,
    demo: bool = typer.Option(False, "--demo", help="Fill the new database with an example agency."),
) -> None:
    """Create the database; you become its first key user and the module is switched on."""
    from salesselect_cli.context import database_path, requested_user_name
    from salesselect_cli.session import first_user_name, saving
    from salesselect_cli.sql.dialect import safe_location
    from salesselect_cli.usecases import setup

    opts = options(ctx)
    path = database_path(opts.db)
    user_name = first_user_name(path, requested_user_name(opts.user), lambda: current_user_name(opts.user))
    fill = None
    if demo:
        from salesselect_cli.demo import build_demo

        fill = build_demo
    created = setup.create_database(path, user_name, current_today(), fill, saving().mark_committed)
    user_name, summary = created.first_user, created.summary
    stderr_line(_("Created {path}; '{user_name}' is its first key user.").format(path=safe_location(path), user_name=user_name))
    if summary:
        stderr_line(summary)
    if not demo:
        stderr_line(_("Next: salesselect config add-business-type NAME --color COLOUR (see 'salesselect config check')."))


# ---------------------------------------------------------------- whole setup


@app.command("show")
def show(ctx: typer.Context, fmt: Format = format_option(),
         output: Optional[Path] = output_option(SETUP_SHOW_FORMATS)) -> None:
    """Print all five settings lists (and the currency)."""
    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        if fmt is Format.json:
            document = setup.export(session)
        else:
            found = setup.lists(session)
    if fmt is Format.json:
        from salesselect_cli.render import emit_object

        emit_object(document, "json", output)
        return
    if fmt is Format.csv:
        rows = []
        for bt in found.business_types:
            rows.append({"list": "business_type", "name": bt["name"], "detail": bt["color"]})
        for st in found.stages:
            rows.append({"list": "stage", "name": st["name"],
                         "detail": f"{st['position']}; {st['business_types']}; auto {st['auto'] or 'none'}"})
        for src in found.sources:
            rows.append({"list": "source", "name": src["name"], "detail": ""})
        orange, red = found.thresholds
        rows.append({"list": "indicator", "name": "orange_days", "detail": "" if orange is None else orange})
        rows.append({"list": "indicator", "name": "red_days", "detail": "" if red is None else red})
        for reason in found.reasons:
            rows.append({"list": "reason", "name": reason["reason"], "detail": reason["status"]})
        emit(rows, "csv", output)
        return
    from salesselect_cli.render import make_console, opened

    with opened(output) as handle:
        import sys

        console = make_console(None if handle is sys.stdout else handle)
        _print_setup(found, console)


NONE_YET = {  # translated where shown (emit's empty line, config show's sections)
    "business types": N_("Business types: none yet — add one with salesselect config add-business-type NAME --color COLOUR"),
    "stages": N_("Stages: none yet — add one with salesselect config add-stage NAME --business-type TYPE"),
    "sources": N_("Sources: none yet — add one with salesselect config add-source NAME"),
    "reasons": N_("Won/lost reasons: none yet — add one with salesselect config add-reason TEXT --status won|lost"),
}


def _print_setup(found, console) -> None:
    from rich.text import Text

    from salesselect_cli.render import build_table, drawn

    def section(title: str, rows: list, columns: list, empty: str) -> None:
        if rows:
            console.print(drawn(build_table(rows, columns, title=title), console))
        else:  # no empty frame: say what is missing and how to add it
            console.print(Text(title, style="bold"))
            console.print(Text("   " + _(empty).split(": ", 1)[1]))
            console.print()

    section(_("1. Business types"), found.business_types, [
        Column("name", "Business type", cell=lambda r: f"[{r['color']}]■[/] {escape(r['name'])}"),
        Column("color", "Colour"), Column("stages", "Stages"),
        Column("opportunities", "Opps", justify="right")], NONE_YET["business types"])
    section(_("2. Stages"), found.stages, _STAGE_COLUMNS, NONE_YET["stages"])
    section(_("3. Sources"), found.sources,
            [Column("name", "Source"), Column("opportunities", "Opps", justify="right")], NONE_YET["sources"])
    orange, red = found.thresholds
    console.print("[bold]" + escape(_("4. Remaining-days indicator")) + "[/]")
    console.print("   " + (_("orange at {orange} days or fewer, red at {red} days or fewer").format(orange=orange, red=red)
                           if orange is not None
                           else _("not set yet — set it with salesselect config set-indicator --orange DAYS --red DAYS")))
    console.print()
    section(_("5. Won/lost reasons"), found.reasons, _REASON_COLUMNS, NONE_YET["reasons"])
    console.print(escape(_("Currency: {code}").format(code=found.currency)))


@app.command("check")
def check(ctx: typer.Context, fmt: Format = format_option()) -> None:
    """List what a correct setup still misses; exits 1 while anything is missing."""
    from salesselect_cli.i18n import _

    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        missing = setup.check(session) if fmt is Format.json else setup.check(session, _)
    if fmt is Format.json:
        from salesselect_cli.render import emit_object

        emit_object({"complete": not missing, "missing": missing}, "json")
    elif missing:
        for item in missing:
            typer.echo(shown(_("missing: {item}").format(item=item)))
    else:
        typer.echo(_("The setup is complete: business types, stages, sources, indicator and won/lost reasons."))
    if missing:
        raise typer.Exit(1)


@app.command("export")
def export(ctx: typer.Context, output: Optional[Path] = output_option(SETUP_FORMATS)) -> None:
    """Write the whole setup as JSON (the input of `config import`)."""
    from salesselect_cli.render import emit_object

    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        document = setup.export(session)
    emit_object(document, "json", output)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="A setup JSON file (as `config export` writes it), or - for stdin."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change, change nothing."),
) -> None:
    """Apply a setup file. Adds and updates, never deletes; importing it twice changes nothing."""
    import json

    from salesselect_cli.errors import Invalid, os_problem

    try:
        text = typer.get_text_stream("stdin").read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise Invalid(_("cannot read {file}: {problem}").format(file=file, problem=os_problem(exc))) from None
    except UnicodeDecodeError:
        raise Invalid(_("{file} is not UTF-8 text").format(file=file)) from None
    try:
        setup = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(_("{file} is not valid JSON: {msg} at line {lineno}, column {colno}").format(file=file, msg=exc.msg, lineno=exc.lineno, colno=exc.colno)) from None
    except (ValueError, RecursionError) as exc:
        raise Invalid(_("{file} is not usable JSON: {exc}").format(file=file, exc=exc)) from None
    _resolve_workflow_programs(setup)
    from salesselect_cli.usecases import setup as setup_cases

    # a dry run is a read: the changes are worked out on a throw-away copy, the database is never locked
    with open_session(ctx, write=not dry_run, key_user=SETUP) as session:
        changes = setup_cases.import_document(session, setup, dry_run)
    _report_changes(changes, dry_run)
    for warning in session.warnings:  # a workflow it could not allow on this machine
        stderr_line(_("Warning: {warning}").format(warning=warning))


def _resolve_workflow_programs(setup) -> None:
    """run: programs of imported workflows as absolute paths, like `workflow add` stores them."""
    from salesselect_cli.commands.workflow import resolve_programs
    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules.workflows import parse_action

    def resolved(action):
        try:
            parse_action(action)
        except Invalid:  # the setup check says what is wrong with it, and where
            return action
        return resolve_programs([action])[0]

    workflows = setup.get("workflows") if isinstance(setup, dict) else None
    for workflow in workflows if isinstance(workflows, list) else []:
        actions = workflow.get("actions") if isinstance(workflow, dict) else None
        if isinstance(actions, list):
            workflow["actions"] = [resolved(action) for action in actions]


def _report_changes(changes: list[str], dry_run: bool) -> None:
    frame = _("would change: {change}") if dry_run else _("changed: {change}")
    if not changes:
        typer.echo(_("Nothing to change: the setup already matches."))
    for change in changes:
        typer.echo(shown(frame.format(change=change)))


# ---------------------------------------------------------------- business types


@app.command("add-business-type")
def add_business_type(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name, unique (case-insensitive)."),
    color: str = typer.Option(..., "--color", "--colour", help="A Rich colour name or #rrggbb."),
) -> None:
    """Add a business type (e.g. Staffing, Agencies) with its board colour."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.add_business_type(session, name, color)
    stderr_line(_("Added business type {name}.").format(name=name.strip()))


@app.command("list-business-types")
def list_business_types(ctx: typer.Context, fmt: Format = format_option(), output: Optional[Path] = output_option()) -> None:
    """List business types with their colours and stages."""
    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        rows = setup.list_business_types(session)
    emit(rows, fmt.value, output, [
        Column("name", "Business type", cell=lambda r: f"[{r['color']}]■[/] {escape(r['name'])}"),
        Column("color", "Colour"), Column("stages", "Stages"), Column("opportunities", "Opps", justify="right")],
        empty=NONE_YET["business types"])


@app.command("edit-business-type")
def edit_business_type(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The business type to change.", metavar="TYPE"),
    new_name: Optional[str] = typer.Option(None, "--name", help="Rename it."),
    color: Optional[str] = typer.Option(None, "--color", "--colour", help="New colour."),
) -> None:
    """Rename a business type or change its colour."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.edit_business_type(session, name, new_name, color)
    stderr_line(_("Changed business type {name}.").format(name=new_name or name))


@app.command("remove-business-type")
def remove_business_type(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The business type to remove.", metavar="TYPE"),
    reassign_to: Optional[str] = typer.Option(None, "--reassign-to", help="Move its opportunities to this type.", metavar="TYPE"),
) -> None:
    """Remove a business type; refused while opportunities use it, unless --reassign-to."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        moved = setup.remove_business_type(session, name, reassign_to)
    stderr_line(_("Removed business type {name}; {count} opportunities moved to {other}.").format(
        name=name, count=moved, other=reassign_to) if moved else _("Removed business type {name}.").format(name=name))


# ---------------------------------------------------------------- stages


_STAGE_COLUMNS = [
    Column("position", "#", justify="right"), Column("name", "Stage"), Column("business_types", "Business types"),
    Column("auto", "Auto-select", cell=lambda r: word(r["auto"])),
    Column("probability", "Chance", justify="right", cell=lambda r: "" if r["probability"] is None else f"{r['probability']}%"),
    Column("opportunities", "Opps", justify="right"),
]


@app.command("add-stage")
def add_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Stage name, unique."),
    business_type: List[str] = typer.Option(..., "--business-type", "--type", "-t", help="Link to this business type (repeat for several)."),
    auto: Optional[str] = typer.Option(None, "--auto", help="Entering this stage marks the opportunity won or lost.", metavar="won|lost",
                                       callback=english_auto),
    position: Optional[int] = typer.Option(None, "--position", max=10_000, help="Column position (default: last)."),
) -> None:
    """Add a stage (a Kanban column) linked to one or more business types."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.add_stage(session, name, business_type, auto, position)
    stderr_line(_("Added stage {name}.").format(name=name.strip()))


@app.command("list-stages")
def list_stages(
    ctx: typer.Context,
    include_archived: bool = typer.Option(False, "--all", help="Also the archived stages."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """List stages in column order with their business types and auto-select (archived ones with --all)."""
    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        rows = setup.list_stages(session, include_archived)
    columns = _STAGE_COLUMNS + ([Column("archived", "Archived", cell=lambda r: word("archived") if r["archived"] else "")]
                                if include_archived else [])
    emit(rows, fmt.value, output, columns, empty=NONE_YET["stages"])


@app.command("edit-stage")
def edit_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage to change.", metavar="STAGE"),
    new_name: Optional[str] = typer.Option(None, "--name", help="Rename it."),
    auto: Optional[str] = typer.Option(None, "--auto", help="won, lost or none (no longer closes).", metavar="won|lost|none",
                                       callback=english_auto),
    link: List[str] = typer.Option([], "--link", help="Also link it to this business type.", metavar="TYPE"),
    unlink: List[str] = typer.Option([], "--unlink", help="Unlink it from this business type.", metavar="TYPE"),
) -> None:
    """Rename a stage, change its auto-select, or link/unlink business types."""
    from salesselect_cli.errors import Invalid

    if new_name is None and auto is None and not link and not unlink:
        raise Invalid(_("nothing to change: pass --name, --auto, --link or --unlink"))
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.edit_stage(session, name, new_name, auto, link, unlink)
    stderr_line(_("Changed stage {name}.").format(name=new_name or name))


@app.command("set-probability")
def set_probability(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage.", metavar="STAGE"),
    percent: str = typer.Argument(..., help="Its win chance, 0-100, or 'none' to let its history decide.",
                                  metavar="PERCENT"),
) -> None:
    """Set a stage's win chance: the forecast weighs the stage's deals by it (won stages 100, lost 0)."""
    from salesselect_cli.rules.forecast import parse_percent

    from salesselect_cli.usecases import setup

    value = None if percent.strip().casefold() == "none" else parse_percent(percent)
    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.set_stage_probability(session, name, value)
    if value is None:
        stderr_line(_("Stage {name} has no set chance now.").format(name=name))
    else:
        stderr_line(_("Stage {name}: win chance {percent}%.").format(name=name, percent=value))


@app.command("link-stage")
def link_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage.", metavar="STAGE"),
    business_type: str = typer.Argument(..., help="The business type to link it to.", metavar="TYPE"),
) -> None:
    """Link a stage to another business type."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.link_stage(session, name, business_type)
    stderr_line(_("Linked stage {name} to {type}.").format(name=name, type=business_type))


@app.command("unlink-stage")
def unlink_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage.", metavar="STAGE"),
    business_type: str = typer.Argument(..., help="The business type to unlink it from.", metavar="TYPE"),
) -> None:
    """Unlink a stage from a business type (refused while its opportunities are there)."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.unlink_stage(session, name, business_type)
    stderr_line(_("Unlinked stage {name} from {type}.").format(name=name, type=business_type))


@app.command("move-stage")
def move_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage to move.", metavar="STAGE"),
    position: int = typer.Argument(..., max=10_000, help="Its new column position (1 = first).", metavar="POSITION"),
) -> None:
    """Move a stage to another column position."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.move_stage(session, name, position)
    stderr_line(_("Moved stage {name} to position {position}.").format(name=name, position=position))


@app.command("remove-stage")
def remove_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage to remove.", metavar="STAGE"),
    reassign_to: Optional[str] = typer.Option(None, "--reassign-to", help="Move its opportunities to this stage.", metavar="STAGE"),
) -> None:
    """Remove a stage; its open opportunities need --reassign-to. A stage that won or lost deals came from
    cannot be removed (that would rewrite their history): archive it instead."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        moved = setup.remove_stage(session, name, reassign_to)
    stderr_line(_("Removed stage {name}; {count} opportunities moved to {other}.").format(
        name=name, count=moved, other=reassign_to) if moved else _("Removed stage {name}.").format(name=name))


@app.command("archive-stage")
def archive_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The stage to archive."),
) -> None:
    """Hide a stage from the board, moves and setup lists; reports and history still name it.

    For a stage that closed deals came from (which cannot be removed). Refused while open deals are in it.
    """
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        stage, changed = setup.archive_stage(session, name)
    stderr_line((_("Archived stage {name}.") if changed else _("Stage {name} was already archived.")).format(name=stage))


@app.command("unarchive-stage")
def unarchive_stage(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The archived stage."),
) -> None:
    """Bring an archived stage back onto the board and into the setup lists."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        stage, changed = setup.unarchive_stage(session, name)
    stderr_line((_("Unarchived stage {name}.") if changed else _("Stage {name} is not archived.")).format(name=stage))


# ---------------------------------------------------------------- sources


@app.command("add-source")
def add_source(ctx: typer.Context, name: str = typer.Argument(..., help="Source name (HubSpot, LinkedIn, ...).")) -> None:
    """Add a lead source."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.add_source(session, name)
    stderr_line(_("Added source {name}.").format(name=name.strip()))


@app.command("list-sources")
def list_sources(ctx: typer.Context, fmt: Format = format_option(), output: Optional[Path] = output_option()) -> None:
    """List lead sources."""
    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        rows = setup.list_sources(session)
    emit(rows, fmt.value, output, [Column("name", "Source"), Column("opportunities", "Opps", justify="right")],
         empty=NONE_YET["sources"])


@app.command("rename-source")
def rename_source(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The source to rename.", metavar="SOURCE"),
    new_name: str = typer.Argument(..., help="Its new name.", metavar="NEW-NAME"),
) -> None:
    """Rename a lead source."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.rename_source(session, name, new_name)
    stderr_line(_("Renamed source {name} to {new}.").format(name=name, new=new_name))


@app.command("remove-source")
def remove_source(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The source to remove.", metavar="SOURCE"),
    reassign_to: Optional[str] = typer.Option(None, "--reassign-to", help="Move its opportunities to this source.", metavar="SOURCE"),
) -> None:
    """Remove a lead source; refused while opportunities use it, unless --reassign-to."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        moved = setup.remove_source(session, name, reassign_to)
    stderr_line(_("Removed source {name}; {count} opportunities moved to {other}.").format(
        name=name, count=moved, other=reassign_to) if moved else _("Removed source {name}.").format(name=name))


# ---------------------------------------------------------------- indicator


@app.command("set-indicator")
def set_indicator(
    ctx: typer.Context,
    orange: int = typer.Option(..., "--orange", help="Days before the expected close date that the card turns orange.", metavar="DAYS"),
    red: int = typer.Option(..., "--red", help="Days before the expected close date that it turns red (less than orange).", metavar="DAYS"),
) -> None:
    """Set the remaining-days indicator thresholds (orange > red >= 0)."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.set_indicator(session, orange, red)
    stderr_line(_("Indicator: orange at {orange} days or fewer, red at {red} or fewer.").format(orange=orange, red=red))


@app.command("show-indicator")
def show_indicator(ctx: typer.Context, fmt: Format = format_option()) -> None:
    """Show the remaining-days indicator thresholds."""
    from salesselect_cli.render import emit_object

    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        orange, red = setup.thresholds(session)
    data = {"orange_days": orange, "red_days": red}

    def table(console):
        if orange is None:
            console.print(_("The indicator is not set: salesselect config set-indicator --orange DAYS --red DAYS"))
        else:
            console.print(_("orange at {orange} days or fewer before the expected close date, red at {red} or fewer; "
                            "overdue is red").format(orange=orange, red=red))

    emit_object(data, fmt.value, None, table)


# ---------------------------------------------------------------- reasons


_REASON_COLUMNS = [Column("reason", "Reason"), Column("status", "Status", cell=lambda r: word(r["status"])),
                   Column("opportunities", "Opps", justify="right")]


def _status(value: Optional[str]) -> Optional[str]:
    from salesselect_cli.errors import Invalid

    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in ("won", "lost"):
        raise Invalid(_("status must be won or lost, not '{value}'").format(value=value))
    return lowered


@app.command("add-reason")
def add_reason(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Why a deal is won or lost, e.g. 'Too expensive'.", metavar="TEXT"),
    status: str = typer.Option(..., "--status", help="won or lost.", metavar="won|lost", callback=english_status),
) -> None:
    """Add a won or lost reason."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.add_reason(session, text, _status(status))
    stderr_line((_("Added won reason {text}.") if status.lower() == "won" else _("Added lost reason {text}.")).format(
        text=text.strip()))


@app.command("list-reasons")
def list_reasons(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="Only won or only lost reasons.", metavar="won|lost",
                                         callback=english_status),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
) -> None:
    """List won and lost reasons."""
    from salesselect_cli.usecases import setup

    with open_session(ctx) as session:
        rows = setup.list_reasons(session, _status(status))
    emit(rows, fmt.value, output, _REASON_COLUMNS, empty=NONE_YET["reasons"])


@app.command("edit-reason")
def edit_reason(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The reason to change.", metavar="REASON"),
    status: Optional[str] = typer.Option(None, "--status", help="Which one, when the text exists for won and lost.", metavar="won|lost",
                                         callback=english_status),
    new_text: Optional[str] = typer.Option(None, "--text", help="New text."),
    new_status: Optional[str] = typer.Option(None, "--new-status", help="Move it to won or lost.", metavar="won|lost"),
) -> None:
    """Change a reason's text or status."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.edit_reason(session, text, _status(status), new_text, _status(new_status))
    stderr_line(_("Changed reason {text}.").format(text=new_text or text))


@app.command("remove-reason")
def remove_reason(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The reason to remove.", metavar="REASON"),
    status: Optional[str] = typer.Option(None, "--status", help="Which one, when the text exists for won and lost.", metavar="won|lost",
                                         callback=english_status),
    reassign_to: Optional[str] = typer.Option(None, "--reassign-to", help="Give its opportunities this reason instead.", metavar="REASON"),
) -> None:
    """Remove a reason; refused while opportunities use it, unless --reassign-to."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        moved = setup.remove_reason(session, text, _status(status), reassign_to)
    if moved:
        stderr_line(ngettext("Removed reason {text}; {count} opportunity now has {other}.",
                             "Removed reason {text}; {count} opportunities now have {other}.", moved).format(
            text=text, count=moved, other=reassign_to))
    else:
        stderr_line(_("Removed reason {text}.").format(text=text))


@app.command("set-currency")
def set_currency(ctx: typer.Context, code: str = typer.Argument(..., help="Three-letter code: EUR, USD, GBP, ...", metavar="CODE")) -> None:
    """Set the client's currency (money is shown in it; default EUR)."""
    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        setup.set_currency(session, code)
    stderr_line(_("Currency: {code}.").format(code=code.upper()))


@app.command("set-language")
def set_language(ctx: typer.Context, code: str = typer.Argument(..., help="en (English, the default) or nl (Dutch).", metavar="en|nl")) -> None:
    """Set the agency's interface language (--lang and $SALESSELECT_LANG still win for one command)."""
    from salesselect_cli import i18n
    from salesselect_cli.i18n import _

    from salesselect_cli.usecases import setup

    with open_session(ctx, write=True, key_user=SETUP) as session:
        language = setup.set_language(session, code)
    i18n.use_agency_setting(language)
    stderr_line(_("Language: {language}.").format(language={"en": _("English"), "nl": _("Dutch")}[language]))


# ---------------------------------------------------------------- module switch (SE3573)

MODULE = N_("switch the module")


def _module_user(user: Optional[str]) -> Optional[str]:
    """--user NAME, or None for the whole client; `--user ""` is an error, never the whole client."""
    if user is None:
        return None
    if not user.strip():
        from salesselect_cli.errors import Invalid

        raise Invalid(_("--user needs a name (leave --user out to switch the module for the whole client)"))
    return user.strip()


@module_app.command("enable")
def module_enable(ctx: typer.Context, user: Optional[str] = typer.Option(None, "--user", help="Only for this user.")) -> None:
    """Switch the module on for the client, or for one user."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=MODULE, module_check=False) as session:
        people.set_module(session, "on", _module_user(user))
    stderr_line((_("Module on for {user}.").format(user=user) if user else _("Module on for the client.")))


@module_app.command("disable")
def module_disable(ctx: typer.Context, user: Optional[str] = typer.Option(None, "--user", help="Only for this user.")) -> None:
    """Switch the module off for the client, or for one user."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=MODULE, module_check=False) as session:
        people.set_module(session, "off", _module_user(user))
    stderr_line((_("Module off for {user}.").format(user=user) if user else _("Module off for the client.")))


@module_app.command("inherit")
def module_inherit(ctx: typer.Context, user: str = typer.Option(..., "--user", help="The user who follows the client setting again.")) -> None:
    """Let one user follow the client setting again."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=MODULE, module_check=False) as session:
        people.set_module(session, "inherit", _module_user(user))
    stderr_line(_("{user} follows the client setting.").format(user=user))


@module_app.command("show")
def module_show(ctx: typer.Context, fmt: Format = format_option()) -> None:
    """Show the client setting and each user's own setting."""
    from salesselect_cli.usecases import people

    with open_session(ctx, key_user=MODULE, module_check=False) as session:
        report = people.module_report(session)
    if fmt is Format.json:
        from salesselect_cli.render import emit_object

        emit_object(report, "json")
        return
    if fmt is Format.table:
        typer.echo(_("Client: module {setting}").format(setting=_module_word(report["client"])))
    emit(report["users"], fmt.value, None, [
        Column("name", "User"), Column("module", "Own setting", cell=lambda r: _module_word(r["module"])),
        Column("module_effective", "Effective", cell=lambda r: _("on") if r["module_effective"] else _("off")),
        Column("key_user", "Key user", cell=lambda r: _("yes") if r["key_user"] else "")])


def _module_word(setting) -> str:
    """on / off / inherit as a table shows it (JSON and CSV keep the stored word)."""
    return {"on": _("on"), "off": _("off"), "inherit": _("inherit")}.get(setting, "" if setting is None else str(setting))
