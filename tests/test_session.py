"""The Session and the use cases: one command's settings end with it; a use case does the whole change."""

from __future__ import annotations

import pytest

from salesselect_cli import i18n, render
from salesselect_cli.session import Identity, Session, run_command, saving
from tests.conftest import add_opp


def test_what_one_command_sets_ends_with_it(tmp_path):
    def command():
        i18n.configure("nl")
        render.use_color_mode("always")
        render.protect(tmp_path / "sales.db")
        saving().saved = "Imported 3 opportunities"
        return i18n.language(), render.color_enabled(), render.protected_database(), saving().saved

    assert run_command(command) == ("nl", True, (tmp_path / "sales.db").resolve(), "Imported 3 opportunities")
    assert (i18n.language(), render.color_mode(), render.protected_database(), saving().saved) == (
        "en", "auto", None, None)


def test_a_saving_state_from_outside_is_not_the_commands(tmp_path):
    """A session opened outside any command (a test, the demo filler) notes its commit on a Saving of its own
    context; a command run after it starts with a fresh one and leaves that one alone."""
    import contextvars

    def outside():
        outer = saving()

        def command():
            saving().saved = "Imported 3 opportunities"
            return saving() is outer

        return run_command(command), outer.saved

    assert contextvars.copy_context().run(outside) == (False, None)


def test_a_nested_run_shares_the_outer_command():
    """The console script runs the app inside its own run: its last line speaks the command's language."""
    def app():
        i18n.configure("nl")

    def script():
        run_command(app)
        return i18n.language()

    assert run_command(script) == "nl"
    assert i18n.language() == "en"


def test_a_session_and_its_identity_do_not_change(tmp_path):
    identity = Identity("bob", "kim")
    session = Session(None, None, identity, "en", "auto", False, tmp_path)
    assert identity.actor == "kim for bob" and Identity("bob").actor == "bob"
    with pytest.raises(AttributeError):
        session.today = None
    with pytest.raises(AttributeError):
        identity.name = "kim"


def test_the_default_database_folder_is_clicks_app_dir(monkeypatch, tmp_path):
    import typer

    from salesselect_cli.context import app_dir

    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert str(app_dir()) == typer.get_app_dir("salesselect")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert str(app_dir()) == typer.get_app_dir("salesselect") == str(tmp_path / "salesselect")


def test_a_move_says_what_changed(agency, cli):
    """The use case reports the record before and after, the workflows that fired and the cancelled
    follow-ups (what a later undo builds on)."""
    from salesselect_cli.context import Options, open_session
    from salesselect_cli.usecases import deals

    ident = add_opp(agency, "Pickers", "Acme", "Staffing", "HubSpot", "--stage", "Proposal")
    agency("workflow", "add", "Won call", "--on", "status", "--to-status", "won", "--action", "note:Call them")
    agency("followup", "add", str(ident), "+3d", "Send the contract")

    class Root:  # the command line's root context, as click hands it to a command
        obj = Options()

        def find_root(self):
            return self

    def close_it():  # in a context of its own, as a command runs: what opening sets reaches no other test
        with open_session(Root(), write=True) as session:
            assert session.identity.actor == "anna" and session.write
            return deals.close(session, ident, "won", "Good price")

    changed = run_command(close_it)
    assert (changed.before["status"], changed.after["status"], changed.after["reason"]) == ("open", "won", "Good price")
    assert (changed.change.from_status, changed.change.to_status) == ("open", "won")
    assert changed.fired == ["Won call"] and changed.cancelled == 1 and changed.warnings == []
    shown = cli("opp", "show", str(ident), "--format", "json").json()
    assert [f["status"] for f in shown["followups"]] == ["cancelled"]
    assert [(h["actor"], h["to_value"]) for h in shown["history"] if h["field"] == "note"] == [
        ("workflow:Won call", "Call them")]


def test_a_refused_move_changes_nothing(agency, cli):
    from salesselect_cli.context import Options, open_session
    from salesselect_cli.errors import PermissionDenied
    from salesselect_cli.usecases import deals

    ident = add_opp(agency, "Pickers", "Acme", "Staffing", "HubSpot", "--owner", "kim")

    class Root:
        obj = Options(user="bob")

        def find_root(self):
            return self

    def move_it():  # in a context of its own, as a command runs: what opening sets reaches no other test
        with open_session(Root(), write=True) as session:
            deals.move(session, ident, "Proposal")

    with pytest.raises(PermissionDenied):
        run_command(move_it)
    assert cli("opp", "show", str(ident), "--format", "json").json()["stage"] == "Lead"
