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
