"""Workflows (issue 6): rules on stage and status changes, their actions and run: hooks."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import time

import pytest

from salesselect_cli.errors import Invalid
from salesselect_cli.rules import workflows as wf
from salesselect_cli.model import RECORD_KEYS
from tests.conftest import TODAY, add_opp

# ---------------------------------------------------------------- helpers


def history(ok, opp: int) -> list[dict]:
    return ok("opp", "show", opp, "--format", "json").json()["history"]


def by_workflow(ok, opp: int, name: str) -> list[dict]:
    return [row for row in history(ok, opp) if row["actor"] == f"workflow:{name}"]


def record(ok, opp: int) -> dict:
    return ok("opp", "show", opp, "--format", "json").json()


def notes(ok, opp: int) -> list[str]:
    return [row["to_value"] for row in history(ok, opp) if row["field"] == "note"]


def script(tmp_path, name: str, body: str) -> str:
    """A small Python program in tmp_path; returns its command line (run with this interpreter)."""
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


RECORDER = """
import json, os, sys
out = sys.argv[1]
event = json.load(sys.stdin)
event["_argv"] = sys.argv[2:]
event["_env"] = {k: os.environ.get(k) for k in ("SALESSELECT_EVENT", "SALESSELECT_OPPORTUNITY_ID", "SALESSELECT_WORKFLOW")}
with open(out, "a", encoding="utf-8") as handle:
    handle.write(json.dumps(event) + "\\n")
