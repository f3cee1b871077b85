"""Shell completion: names and open ids from the database, the same answer from the fast path and from
Typer's, read-only, silent on a broken file, and without importing Typer when the fast path answers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from salesselect_cli import completion, tree
from salesselect_cli.helptext import tidy
from salesselect_cli.main import app
from tests.conftest import add_opp, from_template
from tests.test_help import subcommands


@pytest.fixture
def deals(agency, ok, template_dir):
    """Two open deals (1, 2) and a lost one (3), built once and copied per test."""

    def build():
        first = add_opp(ok, "12 order pickers", "Van Dijk", "Staffing", "HubSpot")
        second = add_opp(ok, "Preferred supplier", "Werkwijs", "Agencies", "Referral")
        closed = add_opp(ok, "Gone", "Golf", "Staffing", "HubSpot")
        ok("opp", "lose", closed, "--reason", "Too expensive")
        return first, second, closed

    return from_template("completion-deals", template_dir, build)


def request(shell: str, typed: str) -> dict:
    """The environment a shell's completion script sets for the command line `typed`."""
    env = {"_SALESSELECT_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        words = typed.split()
        env.update(COMP_WORDS=typed, COMP_CWORD=str(len(words) if typed.endswith(" ") else len(words) - 1))
    else:
        env["_TYPER_COMPLETE_ARGS"] = typed
        if shell == "fish":
            env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return env


def full_path(typed: str, shell: str = "bash") -> str:
    """Typer's own completion over the click tree."""
    result = CliRunner().invoke(app, [], prog_name="salesselect", env=request(shell, typed), catch_exceptions=False)
    return result.stdout


def fast_path(typed: str, shell: str, capsys) -> str | None:
    capsys.readouterr()
    answered = completion.fast({**os.environ, **request(shell, typed)})
    out = capsys.readouterr().out
    return out if answered else None


CASES = [
    ("salesselect config remove-stage Lead --reassign-to Pro", ["Proposal"]),  # its list depends on the command
    ("salesselect user remove bob --reassign-to k", ["kim"]),
    ("salesselect opp show ", ["1", "2"]),  # open ids only
    ("salesselect opp move 1 ", ["Lead", "Introduction", "Proposal", "Negotiation", "Framework agreement",
                                 "New client", "Lost"]),
    ("salesselect board --type ", ["Agencies", "Staffing"]),
    ("salesselect board -t st", ["Staffing"]),
    ("salesselect opp list --source Li", ["LinkedIn"]),
    ("salesselect opp lose 2 --reason T", ["Too expensive"]),
    ("salesselect opp list --owner ", ["anna", "bob", "kim"]),
    ("salesselect --user k", ["kim"]),
    ("salesselect config remove-stage Pro", ["Proposal"]),
    ("salesselect user remove b", ["bob"]),
    ("salesselect followup list --opp ", ["1", "2"]),
    ("salesselect workflow test ", ["1", "2"]),
]


@pytest.mark.parametrize("typed, expected", CASES)
def test_completes_names_and_open_ids_from_the_database(deals, typed, expected):
    assert full_path(typed).split("\n")[:-1] == expected


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("typed, expected", CASES)
def test_fast_path_answers_as_typer_does(deals, capsys, shell, typed, expected):
    fast = fast_path(typed, shell, capsys)
    assert fast is not None, "the fast path should answer this one"
    assert fast == full_path(typed, shell)


def test_ids_carry_their_titles_where_the_shell_shows_them(deals, capsys):
    assert '"1":"12 order pickers"' in fast_path("salesselect opp show ", "zsh", capsys)
    assert "2\tPreferred supplier" in fast_path("salesselect opp show ", "fish", capsys)


@pytest.mark.parametrize("typed", ["salesselect op", "salesselect opp list --st", "salesselect opp move 1 Lead ",
                                   "salesselect opp move --no-workflows "])
def test_other_words_are_left_to_typer(deals, capsys, typed):
    assert fast_path(typed, "bash", capsys) is None
    assert full_path("salesselect op") == "opp\n"


def test_a_db_option_on_the_line_is_used(deals, tmp_path, ok, capsys):
    other = tmp_path / "other.db"
    ok("--db", str(other), "init")
    ok("--db", str(other), "config", "add-business-type", "Payroll", "--color", "red")
    typed = f"salesselect --db {other} board --type "
    assert fast_path(typed, "bash", capsys) == "Payroll\n" == full_path(typed)


@pytest.mark.parametrize("content", [None, b"not a database at all", b""])
def test_a_missing_or_broken_database_completes_nothing_silently(tmp_path, monkeypatch, capsys, content):
    path = tmp_path / "broken.db"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("SALESSELECT_DB", str(path))
    assert fast_path("salesselect board --type ", "bash", capsys) == "\n"
    result = CliRunner().invoke(app, [], prog_name="salesselect", env=request("bash", "salesselect opp show "))
    assert result.exit_code == 0 and result.stdout.strip() == "" and result.stderr == ""
    assert (not path.exists()) if content is None else path.read_bytes() == content  # never created or changed


@pytest.mark.sqlite_only  # file bytes and mtime
def test_completion_never_writes(deals, capsys):
    path = os.environ["SALESSELECT_DB"]
    before = os.stat(path).st_mtime_ns, os.path.getsize(path)
    fast_path("salesselect opp show ", "bash", capsys)
    full_path("salesselect opp show ")
    assert (os.stat(path).st_mtime_ns, os.path.getsize(path)) == before


def test_the_console_script_answers_without_importing_typer(deals):
    """What keeps a Tab press fast: the fast path does not import Typer (about 0.2 s) or the commands."""
    code = ("import sys; from salesselect_cli.entry import run; run(); "
            "sys.stderr.write(','.join(m for m in ('typer', 'rich', 'sqlite_utils', 'salesselect_cli.main') "
            "if m in sys.modules))")
    env = {**os.environ, **request("bash", "salesselect opp move 1 ")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.splitlines()[:2] == ["Lead", "Introduction"]
    assert done.stderr == ""


def test_fast_tables_agree_with_the_click_tree():
    """Every option and positional the fast path answers (tree.py) completes the same kind in the full path, and
    every option the registry names exists."""
    root = typer.main.get_command(app)
    tidy(root)
    seen_options = set()
    long_names = set()

    def walk(command, path):
        tidy(command, recursive=False)  # as main.py does when it resolves a (lazily loaded) command
        for param in command.params:
            if param.param_type_name == "option":
                longest = max(param.opts, key=len).removeprefix("--")
                long_names.add(longest)
                if longest in tree.VALUES and tree.VALUES[longest][1]:  # help names what completion offers
                    assert param.metavar == tree.VALUES[longest][0], (path, longest, param.metavar)
                for opt in param.opts:
                    if opt in completion.OPTIONS:
                        seen_options.add(opt)
                        assert completion.kind_of(param) == completion.OPTIONS[opt], (path, opt)
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for param in command.params:  # whatever the click tree would complete from the database, the registry answers
            if completion.kind_of(param) is not None:
                if param.param_type_name == "option":
                    named = {**completion.OPTIONS, **tree.COMMAND_OPTIONS.get(path, {})}
                    assert [named.get(opt) for opt in param.opts if opt in named][:1] == [completion.kind_of(param)], (
                        path, param.opts)
                elif path not in tree.NOT_COMPLETED:
                    assert len(completion.POSITIONALS.get(path, [])) > arguments.index(param), (path, param.name)
        if path in completion.POSITIONALS:
            kinds = [completion.kind_of(p) for p in arguments][: len(completion.POSITIONALS[path])]
            assert kinds == completion.POSITIONALS[path], path
        for name, sub in subcommands(command).items():
            walk(sub, path + (name,))

    walk(root, ())
    assert seen_options == set(completion.OPTIONS)
    assert set(tree.VALUES) <= long_names, set(tree.VALUES) - long_names  # the registry names no stale option
    for path in completion.POSITIONALS:
        target = root
        for word in path:
            target = subcommands(target)[word]


def test_show_completion_prints_the_script_for_each_shell():
    """One process (the option reads the environment when the app is built); zsh here, all three in-process."""
    from typer._completion_shared import get_completion_script

    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}  # name the shell, do not detect it
    done = subprocess.run([sys.executable, "-m", "salesselect_cli", "--show-completion", "zsh"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "_SALESSELECT_COMPLETE" in done.stdout and "complete_zsh" in done.stdout
    for shell in ("bash", "zsh", "fish"):
        script = get_completion_script(prog_name="salesselect", complete_var="_SALESSELECT_COMPLETE", shell=shell)
        assert f"_SALESSELECT_COMPLETE=complete_{shell}" in script.replace("'", "").replace('"', "")


@pytest.mark.sqlite_only  # the default is a file in the app dir
def test_the_default_database_is_the_one_the_commands_use(monkeypatch, tmp_path):
    from salesselect_cli.context import resolve_db_path

    monkeypatch.delenv("SALESSELECT_DB")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert completion._db_path(None) == resolve_db_path(None)
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert completion._db_path(None) == resolve_db_path(None)
