"""Team rules (issue 12): who may change which deal, the trash, the audit log, users in config export."""

from __future__ import annotations

import json

import pytest

from salesselect_cli.rules import permissions
from salesselect_cli.rules.permissions import Actor
from tests.conftest import add_opp, from_template

# The agency (anna and kim key users, bob a recruiter) plus tom (recruiter) and mia (manager).
# bob owns #1 (open, with a follow-up) and #2 (won).
OWNER, OTHER, MANAGER, KEY_USER = "bob", "tom", "mia", "kim"
ALLOWED = {OWNER: True, OTHER: False, MANAGER: True, KEY_USER: True}


@pytest.fixture
def team(agency, ok, template_dir):
    def build():
        ok("user", "add", "tom")
        ok("user", "add", "mia", "--role", "manager")
        ok("--user", "bob", "opp", "add", "Bob's deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot",
           "--close", "+10d", "--value", "1000")
        ok("--user", "bob", "followup", "add", "1", "+2d", "Call Acme")
        ok("--user", "bob", "opp", "add", "Bob's won deal", "--company", "Beta", "--type", "Staffing",
           "--source", "HubSpot")
        ok("--user", "bob", "opp", "win", "2", "--reason", "Good price")

    from_template("team", template_dir, build)
    return ok


def show(ok, ident: int) -> dict:
    return ok("opp", "show", ident, "--format", "json").json()


# Each changing command on bob's deals: (name, the deal it changes, argv after `--user ACTOR`).
CHANGES = [
    ("edit", 1, ["opp", "edit", "1", "--title", "Hijacked"]),
    ("edit-value", 1, ["opp", "edit", "1", "--value", "5"]),
    ("note", 1, ["opp", "edit", "1", "--note", "Mine now"]),
    ("owner", 1, ["opp", "edit", "1", "--owner", "tom"]),
    ("move", 1, ["opp", "move", "1", "Proposal"]),
    ("win", 1, ["opp", "win", "1", "--reason", "Good price"]),
    ("lose", 1, ["opp", "lose", "1", "--reason", "Too expensive"]),
    ("reopen", 2, ["opp", "reopen", "2"]),
    ("followup-add", 1, ["followup", "add", "1", "+3d", "Call again"]),
    ("followup-done", 1, ["followup", "done", "1"]),
    ("followup-edit", 1, ["followup", "edit", "1", "--text", "Call Acme twice"]),
    ("followup-remove", 1, ["followup", "remove", "1"]),
    ("delete", 1, ["opp", "delete", "1", "--yes"]),
]


@pytest.mark.parametrize("actor", [OWNER, OTHER, MANAGER, KEY_USER])
@pytest.mark.parametrize("name,ident,argv", CHANGES, ids=[c[0] for c in CHANGES])
def test_who_may_change_a_deal(team, cli, actor, name, ident, argv):
    before = show(team, ident)
    run = cli("--user", actor, *argv)
    if ALLOWED[actor]:
        assert run.exit_code == 0, run.stderr
        after = cli("opp", "show", ident, "--format", "json")
        assert after.exit_code != 0 if name == "delete" else after.json() != before
    else:
        assert run.exit_code == 3, run.stderr
        assert run.stderr == (f"Error: #{ident} belongs to bob: only bob, a manager or a key user may change it "
                              f"('tom' is a recruiter)\n")
        assert show(team, ident) == before  # nothing changed: fields, history, follow-ups


def test_a_deal_handed_over_mid_command_stays_changeable_in_that_command(team, ok, cli):
    ok("--user", "bob", "opp", "edit", "1", "--owner", "tom", "--note", "Tom takes over", "--value", "2000")
    record = show(ok, 1)
    assert (record["owner"], record["value"], record["history"][-1]["to_value"]) == ("tom", "2000.00", "Tom takes over")
    assert cli("--user", "bob", "opp", "edit", "1", "--title", "Back").exit_code == 3  # the next command


def test_delete_is_refused_before_asking(team, cli):
    run = cli("--user", "tom", "opp", "delete", "1")  # no --yes, no terminal: the permission comes first
    assert run.exit_code == 3 and "belongs to bob" in run.stderr


