"""The five settings lists, config check/show/export/import, users, module switch and permissions."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SETUP_JSON, add_opp


def err(run) -> str:
    assert run.stderr.startswith("Error: "), run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr


# ---------------------------------------------------------------- business types

def test_business_types(db, ok, cli):
    ok("config", "add-business-type", "Staffing", "--color", "blue")
    ok("config", "add-business-type", "Agencies", "--color", "#E07B00")
    rows = ok("config", "list-business-types", "--format", "json").json()
    assert [(r["name"], r["color"]) for r in rows] == [("Staffing", "blue"), ("Agencies", "#e07b00")]
    run = cli("config", "add-business-type", "staffing", "--color", "red")
    assert run.exit_code == 1 and "already exists" in err(run)
    run = cli("config", "add-business-type", "Temp", "--color", "blurple")
    assert run.exit_code == 1 and "not a colour" in err(run)
    ok("config", "edit-business-type", "STAFFING", "--name", "Staffing NL", "--color", "green")
    rows = ok("config", "list-business-types", "--format", "json").json()
    assert rows[0]["name"] == "Staffing NL" and rows[0]["color"] == "green"
    run = cli("config", "edit-business-type", "Agencies", "--name", "staffing nl")
    assert run.exit_code == 1 and "already exists" in err(run)
    run = cli("config", "remove-business-type", "Agencie")
    assert run.exit_code == 1
    assert "unknown business type 'Agencie'; valid: Agencies, Staffing NL" in err(run)
    ok("config", "remove-business-type", "Agencies")
    assert len(ok("config", "list-business-types", "--format", "json").json()) == 1


def test_remove_business_type_in_use(agency, cli, ok):
    for _ in range(3):
        add_opp(ok, "Deal", "Acme", "Agencies")
    run = cli("config", "remove-business-type", "Agencies")
    assert run.exit_code == 1
    assert "3 opportunities use business type 'Agencies'" in err(run)
    assert "--reassign-to" in run.stderr
    # Framework agreement is not linked to Staffing: refused, nothing changed
    ok("opp", "move", "1", "Framework agreement")
    run = cli("config", "remove-business-type", "Agencies", "--reassign-to", "Staffing")
    assert run.exit_code == 1 and "Framework agreement" in err(run)
    ok("opp", "move", "1", "Proposal")
    run = cli("config", "remove-business-type", "Agencies", "--reassign-to", "Staffing")
    assert run.exit_code == 1 and "Framework agreement belong only to business type 'Agencies'" in err(run)
    ok("config", "remove-stage", "Framework agreement")
    ok("config", "remove-business-type", "Agencies", "--reassign-to", "Staffing")
    types = {r["business_type"] for r in ok("opp", "list", "--format", "json").json()}
    assert types == {"Staffing"}
    last = ok("opp", "show", "1", "--format", "json").json()["history"][-1]
    assert (last["actor"], last["field"], last["from_value"], last["to_value"]) == (
        "anna", "business_type", "Agencies", "Staffing")


# ---------------------------------------------------------------- stages

def test_stages_positions_links_and_auto(agency, ok, cli):
    names = [r["name"] for r in ok("config", "list-stages", "--format", "json").json()]
    assert names == ["Lead", "Introduction", "Proposal", "Negotiation", "Framework agreement", "New client", "Lost"]
    ok("config", "add-stage", "Qualified", "--business-type", "Staffing", "--position", "2")
    ok("config", "move-stage", "Lost", "1")
    rows = ok("config", "list-stages", "--format", "json").json()
    assert [r["name"] for r in rows][:3] == ["Lost", "Lead", "Qualified"]
    assert [r["position"] for r in rows] == list(range(1, 9))
    assert rows[0]["auto"] == "lost"
    ok("config", "link-stage", "Qualified", "Agencies")
    ok("config", "unlink-stage", "Qualified", "Staffing")
    row = next(r for r in ok("config", "list-stages", "--format", "json").json() if r["name"] == "Qualified")
    assert row["business_types"] == "Agencies"
    run = cli("config", "unlink-stage", "Qualified", "Agencies")
    assert run.exit_code == 1 and "linked to no business type" in err(run)
    ok("config", "edit-stage", "Qualified", "--name", "Qualified lead", "--auto", "won")
    row = next(r for r in ok("config", "list-stages", "--format", "json").json() if r["name"] == "Qualified lead")
    assert row["auto"] == "won"


@pytest.mark.parametrize("args, message", [
    (["add-stage", "Lead", "-t", "Staffing"], "already exists"),
    (["add-stage", "X", "-t", "Staffin"], "unknown business type 'Staffin'; valid: Staffing, Agencies"),
    (["add-stage", "X", "-t", "Staffing", "--auto", "maybe"], "--auto must be won or lost"),
    (["add-stage", "X", "-t", "Staffing", "--position", "99"], "position must be between 1 and 8"),
    (["move-stage", "Lead", "0"], "position must be between 1 and 7"),
    (["move-stage", "Leed", "2"], "unknown stage 'Leed'; valid: Lead"),
    (["edit-stage", "Lead"], "nothing to change"),
])
def test_stage_refusals(agency, cli, args, message):
    before = cli("config", "export").stdout
    run = cli("config", *args)
    assert run.exit_code == 1
    assert message in err(run)
    assert cli("config", "export").stdout == before


def test_remove_stage_in_use_and_reassign(agency, ok, cli):
    opp = add_opp(ok)
    ok("opp", "move", opp, "Introduction")
    run = cli("config", "remove-stage", "Introduction")
    assert run.exit_code == 1 and "1 opportunity uses stage 'Introduction'" in err(run)
    run = cli("config", "remove-stage", "Introduction", "--reassign-to", "Lost")
    assert run.exit_code == 1 and "mark opportunities differently" in err(run)
    ok("config", "remove-stage", "Introduction", "--reassign-to", "Proposal")
    shown = ok("opp", "show", opp, "--format", "json").json()
    assert shown["stage"] == "Proposal"
    # the same row on both backends (PostgreSQL's trigger writes it from the row change)
    assert [(h["actor"], h["field"], h["from_value"], h["to_value"]) for h in shown["history"]][-1] == (
        "anna (stage removed)", "stage", "Introduction", "Proposal")
    ok("config", "remove-stage", "Negotiation")
    assert "Negotiation" not in ok("config", "list-stages", "--format", "csv").stdout


# ---------------------------------------------------------------- sources, indicator, reasons

def test_sources(db, ok, cli):
    ok("config", "add-source", "HubSpot")
    ok("config", "add-source", "LinkedIn")
    run = cli("config", "add-source", "hubspot")
    assert run.exit_code == 1 and "already exists" in err(run)
    ok("config", "rename-source", "linkedin", "LinkedIn Recruiter")
    assert [r["name"] for r in ok("config", "list-sources", "--format", "json").json()] == ["HubSpot", "LinkedIn Recruiter"]
    run = cli("config", "rename-source", "Google", "X")
    assert run.exit_code == 1 and "unknown source 'Google'" in err(run)


def test_remove_source_in_use(agency, ok, cli):
    add_opp(ok, "A", "Acme", "Staffing", "Google")
    add_opp(ok, "B", "Acme", "Staffing", "Google")
    run = cli("config", "remove-source", "Google")
    assert run.exit_code == 1 and "2 opportunities use source 'Google'" in err(run)
    run = cli("config", "remove-source", "Google", "--reassign-to", "Gogle")
    assert run.exit_code == 1 and "unknown source 'Gogle'; valid: Google" in err(run)
    ok("config", "remove-source", "Google", "--reassign-to", "Referral")
    assert {r["source"] for r in ok("opp", "list", "--format", "json").json()} == {"Referral"}


def test_indicator(db, ok, cli):
    run = cli("config", "set-indicator", "--orange", "2", "--red", "2")
    assert run.exit_code == 1 and "must be greater than red days" in err(run)
    run = cli("config", "set-indicator", "--orange", "3", "--red", "-1")
    assert run.exit_code == 1
    assert ok("config", "show-indicator", "--format", "json").json() == {"orange_days": None, "red_days": None}
    ok("config", "set-indicator", "--orange", "5", "--red", "2")
    assert ok("config", "show-indicator", "--format", "json").json() == {"orange_days": 5, "red_days": 2}
    run = cli("config", "set-indicator", "--orange", "1", "--red", "3")
    assert run.exit_code == 1
    assert ok("config", "show-indicator", "--format", "json").json() == {"orange_days": 5, "red_days": 2}


def test_reasons(db, ok, cli):
    ok("config", "add-reason", "Too expensive", "--status", "lost")
    ok("config", "add-reason", "Other", "--status", "lost")
    ok("config", "add-reason", "Other", "--status", "won")
    run = cli("config", "add-reason", "too expensive", "--status", "LOST")
    assert run.exit_code == 1 and "already exists" in err(run)
    run = cli("config", "add-reason", "X", "--status", "maybe")
    assert run.exit_code == 1 and "won or lost" in err(run)
    run = cli("config", "remove-reason", "Other")
    assert run.exit_code == 1 and "pass --status" in err(run)
    ok("config", "edit-reason", "Other", "--status", "won", "--text", "Great fit")
    rows = ok("config", "list-reasons", "--format", "json").json()
    assert [(r["reason"], r["status"]) for r in rows] == [("Great fit", "won"), ("Too expensive", "lost"), ("Other", "lost")]
    ok("config", "remove-reason", "Other", "--status", "lost")
    assert len(ok("config", "list-reasons", "--status", "lost", "--format", "json").json()) == 1


def test_remove_reason_in_use(agency, ok, cli):
    opp = add_opp(ok)
    ok("opp", "lose", opp, "--reason", "Too expensive")
    run = cli("config", "remove-reason", "Too expensive")
    assert run.exit_code == 1 and "1 opportunity uses reason 'Too expensive'" in err(run)
    run = cli("config", "remove-reason", "Too expensive", "--reassign-to", "Good price")
    assert run.exit_code == 1 and "is a won reason" in err(run)
    ok("config", "remove-reason", "Too expensive", "--reassign-to", "Chose a competitor")
    shown = ok("opp", "show", opp, "--format", "json").json()
    assert shown["reason"] == "Chose a competitor"
    assert [(h["actor"], h["field"], h["from_value"], h["to_value"]) for h in shown["history"]][-1] == (
        "anna", "reason", "Too expensive", "Chose a competitor")


# ---------------------------------------------------------------- check, show, export, import

def test_check_lists_everything_missing(db, ok, cli):
    run = cli("config", "check")
    assert run.exit_code == 1
    lines = run.stdout.strip().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "missing: no business type", "missing: no stage", "missing: no source",
        "missing: remaining-days indicator not set", "missing: no won reason", "missing: no lost reason",
    ]
    assert all(line.endswith(")") and "salesselect config " in line for line in lines)  # each says how
    ok("config", "add-business-type", "Staffing", "--color", "blue")
    assert "missing: no stage (" in cli("config", "check").stdout
    ok("config", "add-stage", "Won", "-t", "Staffing", "--auto", "won")
    run = cli("config", "check", "--format", "json")
    assert run.exit_code == 1
    assert any("'Staffing' has no open stage" in m for m in run.json()["missing"])


def test_check_passes_for_the_example(agency, ok):
    run = ok("config", "check")
    assert "complete" in run.stdout


def test_empty_lists_say_none_yet_and_how_to_add_one(db, ok):
    show = ok("config", "show").stdout
    assert "╭" not in show and "───" not in show  # no empty frames
    for command in ("add-business-type NAME --color COLOUR", "add-stage NAME --business-type TYPE",
                    "add-source NAME", "set-indicator --orange DAYS --red DAYS", "add-reason TEXT --status won|lost"):
        assert f"— add one with salesselect config {command}" in show or f"set it with salesselect config {command}" in show
    for listing, noun in (("list-business-types", "Business types"), ("list-stages", "Stages"),
                          ("list-sources", "Sources"), ("list-reasons", "Won/lost reasons")):
        assert ok("config", listing).stdout.startswith(f"{noun}: none yet — add one with salesselect config ")
    assert ok("workflow", "list").stdout.startswith("Workflows: none yet — add one with salesselect workflow add ")


def test_show_has_all_five_lists(agency, ok):
    out = ok("config", "show").stdout
    for heading in ("Business types", "Stages", "Sources", "Remaining-days indicator", "Won/lost reasons"):
        assert heading in out
    assert "Framework agreement" in out and "Too expensive" in out


def test_export_import_round_trip(agency, ok, cli, isolated):
    exported = ok("config", "export").stdout
    assert json.loads(exported)["indicator"] == {"orange_days": 5, "red_days": 2}
    fresh = isolated / "fresh.db"
    ok("--db", fresh, "init")
    (isolated / "setup.json").write_text(exported)
    first = ok("--db", fresh, "config", "import", isolated / "setup.json")
    assert "changed: stage Lead added" in first.stdout
    again = ok("--db", fresh, "config", "import", isolated / "setup.json")
    assert again.stdout.startswith("Nothing to change")
    assert ok("--db", fresh, "config", "export").stdout == exported


def test_import_dry_run_changes_nothing(db, ok, cli):
    run = ok("config", "import", SETUP_JSON, "--dry-run")
    assert "would change: business type Staffing added" in run.stdout
    assert ok("config", "list-business-types", "--format", "json").json() == []


@pytest.mark.parametrize("document, message", [
    ({"colours": []}, "unknown key(s) colours"),
    ({"business_types": [{"name": "X", "color": "nope"}]}, "not a colour"),
    ({"business_types": [{"name": "X"}]}, "missing key(s) color"),
    ({"indicator": {"orange_days": 1, "red_days": 2}}, "must be greater"),
    ({"reasons": [{"text": "X", "status": "maybe"}]}, "won or lost"),
    ({"stages": [{"name": "S", "business_types": ["Nope"]}]}, "unknown business type 'Nope'"),
    ([1, 2], "must be a JSON object"),
])
def test_import_refuses_before_any_change(db, ok, cli, isolated, document, message):
    # a valid part first: it must not be written when a later part is bad
    if isinstance(document, dict):
        document = {"sources": ["HubSpot"], **document}
    path = isolated / "bad.json"
    path.write_text(json.dumps(document))
    run = cli("config", "import", path)
    assert run.exit_code == 1
    assert message in err(run)
    assert ok("config", "list-sources", "--format", "json").json() == []


def test_import_not_json(db, cli, isolated):
    path = isolated / "bad.json"
    path.write_text("{not json")
    run = cli("config", "import", path)
    assert run.exit_code == 1 and "not valid JSON" in err(run)
    run = cli("config", "import", isolated / "missing.json")
    assert run.exit_code == 1 and "cannot read" in err(run)


# ---------------------------------------------------------------- users, module, permissions

def test_users(db, ok, cli):
    ok("user", "add", "bob")
    ok("user", "add", "kim", "--key-user")
    run = cli("user", "add", "BOB")
    assert run.exit_code == 1 and "already exists" in err(run)
    names = [(u["name"], u["key_user"]) for u in ok("user", "list", "--format", "json").json()]
    assert names == [("anna", True), ("bob", False), ("kim", True)]
    run = cli("user", "remove", "anna")
    assert run.exit_code == 1 and "cannot remove yourself" in err(run)
    ok("user", "remove", "kim")
    run = cli("user", "remove", "kim")
    assert run.exit_code == 1 and "unknown user 'kim'" in err(run)


def test_remove_user_who_owns_deals(agency, ok, cli):
    add_opp(ok, "A", "Acme", "Staffing", "HubSpot", "--owner", "bob")
    run = cli("user", "remove", "bob")
    assert run.exit_code == 1 and "1 opportunity uses user 'bob'" in err(run)
    ok("user", "remove", "bob", "--reassign-to", "kim")
    assert ok("opp", "list", "--format", "json").json()[0]["owner"] == "kim"


def test_unknown_user_is_refused_with_exit_3(agency, cli):
    run = cli("--user", "mallory", "opp", "list")
    assert run.exit_code == 3
    assert "not a user of this database" in err(run)
    run = cli("opp", "list", env={"SALESSELECT_USER": "mallory"})
    assert run.exit_code == 3


@pytest.mark.parametrize("args", [
    ["config", "add-source", "X"], ["config", "add-business-type", "X", "--color", "red"],
    ["config", "add-stage", "X", "-t", "Staffing"], ["config", "set-indicator", "--orange", "9", "--red", "1"],
    ["config", "add-reason", "X", "--status", "won"], ["config", "remove-source", "Google"],
    ["config", "import", str(SETUP_JSON)], ["user", "add", "eve"], ["config", "module", "disable"],
    ["config", "module", "show"],
])
def test_plain_user_cannot_change_setup(agency, cli, args):
    def state():
        return (cli("config", "export").stdout, cli("user", "list", "--format", "json").stdout,
                cli("config", "module", "show", "--format", "json").stdout)

    before = state()
    run = cli("--user", "bob", *args)
    assert run.exit_code == 3, run.stderr
    assert "only key users may" in err(run)
    assert state() == before


def test_plain_user_can_read(agency, ok):
    ok("--user", "bob", "config", "show")
    ok("--user", "bob", "config", "check")
    new = ok("--user", "bob", "opp", "add", "Mine", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot")
    rows = ok("--user", "bob", "opp", "list", "--mine", "--format", "json").json()
    assert [(r["id"], r["owner"]) for r in rows] == [(int(new.stdout), "bob")]


def test_module_switch(agency, ok, cli):
    ok("config", "module", "disable", "--user", "bob")
    run = cli("--user", "bob", "opp", "list")
    assert run.exit_code == 3 and "module is off for 'bob'" in err(run)
    ok("config", "module", "disable")
    ok("config", "module", "enable", "--user", "bob")
    ok("--user", "bob", "opp", "list")
    run = cli("--user", "kim", "opp", "list")  # kim inherits: off
    assert run.exit_code == 3
    # a key user with the module off may still use `config module`
    ok("--user", "kim", "config", "module", "show")
    run = cli("--user", "kim", "config", "add-source", "X")
    assert run.exit_code == 3
    ok("--user", "kim", "config", "module", "enable")
    ok("--user", "kim", "opp", "list")
    ok("config", "module", "inherit", "--user", "bob")
    report = ok("config", "module", "show", "--format", "json").json()
    assert report["client"] == "on"
    assert {u["name"]: u["module"] for u in report["users"]} == {"anna": "inherit", "bob": "inherit", "kim": "inherit"}
    run = cli("config", "module", "inherit")
    assert run.exit_code == 2  # --user is required: a usage error


def test_module_off_still_allows_help_and_version(agency, ok, cli):
    ok("config", "module", "disable")
    assert cli("--user", "bob", "opp", "list").exit_code == 3
    assert "Usage" in ok("--user", "bob", "opp", "list", "--help").stdout
    assert ok("--version").stdout.startswith("salesselect ")


# ---------------------------------------------------------------- help text

def _walk(command, path):
    yield path, command
    if hasattr(command, "list_commands"):  # through the group's API: the root builds its commands lazily
        for name in command.list_commands(None):
            yield from _walk(command.get_command(None, name), path + [name])


def test_every_command_has_help_text(ok):
    import typer.main

    from salesselect_cli.main import app

    root = typer.main.get_command(app)
    seen = 0
    for path, command in _walk(root, []):
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and param.name not in ("help",):
                assert (param.help or "").strip(), f"{' '.join(path)} {param.opts} has no help"
        run = ok(*path, "--help")
        assert "Usage" in run.stdout
        seen += 1
    assert seen > 40


def test_key_user_rights_and_the_last_key_user(db, ok, cli):
    ok("user", "add", "bob")
    assert cli("--user", "bob", "config", "add-source", "X").exit_code == 3
    ok("user", "set-key-user", "bob")
    ok("--user", "bob", "config", "add-source", "X")
    ok("user", "set-key-user", "bob", "--off")
    run = cli("user", "set-key-user", "anna", "--off")
    assert run.exit_code == 1 and "last key user" in err(run)
    assert cli("--user", "bob", "user", "set-key-user", "bob").exit_code == 3


def test_currency(agency, ok, cli):
    add_opp(ok, "D", "Acme", "Staffing", "HubSpot", "--value", "1500")
    ok("config", "set-currency", "usd")
    assert "$1,500" in ok("opp", "list").stdout
    assert json.loads(ok("config", "export").stdout)["currency"] == "USD"
    run = cli("config", "set-currency", "dollars")
    assert run.exit_code == 1 and "three-letter code" in err(run)


def test_removing_a_user_with_only_followups(agency, ok, cli):
    opp = add_opp(ok)
    ok("followup", "add", opp, "tomorrow", "Call", "--user-for", "bob")
    run = cli("user", "remove", "bob")
    assert run.exit_code == 1 and "1 follow-up(s) belong to user 'bob'" in err(run)
    ok("user", "remove", "bob", "--reassign-to", "kim")
    assert ok("followup", "list", "--format", "json").json()[0]["user"] == "kim"


def test_module_off_for_one_user_names_the_fix(agency, ok, cli):
    ok("config", "module", "disable", "--user", "bob")
    run = cli("--user", "bob", "opp", "list")
    assert run.exit_code == 3 and "enable --user bob" in err(run)