"""


def recorded(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def no_auto_type(agency):
    """Business type 'Temp' with only open stages, so win/lose change the status but not the stage."""
    agency("config", "add-business-type", "Temp", "--color", "green")
    agency("config", "add-stage", "Temp lead", "--business-type", "Temp")
    agency("config", "add-stage", "Temp offer", "--business-type", "Temp")
    return agency


# ---------------------------------------------------------------- pure rules


class TestParse:
    def test_each_kind(self):
        followup = wf.parse_action("followup:+3d:Call: about the offer")
        assert (followup.kind, followup.amount, followup.unit, followup.argument) == ("followup", 3, "d", "Call: about the offer")
        assert wf.parse_action("FOLLOWUP:2w:x").unit == "w"
        assert wf.parse_action("note:Sent: yes").argument == "Sent: yes"
        assert wf.parse_action("owner: bob ").argument == "bob"
        run = wf.parse_action("run:notify --to 'sales team' 'a; rm -rf /'")
        assert run.argv == ("notify", "--to", "sales team", "a; rm -rf /")
        assert not run.changes_data and followup.changes_data

    @pytest.mark.parametrize("text, message", [
        ("mail:bob", "unknown action"),
        ("note", "unknown action"),
        ("", "must not be empty"),
        ("followup:3x:Call", "bad follow-up offset"),
        ("followup:-3d:Call", "bad follow-up offset"),
        ("followup:+3d", "bad follow-up offset"),
        ("followup:+3d:  ", "a follow-up needs text"),
        ("note:   ", "a note needs text"),
        ("owner:", "owner: needs a user name"),
        ("run:", "run: needs a command"),
        ("run:echo 'unbalanced", "cannot split"),
        ("note:two\nlines", "control characters"),
    ])
    def test_refused(self, text, message):
        with pytest.raises(Invalid, match=message):
            wf.parse_action(text)

    def test_followup_due_and_describe(self):
        action = wf.parse_action("followup:+1m:Check in")
        assert wf.followup_due(action, dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
        assert wf.describe(action, dt.date(2026, 1, 31)) == "plan a follow-up on 2026-02-28: Check in"
        assert wf.describe(wf.parse_action("owner:kim"), TODAY) == "reassign to kim"
        assert "time limit 2.5 s" in wf.describe(wf.parse_action("run:x 'a b'"), TODAY, 2.5)
        assert "run x 'a b'" in wf.describe(wf.parse_action("run:x 'a b'"), TODAY)

    def test_timeout(self):
        assert wf.hook_timeout(None, None) == 10
        assert wf.hook_timeout(None, "3") == 3
        assert wf.hook_timeout("0.5", "3") == 0.5
        for bad in ("0", "-1", "soon", "nan", "99999"):
            with pytest.raises(Invalid):
                wf.hook_timeout(bad, None)


def rule(trigger="stage", **conditions) -> wf.Rule:
    return wf.Rule(1, "r", trigger, ("note:x",), **conditions)


def event(from_stage=1, to_stage=2, from_status="open", to_status="open", business_type=7) -> wf.Event:
    return wf.Event(99, business_type, from_stage, to_stage, from_status, to_status)


class TestMatch:
    def test_triggers(self):
        moved, won_in_place, won_and_moved = event(), event(to_stage=1, to_status="won"), event(to_status="won")
        assert moved.triggers == ("stage",)
        assert won_in_place.triggers == ("status",)
        assert won_and_moved.triggers == ("stage", "status")
        assert wf.match(moved, [rule("stage")]) and not wf.match(moved, [rule("status")])
        assert wf.match(won_in_place, [rule("status")]) and not wf.match(won_in_place, [rule("stage")])
        assert len(wf.match(won_and_moved, [rule("stage"), rule("status")])) == 2
        assert wf.match(event(to_stage=1), [rule("stage"), rule("status")]) == []

    @pytest.mark.parametrize("conditions, fires", [
        ({"to_stage_id": 2}, True), ({"to_stage_id": 3}, False),
        ({"from_stage_id": 1}, True), ({"from_stage_id": 2}, False),
        ({"to_status": "open"}, True), ({"to_status": "won"}, False),
        ({"business_type_id": 7}, True), ({"business_type_id": 8}, False),
        ({"to_stage_id": 2, "from_stage_id": 1, "business_type_id": 7}, True),
        ({"to_stage_id": 2, "from_stage_id": 3}, False),
    ])
    def test_conditions(self, conditions, fires):
        assert bool(wf.match(event(), [rule(**conditions)])) is fires

    def test_disabled_never_fires_and_order_is_kept(self):
        first, second = wf.Rule(1, "a", "stage", ("note:x",)), wf.Rule(2, "b", "stage", ("note:x",))
        off = wf.Rule(3, "c", "stage", ("note:x",), enabled=False)
        assert wf.match(event(), [second, off, first]) == [second, first]


# ---------------------------------------------------------------- managing workflows


class TestManage:
    def test_add_list_show(self, agency, ok):
        run = ok("workflow", "add", "Call back", "--on", "stage", "--to-stage", "proposal", "--from-stage", "Lead",
                 "--type", "staffing", "--action", "followup:+3d:Call", "--action", "note:Sent")
        assert run.stdout.strip() == "1"
        assert "Added workflow 'Call back'" in run.stderr
        rows = ok("workflow", "list", "--format", "json").json()
        assert rows == [{
            "id": 1, "name": "Call back", "on": "stage", "to_stage": "Proposal", "from_stage": "Lead",
            "to_status": None, "business_type": "Staffing", "actions": ["followup:+3d:Call", "note:Sent"],
            "enabled": True, "created": "2026-11-27", "env": [], "allowed_here": True,
        }]
        table = ok("workflow", "list").stdout
        assert "Call back" in table and "stage changes from Lead to Proposal" in table
        shown = ok("workflow", "show", "call back").stdout
        assert "plan a follow-up on 2026-11-30: Call" in shown
        assert ok("workflow", "show", "1", "--format", "json").json()["name"] == "Call back"
        csv_text = ok("workflow", "list", "--format", "csv").stdout
        assert csv_text.splitlines()[0] == "id,name,on,to_stage,from_stage,to_status,business_type,actions,enabled,created,env,allowed_here"

    @pytest.mark.parametrize("args, message", [
        (["--to-stage", "Propsal"], "unknown stage 'Propsal'; valid: Proposal"),
        (["--from-stage", "Nowhere"], "unknown stage 'Nowhere'"),
        (["--type", "Temps"], "unknown business type 'Temps'"),
        (["--action", "owner:zoe"], "unknown user 'zoe'"),
        (["--action", "followup:soon:Call"], "bad follow-up offset"),
        (["--action", "note:  "], "a note needs text"),
        (["--action", "email:bob"], "unknown action 'email:bob'"),
        (["--to-stage", "Lost", "--to-status", "won"], "marks opportunities lost"),
        (["--to-stage", "Lead", "--from-stage", "lead"], "the same stage"),
        (["--type", "Agencies", "--to-stage", "Negotiation"], "not a stage of business type 'Agencies'"),
    ])
    def test_add_refused(self, agency, cli, args, message):
        if "--action" not in args:
            args = [*args, "--action", "note:x"]
        run = cli("workflow", "add", "W", "--on", "stage", *args)
        assert run.exit_code == 1, run.stderr
        assert run.stderr.startswith("Error: ") and message in run.stderr
        assert cli("workflow", "list", "--format", "json").json() == []

    def test_add_needs_an_action_and_a_known_trigger(self, agency, cli):
        assert cli("workflow", "add", "W", "--on", "stage").exit_code == 2
        assert cli("workflow", "add", "W", "--on", "owner", "--action", "note:x").exit_code == 2
        assert cli("workflow", "add", "W", "--on", "status", "--to-status", "closed", "--action", "note:x").exit_code == 2

    def test_duplicate_name(self, agency, ok, cli):
        ok("workflow", "add", "W", "--on", "stage", "--action", "note:x")
        run = cli("workflow", "add", "w", "--on", "status", "--action", "note:x")
        assert run.exit_code == 1 and "already exists" in run.stderr

    def test_key_users_only(self, agency, ok, cli):
        ok("workflow", "add", "W", "--on", "stage", "--action", "note:x")
        for args in (["add", "V", "--on", "stage", "--action", "note:x"], ["remove", "W"], ["disable", "W"],
                     ["enable", "W"], ["timeout", "3"]):
            run = cli("--user", "bob", "workflow", *args)
            assert run.exit_code == 3, args
            assert "only key users" in run.stderr
        assert len(ok("--user", "bob", "workflow", "list", "--format", "json").json()) == 1
        ok("--user", "bob", "workflow", "show", "W")
        ok("--user", "kim", "workflow", "disable", "W")

    def test_enable_disable_remove(self, agency, ok, cli):
        ok("workflow", "add", "W", "--on", "stage", "--action", "note:fired")
        opp = add_opp(ok)
        assert "disabled" in ok("workflow", "disable", "W").stderr
        assert "already disabled" in ok("workflow", "disable", "1").stderr
        ok("opp", "move", opp, "Introduction")
        assert notes(ok, opp) == []
        ok("workflow", "enable", "w")
        ok("opp", "move", opp, "Proposal")
        assert notes(ok, opp) == ["fired"]
        assert "Removed workflow 'W'" in ok("workflow", "remove", "W").stderr
        ok("opp", "move", opp, "Negotiation")
        assert notes(ok, opp) == ["fired"]
        run = cli("workflow", "remove", "W")
        assert run.exit_code == 1 and "unknown workflow 'W'" in run.stderr

    def test_added_disabled(self, agency, ok):
        ok("workflow", "add", "W", "--on", "stage", "--action", "note:x", "--disabled")
        assert ok("workflow", "list", "--format", "json").json()[0]["enabled"] is False

    def test_config_export_import_carry_and_check_workflows(self, agency, ok, cli, tmp_path):
        ok("workflow", "add", "W", "--on", "status", "--to-status", "lost", "--action", "note:Ask why")
        exported = ok("config", "export").json()
        assert exported["workflows"][0]["actions"] == ["note:Ask why"]
        path = tmp_path / "setup.json"
        path.write_text(json.dumps(exported), encoding="utf-8")
        assert "Nothing to change" in ok("config", "import", str(path)).stdout
        exported["workflows"].append({"name": "Bad", "on": "stage", "actions": ["mail:bob"]})
        path.write_text(json.dumps(exported), encoding="utf-8")
        run = cli("config", "import", str(path))
        assert run.exit_code == 1 and "workflows[2]: unknown action 'mail:bob'" in run.stderr
        exported["workflows"][1]["actions"] = ["owner:nobody"]
        path.write_text(json.dumps(exported), encoding="utf-8")
        run = cli("config", "import", str(path))
        assert run.exit_code == 1 and "unknown user 'nobody'" in run.stderr
        assert [w["name"] for w in ok("workflow", "list", "--format", "json").json()] == ["W"]

    def test_timeout_setting(self, agency, ok, cli, monkeypatch):
        assert ok("workflow", "timeout").stdout.strip() == "10"
        ok("workflow", "timeout", "2.5")
        assert ok("workflow", "timeout").stdout.strip() == "2.5"
        monkeypatch.setenv("SALESSELECT_HOOK_TIMEOUT", "1")
        run = ok("workflow", "timeout")
        assert run.stdout.strip() == "1" and "$SALESSELECT_HOOK_TIMEOUT" in run.stderr
        monkeypatch.delenv("SALESSELECT_HOOK_TIMEOUT")
        assert cli("workflow", "timeout", "never").exit_code == 1
        ok("workflow", "timeout", "default")
        assert ok("workflow", "timeout").stdout.strip() == "10"


# ---------------------------------------------------------------- triggers and conditions


class TestTriggers:
    def test_stage_trigger_on_move_but_not_on_other_changes(self, agency, ok):
        ok("workflow", "add", "S", "--on", "stage", "--action", "note:stage changed")
        opp = add_opp(ok)
        ok("opp", "edit", opp, "--value", "100", "--owner", "bob")
        assert notes(ok, opp) == []
        ok("opp", "move", opp, "Introduction")
        assert notes(ok, opp) == ["stage changed"]

    def test_stage_trigger_on_win_into_auto_stage(self, agency, ok):
        ok("workflow", "add", "S", "--on", "stage", "--to-stage", "New client", "--action", "note:welcome")
        opp = add_opp(ok)
        ok("opp", "win", opp, "--reason", "Good price")
        assert record(ok, opp)["stage"] == "New client"
        assert notes(ok, opp) == ["welcome"]

    def test_status_change_without_stage_change(self, no_auto_type, ok):
        ok("workflow", "add", "S", "--on", "stage", "--action", "note:stage")
        ok("workflow", "add", "T", "--on", "status", "--action", "note:status")
        opp = add_opp(ok, "Temp deal", "Acme", "Temp")
        ok("opp", "win", opp)
        assert record(ok, opp)["stage"] == "Temp lead"
        assert notes(ok, opp) == ["status"]

    def test_status_trigger_on_lose_and_reopen_not_on_move(self, agency, ok):
        ok("workflow", "add", "Lost", "--on", "status", "--to-status", "lost", "--action", "note:lost")
        ok("workflow", "add", "Open", "--on", "status", "--to-status", "open", "--action", "note:reopened")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Proposal")
        assert notes(ok, opp) == []
        ok("opp", "lose", opp, "--reason", "Too expensive")
        assert notes(ok, opp) == ["lost"]
        ok("opp", "reopen", opp)
        assert notes(ok, opp) == ["lost", "reopened"]

    def test_move_into_lost_stage_fires_both_triggers_once(self, agency, ok):
        ok("workflow", "add", "S", "--on", "stage", "--action", "note:stage")
        ok("workflow", "add", "T", "--on", "status", "--action", "note:status")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Lost", "--reason", "No candidates")
        assert notes(ok, opp) == ["stage", "status"]

    def test_to_stage(self, agency, ok):
        ok("workflow", "add", "W", "--on", "stage", "--to-stage", "Proposal", "--action", "note:fired")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Introduction")
        assert notes(ok, opp) == []
        ok("opp", "move", opp, "Proposal")
        assert notes(ok, opp) == ["fired"]

    def test_from_stage(self, agency, ok):
        ok("workflow", "add", "W", "--on", "stage", "--from-stage", "Introduction", "--action", "note:fired")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Proposal")
        assert notes(ok, opp) == []
        ok("opp", "move", opp, "Introduction")
        assert notes(ok, opp) == []
        ok("opp", "move", opp, "Negotiation")
        assert notes(ok, opp) == ["fired"]

    def test_to_status(self, agency, ok):
        ok("workflow", "add", "W", "--on", "status", "--to-status", "won", "--action", "note:fired")
        lost, won = add_opp(ok), add_opp(ok)
        ok("opp", "lose", lost, "--reason", "Too expensive")
        ok("opp", "win", won)
        assert notes(ok, lost) == [] and notes(ok, won) == ["fired"]

    def test_business_type(self, agency, ok):
        ok("workflow", "add", "W", "--on", "stage", "--type", "Agencies", "--action", "note:fired")
        staffing, agencies = add_opp(ok), add_opp(ok, "Deal", "Acme", "Agencies")
        ok("opp", "move", staffing, "Proposal")
        ok("opp", "move", agencies, "Proposal")
        assert notes(ok, staffing) == [] and notes(ok, agencies) == ["fired"]

    def test_no_workflows_flag(self, agency, ok):
        ok("workflow", "add", "W", "--on", "stage", "--action", "note:fired")
        ok("workflow", "add", "T", "--on", "status", "--action", "note:status")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Proposal", "--no-workflows")
        ok("opp", "lose", opp, "--reason", "Too expensive", "--no-workflows")
        ok("opp", "reopen", opp, "--no-workflows")
        ok("opp", "win", opp, "--no-workflows")
        assert notes(ok, opp) == []
        assert record(ok, opp)["status"] == "won"


# ---------------------------------------------------------------- data-changing actions


class TestActions:
    def test_followup(self, agency, ok):
        ok("workflow", "add", "Call", "--on", "stage", "--to-stage", "Proposal", "--action", "followup:+3d:Call about it")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Proposal")
        followups = ok("followup", "list", "--format", "json").json()
        assert [(f["due"], f["text"], f["opportunity_id"], f["user"]) for f in followups] == [
            ("2026-11-30", "Call about it", opp, "anna")
        ]
        rows = by_workflow(ok, opp, "Call")
        assert [(r["field"], r["to_value"]) for r in rows] == [("followup", "2026-11-30 Call about it")]
        assert record(ok, opp)["next_followup"] == "2026-11-30"

    def test_note(self, agency, ok):
        ok("workflow", "add", "N", "--on", "stage", "--action", "note:Proposal sent")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Proposal")
        assert [(r["field"], r["to_value"]) for r in by_workflow(ok, opp, "N")] == [("note", "Proposal sent")]
        assert "workflow:N: note: Proposal sent" in ok("opp", "show", opp).stdout

    def test_owner(self, agency, ok):
        ok("workflow", "add", "Hand over", "--on", "status", "--to-status", "won", "--action", "owner:Kim")
        opp = add_opp(ok)
        run = ok("opp", "win", opp)
        assert record(ok, opp)["owner"] == "kim"
        rows = by_workflow(ok, opp, "Hand over")
        assert [(r["field"], r["from_value"], r["to_value"]) for r in rows] == [("owner", "anna", "kim")]
        assert run.stderr.count("\n") == 1  # just the usual line, no warning

    def test_actions_run_in_order_in_the_same_transaction(self, agency, ok, cli):
        ok("workflow", "add", "W", "--on", "stage", "--action", "note:first", "--action", "owner:bob",
           "--action", "followup:+1w:Later")
        opp = add_opp(ok)
        run = cli("user", "remove", "bob")  # refused: a workflow hands deals to bob
        assert run.exit_code == 1 and "workflow(s) W hand opportunities to 'bob'" in run.stderr
        # a file edited by hand (or by an older salesselect) can still name a missing user
        from tests.conftest import raw_connect

        conn = raw_connect()
        conn.execute("UPDATE workflows SET actions = replace(actions, 'owner:bob', 'owner:ghost')")
        conn.commit()
        conn.close()
        run = cli("opp", "move", opp, "Proposal")
        assert run.exit_code == 1
        assert "workflow 'W', action 'owner:ghost': unknown user 'ghost'" in run.stderr
        assert "--no-workflows" in run.stderr
        assert record(ok, opp)["stage"] == "Lead"  # nothing of the change stayed
        assert notes(ok, opp) == []
        assert ok("followup", "list", "--format", "json").json() == []
        ok("opp", "move", opp, "Proposal", "--no-workflows")
        assert record(ok, opp)["stage"] == "Proposal"


# ---------------------------------------------------------------- run: hooks


class TestRunHooks:
    def test_event_json_on_stdin(self, agency, ok, tmp_path):
        out = tmp_path / "events.jsonl"
        command = script(tmp_path, "record.py", RECORDER) + f" {shlex.quote(str(out))}"
        ok("workflow", "add", "Record", "--on", "stage", "--action", "owner:bob", "--action", f"run:{command}")
        opp = add_opp(ok, "Warehouse staff", "Acme", "Staffing", "HubSpot", "--value", "12000")
        run = ok("opp", "move", opp, "Proposal")
        assert "Warning" not in run.stderr
        [event_json] = recorded(out)
        assert event_json["trigger"] == "stage"
        assert event_json["workflow"] == "Record"
        assert event_json["opportunity_id"] == opp
        assert event_json["user"] == "anna"
        assert event_json["time"].startswith("2026-11-27T")
        assert list(event_json["before"]) == list(RECORD_KEYS)
        assert list(event_json["after"]) == list(RECORD_KEYS)
        assert (event_json["before"]["stage"], event_json["after"]["stage"]) == ("Lead", "Proposal")
        assert (event_json["before"]["owner"], event_json["after"]["owner"]) == ("anna", "bob")
        assert event_json["after"]["value"] == "12000.00"
        assert event_json["_env"] == {"SALESSELECT_EVENT": "stage", "SALESSELECT_OPPORTUNITY_ID": str(opp),
                                      "SALESSELECT_WORKFLOW": "Record"}
        assert by_workflow(ok, opp, "Record")[-1]["field"] == "owner"  # success leaves no hook row

    def test_status_event(self, agency, ok, tmp_path):
        out = tmp_path / "events.jsonl"
        command = script(tmp_path, "record.py", RECORDER) + f" {shlex.quote(str(out))}"
        ok("workflow", "add", "Record", "--on", "status", "--action", f"run:{command}")
        opp = add_opp(ok)
        ok("opp", "lose", opp, "--reason", "Too expensive")
        [event_json] = recorded(out)
        assert event_json["trigger"] == "status" and event_json["_env"]["SALESSELECT_EVENT"] == "status"
        assert (event_json["before"]["status"], event_json["after"]["status"]) == ("open", "lost")
        assert event_json["after"]["reason"] == "Too expensive"

    def test_argument_is_passed_literally(self, agency, ok, tmp_path):
        out = tmp_path / "events.jsonl"
        victim = tmp_path / "victim"
        victim.mkdir()
        (victim / "keep.txt").write_text("still here")
        dangerous = f"x; rm -rf {victim} && echo $HOME `id`"
        command = script(tmp_path, "record.py", RECORDER) + f" {shlex.quote(str(out))} {shlex.quote(dangerous)}"
        ok("workflow", "add", "Literal", "--on", "stage", "--action", f"run:{command}")
        opp = add_opp(ok)
        ok("opp", "move", opp, "Proposal")
        assert recorded(out)[0]["_argv"] == [dangerous]
        assert (victim / "keep.txt").read_text() == "still here"

    def test_failing_hook_is_a_warning_and_a_history_row(self, agency, ok, tmp_path):
        command = script(tmp_path, "fail.py", "import sys\nsys.stdin.read()\nsys.exit('mail server down')\n")
        ok("workflow", "add", "Mail", "--on", "stage", "--action", "note:sent", "--action", f"run:{command}")
        opp = add_opp(ok)
        run = ok("opp", "move", opp, "Proposal")
        warnings = [line for line in run.stderr.splitlines() if line.startswith("Warning:")]
        assert len(warnings) == 1
        assert "workflow 'Mail'" in warnings[0] and "exit code 1: mail server down" in warnings[0]
        assert run.stdout == ""
        assert record(ok, opp)["stage"] == "Proposal"  # the change stays
        rows = by_workflow(ok, opp, "Mail")
        assert [r["field"] for r in rows] == ["note", "hook failed"]
        assert rows[1]["to_value"].endswith("exit code 1: mail server down")
        assert "workflow run failed" in ok("opp", "show", opp).stdout

    def test_a_failing_hook_that_changes_the_deal_leaves_the_move_saying_what_it_committed(self, agency, ok, tmp_path):
        """The move's own line is the deal as its COMMIT left it, not as the hook left it afterwards (on
        PostgreSQL that record comes with the COMMIT; the failed hook's history line is a new transaction)."""
        body = ("import os, subprocess, sys\nsys.stdin.read()\n"
                f"subprocess.run([{sys.executable!r}, '-m', 'salesselect_cli', 'opp', 'edit', "
                "os.environ['SALESSELECT_OPPORTUNITY_ID'], '--title', 'Renamed by the hook'], check=True)\n"
                "sys.exit('mail server down')\n")
        ok("workflow", "add", "Rename", "--on", "stage", "--action", f"run:{script(tmp_path, 'rename.py', body)}")
        opp = add_opp(ok)
        title = record(ok, opp)["title"]
        run = ok("opp", "move", opp, "Proposal")
        said = [line for line in run.stderr.splitlines() if not line.startswith("Warning:")]
        assert any(f"#{opp} {title}: Proposal" in line for line in said), run.stderr
        assert "Renamed by the hook" not in run.stderr
        assert [line for line in run.stderr.splitlines() if line.startswith("Warning:")], run.stderr
        assert record(ok, opp)["title"] == "Renamed by the hook"  # the hook did run, after the move was saved

    def test_a_run_marker_that_cannot_be_removed_is_not_the_users_problem(self, agency, ok, tmp_path, monkeypatch):
        """Forgetting the run's marker after the hook can fail (its folder gone read-only): the move was saved
        and says so. (The marker was a database row until issue 24; it is a file in the config folder now.)"""
        from salesselect_cli import hooks

        out = tmp_path / "hook.jsonl"
        ok("workflow", "add", "Tell", "--on", "stage", "--action", f"run:{script(tmp_path, 'rec.py', RECORDER)} {out}")
        opp = add_opp(ok)

        def stuck(marker):
            raise PermissionError(13, "Permission denied", marker)

        monkeypatch.setattr(hooks, "close_run_marker", stuck)
        run = ok("opp", "move", opp, "Proposal")
        assert "Traceback" not in run.stderr and "Warning" not in run.stderr
        assert len(recorded(out)) == 1 and record(ok, opp)["stage"] == "Proposal"

    def test_hook_past_the_time_limit_is_stopped(self, agency, ok, tmp_path, monkeypatch):
        command = script(tmp_path, "slow.py", "import time\ntime.sleep(30)\n")
        ok("workflow", "add", "Slow", "--on", "stage", "--action", f"run:{command}")
        ok("workflow", "timeout", "0.5")
        opp = add_opp(ok)
        started = time.monotonic()
        run = ok("opp", "move", opp, "Proposal")
        assert time.monotonic() - started < 10
        assert "timed out after 0.5 s" in run.stderr
        assert by_workflow(ok, opp, "Slow")[0]["field"] == "hook failed"
        assert record(ok, opp)["stage"] == "Proposal"

    def test_env_time_limit_wins_and_bad_one_refuses_before_changing(self, agency, ok, cli, tmp_path, monkeypatch):
        command = script(tmp_path, "slow.py", "import time\ntime.sleep(30)\n")
        ok("workflow", "add", "Slow", "--on", "stage", "--action", f"run:{command}")
        opp = add_opp(ok)
        monkeypatch.setenv("SALESSELECT_HOOK_TIMEOUT", "soon")
        run = cli("opp", "move", opp, "Proposal")
        assert run.exit_code == 1 and "SALESSELECT_HOOK_TIMEOUT must be a number" in run.stderr
        assert record(ok, opp)["stage"] == "Lead"
        monkeypatch.setenv("SALESSELECT_HOOK_TIMEOUT", "0.3")
        assert "timed out after 0.3 s" in ok("opp", "move", opp, "Proposal").stderr

    def test_missing_program(self, agency, ok, cli, tmp_path):
        run = cli("workflow", "add", "Ghost", "--on", "stage", "--action", f"run:{tmp_path}/no-such-program --flag")
        assert run.exit_code == 1 and "program not found" in run.stderr  # found when added...
        program = tmp_path / "gone"
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
        ok("workflow", "add", "Ghost", "--on", "stage", "--action", f"run:{program} --flag")
        program.unlink()  # ...and gone by the time it runs
        opp = add_opp(ok)
        run = ok("opp", "move", opp, "Proposal")
        assert "program not found" in run.stderr
        assert record(ok, opp)["stage"] == "Proposal"
        assert "program not found" in by_workflow(ok, opp, "Ghost")[0]["to_value"]

    def test_workflows_never_chain(self, agency, ok, tmp_path):
        """A hook that changes the stage again does not set off workflows; nor do actions within one change."""
        chain = script(tmp_path, "chain.py", (
            "import os, subprocess, sys\n"
            "sys.stdin.read()\n"
            "subprocess.run([sys.executable, '-m', 'salesselect_cli', 'opp', 'move',"
            " os.environ['SALESSELECT_OPPORTUNITY_ID'], 'Negotiation'], check=True)\n"
        ))
        ok("workflow", "add", "To proposal", "--on", "stage", "--to-stage", "Proposal", "--action", "owner:bob",
           "--action", f"run:{chain}")
        ok("workflow", "add", "To negotiation", "--on", "stage", "--to-stage", "Negotiation",
           "--action", "note:negotiating")
        ok("workflow", "add", "Owner watcher", "--on", "status", "--action", "note:status")
        opp = add_opp(ok)
        run = ok("opp", "move", opp, "Proposal")
        assert "Warning" not in run.stderr, run.stderr
        assert record(ok, opp)["stage"] == "Negotiation"  # the hook's own move happened...
        assert notes(ok, opp) == []  # ...but fired nothing
        ok("opp", "move", opp, "Proposal", "--no-workflows")
        ok("opp", "move", opp, "Negotiation")  # a person's move does fire it
        assert notes(ok, opp) == ["negotiating"]


