"""The agency's setup: business types, stages, sources, the indicator, won/lost reasons, currency and
language, and the whole setup as one document (config show/export/import). Changes are key users' work:
the command's session checked that when it opened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesselect_cli.session import Session


class SetupLists:
    """Every settings list at once (config show): the rows the store lists, the indicator and the currency."""

    __slots__ = ("business_types", "stages", "sources", "thresholds", "reasons", "currency")

    def __init__(self, business_types: list[dict], stages: list[dict], sources: list[dict],
                 thresholds: tuple[int | None, int | None], reasons: list[dict], currency: str):
        self.business_types, self.stages, self.sources = business_types, stages, sources
        self.thresholds, self.reasons, self.currency = thresholds, reasons, currency


class Created:
    """A new database (`init`): its first key user (on PostgreSQL the login) and what the fill made (or None)."""

    __slots__ = ("first_user", "summary")

    def __init__(self, first_user: str | None, summary: Any):
        self.first_user, self.summary = first_user, summary


def create_database(location: Any, user_name: str | None, today: Any, fill: Any = None, committed: Any = None) -> Created:
    """Create the database with `user_name` as its first key user and the module on; `fill(store)` (the demo
    agency) runs in the same transaction. No session yet: this makes the database one opens. `committed()`
    runs once the database is whole (a Ctrl-C from then on says it was made)."""
    from salesselect_cli.store import init_database

    first_user = [user_name]

    def fill_noting_user(store):
        first_user[0] = store.user_name  # on PostgreSQL the database login
        return fill(store) if fill else None

    summary = init_database(location, user_name, today, fill_noting_user, committed)
    return Created(first_user[0], summary)


def lists(session: "Session") -> SetupLists:
    """The five settings lists and the currency, read in the session's one transaction (one statement)."""
    setup = session.store.setup
    business_types, stages, sources, reasons = setup.setup_lists()
    return SetupLists(business_types, stages, sources, setup.thresholds(), reasons, session.store.people.currency)


def export(session: "Session") -> dict:
    """The whole setup as one JSON-ready document (the input of `import_document`)."""
    return session.store.setup_file.export_setup()


def import_document(session: "Session", document: Any, dry_run: bool = False) -> list[str]:
    """Apply a setup document (adds and updates, never deletes); returns one line per change. A dry run
    works on a throw-away copy, so a read session suffices and the database is never locked or changed."""
    if dry_run:
        with session.store.scratch() as copy:
            return copy.setup_file.import_setup(document)
    changes = session.store.setup_file.import_setup(document)
    _allow_imported_workflows(session, document)
    return changes


def _allow_imported_workflows(session: "Session", document: Any) -> None:
    """The key user who imports a setup vouches for its workflows: their run: actions may run on this machine."""
    from salesselect_cli.rules.text import fold
    from salesselect_cli.usecases.workflows import allow_after_commit

    workflows = document.get("workflows") if isinstance(document, dict) else None
    names = {fold(workflow["name"]) for workflow in workflows or []
             if isinstance(workflow, dict) and isinstance(workflow.get("name"), str)}
    if names:
        allow_after_commit(session, [row for row in session.store.workflows.list_workflows()
                                     if fold(row["name"]) in names])


def check(session: "Session", translate=lambda text: text) -> list[str]:
    """What a correct setup still misses, one line each (`translate`: the words to show them in)."""
    return session.store.setup.config_check(translate)


# ---------------------------------------------------------------- business types


def add_business_type(session: "Session", name: str, color: str) -> None:
    session.store.setup.add_business_type(name, color)


def list_business_types(session: "Session") -> list[dict]:
    return session.store.setup.list_business_types()


def edit_business_type(session: "Session", name: str, new_name: str | None, color: str | None) -> None:
    session.store.setup.edit_business_type(name, new_name, color)


def remove_business_type(session: "Session", name: str, reassign_to: str | None) -> int:
    """Remove a business type; returns how many deals moved to `reassign_to`."""
    return session.store.setup.remove_business_type(name, reassign_to)


# ---------------------------------------------------------------- stages


