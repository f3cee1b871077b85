"""Help is written for people: every command's --help (found by walking the click tree, so commands added
later are checked too) names what to type, lists choices, and has no placeholder meant for programmers."""

from __future__ import annotations

import pytest
import typer

from salesselect_cli.helptext import kind, reflow
from salesselect_cli.main import app

PLACEHOLDERS = ("<str>", "<bool>", "<int", "<float", "<path", "{", "list[", "range]", "<=x<=", "9223372036854775807")


def subcommands(command) -> dict:
    """A group's commands by name, loading lazy ones (main.py imports a command only when it is used)."""
    if not hasattr(command, "list_commands"):
        return {}
    ctx = typer.Context(command)
    return {name: command.get_command(ctx, name) for name in command.list_commands(ctx)}


def command_paths(command=None, path=()):
    """Every command and group of the app as the words that reach it: (), ('opp',), ('opp', 'show'), ..."""
    command = command or typer.main.get_command(app)
    yield path
    for name, sub in sorted(subcommands(command).items()):
        if not sub.hidden:
            yield from command_paths(sub, path + (name,))


PATHS = list(command_paths())


def test_the_walk_finds_the_commands():
    assert len(PATHS) > 50
    assert ("opp", "show") in PATHS and ("config", "module", "enable") in PATHS


def test_every_help_reads_without_placeholders(cli):
    width = "80"  # the narrowest common terminal: wrapping and the option table are at their tightest
    for path in PATHS:
        run = cli(*path, "--help", env={"COLUMNS": width})
        assert run.exit_code == 0, (path, run.stderr)
        for placeholder in PLACEHOLDERS:
            assert placeholder not in run.stdout, f"salesselect {' '.join(path)} --help shows {placeholder}:\n{run.stdout}"
        assert run.stdout.count("Usage: ") == 1
        assert max(len(line) for line in run.stdout.splitlines()) <= int(width)


def test_every_command_says_what_it_does(cli):
    command = typer.main.get_command(app)
    for path in PATHS[1:]:
        target = command
        for word in path:
            target = subcommands(target)[word]
        assert (target.help or "").strip(), f"salesselect {' '.join(path)} has no help text"


def trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_metavars_name_the_thing_and_choices_are_listed(cli):
    add_stage = trimmed(cli("config", "add-stage", "--help").stdout)
    assert "config add-stage [OPTIONS] NAME\n" in add_stage
    assert "won|lost" in add_stage and "TYPE" in add_stage
    show = trimmed(cli("opp", "show", "--help").stdout)
    assert "opp show [OPTIONS] ID\n" in show and "table|json|csv" in show
    root = cli("--help").stdout
    assert "auto|always|never" in root and "--install-completion" in root
    move = cli("opp", "move", "--help").stdout
    assert "ID STAGE" in move and "REASON" in move
    assert "open|won|lost|all" in cli("opp", "list", "--help").stdout
    assert "FILE" in cli("import", "--help").stdout


def test_flags_show_no_type(cli):
    lines = [line for line in cli("board", "--help").stdout.splitlines() if line.lstrip("│ ").startswith("--mine")]
    assert lines and all("bool" not in line for line in lines)
    assert lines[0].split("--mine", 1)[1].split()[0] == "Only"


def test_paragraphs_wrap_as_written(cli):
    """A docstring's paragraph is one paragraph on screen: its lines join, the terminal wraps them."""
    text = " ".join(cli("report", "winloss", "--help", env={"COLUMNS": "200"}).stdout.split())
    assert "was lost in Proposal. share = percent of that status's deals; lost rows first" in text
    wide = cli("report", "winloss", "--help", env={"COLUMNS": "200"}).stdout.splitlines()
    sentence = next(line for line in wide if "A deal moved from Proposal" in line)
    assert "largest share first" in sentence  # one line at 200 columns, not broken where the source broke


def test_reflow_joins_lines_and_keeps_lists():
    assert reflow("First line\n    goes on.\n\n    - one\n    - two\n") == "First line goes on.\n\n- one\n- two"
    assert reflow(None) is None


@pytest.mark.parametrize("args, message", [
    (["config", "set-indicator", "--orange", "x", "--red", "2"], "Error: --orange takes a whole number (not 'x')"),
    (["opp", "show", "abc"], "Error: ID takes a whole number of 1 or more (not 'abc')"),
    (["opp", "list", "--format", "xml"], "Error: --format must be one of table, json, csv (not 'xml')"),
    (["board", "--limit", "-1"], "Error: --limit takes a whole number of 0 or more (not '-1')"),
    (["report", "pipeline", "--by", "week"], "Error: --by must be one of stage, month, owner (not 'week')"),
    (["opp", "lose", "1"], "Error: missing --reason REASON"),
    (["--color", "pink", "board"], "Error: --color must be one of auto, always, never (not 'pink')"),
])
def test_usage_errors_are_our_one_line_naming_the_option(agency, cli, args, message):
    run = cli(*args)
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(message), run.stderr
    assert "Input should" not in run.stderr and "╭" not in run.stderr


def value_params():
    """(words to the command, words before the bad value, hint) for every int, float and choice parameter."""
    root = typer.main.get_command(app)
    from salesselect_cli.helptext import tidy

    tidy(root)
    found = []

    def walk(command, path):
        tidy(command, recursive=False)  # as main.py does when it resolves a (lazily loaded) command
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for param in command.params:
            if getattr(param, "is_flag", False):
                continue
            choices, number, _ = kind(param)
            if choices is None and number is None:
                continue
            if param.param_type_name == "option":
                found.append((path, [max(param.opts, key=len)], max(param.opts, key=len)))
            else:
                before = arguments[: arguments.index(param)]
                filler = ["1" if kind(p)[1] is int else "x" for p in before]
                found.append((path, filler, param.metavar))
        for name, sub in subcommands(command).items():
            walk(sub, path + (name,))

    walk(root, ())
    return found


VALUE_PARAMS = value_params()


def test_the_value_walk_finds_numbers_and_choices():
    hints = {(path, hint) for path, _, hint in VALUE_PARAMS}
    assert (("config", "set-indicator"), "--orange") in hints and (("opp", "show"), "ID") in hints
    assert ((), "--color") in hints and (("report", "pipeline"), "--by") in hints


@pytest.mark.parametrize("path, before, hint", VALUE_PARAMS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_every_bad_number_or_choice_is_our_one_line_naming_it(agency, cli, path, before, hint):
    words = [*before, "bogus"] + (["board"] if not path else [])
    run = cli(*path, *words) if path else cli(*words)
    assert run.exit_code == 2, (path, hint, run.stderr)
    assert run.stderr.startswith(f"Error: {hint} ") and run.stderr.count("\n") == 1, run.stderr
    assert "'bogus'" in run.stderr
    for library in ("Input should", "Value error", "pydantic", "╭", "Usage:"):
        assert library not in run.stderr