# ---------------------------------------------------------------- workflow test


class TestPreview:
    def test_shows_what_would_run_and_changes_nothing(self, agency, ok, tmp_path):
        out = tmp_path / "events.jsonl"
        command = script(tmp_path, "record.py", RECORDER) + f" {shlex.quote(str(out))}"
        ok("workflow", "add", "Call", "--on", "stage", "--to-stage", "Proposal", "--action", "followup:+3d:Call",
           "--action", "owner:bob", "--action", f"run:{command}")
        ok("workflow", "add", "Lost", "--on", "status", "--to-status", "lost", "--action", "note:why?")
        opp = add_opp(ok)
        before = ok("opp", "show", opp, "--format", "json").stdout
        rows = ok("workflow", "test", opp, "--to-stage", "Proposal", "--format", "json").json()
        assert [(r["workflow"], r["trigger"], r["effect"].split(" (")[0]) for r in rows] == [
            ("Call", "stage", "plan a follow-up on 2026-11-30: Call"),
            ("Call", "stage", "reassign to bob"),
            ("Call", "stage", f"after saving, run {command}"),
        ]
        table = ok("workflow", "test", opp, "--to-stage", "Proposal").stdout
        assert "Lead → Proposal" in table and "reassign to bob" in table
        lost = ok("workflow", "test", opp, "--to-status", "lost", "--format", "json").json()
        assert [(r["workflow"], r["effect"]) for r in lost] == [("Lost", "add the note: why?")]
        assert ok("workflow", "test", opp, "--to-stage", "Lost", "--format", "json").json()[0]["workflow"] == "Lost"
        assert "no workflow would fire" in ok("workflow", "test", opp, "--to-stage", "Introduction").stdout
        assert ok("workflow", "test", opp, "--to-stage", "Introduction", "--format", "json").json() == []
        assert ok("opp", "show", opp, "--format", "json").stdout == before
        assert ok("followup", "list", "--format", "json").json() == []
        assert not out.exists()

    def test_reopen_and_refusals(self, agency, ok, cli):
        ok("workflow", "add", "Again", "--on", "status", "--to-status", "open", "--action", "note:again")
        opp = add_opp(ok)
        assert cli("workflow", "test", opp).exit_code == 1
        run = cli("workflow", "test", opp, "--to-status", "open")
        assert run.exit_code == 1 and "already open" in run.stderr
        run = cli("workflow", "test", opp, "--to-stage", "Proposal", "--to-status", "won")
        assert run.exit_code == 1 and "leaves it open, not won" in run.stderr
        assert cli("workflow", "test", 999, "--to-status", "won").exit_code == 1
        ok("opp", "lose", opp, "--reason", "Too expensive")
        run = cli("workflow", "test", opp, "--to-stage", "Proposal")
        assert run.exit_code == 1 and "reopen it" in run.stderr
        rows = ok("workflow", "test", opp, "--to-status", "open", "--to-stage", "Proposal", "--format", "json").json()
        assert [r["workflow"] for r in rows] == ["Again"]
        assert record(ok, opp)["status"] == "lost"

    def test_any_user_may_test(self, agency, ok):
        opp = add_opp(ok)
        ok("--user", "bob", "workflow", "test", opp, "--to-status", "won")


