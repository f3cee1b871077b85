"""`opp`: add, list, show, edit, move, win, lose, reopen; delete (to the trash), trash, restore and purge."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import (
    Format, excel_format, excel_option, filter_ahead, format_option, opportunity_filter, output_option,
    parse_date_option, english_status, wide_option,
)
from salesselect_cli.context import open_session
from salesselect_cli.i18n import _, count, ngettext
from salesselect_cli.render import Column, days_badge, emit, escape, moment, status_word, stderr_line

app = typer.Typer(no_args_is_help=True, help="Opportunities (sales items): the deals in the pipeline.")

MAX_ID = 2**63 - 1
ID_ARGUMENT = typer.Argument(..., metavar="ID", min=1, max=MAX_ID, help="The opportunity's id.")


def _money(currency: str, record: dict) -> str:
    from salesselect_cli.rules.money import format_money

    return format_money(record["_value_cents"], currency)


def opportunity_columns(currency: str, with_status: bool = True) -> list[Column]:
    """The table columns of an opportunity list; Status only where the list mixes statuses."""
    # on a narrow terminal: ID, title, stage, value and days left stay; company, owner, close date and the type's
    # name go first (the type keeps its colour square)
    columns = [
        Column("id", "ID", justify="right", no_wrap=True, priority=0),
        Column("title", "Title", cell=lambda r: escape(r["title"]), priority=1, least=16),
        Column("company", "Company", cell=lambda r: escape(r["company"]), priority=7),
        Column("business_type", "Type", cell=lambda r: f"[{r['_color']}]■[/] {escape(r['business_type'])}",
               priority=10, narrow=lambda r: f"[{r['_color']}]■[/]"),
        Column("stage", "Stage", cell=lambda r: escape(r["stage"]), priority=2, least=10),
        Column("value", "Value", justify="right", no_wrap=True, cell=lambda r: _money(currency, r), priority=3),
        Column("expected_close", "Close", no_wrap=True, priority=9),
        Column("days_left", "Left", justify="right", no_wrap=True, cell=days_badge, priority=4),
        Column("owner", "Owner", cell=lambda r: escape(r["owner"]), priority=8, least=5),
        Column("status", "Status", cell=lambda r: status_word(r["status"]) + (f" ({escape(r['reason'])})" if r["reason"] else ""),
               priority=5, least=16),
    ]
    return columns if with_status else columns[:-1]


@app.command("add")
def add(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="What the deal is, e.g. '5 warehouse staff'."),
    company: str = typer.Option(..., "--company", "-c", help="The client company."),
    business_type: str = typer.Option(..., "--type", "-t", help="Business type."),
    source: str = typer.Option(..., "--source", "-s", help="Where the lead came from."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Start stage (default: the type's first)."),
    value: Optional[str] = typer.Option(None, "--value", "-v", help="Deal value, e.g. 12000 or 12.000,50."),
    close: Optional[str] = typer.Option(None, "--close", help="Expected close date (YYYY-MM-DD, DD-MM-YYYY, +2w, friday...)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Owner (default: you)."),
    contact: Optional[str] = typer.Option(None, "--contact", help="Contact person."),
    vacancy: Optional[str] = typer.Option(None, "--vacancy", help="Vacancy reference."),
    note: Optional[str] = typer.Option(None, "--note", help="A first note."),
) -> None:
    """Add an opportunity; prints its id."""
    from salesselect_cli.rules.money import parse_money
    from salesselect_cli.usecases import deals

    cents = parse_money(value) if value is not None else 0
    with open_session(ctx, write=True) as opened:
        added = deals.add(opened, title=title, company=company, business_type=business_type, source=source,
                          stage=stage, value_cents=cents, expected_close=parse_date_option(close, opened.today),
                          owner=owner, contact=contact, vacancy=vacancy, note=note)
    typer.echo(added.opportunity_id)
    if added.warning:
        stderr_line(_("Warning: {warning}").format(warning=added.warning))


@app.command("list")
def list_(
    ctx: typer.Context,
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="Only this business type."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Only this stage."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="Only this source."),
    owner: Optional[str] = typer.Option(None, "--owner", help="Only this owner."),
    mine: bool = typer.Option(False, "--mine", help="Only yours."),
    status: Optional[str] = typer.Option(
        None, "--status", help="open, won, lost or all (default: open; all with a closed-date, --closed-from or "
        "--reason filter).", metavar="open|won|lost|all", callback=english_status),
    close_before: Optional[str] = typer.Option(None, "--close-before", help="Expected close on or before this date."),
    close_after: Optional[str] = typer.Option(None, "--close-after", help="Expected close on or after this date."),
    overdue: bool = typer.Option(False, "--overdue", help="Only open ones past their expected close date."),
    closed_in: Optional[str] = typer.Option(
        None, "--closed-in", metavar="PERIOD",
        help="Closed (won or lost) in this period: last-quarter, 2026-Q3, 2026-07, 2026, all, ... as in the reports."),
    closed_after: Optional[str] = typer.Option(None, "--closed-after", metavar="DATE", help="Closed on or after this date."),
    closed_before: Optional[str] = typer.Option(None, "--closed-before", metavar="DATE",
                                                help="Closed on or before this date."),
    closed_from: Optional[str] = typer.Option(
        None, "--closed-from", metavar="STAGE", help="Won or lost from this stage (as report winloss counts it)."),
    reason: Optional[str] = typer.Option(None, "--reason", "-r", help="Only those won or lost with this reason."),
    search: Optional[str] = typer.Option(None, "--search", "-q",
                                         help="Text in the title, company, contact, vacancy or notes."),
    sort: Optional[str] = typer.Option(
        None, "--sort", metavar="FIELD",
        help="Order by value, close, created, closed, days-left, stage, title, company or owner "
        "(default: stage, then expected close)."),
    descending: bool = typer.Option(False, "--desc", help="With --sort: largest, latest or Z first."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, max=2**63 - 1, help="At most this many."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    excel: bool = excel_option(),
    wide: bool = wide_option(),
) -> None:
    """List opportunities (open ones by default)."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.model import RECORD_KEYS
    from salesselect_cli.usecases import deals

    fmt = excel_format(fmt, excel)

    if descending and sort is None:
        raise Invalid(_("--desc needs --sort FIELD"))
    filters = dict(
        business_type=business_type, stage=stage, source=source, owner=owner, mine=mine, status=status,
        close_before=close_before, close_after=close_after, overdue=overdue, search=search, closed_in=closed_in,
        closed_after=closed_after, closed_before=closed_before, closed_from=closed_from, reason=reason, sort=sort,
        descending=descending,
    )
    with open_session(ctx, expect=deals.expecting_listing(filter_ahead(**filters), limit)) as opened:
        flt = opportunity_filter(opened, **filters)
        # the chance costs the model's counts: only records for machines carry it
        listed = deals.listing(opened, flt, limit, chances=fmt is not Format.table)
        csv_columns = list(RECORD_KEYS)
        if fmt is not Format.table:
            csv_columns += ["probability", "probability_basis"]
        from salesselect_cli.render import indicator_legend

        emit(listed.rows, fmt.value, output, opportunity_columns(listed.currency, with_status=flt.status != "open"),
             csv_columns=csv_columns, caption=indicator_legend(*listed.thresholds),
             empty="No opportunities match." if flt.status != "open" else "No open opportunities match.", excel=excel,
             wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    fmt: Format = format_option(),
) -> None:
    """Show one opportunity with its history timeline and follow-ups."""
    from salesselect_cli.render import emit_object
    from salesselect_cli.usecases import deals

    with open_session(ctx) as opened:
        found = deals.sheet(opened, opportunity_id)
    record, history, followups, currency = found.record, found.history, found.followups, found.currency
    if fmt is not Format.table:
        data = dict(record)
        data["notes"] = record["_notes"]
        data["history"] = history
        data["followups"] = [{k: f[k] for k in ("id", "due", "text", "user", "done", "status", "overdue")} for f in followups]
        if fmt is Format.csv:
            data = {k: v for k, v in data.items() if k not in ("history", "followups")}
        emit_object(data, fmt.value)
        return
    emit_object(record, "table", None, lambda console: _print_card(console, record, history, followups, currency))


