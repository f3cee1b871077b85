"""Hooks stay on their own machine (issue 24): the allow-list, the hook's environment, settings read defensively."""

from __future__ import annotations

import json
import os

import pytest

from salesselect_cli import allowlist, hooks
from salesselect_cli.rules import settings

ACTIONS = ["run:notify-crm", "followup:+2d Call"]


# --------------------------------------------------------------------------- the allow-list

def test_the_config_folder_follows_xdg_else_home(tmp_path):
    assert allowlist.config_dir({"XDG_CONFIG_HOME": str(tmp_path / "x"), "HOME": "/h"}) == tmp_path / "x" / "salesselect"
    assert allowlist.config_dir({"HOME": "/home/anna"}) == allowlist.Path("/home/anna/.config/salesselect")
    assert allowlist.config_dir({"XDG_CONFIG_HOME": "relative", "HOME": "/h"}) == allowlist.Path("/h/.config/salesselect")


def test_a_database_is_known_by_place_not_by_login():
    same = {allowlist.database_identity(url) for url in (
        "postgresql://anna:secret@DB.example:5432/agency", "postgresql://bob@db.example/agency?sslmode=require",
        "postgres://db.example/agency")}
    assert same == {"postgresql://db.example:5432/agency"}
    assert allowlist.database_identity("postgresql://db.example:6543/agency") != same.pop()


def test_a_file_database_is_known_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert allowlist.database_identity("sales.db") == str(tmp_path.resolve() / "sales.db")


