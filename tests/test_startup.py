"""Start-up is a feature: the lazy command group lists everything and imports only what runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from salesselect_cli import main
from tests.conftest import ROOT

COMMAND_MODULES = sorted(
    p.stem for p in (ROOT / "salesselect_cli" / "commands").glob("*.py") if p.stem not in ("__init__", "options")
)
# what no start-up path may import unless the command uses it
HEAVY = ("pydantic", "sqlite_utils", "dateutil")


def imported_modules(*args: str, env: dict | None = None) -> tuple[int, set[str]]:
    """Run `python -X importtime -m salesselect_cli ARGS` in a subprocess: (exit code, modules it imported)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "salesselect_cli", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT, timeout=60,
    )
    modules = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    return result.returncode, modules


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_help_lists_every_command_in_order(cli):
    run = cli("--help")
    assert run.exit_code == 0
    panel = run.stdout[run.stdout.index("Commands"):]
    positions = [panel.find(f"│ {name} ") for name in main.COMMANDS]
    assert -1 not in positions, run.stdout
    assert positions == sorted(positions)


def test_every_command_module_is_registered():
    assert sorted({module for module, _, _ in main.COMMANDS.values()}) == COMMAND_MODULES


@pytest.mark.parametrize("name", list(main.COMMANDS))
def test_listed_help_line_is_the_commands_own(name):
    """The line `--help` shows without importing is the first paragraph of the command's real help."""
    command = main.load_command(name)
    assert command.name == name
    first_paragraph = " ".join(command.help.split("\n\n")[0].split())
    assert main.COMMANDS[name][2] == first_paragraph


def test_a_lazily_built_command_has_only_its_own_options():
    names = {param.name for param in main.load_command("board").params}
    assert "limit" in names
    assert not names & {"install_completion", "show_completion"}


def test_a_command_runs_through_the_lazy_group(db, ok):
    assert "anna" in ok("user", "list").stdout
    assert "opp [OPTIONS] COMMAND" in ok("opp", "--help").stdout


def test_unknown_command_is_a_usage_error(cli):
    run = cli("nosuch")
    assert run.exit_code == 2
    assert "No such command" in run.stderr


def test_version_imports_no_command_and_nothing_heavy():
    code, modules = imported_modules("--version")
    assert code == 0
    assert "salesselect_cli.main" in modules  # the measurement works
    assert not {m for m in modules if m.startswith("salesselect_cli.commands") or m == "salesselect_cli.store"}
    assert not top_level(modules) & {"rich", *HEAVY}


def test_help_imports_no_command_module():
    code, modules = imported_modules("--help")
    assert code == 0
    assert not {m for m in modules if m.startswith("salesselect_cli.commands")}
    assert not top_level(modules) & set(HEAVY)


@pytest.mark.sqlite_only  # its database is a file in tmp_path
def test_a_command_imports_its_own_module_only(db, tmp_path):
    code, modules = imported_modules("user", "list", env={"SALESSELECT_DB": str(tmp_path / "sales.db")})
    assert code == 0
    commands = {m for m in modules if m.startswith("salesselect_cli.commands.")}
    assert commands <= {"salesselect_cli.commands.user", "salesselect_cli.commands.options"}
    assert "salesselect_cli.commands.user" in commands
    assert not top_level(modules) & set(HEAVY)