def test_the_follow_up_s_own_user_may_manage_it(team, ok, cli):
    ok("followup", "add", "1", "+4d", "Tom checks references", "--user-for", "tom")
    mine = [f for f in show(ok, 1)["followups"] if f["user"] == "tom"][0]
    ok("--user", "tom", "followup", "edit", mine["id"], "--due", "+5d")
    ok("--user", "tom", "followup", "done", mine["id"])
    assert [f for f in show(ok, 1)["followups"] if f["id"] == mine["id"]][0]["done"] == "2026-11-27"
    ok("--user", "tom", "followup", "remove", mine["id"])
    assert cli("--user", "tom", "followup", "remove", "1").exit_code == 3  # bob's to-do on bob's deal


@pytest.mark.parametrize("actor,owner,allowed", [
    ("tom", None, True), ("tom", "tom", True), ("tom", "bob", False),
    ("mia", "bob", True), ("kim", "bob", True), ("bob", "BOB", True),
])
def test_who_may_add_a_deal_for_whom(team, cli, actor, owner, allowed):
    extra = ["--owner", owner] if owner else []
    run = cli("--user", actor, "opp", "add", "New", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot",
              *extra)
    if allowed:
        assert run.exit_code == 0, run.stderr
        assert show(team, int(run.stdout))["owner"].casefold() == (owner or actor).casefold()
    else:
        assert run.exit_code == 3
        assert "a recruiter may add opportunities only for themselves" in run.stderr
        assert team("opp", "list", "--format", "json").json()[-1]["title"] != "New"