def test_allow_then_a_changed_action_needs_allowing_again(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    db = str(tmp_path / "sales.db")
    mine = allowlist.Allowlist.load(env)
    assert not mine.is_allowed(db, "Notify", ACTIONS)
    mine.allow(db, "Notify", ACTIONS)
    again = allowlist.Allowlist.load(env)
    assert again.is_allowed(db, "notify", ACTIONS)  # names fold as everywhere
    assert not again.is_allowed(db, "notify", ["run:curl evil.example"])
    assert not again.is_allowed(db, "notify", ACTIONS, env_names=["AWS_SECRET_ACCESS_KEY"])
    assert not again.is_allowed(str(tmp_path / "other.db"), "notify", ACTIONS)
    assert not again.is_allowed(db, "other", ACTIONS)
    again.allow(db, "notify", ["run:notify-crm --v2"])  # allowing the new version replaces the old entry
    assert len(allowlist.Allowlist.load(env).entries) == 1
    path = tmp_path / "salesselect" / allowlist.FILE_NAME
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_disallow_forgets_every_version(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    mine = allowlist.Allowlist.load(env)
    mine.allow("x.db", "notify", ACTIONS)
    mine.allow("x.db", "other", ACTIONS)
    assert allowlist.Allowlist.load(env).disallow("x.db", "NOTIFY") is True
    left = allowlist.Allowlist.load(env)
    assert not left.is_allowed("x.db", "notify", ACTIONS) and left.is_allowed("x.db", "other", ACTIONS)
    assert left.disallow("x.db", "notify") is False


@pytest.mark.parametrize("content", ["{not json", "[]", '{"allowed": 3}', '{"allowed": [{"database": 1}]}'])
def test_a_damaged_file_allows_nothing_and_is_replaced_on_save(tmp_path, content):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    path = tmp_path / "salesselect" / allowlist.FILE_NAME
    path.parent.mkdir()
    path.write_text(content)
    damaged = allowlist.Allowlist.load(env)
    assert damaged.damaged and damaged.entries == []
    assert not damaged.is_allowed("x.db", "notify", ACTIONS)
    damaged.allow("x.db", "notify", ACTIONS)
    assert json.loads(path.read_text())["version"] == 1
    assert allowlist.Allowlist.load(env).is_allowed("x.db", "notify", ACTIONS)


# --------------------------------------------------------------------------- the hook's environment

@pytest.mark.parametrize("url, seen", [
    ("postgresql://bob:s3cret@db/agency", "postgresql://bob@db/agency"),
    ("postgresql://bob:p%40ss@db:5433/agency?sslmode=require", "postgresql://bob@db:5433/agency?sslmode=require"),
    ("postgresql://bob@db/agency?password=s3cret&sslmode=require", "postgresql://bob@db/agency?sslmode=require"),
    ("POSTGRES://bob:x@db/agency?PassFile=/home/bob/.pgpass", "postgres://bob@db/agency"),
    ("postgresql://db/agency", "postgresql://db/agency"),
    ("/home/anna/sales.db", "/home/anna/sales.db"),
])
def test_a_password_in_the_database_url_never_reaches_a_hook(url, seen):
    assert hooks.database_for_hook(url) == seen
    env = hooks.hook_environment({"SALESSELECT_DB": url, "PGPASSWORD": "s3cret", "HOME": "/h", "SECRET": "x"})
    assert env["SALESSELECT_DB"] == seen
    assert "s3cret" not in json.dumps(env) and "PGPASSWORD" not in env and "SECRET" not in env


def test_a_hook_still_gets_the_names_its_workflow_lists():
    env = hooks.hook_environment({"SALESSELECT_DB": "x.db", "CRM_TOKEN": "t", "HOME": "/h"}, ("CRM_TOKEN",))
    assert env == {"PATH": hooks.HOOK_PATH, "HOME": "/h", "LANG": "C.UTF-8", "SALESSELECT_DB": "x.db",
                   "CRM_TOKEN": "t"}


# --------------------------------------------------------------------------- settings read defensively

@pytest.mark.parametrize("name, raw, value", [
    ("red_days", "7", 7), ("orange_days", " 0 ", 0), ("workflow_timeout", "2.5", 2.5), ("currency", "usd", "USD"),
    ("language", "NL", "nl"), ("module", "on", "on"), ("red_days", None, None),
])
def test_good_settings_parse(name, raw, value):
    assert settings.parse(name, raw) == value
    assert settings.read(name, raw) == settings.Reading(value)


@pytest.mark.parametrize("name, raw, command", [
    ("red_days", "abc", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("red_days", "-1", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("orange_days", "1e3", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("orange_days", "3651", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("workflow_timeout", "nan", "salesselect workflow timeout SECONDS"),
    ("workflow_timeout", "0", "salesselect workflow timeout SECONDS"),
    ("workflow_timeout", "inf", "salesselect workflow timeout SECONDS"),
    ("currency", "EURO", "salesselect config set-currency CODE"),
    ("currency", "€€€", "salesselect config set-currency CODE"),
    ("language", "fr", "salesselect config set-language en"),
    ("module", "yes", "salesselect config module enable"),
])
def test_a_bad_setting_names_itself_and_its_fix(name, raw, command):
    with pytest.raises(settings.BadSetting) as caught:
        settings.parse(name, raw)
    message = str(caught.value)
    assert message.startswith(f"the {name} setting holds '{raw}', which is not ")
    assert message.endswith(f"; a key user fixes it with '{command}'")
    reading = settings.read(name, raw, default="fallback")
    assert reading == settings.Reading("fallback", message)  # a reader carries on with the default


def test_every_setting_the_store_reads_has_a_parser():
    import re
    from pathlib import Path

    package = Path(settings.__file__).parent.parent
    read = set()
    for path in package.rglob("*.py"):
        read |= set(re.findall(r'get_setting\("(\w+)"', path.read_text(encoding="utf-8")))
    assert read - {"bulk_load"} <= set(settings.SETTINGS), read - set(settings.SETTINGS)


def test_a_bad_setting_speaks_dutch():
    from salesselect_cli import i18n

    i18n.configure("nl")
    try:
        with pytest.raises(settings.BadSetting) as caught:
            settings.parse("red_days", "abc")
        message = str(caught.value)
    finally:
        i18n.configure(None)
    assert "red_days" in message and "salesselect config set-indicator" in message
    assert "which is not" not in message


# --------------------------------------------------------------------------- through the command line

import shlex  # noqa: E402
import sys  # noqa: E402

from tests.conftest import ON_POSTGRES, add_opp, raw_connect  # noqa: E402

WRITER = """
import json, os, sys
sys.stdin.read()
with open(sys.argv[1], "a", encoding="utf-8") as handle:
    handle.write(json.dumps(dict(os.environ)) + "\\n")
"""


def writer(tmp_path, out) -> str:
    """A hook that proves it ran: it appends its environment to `out`."""
    path = tmp_path / "writer.py"
    path.write_text(WRITER, encoding="utf-8")
    return f"run:{shlex.quote(sys.executable)} {shlex.quote(str(path))} {shlex.quote(str(out))}"


def runs(out) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []


def raw(sql: str, params=()) -> None:
    conn = raw_connect()
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def insert_workflow(name: str, actions: list[str]) -> None:
    """What a member with SQL access could do: a workflow no salesselect command on this machine added."""
    raw("INSERT INTO workflows (name, trigger, actions, enabled, created, env) VALUES (?, 'stage', ?, 1, "
        "'2026-11-27', '[]')", [name, json.dumps(actions)])


def allow_line(stderr: str) -> str:
    """The command the skip warning says to run, as arguments for the cli fixture."""
    line = next(line for line in stderr.splitlines() if "run: program was skipped" in line)
    return line.split("to allow it here: ", 1)[1]


@pytest.fixture
def config_home(agency, tmp_path, monkeypatch):
    home = tmp_path / "machine-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home / "salesselect"


def test_workflow_add_allows_it_here_and_list_shows_it(config_home, ok, tmp_path):
    out = tmp_path / "ran.jsonl"
    ok("workflow", "add", "Tell", "--on", "stage", "--action", writer(tmp_path, out))
    ok("workflow", "add", "Note", "--on", "stage", "--action", "note:moved")
    assert (config_home / allowlist.FILE_NAME).exists()
    rows = ok("workflow", "list", "--format", "json").json()
    assert [(row["name"], row["allowed_here"]) for row in rows] == [("Tell", True), ("Note", True)]
    assert "Runs here" in ok("workflow", "list").stdout
    opp = add_opp(ok)
    run = ok("opp", "move", opp, "Proposal")
    assert "skipped" not in run.stderr and len(runs(out)) == 1


def test_another_machine_skips_the_program_says_how_to_allow_and_allow_makes_it_run(config_home, ok, cli, tmp_path,
                                                                                      monkeypatch):
    out = tmp_path / "ran.jsonl"
    ok("workflow", "add", "Tell", "--on", "stage", "--action", writer(tmp_path, out), "--action", "note:told")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "colleague"))  # the colleague's machine
    assert ok("workflow", "list", "--format", "json").json()[0]["allowed_here"] is False
    assert "no" in ok("workflow", "list").stdout.splitlines()[3]
    opp = add_opp(ok)
    run = ok("opp", "move", opp, "Proposal")
    assert runs(out) == []  # no program ran here...
    assert ok("opp", "show", opp, "--format", "json").json()["stage"] == "Proposal"  # ...the change went through
    warnings = [line for line in run.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1 and "workflow 'Tell'" in warnings[0]
    command = shlex.split(allow_line(run.stderr))
    assert command[0] == "salesselect" and command[-3:] == ["workflow", "allow", "Tell"]
    assert "Workflow 'Tell' may run its programs on this machine" in ok(*command[1:]).stderr
    assert ok("workflow", "list", "--format", "json").json()[0]["allowed_here"] is True
    ok("opp", "move", opp, "Lead")
    assert len(runs(out)) == 1
    assert "no longer runs programs" in ok("workflow", "disallow", "tell").stderr
    assert "was not allowed" in ok("workflow", "disallow", "Tell").stderr
    ok("opp", "move", opp, "Proposal")
    assert len(runs(out)) == 1


def test_a_workflow_inserted_by_sql_runs_no_program(config_home, ok, tmp_path):
    out = tmp_path / "ran.jsonl"
    insert_workflow("Sneaky", [writer(tmp_path, out)])
    opp = add_opp(ok)
    run = ok("opp", "move", opp, "Proposal")
    assert runs(out) == [] and "workflow 'Sneaky'" in run.stderr
    assert ok("workflow", "list", "--format", "json").json()[0]["allowed_here"] is False


def test_a_command_edited_by_sql_after_allowing_needs_allowing_again(config_home, ok, tmp_path):
    out, stolen = tmp_path / "ran.jsonl", tmp_path / "stolen.jsonl"
    ok("workflow", "add", "Tell", "--on", "stage", "--action", writer(tmp_path, out))
    raw("UPDATE workflows SET actions = ? WHERE name = 'Tell'", [json.dumps([writer(tmp_path, stolen)])])
    opp = add_opp(ok)
    run = ok("opp", "move", opp, "Proposal")
    assert runs(out) == [] and runs(stolen) == [] and "run: program was skipped" in run.stderr
    raw("UPDATE workflows SET env = ? WHERE name = 'Tell'", ['["AWS_SECRET_ACCESS_KEY"]'])
    ok("workflow", "allow", "Tell")  # the user looked and agrees: it runs as it is now
    ok("opp", "move", opp, "Lead")
    assert len(runs(stolen)) == 1
    raw("UPDATE workflows SET env = '[]' WHERE name = 'Tell'")  # the variables it sees are part of it too
    ok("opp", "move", opp, "Proposal")
    assert len(runs(stolen)) == 1


def test_config_import_allows_what_it_adds_and_a_dry_run_does_not(config_home, ok, tmp_path):
    out = tmp_path / "ran.jsonl"
    setup = tmp_path / "setup.json"
    setup.write_text(json.dumps({"workflows": [{"name": "Imported", "on": "stage", "actions": [writer(tmp_path, out)]}]}))
    ok("config", "import", str(setup), "--dry-run")
    assert not (config_home / allowlist.FILE_NAME).exists()
    ok("config", "import", str(setup))
    assert ok("workflow", "list", "--format", "json").json()[0]["allowed_here"] is True
    ok("opp", "move", add_opp(ok), "Proposal")
    assert len(runs(out)) == 1


@pytest.mark.parametrize("args", [["allow", "Tel"], ["disallow", "Tel"]])
def test_an_unknown_name_lists_the_workflows_closest_first(config_home, ok, cli, args):
    ok("workflow", "add", "Note", "--on", "stage", "--action", "note:x")
    ok("workflow", "add", "Tell", "--on", "stage", "--action", "note:y")
    run = cli("workflow", *args)
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr == "Error: unknown workflow 'Tel'; valid: Tell, Note\n"


def test_an_unwritable_config_folder_is_one_error_line_and_changes_nothing(config_home, ok, cli, tmp_path):
    ok("workflow", "add", "Note", "--on", "stage", "--action", "note:x")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    run = cli("workflow", "allow", "Note", env={"XDG_CONFIG_HOME": str(blocker)})
    assert run.exit_code == 1 and run.stderr.startswith("Error: cannot write ") and len(run.stderr.splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_dutch_says_the_hook_was_skipped(config_home, ok, tmp_path, monkeypatch):
    out = tmp_path / "ran.jsonl"
    insert_workflow("Sneaky", [writer(tmp_path, out)])
    run = ok("--lang", "nl", "opp", "move", add_opp(ok), "Proposal")
    assert "Waarschuwing: workflow 'Sneaky': zijn run:-programma is overgeslagen" in run.stderr
    assert "salesselect" in run.stderr.split("hier toestaan: ")[1]
    assert runs(out) == []


# --------------------------------------------------------------------------- the no-chaining marker


def test_a_marker_in_the_database_skips_no_workflow(config_home, ok, tmp_path):
    """Before issue 24 a live token was a settings row: one inserted by SQL made every command carrying it skip
    the workflows. Now only a marker file that this machine's running hook made counts."""
    out = tmp_path / "ran.jsonl"
    ok("workflow", "add", "Tell", "--on", "stage", "--action", writer(tmp_path, out), "--action", "note:told")
    token = "ab" * 16
    raw("INSERT INTO settings (key, value) VALUES (?, ?)", ["hook_run:" + token, "99999999999"])
    opp = add_opp(ok)
    ok("opp", "move", opp, "Proposal", env={"SALESSELECT_RUN": token})
    assert len(runs(out)) == 1
    history = ok("opp", "show", opp, "--format", "json").json()["history"]
    assert [row["to_value"] for row in history if row["field"] == "note"] == ["told"]
    marker = runs(out)[0]["SALESSELECT_RUN"]  # the hook's marker, once the hook is over, is gone
    assert not os.path.exists(marker) and marker.startswith(str(config_home))


def test_only_a_live_marker_of_this_database_counts(tmp_path):
    folder = tmp_path / "runs"
    marker = hooks.open_run_marker(folder, "db-a", until=2000.0)
    assert oct(os.stat(marker).st_mode & 0o777) == "0o600"
    assert hooks.inside_hook(marker, "db-a", now=1000.0)
    assert not hooks.inside_hook(marker, "db-b", now=1000.0)  # a hook on another database
    assert not hooks.inside_hook(marker, "db-a", now=3000.0)  # expired
    assert not hooks.inside_hook(os.path.basename(marker), "db-a", now=1000.0)  # not a path of ours
    assert not hooks.inside_hook("0" * 32, "db-a", now=1000.0)
    fake = tmp_path / ("f" * 32)
    fake.write_text('{"database": "db-a", "until": 2000.0}')
    fake.chmod(0o666)  # anyone could have written it
    assert not hooks.inside_hook(str(fake), "db-a", now=1000.0)
    hooks.close_run_marker(marker)
    hooks.close_run_marker(marker)  # twice is fine
    assert not hooks.inside_hook(marker, "db-a", now=1000.0)


def test_expired_markers_are_cleared_when_the_next_hook_starts(tmp_path):
    folder = tmp_path / "runs"
    old = hooks.open_run_marker(folder, "db", until=1.0)  # a hook whose salesselect was killed long ago
    hooks.open_run_marker(folder, "db", until=9e12)
    assert not os.path.exists(old) and len(os.listdir(folder)) == 1


# --------------------------------------------------------------------------- the password stays home


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL URL with a password")
def test_a_password_in_the_url_is_not_in_the_hooks_environment(config_home, ok, tmp_path, monkeypatch):
    from urllib.parse import urlsplit, urlunsplit

    out = tmp_path / "ran.jsonl"
    ok("workflow", "add", "Tell", "--on", "stage", "--action", writer(tmp_path, out))
    opp = add_opp(ok)
    parts = urlsplit(os.environ["SALESSELECT_DB"])
    with_password = urlunsplit(parts._replace(netloc=f"anna:s3cr3t-pw@{parts.hostname}:{parts.port}",
                                              query="password=s3cr3t-pw&application_name=x"))
    ok("--db", with_password, "workflow", "allow", "Tell")
    ok("--db", with_password, "opp", "move", opp, "Proposal")
    seen = runs(out)
    assert len(seen) == 1 and "s3cr3t-pw" not in json.dumps(seen)
    assert seen[0]["SALESSELECT_DB"].startswith(f"postgresql://anna@{parts.hostname}:{parts.port}/")


# --------------------------------------------------------------------------- bad settings never break a command


@pytest.mark.parametrize("key, value, fix", [
    ("red_days", "abc", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("orange_days", "-5", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("red_days", "99999999999999999999", "salesselect config set-indicator --orange DAYS --red DAYS"),
    ("currency", "EURO", "salesselect config set-currency CODE"),
    ("workflow_timeout", "nan", "salesselect workflow timeout SECONDS"),
])
def test_a_bad_setting_warns_once_and_board_list_export_and_reports_work(demo_db, ok, tmp_path, key, value, fix):
    raw("DELETE FROM settings WHERE key = ?", [key])
    raw("INSERT INTO settings (key, value) VALUES (?, ?)", [key, value])
    for args in (["board"], ["opp", "list"], ["opp", "list", "--format", "json"], ["export", "-o", "deals.csv"],
                 ["report", "winloss"], ["report", "pipeline"], ["followup", "list"]):
        run = ok(*args)
        warnings = [line for line in run.stderr.splitlines() if line.startswith("Warning: ") and " setting holds " in line]
        assert len(warnings) <= 1, (args, run.stderr)  # once a command, however often it reads it
        if key != "workflow_timeout" and args in (["board"], ["opp", "list"]):
            assert warnings and f"'{value}'" in warnings[0] and warnings[0].endswith(f"'{fix}'"), (args, run.stderr)
    if key == "workflow_timeout":  # hooks get the default limit
        run = ok("workflow", "timeout")
        assert run.stdout == "10\n" and f"'{fix}'" in run.stderr
    if key in ("red_days", "orange_days"):  # the board as if the indicator were not set
        rows = ok("opp", "list", "--format", "json").json()
        assert rows and all(row["indicator"] in ("red", "green", "none") for row in rows)
    opp = ok("opp", "list", "--status", "open", "--format", "json").json()[0]["id"]
    ok("opp", "edit", opp, "--note", "still works")


def test_fixing_a_bad_setting_stops_the_warning(demo_db, ok):
    raw("UPDATE settings SET value = 'abc' WHERE key = 'red_days'")
    assert "red_days" in ok("board").stderr
    ok("config", "set-indicator", "--orange", "10", "--red", "3")
    assert "Warning" not in ok("board").stderr