def _print_card(console, record: dict, history: list[dict], followups: list[dict], currency: str) -> None:
    from salesselect_cli.rules.forecast import chance_text

    console.print(deal_sheet(record, history, followups, currency))
    if record["status"] == "open":
        console.print(escape(chance_text(record["_chance"])))


def deal_sheet(record: dict, history: list[dict], followups: list[dict], currency: str):
    """One opportunity as `opp show` draws it: fields, history timeline, follow-ups (a Rich renderable)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from salesselect_cli.i18n import _
    from salesselect_cli.rules.dates import format_date
    from salesselect_cli.rules.money import format_money

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    status = status_word(record["status"]) + (f" — {escape(record['reason'])}" if record["reason"] else "")
    if record["status"] != "open" and record["_closed_from_stage"]:
        status += " " + _("(closed from {stage})").format(stage=escape(record['_closed_from_stage']))
    close = format_date(record["expected_close"]) or "—"
    if record["days_left"] is not None:
        close += f"  {days_badge(record)}"
    # the re-import key sits under its source (a key is unique per source), only when the deal has one
    key = [(_("Key"), escape(record["external_key"]))] if record["external_key"] else []
    for label, value in (
        (_("Company"), escape(record["company"])), (_("Contact"), escape(record["contact"] or "—")),
        (_("Type"), f"[{record['_color']}]■[/] {escape(record['business_type'])}"), (_("Stage"), escape(record["stage"])),
        (_("Status"), status), (_("Value"), format_money(record["_value_cents"], currency)),
        (_("Expected close"), close), (_("Owner"), escape(record["owner"])), (_("Source"), escape(record["source"])),
        *key, (_("Vacancy"), escape(record["vacancy"] or "—")), (_("Created"), format_date(record["created"])),
        (_("Closed"), format_date(record["closed"]) or "—"), (_("Notes"), escape(record["_notes"] or "—")),
    ):
        head.add_row(label, value)
    lines: list = [Text.from_markup(f"[bold]#{record['id']} {escape(record['title'])}[/]"), head, Text(""),
                   Text(_("History"), style="bold")]
    for item in history:
        change = _describe(item)
        at = format_date(item["at"][:10]) + item["at"][10:16]
        lines.append(Text.from_markup(f"  {at}  {escape(item['actor'])}: {change}"))
    lines += [Text(""), Text(_("Follow-ups"), style="bold")]
    if not followups:
        lines.append(Text("  " + _("none")))
    for item in followups:
        mark = (_("done {date}").format(date=format_date(item["done"])) if item["status"] == "done"
                else _("cancelled") if item["status"] == "cancelled"
                else f"[bold red]{_('overdue')}[/]" if item["overdue"] else status_word("open"))
        lines.append(Text.from_markup(f"  #{item['id']}  {format_date(item['due'])}  {escape(item['text'])}  "
                                      f"({escape(item['user'])}, {mark})"))
    return Group(*lines)


def _dated(text: str | None) -> str | None:
    from salesselect_cli.rules.dates import format_date

    if not text or len(text) < 10:
        return text
    return format_date(text[:10]) + text[10:]


def _describe(item: dict) -> str:
    from salesselect_cli.i18n import _

    field, old, new = item["field"], item["from_value"], item["to_value"]
    if field.startswith("followup"):  # '2026-12-04 Call Eva': the due date leads, shown as dates are shown
        old, new = _dated(old), _dated(new)
    if field == "created":
        return _("created in {stage}").format(stage=escape(new))
    if field == "note":
        return _("note: {text}").format(text=escape(new))
    if field == "followup":
        return _("follow-up planned {text}").format(text=escape(new))
    if field == "followup done":
        return _("follow-up done {text}").format(text=escape(new))
    if field == "followup edited":
        return _("follow-up {old} → {new}").format(old=escape(old), new=escape(new))
    if field == "followup removed":
        return _("follow-up removed {text}").format(text=escape(old))
    if field == "followup cancelled":
        return _("follow-up cancelled {text}").format(text=escape(new))
    if field == "followup reopened":
        return _("follow-up open again {text}").format(text=escape(new))
    if field == "undo":
        from salesselect_cli.usecases.undo import ACTIONS

        return _("undo: {action} taken back").format(action=_(ACTIONS.get(new, new)))
    if field == "hook failed":
        return _("workflow run failed: {text}").format(text=escape(new))
    labels = {"stage": _("stage"), "status": _("status"), "value": _("value"), "owner": _("owner"),
              "expected_close": _("expected close"), "title": _("title"), "company": _("company"),
              "contact": _("contact"), "business_type": _("business type"), "source": _("source"),
              "vacancy": _("vacancy"), "reason": _("reason"), "notes": _("notes")}
    label = labels.get(field) or field.replace("_", " ")
    if field == "status":
        old, new = (status_word(old) if old else old), (status_word(new) if new else new)
    if field == "expected_close":
        from salesselect_cli.rules.dates import format_date

        old, new = (format_date(old) if old else old), (format_date(new) if new else new)
    if old is None:
        return _("{field} set to {value}").format(field=label, value=escape(new))
    if new is None:
        return _("{field} cleared (was {value})").format(field=label, value=escape(old))
    return f"{label} {escape(old)} → {escape(new)}"


@app.command("edit")
def edit(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    title: Optional[str] = typer.Option(None, "--title", help="New title."),
    company: Optional[str] = typer.Option(None, "--company", "-c", help="New company."),
    contact: Optional[str] = typer.Option(None, "--contact", help="New contact ('' clears it)."),
    business_type: Optional[str] = typer.Option(None, "--type", "-t", help="New business type."),
    stage: Optional[str] = typer.Option(None, "--stage", help="With --type: the stage in the new type."),
    source: Optional[str] = typer.Option(None, "--source", "-s", help="New source."),
    value: Optional[str] = typer.Option(None, "--value", "-v", help="New value."),
    close: Optional[str] = typer.Option(None, "--close", help="New expected close date ('none' clears it)."),
    owner: Optional[str] = typer.Option(None, "--owner", help="New owner."),
    vacancy: Optional[str] = typer.Option(None, "--vacancy", help="Vacancy reference ('' clears it)."),
    notes: Optional[str] = typer.Option(None, "--notes", help="Replace the notes."),
    note: Optional[str] = typer.Option(None, "--note", help="Add a note to the timeline."),
    probability: Optional[str] = typer.Option(
        None, "--probability", metavar="PERCENT|auto",
        help="Its own win chance, 0-100 ('auto': follow the forecast method again)."),
) -> None:
    """Change an opportunity's fields (stage and status have their own commands)."""
    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules.money import parse_money

    changes: dict = {}
    for key, given in (("title", title), ("company", company), ("contact", contact), ("vacancy", vacancy),
                       ("notes", notes), ("source", source), ("owner", owner)):
        if given is not None:
            changes[key] = given
    if business_type is not None:
        changes["business_type"] = business_type
    if stage is not None:
        changes["stage"] = stage
    if value is not None:
        changes["value_cents"] = parse_money(value)
    if probability is not None:
        from salesselect_cli.rules.forecast import parse_percent

        changes["probability"] = parse_percent(probability, allow_auto=True)
    if not changes and close is None and note is None:
        raise Invalid(_("nothing to change: pass --title, --company, --contact, --type, --source, --value, --close, --owner, --vacancy, --notes, --note or --probability"))
    from salesselect_cli.usecases import deals

    with open_session(ctx, write=True) as opened:
        if close is not None:
            changes["expected_close"] = (None if close.strip().lower() in ("none", "")
                                         else parse_date_option(close, opened.today))
        edited = deals.edit(opened, opportunity_id, changes, note)
    stderr_line(f"#{opportunity_id}: " + (_("{fields} changed").format(fields=", ".join(edited.fields))
                                           if edited.fields else _("nothing changed")))
    if edited.warning:
        stderr_line(_("Warning: {warning}").format(warning=edited.warning))
    for warning in opened.warnings:  # a type change's workflows: a run: action skipped here, or failed
        stderr_line(_("Warning: {warning}").format(warning=warning))