def test_a_recruiter_imports_only_their_own_deals(team, cli, tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("title,company,business_type,source,owner\nA,Acme,Staffing,HubSpot,tom\nB,Acme,Staffing,HubSpot,bob\n")
    run = cli("--user", "tom", "import", csv)
    assert run.exit_code == 3 and "may not give one to bob" in run.stderr
    assert [r["title"] for r in team("opp", "list", "--format", "json").json()] == ["Bob's deal"]
    team("--user", "mia", "import", csv)
    assert len(team("opp", "list", "--format", "json").json()) == 3


def test_everyone_may_read_everything(team):
    assert [r["id"] for r in team("--user", "tom", "opp", "list", "--status", "all", "--format", "json").json()] == [1, 2]
    assert team("--user", "tom", "opp", "show", "1", "--format", "json").json()["owner"] == "bob"
    team("--user", "tom", "board")


def test_workflows_act_with_their_own_rights(team, cli):
    team("workflow", "add", "Hand over", "--on", "stage", "--to-stage", "Proposal",
         "--action", "owner:tom", "--action", "note:Handed over", "--action", "followup:+1d:Tom calls")
    team("--user", "bob", "opp", "move", "1", "Proposal")
    record = show(team, 1)
    assert record["owner"] == "tom"
    actors = {h["field"]: h["actor"] for h in record["history"]}
    assert actors["owner"] == actors["note"] == "workflow:Hand over"
    assert actors["stage"] == "bob"
    # bob no longer owns it: his next change is refused
    assert cli("--user", "bob", "opp", "edit", "1", "--title", "X").exit_code == 3


# ---------------------------------------------------------------- roles


def test_roles_in_user_list_and_set_role(team, ok, cli):
    roles = {u["name"]: u["role"] for u in ok("user", "list", "--format", "json").json()}
    assert roles == {"anna": "recruiter", "bob": "recruiter", "kim": "recruiter", "tom": "recruiter", "mia": "manager"}
    assert "manager" in ok("user", "list").stdout
    ok("user", "set-role", "tom", "Manager")
    assert ok("--user", "tom", "opp", "edit", "1", "--title", "Tom may").exit_code == 0
    run = cli("user", "set-role", "tom", "boss")
    assert run.exit_code == 1 and "role must be recruiter or manager, not 'boss'" in run.stderr
    run = cli("--user", "mia", "user", "set-role", "bob", "manager")
    assert run.exit_code == 3 and "only key users" in run.stderr
    run = cli("user", "add", "zoe", "--role", "director")
    assert run.exit_code == 1 and "recruiter or manager" in run.stderr


# ---------------------------------------------------------------- trash


def _views(ok) -> dict:
    """Every place a deal can show up, as JSON (or text)."""
    views = {
        "list": ok("opp", "list", "--status", "all", "--format", "json").json(),
        "board": ok("board", "--format", "json", "--limit", "0", "--all-stages").json(),
        "export": ok("export", "--format", "json").json(),
        "followups": ok("followup", "list", "--done", "--format", "json").json(),
        "users": ok("user", "list", "--format", "json").json(),
    }
    for report in ("winloss", "sources", "pipeline", "stages"):
        views[report] = ok("report", report, "--format", "json").json()
    return views


def test_a_deal_in_the_trash_leaves_every_view(agency, ok, cli):
    empty = _views(ok)
    ident = add_opp(ok, "Gone", "Acme", "Staffing", "HubSpot", "--close", "+3d", "--value", "500")
    ok("followup", "add", ident, "+1d", "Call")
    ok("opp", "move", ident, "Proposal")
    lost = add_opp(ok, "Gone too", "Acme", "Staffing", "HubSpot", "--value", "700")
    ok("opp", "lose", lost, "--reason", "Too expensive")
    assert _views(ok) != empty
    ok("opp", "delete", ident, "--yes")
    ok("opp", "delete", lost, "--yes")
    assert _views(ok) == empty
    assert ok("opp", "list", "--search", "Gone", "--status", "all").stdout.count("Gone") == 0
    for argv in (["opp", "edit", ident, "--title", "X"], ["opp", "move", ident, "Lead"],
                 ["followup", "add", ident, "+1d", "X"], ["opp", "delete", ident, "--yes"]):
        run = cli(*argv)
        assert run.exit_code == 1 and f"#{ident} is in the trash" in run.stderr


def test_delete_then_restore_gives_back_the_identical_deal(team, ok, cli):
    before = show(ok, 1)
    views = _views(ok)
    ok("--user", "bob", "opp", "delete", "1", "--yes")
    trash = ok("opp", "trash", "--format", "json").json()
    assert trash == [{"id": 1, "title": "Bob's deal", "company": "Acme", "owner": "bob",
                      "deleted": trash[0]["deleted"], "deleted_by": "bob"}]
    assert trash[0]["deleted"].startswith("2026-11-27 ")
    csv = ok("opp", "trash", "--format", "csv").stdout.splitlines()
    assert csv[0] == "id,title,company,owner,deleted,deleted_by" and csv[1].startswith("1,Bob's deal,Acme,bob,")
    assert "Bob's deal" in ok("opp", "trash").stdout
    run = cli("--user", "tom", "opp", "restore", "1")
    assert run.exit_code == 3 and "belongs to bob" in run.stderr
    ok("--user", "mia", "opp", "restore", "1")
    assert show(ok, 1) == before
    assert _views(ok) == views
    assert ok("opp", "trash").stdout.strip() == "The trash is empty."
    run = cli("opp", "restore", "1")
    assert run.exit_code == 1 and "#1 is not in the trash" in run.stderr


def test_purge_is_for_key_users_and_removes_the_deal_for_good(team, ok, cli):
    ok("--user", "bob", "opp", "delete", "1", "--yes")
    views_without = _views(ok)
    for actor in ("bob", "mia", "tom"):
        run = cli("--user", actor, "opp", "purge", "1", "--yes")
        assert run.exit_code == 3 and "only key users may delete opportunities for good" in run.stderr
    run = cli("--user", "kim", "opp", "purge", "1")  # no terminal, no --yes
    assert run.exit_code == 1 and "--yes" in run.stderr
    assert [r["id"] for r in ok("opp", "trash", "--format", "json").json()] == [1]
    run = cli("--user", "kim", "opp", "purge", "2", "--yes")
    assert run.exit_code == 1 and "#2 is not in the trash" in run.stderr
    ok("--user", "kim", "opp", "purge", "1", "--yes")
    assert ok("opp", "trash", "--format", "json").json() == []
    assert _views(ok) == views_without
    run = cli("opp", "show", "1")
    assert run.exit_code == 1 and "no opportunity #1" in run.stderr
    assert cli("opp", "restore", "1").exit_code == 1
    entries = ok("log", "--opp", "1", "--format", "json").json()
    assert [e["what"] for e in entries] == ["opportunity purged", "opportunity deleted"]
    assert entries[0]["actor"] == "kim" and entries[0]["old_value"] == "Bob's deal (Acme)"


def test_purge_older_than(team, ok, cli, monkeypatch):
    monkeypatch.setenv("SALESSELECT_TODAY", "2026-10-01")
    ok("opp", "add", "Old", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot")
    ok("opp", "delete", "3", "--yes")
    monkeypatch.setenv("SALESSELECT_TODAY", "2026-10-28")  # 30 days before the fixture's today
    ok("opp", "delete", "1", "--yes")
    monkeypatch.setenv("SALESSELECT_TODAY", "2026-11-27")
    assert cli("opp", "purge", "--older-than", "30d", "1", "--yes").exit_code == 1
    assert "30d or 8w" in cli("opp", "purge", "--older-than", "a month", "--yes").stderr
    run = ok("opp", "purge", "--older-than", "30d", "--yes")
    assert run.stderr == "Deleted #3 Old for good.\n"
    assert [r["id"] for r in ok("opp", "trash", "--format", "json").json()] == [1]
    assert ok("opp", "purge", "--older-than", "30d", "--yes").stderr.startswith("Nothing in the trash is older")
    ok("opp", "purge", "--older-than", "4w", "--yes")
    assert ok("opp", "trash", "--format", "json").json() == []


# ---------------------------------------------------------------- the audit log


def test_the_log_shows_setup_and_deal_changes_with_their_actor(team, ok, cli, monkeypatch):
    monkeypatch.setenv("SALESSELECT_TODAY", "2026-11-28")
    ok("--user", "kim", "config", "add-source", "Trade fair")
    ok("user", "set-role", "tom", "manager")
    ok("--user", "kim", "workflow", "add", "Proposal call", "--on", "stage", "--to-stage", "Proposal",
       "--action", "followup:+3d:Call about the proposal")
    ok("--user", "bob", "opp", "move", "1", "Proposal")
    entries = ok("log", "--since", "2026-11-28", "--format", "json").json()
    summary = [(e["actor"], e["kind"], e["opportunity_id"], e["what"], e["old_value"], e["new_value"]) for e in entries]
    assert summary == [
        ("workflow:Proposal call", "deal", 1, "followup", None, "2026-12-01 Call about the proposal"),
        ("bob", "deal", 1, "stage", "Lead", "Proposal"),
        ("kim", "setup", None, "workflow Proposal call added", None,
         "on stage, to stage Proposal, actions followup:+3d:Call about the proposal"),
        ("anna", "setup", None, "user tom role", "recruiter", "manager"),
        ("kim", "setup", None, "source Trade fair added", None, None),
    ]
    assert entries[1]["title"] == "Bob's deal"
    assert {e["actor"] for e in ok("log", "--user", "workflow:Proposal call", "--format", "json").json()} == {
        "workflow:Proposal call"}
    assert [e["what"] for e in ok("log", "--user", "KIM", "--since", "2026-11-28", "--format", "json").json()] == [
        "workflow Proposal call added", "source Trade fair added"]
    assert len(ok("log", "--limit", "2", "--format", "json").json()) == 2
    assert all(e["opportunity_id"] == 2 for e in ok("log", "--opp", "2", "--format", "json").json())
    csv = ok("log", "--since", "2026-11-28", "--format", "csv").stdout.splitlines()
    assert csv[0] == "at,actor,kind,opportunity_id,title,what,old_value,new_value"
    assert len(csv) == 6
    table = ok("log", "--since", "2026-11-28").stdout
    assert "source Trade fair added" in table and "workflow:Proposal call" in table
    assert ok("log", "--since", "2030-01-01").stdout.strip() == "Nothing in the log matches."
    assert cli("log", "--since", "never").exit_code == 1


@pytest.mark.parametrize("argv,what,old,new", [
    (["config", "add-business-type", "Payroll", "--color", "red"], "business type Payroll added", None, "red"),
    (["config", "rename-source", "HubSpot", "Hubspot CRM"], "source renamed", "HubSpot", "Hubspot CRM"),
    (["config", "set-indicator", "--orange", "7", "--red", "3"], "indicator", "orange 5, red 2", "orange 7, red 3"),
    (["config", "set-currency", "USD"], "currency", "EUR", "USD"),
    (["config", "module", "disable", "--user", "bob"], "user bob module", "inherit", "off"),
    (["user", "add", "zoe", "--role", "manager", "--key-user"], "user zoe added", None, "manager, key user"),
    (["user", "set-key-user", "bob"], "user bob key user", "no", "yes"),
    (["user", "remove", "tom"], "user tom removed", "recruiter", None),
    (["config", "add-reason", "Fast", "--status", "won"], "won reason Fast added", None, None),
    (["config", "archive-stage", "Negotiation"], "stage Negotiation archived", "no", "yes"),
])
def test_every_setup_change_is_logged(team, ok, argv, what, old, new):
    ok(*argv)
    entry = ok("log", "--limit", "1", "--format", "json").json()[0]
    assert (entry["actor"], entry["kind"], entry["what"], entry["old_value"], entry["new_value"]) == (
        "anna", "setup", what, old, new)


def test_a_refused_setup_change_leaves_no_log_line(team, ok, cli):
    before = ok("log", "--limit", "0", "--format", "json").json()
    assert cli("--user", "bob", "config", "add-source", "Fair").exit_code == 3
    assert cli("--user", "tom", "opp", "delete", "1", "--yes").exit_code == 3
    assert ok("log", "--limit", "0", "--format", "json").json() == before


# ---------------------------------------------------------------- config export / import with users


def test_config_export_restores_into_a_fresh_database(team, ok, cli, isolated):
    ok("user", "add", "mark", "--role", "manager")
    ok("config", "module", "disable", "--user", "tom")
    ok("workflow", "add", "To mark", "--on", "status", "--to-status", "won", "--action", "owner:mark")
    exported = ok("config", "export").json()
    assert {u["name"]: (u["role"], u["key_user"], u["module"]) for u in exported["users"]} == {
        "anna": ("recruiter", True, "inherit"), "bob": ("recruiter", False, "inherit"),
        "kim": ("recruiter", True, "inherit"), "tom": ("recruiter", False, "off"),
        "mia": ("manager", False, "inherit"), "mark": ("manager", False, "inherit"),
    }
    fresh = isolated / "fresh.db"
    ok("--db", fresh, "init")
    (isolated / "setup.json").write_text(json.dumps(exported))
    run = ok("--db", fresh, "config", "import", isolated / "setup.json")
    assert "user mark added" in run.stdout
    assert ok("--db", fresh, "config", "export").json() == exported
    assert ok("--db", fresh, "config", "import", isolated / "setup.json").stdout.startswith("Nothing to change")


@pytest.mark.parametrize("users,message", [
    ([{"name": "x", "role": "boss"}], "users[1].role must be recruiter or manager"),
    ([{"name": "x", "key_user": "yes"}], "users[1].key_user must be true or false"),
    ([{"name": "x", "module": "maybe"}], "users[1].module must be on, off or inherit"),
    ([{"role": "manager"}], "users[1]: missing key(s) name"),
    ([{"name": "x"}, {"name": "X"}], "user 'X' appears twice"),
])
def test_config_import_checks_the_users(team, cli, isolated, users, message):
    (isolated / "bad.json").write_text(json.dumps({"users": users}))
    run = cli("config", "import", isolated / "bad.json")
    assert run.exit_code == 1 and message in run.stderr


def users_now(ok, reader: str = "anna") -> dict:
    return {u["name"]: (u["role"], u["key_user"]) for u in ok("--user", reader, "user", "list", "--format", "json").json()}


def test_config_import_applies_a_changed_role_and_key_user_flag(team, ok, isolated):
    before = users_now(ok)
    path = isolated / "users.json"
    path.write_text(json.dumps({"users": [
        {"name": "KIM", "key_user": False},  # file order: the demotion first, the promotion still lands before it
        {"name": "mia", "role": "recruiter"},
        {"name": "bob", "role": "manager", "key_user": True},
        {"name": "tom"},  # named without role or flag: keeps both
    ]}))
    expected = ["user mia role manager -> recruiter", "user bob role recruiter -> manager",
                "user bob key user no -> yes", "user kim key user yes -> no"]
    dry = ok("config", "import", path, "--dry-run").stdout.splitlines()
    assert dry == [f"would change: {line}" for line in expected]
    assert users_now(ok) == before
    assert ok("config", "import", path).stdout.splitlines() == [f"changed: {line}" for line in expected]
    assert users_now(ok) == {**before, "mia": ("recruiter", False), "bob": ("manager", True), "kim": ("recruiter", False)}
    assert ok("config", "import", path).stdout.startswith("Nothing to change")
    log = ok("log", "--format", "json").json()
    assert any("user bob role" in json.dumps(entry) for entry in log)


def test_config_import_speaks_dutch_in_its_change_lines(team, ok, isolated):
    path = isolated / "users.json"
    path.write_text(json.dumps({"users": [{"name": "tom", "role": "manager", "key_user": True}]}))
    assert ok("--lang", "nl", "config", "import", path, "--dry-run").stdout.splitlines() == [
        "zou wijzigen: gebruiker tom rol recruiter -> manager", "zou wijzigen: gebruiker tom key-user nee -> ja"]


@pytest.mark.parametrize("dry_run", [False, True])
def test_config_import_refuses_to_demote_the_last_key_user(team, ok, cli, isolated, dry_run):
    before, setup_before = users_now(ok), ok("config", "export").stdout
    path = isolated / "users.json"
    path.write_text(json.dumps({"sources": ["Fair"], "users": [
        {"name": "bob", "role": "manager"}, {"name": "anna", "key_user": False}, {"name": "kim", "key_user": False}]}))
    run = cli("config", "import", path, *(["--dry-run"] if dry_run else []))
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr == "Error: 'kim' is the last key user; make another user a key user first\n"
    # the same rule as the user command, and nothing of the file was written
    assert cli("user", "set-key-user", "kim", "--off").exit_code == 0
    assert cli("user", "set-key-user", "anna", "--off").stderr == run.stderr.replace("kim", "anna")
    ok("--user", "anna", "user", "set-key-user", "kim")
    assert users_now(ok) == before and ok("config", "export").stdout == setup_before


def test_config_import_hands_the_key_user_rights_over(team, ok, isolated):
    # the importing key user may demote herself, as `user set-key-user anna --off` lets her, once another is one
    path = isolated / "users.json"
    path.write_text(json.dumps({"users": [
        {"name": "anna", "key_user": False}, {"name": "kim", "key_user": False}, {"name": "tom", "key_user": True}]}))
    ok("config", "import", path)
    assert {name for name, (_, key) in users_now(ok, "tom").items() if key} == {"tom"}
    assert ok("--user", "tom", "config", "import", path).stdout.startswith("Nothing to change")


def test_only_a_key_user_imports_a_role(team, ok, cli, isolated):
    before = users_now(ok)
    path = isolated / "users.json"
    path.write_text(json.dumps({"users": [{"name": "bob", "role": "manager", "key_user": True}]}))
    for argv in (["config", "import", path], ["config", "import", path, "--dry-run"]):
        run = cli("--user", "bob", *argv)
        assert run.exit_code == 3 and "is not a key user" in run.stderr
    run = cli("--user", "mia", "config", "import", path)  # a manager is no key user either
    assert run.exit_code == 3
    assert users_now(ok) == before


# ---------------------------------------------------------------- the pure rule


def test_a_setup_users_role_and_flag_are_none_when_the_file_leaves_them_out():
    from salesselect_cli.errors import Invalid
    from salesselect_cli.rules.setup import validate_setup

    users = validate_setup({"users": [{"name": "x"}, {"name": "y", "role": "manager", "key_user": False}]}).users
    assert [(u["role"], u["key_user"]) for u in users] == [(None, None), ("manager", False)]
    with pytest.raises(Invalid, match=r"users\[1\]\.role must be"):
        validate_setup({"users": [{"name": "x", "role": None}]})
    with pytest.raises(Invalid, match=r"users\[1\]\.key_user must be true or false"):
        validate_setup({"users": [{"name": "x", "key_user": None}]})


@pytest.mark.parametrize("actor,owner,expected", [
    (Actor("bob"), "bob", True),
    (Actor("Bob"), "bob", True),
    (Actor("tom"), "bob", False),
    (Actor("mia", "manager"), "bob", True),
    (Actor("kim", "recruiter", True), "bob", True),
    (Actor("workflow:Hand over"), "bob", True),
])
def test_may_change(actor, owner, expected):
    assert permissions.may_change(actor, owner) is expected
    assert permissions.may_give_to(actor, owner) is expected


def test_rule_texts():
    assert permissions.refusal(Actor("tom"), 5, "bob") == (
        "#5 belongs to bob: only bob, a manager or a key user may change it ('tom' is a recruiter)")
    assert permissions.may_purge(Actor("kim", "recruiter", True)) and not permissions.may_purge(Actor("mia", "manager"))
    assert permissions.check_role(" Manager ") == "manager"
    with pytest.raises(ValueError, match="recruiter or manager"):
        permissions.check_role("boss")
