"""`log`: the audit log — who changed which deal, and which part of the setup, and when."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, format_option, output_option, parse_date_option, wide_option
from salesselect_cli.context import open_session
from salesselect_cli.i18n import N_, _
from salesselect_cli.render import Column, emit, escape, moment, word

LOG_KEYS = ["at", "actor", "kind", "opportunity_id", "title", "what", "old_value", "new_value"]


def log(
    ctx: typer.Context,
    user: Optional[str] = typer.Option(None, "--user", "-u", help="Only what this user (or workflow:NAME) did."),
    opportunity_id: Optional[int] = typer.Option(None, "--opp", min=1, max=2**63 - 1, help="Only this opportunity.", metavar="ID"),
    since: Optional[str] = typer.Option(None, "--since", help="Only from this date on (YYYY-MM-DD, -2w, monday...)."),
    limit: int = typer.Option(50, "--limit", min=0, help="At most this many entries (0: all)."),
    fmt: Format = format_option(),
    output: Optional[Path] = output_option(),
    wide: bool = wide_option(),
) -> None:
    """Who changed what and when, newest first: deal changes and setup changes (config, users, workflows).

    Everyone may read it. Deals in the trash keep their entries; a deal deleted for good leaves
    its 'opportunity purged' entry.
    """
    from salesselect_cli.usecases import audit

    with open_session(ctx) as opened:
        rows = audit.entries(opened, user=user, opportunity_id=opportunity_id,
                             since=parse_date_option(since, opened.today), limit=limit or None)
        emit(rows, fmt.value, output, [
            Column("at", "When", no_wrap=True, cell=lambda r: moment(r["at"]), priority=0),
            Column("actor", "Who", cell=lambda r: escape(r["actor"]), priority=1, least=5),
            Column("opportunity_id", "Opp", justify="right", cell=lambda r: "" if r["opportunity_id"] is None
                   else str(r["opportunity_id"]), priority=2),
            Column("title", "Opportunity", cell=lambda r: escape(r["title"] or ""), priority=6),
            Column("what", "What", cell=lambda r: escape(_what(r["what"])), priority=3),
            Column("old_value", "Old", cell=lambda r: escape(_value(r, "old_value")), priority=4),
            Column("new_value", "New", cell=lambda r: escape(_value(r, "new_value")), priority=5),
        ], csv_columns=LOG_KEYS, empty=N_("Nothing in the log matches."), wide=wide)


# What a log entry's `what` says, for the words the code writes (setup entries that name a stage, source,
# user or workflow stay as they were written). The English is the stored word itself, as the table always
# showed it; Dutch says it in words (`business_type` -> bedrijfstype).
WHAT = {
    "created": N_("created"), "note": N_("note"), "followup": N_("followup"), "followup done": N_("followup done"),
    "followup edited": N_("followup edited"), "followup removed": N_("followup removed"),
    "followup cancelled": N_("followup cancelled"), "followup reopened": N_("followup reopened"),
    "undo": N_("undo"), "hook failed": N_("hook failed"), "owner": N_("owner"),
    "value": N_("value"), "business_type": N_("business_type"), "stage": N_("stage"), "status": N_("status"),
    "expected_close": N_("expected_close"), "title": N_("title"), "company": N_("company"), "contact": N_("contact"),
    "source": N_("source"), "vacancy": N_("vacancy"), "reason": N_("reason"), "notes": N_("notes"),
    "currency": N_("currency"), "indicator": N_("indicator"), "language": N_("language"), "module": N_("module"),
    "opportunity deleted": N_("opportunity deleted"), "opportunity purged": N_("opportunity purged"),
    "opportunity restored": N_("opportunity restored"), "reason changed": N_("reason changed"),
    "source renamed": N_("source renamed"), "stage renamed": N_("stage renamed"),
    "business type renamed": N_("business type renamed"), "workflow time limit": N_("workflow time limit"),
}


SUBJECTS = {
    "user": N_("user {name}"), "business type": N_("business type {name}"), "stage": N_("stage {name}"),
    "source": N_("source {name}"), "workflow": N_("workflow {name}"), "won reason": N_("won reason {name}"),
    "lost reason": N_("lost reason {name}"),
}
EVENTS = {
    "added": N_("{subject} added"), "removed": N_("{subject} removed"), "archived": N_("{subject} archived"),
    "linked": N_("{subject} linked"), "unlinked": N_("{subject} unlinked"), "enabled": N_("{subject} enabled"),
    "replaced": N_("{subject} replaced"), "role": N_("{subject} role"), "key user": N_("{subject} key user"),
    "module": N_("{subject} module"), "colour": N_("{subject} colour"), "auto-select": N_("{subject} auto-select"),
    "position": N_("{subject} position"),
}


def _what(what: str | None) -> str:
    """A log entry's `what` in the interface language: the fixed words, and setup entries such as
    'stage Intake archived' (the name stays as it was)."""
    if what in WHAT:
        return _(WHAT[what])
    if not what:
        return ""
    found = _setup_entry().match(what)
    if not found:
        return what
    subject = _(SUBJECTS[found["kind"]]).format(name=found["name"])
    return _(EVENTS[found["event"]]).format(subject=subject)


@functools.cache
def _setup_entry():
    """The pattern of a setup entry's `what` (compiled on first use: most commands never show the log)."""
    import re

    return re.compile(r"^(?P<kind>won reason|lost reason|business type|user|stage|source|workflow) (?P<name>.+) "
                      r"(?P<event>key user|auto-select|" + "|".join(e for e in EVENTS if " " not in e and e != "auto-select")
                      + r")$", re.S)


def _value(row: dict, key: str) -> str:
    """An old or new value: stored words (yes, no, open, won, recruiter, ...) in the interface language; notes,
    names and texts as they were written."""
    value = row[key]
    if value is None:
        return ""
    if row["what"] in ("note", "followup", "followup done", "followup edited", "followup removed", "followup cancelled",
                       "followup reopened", "title", "company", "contact", "vacancy", "notes"):
        return str(value)
    return word(value)
