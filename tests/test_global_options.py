"""--db, --user, --lang and --color work after the command as well as before it (issue 26)."""

from __future__ import annotations

import pytest

from salesselect_cli.argv import take_root_options
from salesselect_cli.completion import fast_kind
from tests.conftest import add_opp


def test_take_root_options_leaves_the_commands_own_and_what_follows_a_double_dash():
    args = ["1", "--db", "x.db", "--user=bob", "--title", "T", "--", "--lang", "nl"]
    assert take_root_options(args, set()) == (["1", "--title", "T", "--", "--lang", "nl"],
                                              [("--db", "x.db"), ("--user", "bob")])
    assert take_root_options(["--user", "bob", "--color", "red"], {"--user", "--color"}) == (
        ["--user", "bob", "--color", "red"], [])
    assert take_root_options(["--db"], set()) == ([], [("--db", None)])


def test_the_same_answer_before_and_after_the_command(agency, ok):
    add_opp(ok, "Deal")
    assert ok("opp", "list", "--lang", "nl").stdout == ok("--lang", "nl", "opp", "list").stdout
    assert "Titel" in ok("opp", "list", "--lang=nl").stdout
    assert ok("opp", "show", "1", "--user", "bob", "--format", "json").json() == ok("--user", "bob", "opp", "show", "1",
                                                                                    "--format", "json").json()


def test_user_after_the_command_acts_as_that_user(agency, ok, cli):
    add_opp(ok, "Deal")
    run = cli("opp", "edit", "1", "--title", "Hijacked", "--user", "bob")
    assert run.exit_code == 3 and "belongs to anna" in run.stderr
    assert ok("opp", "show", "1", "--format", "json").json()["title"] == "Deal"


@pytest.mark.sqlite_only  # a second database file
def test_db_after_the_command(agency, ok, cli, tmp_path):
    other = tmp_path / "other.db"
    ok("--db", str(other), "init")
    assert cli("board", "--db", str(other)).exit_code == 0
    add_opp(ok, "Only here")
    assert "Only here" in ok("opp", "list").stdout
    assert "Only here" not in ok("opp", "list", "--db", str(other)).stdout
    assert "Only here" not in ok("opp", "list", f"--db={other}").stdout


def test_a_commands_own_option_of_the_same_name_stays_its_own(agency, ok):
    add_opp(ok, "Deal")
    assert ok("log", "--user", "bob", "--format", "json").json() == []  # log's own --user: only bob's entries
    assert ok("log", "--user", "anna", "--format", "json").json()
    ok("config", "add-business-type", "Temp", "--color", "red")  # the type's colour, not the screen's
    assert any(t["name"] == "Temp" and t["color"] == "red"
               for t in ok("config", "list-business-types", "--format", "json").json())


def test_bad_values_after_the_command_are_usage_errors(agency, cli):
    run = cli("opp", "list", "--color", "purple")
    assert run.exit_code == 2 and "--color" in run.stderr and "Traceback" not in run.stderr
    run = cli("opp", "list", "--db")
    assert run.exit_code == 2 and run.stderr.startswith("Error: Option '--db' requires an argument.")
    run = cli("opp", "list", "--lang", "fr")
    assert run.exit_code == 2


def test_completion_fast_path_reads_the_db_after_the_command():
    assert fast_kind(["opp", "move", "--db", "x.db", "12"]) == ("stages", "x.db")
    assert fast_kind(["--db", "x.db", "opp", "move"]) == ("open_ids", "x.db")
    assert fast_kind(["config", "module", "enable", "--user"])[0] == "users"