@app.command("move")
def move(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    stage: str = typer.Argument(..., help="The stage to move it to."),
    reason: Optional[str] = typer.Option(None, "--reason", "-r", help="Won/lost reason, when the stage closes it."),
    no_workflows: bool = typer.Option(False, "--no-workflows", help="Do not run workflows for this change (key users, for bulk work)."),
    keep_followups: bool = typer.Option(False, "--keep-followups", help="Keep its open follow-ups (by default a won or lost deal's are cancelled)."),
) -> None:
    """Move an opportunity to another stage of its business type."""
    from salesselect_cli.usecases import deals

    expect = deals.expecting_change(opportunity_id, not no_workflows, reason=reason is not None)
    with open_session(ctx, write=True, expect=expect) as opened:
        changed = deals.move(opened, opportunity_id, stage, reason, workflows=not no_workflows,
                             keep_followups=keep_followups)
    _said(changed.after, changed.warnings)


@app.command("win")
def win(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    reason: Optional[str] = typer.Option(None, "--reason", "-r", help="Won reason."),
    vacancy: Optional[str] = typer.Option(None, "--vacancy", help="The vacancy the deal led to (reference)."),
    no_workflows: bool = typer.Option(False, "--no-workflows", help="Do not run workflows for this change (key users, for bulk work)."),
    keep_followups: bool = typer.Option(False, "--keep-followups", help="Keep its open follow-ups (by default a won or lost deal's are cancelled)."),
) -> None:
    """Mark an opportunity won (moving it to the type's won stage if there is exactly one)."""
    _closed(ctx, opportunity_id, "won", reason, not no_workflows, keep_followups, vacancy)