def test_conditions_text():
    assert wf.conditions_text("stage", "Proposal", "Lead", None, "Staffing") == (
        "stage changes from Lead to Proposal, Staffing only")
    assert wf.conditions_text("stage", None, None, "won", None) == "stage changes, status then won"
    assert wf.conditions_text("status", "New client", "Proposal", "won", None) == (
        "status changes to won, stage before Proposal, stage after New client")
    assert wf.conditions_text("status", None, None, None, None) == "status changes"


def test_bad_offsets_and_empty_commands_are_refused_at_add(agency, cli):
    for action, message in (("followup:+9999y:x", "more than ten years"), ("followup:+200m:x", "more than ten years"),
                            ("run:''", "run: needs a command"), ("run:   ", "run: needs a command")):
        run = cli("workflow", "add", "W", "--on", "stage", "--action", action)
        assert run.exit_code == 1, action
        assert message in run.stderr
    assert cli("workflow", "list", "--format", "json").json() == []


def test_type_change_that_moves_the_stage_fires_stage_workflows(agency, ok):
    ok("workflow", "add", "Negotiate", "--on", "stage", "--to-stage", "Negotiation", "--action", "note:Negotiating")
    opp = add_opp(ok, "Deal", "Acme", "Agencies")
    ok("opp", "move", opp, "Framework agreement")
    ok("opp", "edit", opp, "--type", "Staffing", "--stage", "Negotiation")
    history = ok("opp", "show", opp, "--format", "json").json()["history"]
    assert ("note", "Negotiating", "workflow:Negotiate") in {(h["field"], h["to_value"], h["actor"]) for h in history}


def test_huge_ids_are_refused_cleanly(agency, cli):
    run = cli("workflow", "test", "99999999999999999999", "--to-stage", "Lead")
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    run = cli("workflow", "show", "99999999999999999999")
    assert run.exit_code == 1 and run.stderr.startswith("Error: unknown workflow")
