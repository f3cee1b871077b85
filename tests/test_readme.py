"""The README's tour is tested documentation: every `$ salesselect ...` line of its console blocks
runs, in order, against a fresh database, and every output line the README shows must be printed.

A shown line `...` (or one starting with `...`) stands for lines left out. `export VAR=value`
lines set the environment for the lines after them; `\\` continues a command on the next line.
Shown lines keep their order within stdout and within stderr (a terminal interleaves the two).
A command whose shown output has an `Error:` line (or `missing:`, from config check) must fail; every
other command must succeed.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, ROOT

WIDTH = "100"  # the tables in the READMEs are drawn at this terminal width
SKIPPED = ("source ", ". ")  # activating the venv: the tests already run inside it
FAILING = ("Error:", "missing:")  # shown output of a command that exits non-zero (config check exits 1)


@dataclass
class Step:
    line: int  # where the command starts in the file
    command: str
    shown: list[str] = field(default_factory=list)


def console_steps(text: str) -> list[Step]:
    """The `$ ` commands of every ```console block and the output lines shown after each."""
    steps: list[Step] = []
    in_block = False
    continued: Step | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_block = line.strip() == "```console" if not in_block else False
            continued = None
            continue
        if not in_block:
            continue
        if continued is not None:  # the rest of a command after a trailing backslash
            continued.command += " " + line.strip().removesuffix("\\").strip()
            if not line.rstrip().endswith("\\"):
                continued = None
            continue
        if line.startswith("$ "):
            step = Step(number, line[2:].strip().removesuffix("\\").strip())
            steps.append(step)
            if line.rstrip().endswith("\\"):
                continued = step
        elif steps:
            steps[-1].shown.append(line.rstrip())
    return steps


def test_console_steps_parse_continuations_exports_and_output():
    text = "\n".join([
        "```console", "$ export A=1", "$ salesselect x \\", "    --y 2", "out 1", "...", "out 2", "```",
        "```sh", "$ salesselect never", "```",
    ])
    steps = console_steps(text)
    assert [(s.line, s.command, s.shown) for s in steps] == [
        (2, "export A=1", []), (3, "salesselect x --y 2", ["out 1", "...", "out 2"]),
    ]


def shown_in_order(shown: list[str], printed: list[str]) -> str | None:
    """None when every shown line (but the elisions) is printed, in the shown order; else the first missing."""
    position = 0
    for wanted in shown:
        if not wanted.strip() or wanted.strip().startswith("..."):
            continue
        while position < len(printed) and printed[position] != wanted:
            position += 1
        if position == len(printed):
            return wanted
        position += 1
    return None


def test_shown_lines_must_all_be_printed_in_order():
    assert shown_in_order(["a", "...", "c"], ["a", "b", "c"]) is None
    assert shown_in_order(["c", "a"], ["a", "b", "c"]) == "a"
    assert shown_in_order(["a", "d"], ["a", "b", "c"]) == "d"