@app.command("lose")
def lose(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    reason: str = typer.Option(..., "--reason", "-r", help="Lost reason (required)."),
    no_workflows: bool = typer.Option(False, "--no-workflows", help="Do not run workflows for this change (key users, for bulk work)."),
    keep_followups: bool = typer.Option(False, "--keep-followups", help="Keep its open follow-ups (by default a won or lost deal's are cancelled)."),
) -> None:
    """Mark an opportunity lost, with a lost reason."""
    _closed(ctx, opportunity_id, "lost", reason, not no_workflows, keep_followups)


def _closed(ctx: typer.Context, opportunity_id: int, status: str, reason: str | None, workflows: bool,
            keep_followups: bool, vacancy: str | None = None) -> None:
    from salesselect_cli.usecases import deals

    expect = deals.expecting_change(opportunity_id, workflows, reason=reason is not None)
    with open_session(ctx, write=True, expect=expect) as opened:
        changed = deals.close(opened, opportunity_id, status, reason, workflows=workflows,
                              keep_followups=keep_followups, vacancy=vacancy)
    _said(changed.after, changed.warnings)


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    stage: Optional[str] = typer.Option(None, "--stage", help="Reopen into this stage (default: where it was closed from)."),
    no_workflows: bool = typer.Option(False, "--no-workflows", help="Do not run workflows for this change (key users, for bulk work)."),
) -> None:
    """Open a won or lost opportunity again."""
    from salesselect_cli.usecases import deals

    with open_session(ctx, write=True, expect=deals.expecting_change(opportunity_id, not no_workflows)) as opened:
        changed = deals.reopen(opened, opportunity_id, stage, workflows=not no_workflows)
    _said(changed.after, changed.warnings)


