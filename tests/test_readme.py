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

from tests.conftest import ROOT

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