def run_tour(readme: Path, tmp_path, monkeypatch, cli) -> int:
    """Run the README's console blocks from a scratch directory holding a copy of examples/."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESSELECT_DB", raising=False)
    monkeypatch.setenv("COLUMNS", WIDTH)
    steps = console_steps(readme.read_text(encoding="utf-8"))
    ran = 0
    for step in steps:
        where = f"{readme.name}:{step.line}: $ {step.command}"
        if step.command.startswith(SKIPPED):
            continue
        words = shlex.split(step.command, comments=True)
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                monkeypatch.setenv(name, value)
            continue
        assert words[0] == "salesselect", f"{where}: the tour may only run salesselect, export and activate"
        run = cli(*words[1:])
        out = [line.rstrip() for line in run.stdout.splitlines()]
        err = [line.rstrip() for line in run.stderr.splitlines()]
        fails = any(line.startswith(FAILING) for line in step.shown)
        if fails:
            assert run.exit_code != 0, f"{where}: shown failing, but it succeeded"
        else:
            assert run.exit_code == 0, f"{where}: exited {run.exit_code}: {run.stderr}"
        # a terminal interleaves stdout and stderr; here they come apart, so each keeps its own order
        on_err = [line for line in step.shown if line in err and line not in out]
        on_out = [line for line in step.shown if line not in on_err]
        missing = shown_in_order(on_out, out) or shown_in_order(on_err, err)
        assert missing is None, f"{where}: shown line not printed:\n{missing!r}\nprinted:\n" + "\n".join(out + err)
        ran += 1
    return ran


def test_readme_tour_prints_what_it_shows(tmp_path, monkeypatch, cli):
    assert run_tour(ROOT / "README.md", tmp_path, monkeypatch, cli) >= 25


def test_examples_readme_prints_what_it_shows(tmp_path, monkeypatch, cli):
    assert run_tour(ROOT / "examples" / "README.md", tmp_path, monkeypatch, cli) >= 4
    # its hook writes where the text says: the workflow passes $SALESSELECT_HOOK_LOG on (--env)
    lines = (tmp_path / "hooks.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and lines[0].endswith("stage Lead -> Proposal"), lines
    assert not (tmp_path / "salesselect-events.log").exists()


def test_readme_first_commands_use_the_venv_they_create():
    """The two commands at the top are copied into a fresh clone: they must not assume an activated venv."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    for command in commands:
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e ")
        assert re.search(r"(?<![/\w])salesselect ", command) is None, command
    assert commands[1].endswith(".venv/bin/python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".ci-venv/bin/python -m pytest" in ci  # the README's test command, in CI's own environment
    assert re.search(r"rm -rf \.venv\b", ci) is None and ".venv/" not in ci.replace(".ci-venv/", "")
    assert ".ci-venv/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def team_steps(text: str) -> list[str]:
    """The command lines of the ```sh blocks in the README's "For a team" section, in order."""
    section = text[text.index("## For a team\n"):text.index("## How it is built\n")]
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        lines += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    return lines


def test_for_a_team_has_no_grant_by_hand_and_the_real_default_path(monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    steps = team_steps(text)
    assert not any("GRANT" in line.upper() for line in steps)
    assert not any("psql" in line for line in steps)  # the database's rules come from salesselect alone
    copy = [line for line in steps if " db copy " in f" {line} "]
    assert len(copy) == 1
    from salesselect_cli.context import app_dir

    monkeypatch.setenv("HOME", "/home/bob")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    default = str(app_dir() / "salesselect.db").replace("/home/bob", "~")
    assert shlex.split(copy[0])[3] == default


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL pass (SALESSELECT_TEST_BACKEND)")
def test_for_a_team_as_the_readme_says(tmp_path, cli):
    """Every line of "For a team", run as written (the README's logins made unique to this run, ordinary
    logins with passwords, no superuser): then a recruiter's login in raw SQL cannot touch a colleague's deal,
    the users, the setup, the history; the key user changes any deal and `opp show` names her."""
    import os

    import psycopg

    from salesselect_cli.sql import pg_security
    from tests.conftest import pg_cluster

    cluster = pg_cluster()
    names = {name: f"rt_{name}_{os.getpid()}" for name in ("admin", "anna", "bob")}
    databases = [f"rt_agency_{os.getpid()}", f"rt_copy_{os.getpid()}"]
    home = tmp_path / "home"
    home.mkdir()

    def mapped(line: str, database: str) -> list[str]:
        words = []
        for word in shlex.split(line):
            word = re.sub(r"postgresql://(\w+)@db\.example\.org/agency",
                          lambda match: cluster.url_for(database, names[match.group(1)]), word)
            words.append(names.get(word, str(home) + word[1:] if word.startswith("~/") else word))
        return words

    def salesselect(words: list[str], login: str, **env):
        run = cli(*words[1:], env={"SALESSELECT_USER": login, "HOME": str(home), **env})
        assert run.exit_code == 0, (words, run.stderr)
        return run

    steps = team_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    copy_line = next(line for line in steps if " db copy " in line)
    try:
        for line in steps:
            words = mapped(line, databases[0])
            if words[0] == "createuser":
                cluster.admin.execute(f'DROP ROLE IF EXISTS "{words[-1]}"')
                cluster.admin.execute(f'CREATE ROLE "{words[-1]}" LOGIN NOSUPERUSER '
                                      f'{"CREATEROLE" if "--createrole" in words else ""} PASSWORD \'secret\'')
            elif words[0] == "createdb":
                for database in databases:  # the second for the copy, made the same way
                    cluster.admin.execute(f'CREATE DATABASE "{database}" OWNER "{words[2]}" TEMPLATE template0')
            elif words[0] == "salesselect" and line == copy_line:
                # the file at the default place: anna's agency, with bob in it
                default = str(home / ".config" / "salesselect" / "salesselect.db")
                (home / ".config" / "salesselect").mkdir(parents=True)
                salesselect(["salesselect", "--db", default, "init", "--user", names["anna"]], names["anna"])
                salesselect(["salesselect", "--db", default, "user", "add", names["bob"]], names["anna"])
                salesselect(mapped(line, databases[1]), names["admin"])
            elif words[0] == "salesselect":
                url = next((w for w in words if w.startswith("postgresql://")), None)
                login = url.rsplit("@", 1)[0].rsplit("/", 1)[1] if url else names["bob"]
                env = {} if url else {"SALESSELECT_DB": exported}
                salesselect(words, login, **env)
            elif words[0] == "echo" and "export SALESSELECT_DB=" in words[1]:
                exported = words[1].split("=", 1)[1]
                assert exported == cluster.url_for(databases[0], names["bob"])
            elif words[0] == "echo":  # ~/.pgpass: host:port:database:login:password
                assert len(words[1].split(":")) == 5 and words[-2:] == ["600", str(home / ".pgpass")]
            else:
                raise AssertionError(f"a README line this test does not know: {line}")
        admin_url = cluster.url_for(databases[0], names["admin"])
        for args in (("config", "add-business-type", "Staffing", "--color", "blue"),
                     ("config", "add-stage", "Lead", "--business-type", "Staffing"), ("config", "add-source", "Web")):
            salesselect(["salesselect", "--db", admin_url, *args], names["admin"])
        deals = {}
        for who in ("anna", "bob"):
            run = salesselect(["salesselect", "--db", cluster.url_for(databases[0], names[who]), "opp", "add",
                               f"{who}'s deal", "--company", "Acme", "--type", "Staffing", "--source", "Web"],
                              names[who])
            deals[who] = int(run.stdout.strip())
        with psycopg.connect(cluster.url_for(databases[0], names["bob"]), autocommit=True) as bob:
            assert bob.execute("UPDATE opportunities SET value_cents = 1 WHERE id = %s", [deals["anna"]]).rowcount == 0
            assert bob.execute("UPDATE opportunities SET value_cents = 100 WHERE id = %s", [deals["bob"]]).rowcount == 1
            for sql in ("UPDATE users SET key_user = 1", "DELETE FROM history", "UPDATE history SET actor = 'x'",
                        "INSERT INTO stages (name, position) VALUES ('x', 9)", "TRUNCATE followups",
                        "DELETE FROM opportunities"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    bob.execute(sql)
        with psycopg.connect(cluster.url_for(databases[0], names["anna"]), autocommit=True) as anna:
            assert anna.execute("UPDATE opportunities SET title = 'Renamed' WHERE id = %s", [deals["bob"]]).rowcount == 1
        shown = cli("--db", cluster.url_for(databases[0], names["bob"]), "opp", "show", str(deals["bob"]),
                    "--format", "json", env={"SALESSELECT_USER": names["bob"]}).json()["history"]
        assert [(h["actor"], h["field"], h["to_value"]) for h in shown][-2:] == [
            (names["bob"], "value", "1.00"), (names["anna"], "title", "Renamed")]
        # the copy: the file's users' logins hold their rights there, the owner's logins none of the file's
        with psycopg.connect(cluster.url_for(databases[1], names["bob"]), autocommit=True) as bob:
            assert bob.execute("SELECT count(*) FROM users").fetchone() == (2,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bob.execute("UPDATE users SET role = 'manager'")
    finally:
        for database in databases:
            cluster.admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in pg_security.ROLES:
                cluster.admin.execute(f'DROP ROLE IF EXISTS "{pg_security.group_role(database, role)}"')
        for login in names.values():
            cluster.admin.execute(f'DROP ROLE IF EXISTS "{login}"')