def said_line(record: dict) -> str:
    """What a change left: '#12 Order pickers: Proposal, open' (the commands' and the board's line)."""
    status = status_word(record["status"]) + (f" ({record['reason']})" if record["reason"] else "")
    return f"#{record['id']} {record['title']}: {record['stage']}, {status}"


def _said(record: dict, warnings: list[str] = ()) -> None:
    stderr_line(said_line(record))
    for warning in warnings:  # failed run: actions of workflows, after the commit
        stderr_line(_("Warning: {warning}").format(warning=warning))


@app.command("delete")
def delete(
    ctx: typer.Context,
    opportunity_id: int = ID_ARGUMENT,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Move an opportunity to the trash, with its history and follow-ups ('opp restore' brings it back)."""
    import sys

    from salesselect_cli.errors import Invalid

    from salesselect_cli.usecases import deals

    if not yes:
        # ask before taking the write lock: a prompt left open must not block other users
        with open_session(ctx) as opened:
            record = deals.trash_preview(opened, opportunity_id)  # refused before asking when they may not change it
        if not sys.stdin.isatty():
            raise Invalid(_("deleting #{opportunity_id} needs --yes when not run from a terminal").format(opportunity_id=opportunity_id))
        from salesselect_cli.render import shown

        question = _("Move #{id} {title} ({company}) to the trash?").format(
            id=opportunity_id, title=record["title"], company=record["company"])
        if not typer.confirm(shown(question)):
            raise typer.Exit(1)
    with open_session(ctx, write=True) as opened:
        record = deals.trash(opened, opportunity_id)
    stderr_line(_("Moved #{opportunity_id} {title} to the trash ('salesselect opp restore {opportunity_id}' brings it back).").format(opportunity_id=opportunity_id, title=record['title']))


TRASH_KEYS = ["id", "title", "company", "owner", "deleted", "deleted_by"]


@app.command("trash")
def trash(ctx: typer.Context, fmt: Format = format_option(), output: Optional[Path] = output_option(),
          wide: bool = wide_option()) -> None:
    """List the opportunities in the trash, most recently deleted first."""
    from salesselect_cli.usecases import deals

    with open_session(ctx) as opened:
        rows = deals.trashed(opened)
    emit(rows, fmt.value, output, [
        Column("id", "ID", justify="right", no_wrap=True),
        Column("title", "Title", cell=lambda r: escape(r["title"])),
        Column("company", "Company", cell=lambda r: escape(r["company"])),
        Column("owner", "Owner", cell=lambda r: escape(r["owner"])),
        Column("deleted", "Deleted", no_wrap=True, cell=lambda r: moment(r["deleted"])),
        Column("deleted_by", "By", cell=lambda r: escape(r["deleted_by"])),
    ], csv_columns=TRASH_KEYS, empty="The trash is empty.", wide=wide)


@app.command("restore")
def restore(ctx: typer.Context, opportunity_id: int = ID_ARGUMENT) -> None:
    """Bring an opportunity back from the trash exactly as it was."""
    from salesselect_cli.usecases import deals

    with open_session(ctx, write=True) as opened:
        record = deals.restore(opened, opportunity_id)
    _said(record)


@app.command("purge")
def purge(
    ctx: typer.Context,
    opportunity_id: Optional[int] = typer.Argument(None, metavar="[ID]", min=1, max=MAX_ID,
                                                   help="The opportunity in the trash to delete for good."),
    older_than: Optional[str] = typer.Option(None, "--older-than",
                                             help="Every opportunity in the trash longer than this, e.g. 30d, 8w."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete opportunities in the trash for good, with their history and follow-ups (key users only)."""
    import sys

    from salesselect_cli.errors import Invalid
    from salesselect_cli.usecases import deals

    if (opportunity_id is None) == (older_than is None):
        raise Invalid(_("pass an ID or --older-than DAYS (e.g. 30d), not both"))
    with open_session(ctx) as opened:
        plan = deals.purge_plan(opened, opportunity_id, older_than)
    doomed = plan.doomed
    if not doomed:
        stderr_line(_("Nothing in the trash is older than {older_than}.").format(older_than=older_than))
        return
    if not yes:
        if not sys.stdin.isatty():
            raise Invalid(_("deleting for good needs --yes when not run from a terminal"))
        if len(doomed) == 1:
            question = _("Delete #{id} {title} for good, with history and follow-ups? This cannot be undone.").format(
                id=doomed[0]["id"], title=doomed[0]["title"])
        else:
            question = ngettext(
                "Delete {count} opportunity for good, with history and follow-ups? This cannot be undone.",
                "Delete {count} opportunities for good, with history and follow-ups? This cannot be undone.",
                len(doomed)).format(count=count(len(doomed)))
        from salesselect_cli.render import shown

        if not typer.confirm(shown(question)):
            raise typer.Exit(1)
    with open_session(ctx, write=True) as opened:
        purged = deals.purge(opened, opportunity_id, plan.cutoff)
    for item in purged:
        stderr_line(_("Deleted #{id} {title} for good.").format(id=item['id'], title=item['title']))