def add_stage(session: "Session", name: str, business_types: list[str], auto: str | None,
              position: int | None) -> None:
    session.store.setup.add_stage(name, business_types, auto, position)


def list_stages(session: "Session", include_archived: bool = False) -> list[dict]:
    return session.store.setup.list_stages(include_archived)


def edit_stage(session: "Session", name: str, new_name: str | None = None, auto: str | None = None,
               link: list[str] = (), unlink: list[str] = ()) -> None:
    """Rename a stage or change its auto-select, then link and unlink business types, in one transaction."""
    setup = session.store.setup
    if new_name is not None or auto is not None:
        setup.edit_stage(name, new_name, auto)
    current = new_name or name
    for business_type in link:
        setup.link_stage(current, business_type)
    for business_type in unlink:
        setup.unlink_stage(current, business_type)


def link_stage(session: "Session", name: str, business_type: str) -> None:
    session.store.setup.link_stage(name, business_type)


def unlink_stage(session: "Session", name: str, business_type: str) -> None:
    session.store.setup.unlink_stage(name, business_type)


def move_stage(session: "Session", name: str, position: int) -> None:
    session.store.setup.move_stage(name, position)


def remove_stage(session: "Session", name: str, reassign_to: str | None) -> int:
    """Remove a stage; returns how many deals moved to `reassign_to`."""
    return session.store.setup.remove_stage(name, reassign_to)


def archive_stage(session: "Session", name: str) -> tuple[str, bool]:
    """Archive a stage: its name as stored, and whether it was not archived yet."""
    stage = session.store.setup.find_stage(name)["name"]
    return stage, session.store.setup.archive_stage(name)


def set_stage_probability(session: "Session", name: str, percent: int | None) -> None:
    """Set a stage's win chance (None: its history decides)."""
    session.store.setup.set_stage_probability(name, percent)


def unarchive_stage(session: "Session", name: str) -> tuple[str, bool]:
    """Bring a stage back: its name as stored, and whether it was archived."""
    stage = session.store.setup.find_stage(name)["name"]
    return stage, session.store.setup.unarchive_stage(name)


# ---------------------------------------------------------------- sources, indicator, reasons


def add_source(session: "Session", name: str) -> None:
    session.store.setup.add_source(name)


def list_sources(session: "Session") -> list[dict]:
    return session.store.setup.list_sources()


def rename_source(session: "Session", name: str, new_name: str) -> None:
    session.store.setup.rename_source(name, new_name)


def remove_source(session: "Session", name: str, reassign_to: str | None) -> int:
    """Remove a source; returns how many deals moved to `reassign_to`."""
    return session.store.setup.remove_source(name, reassign_to)


def set_indicator(session: "Session", orange_days: int, red_days: int) -> None:
    session.store.setup.set_indicator(orange_days, red_days)


def thresholds(session: "Session") -> tuple[int | None, int | None]:
    """The indicator's (orange, red) days; (None, None) while it is not set."""
    return session.store.setup.thresholds()


def add_reason(session: "Session", text: str, status: str | None) -> None:
    session.store.setup.add_reason(text, status)


def list_reasons(session: "Session", status: str | None = None) -> list[dict]:
    return session.store.setup.list_reasons(status)


def edit_reason(session: "Session", text: str, status: str | None, new_text: str | None,
                new_status: str | None) -> None:
    session.store.setup.edit_reason(text, status, new_text, new_status)


def remove_reason(session: "Session", text: str, status: str | None, reassign_to: str | None) -> int:
    """Remove a reason; returns how many deals moved to `reassign_to`."""
    return session.store.setup.remove_reason(text, status, reassign_to)


# ---------------------------------------------------------------- currency and language


def set_currency(session: "Session", code: str) -> None:
    session.store.people.set_currency(code)


def set_language(session: "Session", code: str) -> str:
    """Set the agency's language; returns the code stored ('en' or 'nl')."""
    return session.store.people.set_language(code)


def reason_labels(session: "Session", status: str) -> list[str]:
    """The won or lost reasons' texts, in setup order (the interactive board's choice of reason)."""
    return session.store.setup.reason_labels(status)
