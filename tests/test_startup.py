"""Start-up is a feature: the lazy command group lists everything and imports only what runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from salesselect_cli import main, tree
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
    positions = [panel.find(f"│ {name} ") for name in tree.COMMANDS]
    assert -1 not in positions, run.stdout
    assert positions == sorted(positions)


def test_the_registry_is_what_main_and_the_root_use():
    """main lists the registry's commands; the root's options taking a value are the ones the console script
    skips over before the command (argv.VALUE_OPTIONS), its flags the ones it may answer itself."""
    import typer

    assert main.COMMANDS is tree.COMMANDS
    root = typer.main.get_command(main.app)
    takes_value = {opt for param in root.params if param.param_type_name == "option" and not param.is_flag
                   for opt in param.opts if opt.startswith("--")}
    flags = {opt for param in root.params if getattr(param, "is_flag", False) and param.is_eager
             and param.name == "version" for opt in param.opts}
    from salesselect_cli.argv import VALUE_OPTIONS

    assert set(VALUE_OPTIONS) == set(tree.ROOT_VALUE_OPTIONS) == takes_value
    assert set(tree.ROOT_FLAGS) == flags


def test_every_command_module_is_registered():
    assert sorted({module for module, _, _ in tree.COMMANDS.values()}) == COMMAND_MODULES


@pytest.mark.parametrize("name", list(tree.COMMANDS))
def test_listed_help_line_is_the_commands_own(name):
    """The line `--help` shows without importing is the first paragraph of the command's real help."""
    command = main.load_command(name)
    assert command.name == name
    first_paragraph = " ".join(command.help.split("\n\n")[0].split())
    assert tree.COMMANDS[name][2] == first_paragraph


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
    assert "salesselect_cli.entry" in modules  # the measurement works
    assert not {m for m in modules if m.startswith("salesselect_cli.commands") or m == "salesselect_cli.store"}
    assert not top_level(modules) & {"rich", "typer", *HEAVY}
    assert "salesselect_cli.main" not in modules  # answered by entry.py before Typer is imported


# the lines entry.py answers itself, and lines that only look like them (Typer decides those)
VERSION_LINES = [
    ["--version"], ["--lang", "nl", "--version"], ["--lang=NL", "--version"], ["--lang", "xx", "--version"],
    ["--color", "purple", "--version"], ["--db", "x.db", "--user", "anna", "--version", "--color", "never"],
    ["--db=", "--version"], ["--version", "user", "list"], ["--version", "nosuch"], ["--version", "--version"],
    ["--version", "--bogus"], ["--bogus", "--version"], ["--db", "--version"], ["--version", "--db"],
    ["--version", "--lang"], ["--help", "--version"], ["--version", "--help"], ["-h", "--version"],
    ["--", "--version"], ["user", "--version"], ["--version", "-"], ["--show-completion", "--version"],
]


@pytest.mark.parametrize("args", VERSION_LINES, ids=" ".join)
def test_the_early_version_answers_as_typer_does(args):
    """The console script's answer (entry.py, before Typer) and the app's own (main._version) agree, exit code
    and all; a line entry.py cannot be sure of goes to the app."""
    fast = subprocess.run([sys.executable, "-m", "salesselect_cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, env={**os.environ, "COLUMNS": "80"})
    typer_run = CliRunner().invoke(main.app, args, env={"COLUMNS": "80"}, prog_name="salesselect")
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer_run.exit_code, typer_run.stdout, typer_run.stderr)


def test_the_early_version_with_stdout_closed_says_nothing():
    """`salesselect --version >&-` exits 0 without a word, as Typer's echo does."""
    result = subprocess.run(["sh", "-c", f"exec '{sys.executable}' -m salesselect_cli --version >&-"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_command_with_stdout_closed_does_its_work_and_says_nothing(agency):
    """`salesselect user add eve >&-`: the user is added, its message still on stderr, exit 0; `opp list >&-`
    exits 0 without a word (both said 'unexpected AttributeError' before)."""
    result = subprocess.run(["sh", "-c", f"exec '{sys.executable}' -m salesselect_cli user add eve >&-"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stderr) == (0, "Added recruiter eve.\n")
    result = subprocess.run(["sh", "-c", f"exec '{sys.executable}' -m salesselect_cli opp list >&-"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    listed = subprocess.run([sys.executable, "-m", "salesselect_cli", "user", "list", "--format", "csv"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "\neve," in listed.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args, message", [
    (["--version"], "Error: cannot write the output: No space left on device\n"),
    (["--help"], "Error: cannot write the output: No space left on device\n"),
    (["opp", "--help"], "Error: cannot write the output: No space left on device\n"),
    (["user", "list"], "Error: cannot write the output: No space left on device\n"),
    (["opp", "list", "--format", "json"], "Error: cannot write the output: No space left on device\n"),
    (["--lang", "nl", "--help"], "Fout: kan de uitvoer niet schrijven: geen ruimte meer op de schijf\n"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_output_onto_a_full_disk_is_one_line_and_exit_1(args, message, agency):
    """Standard output on a full disk: help, --version and commands say so in one line, never a traceback."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "salesselect_cli", *args], stdout=full, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, timeout=60)
    assert (result.returncode, result.stderr) == (1, message)


@pytest.mark.parametrize(("args", "answered"), [
    (["--version"], True), (["--lang", "nl", "--version", "opp"], True), (["--db=a", "--version"], True),
    (["--version", "--bogus"], False), (["--db", "--version"], False), (["--version", "--db"], False),
    (["-h", "--version"], False), (["--", "--version"], False), (["user", "--version"], False),
    (["user", "list"], False), ([], False), (["--version", "\udcff"], False),
])
def test_which_lines_the_console_script_answers_itself(args, answered):
    from salesselect_cli.argv import only_version

    assert only_version(args) is answered


def test_an_undecodable_environment_goes_to_the_app(monkeypatch):
    from salesselect_cli.argv import only_version

    monkeypatch.setenv("SALESSELECT_DB", "\udcff")
    assert not only_version(["--version"])  # the app says which variable is not text, exit 2


@pytest.mark.parametrize("lang", [("--lang", "nl"), ("--lang=nl",), ()])
def test_the_early_version_speaks_the_language(lang, monkeypatch, capsys):
    """--lang, else $SALESSELECT_LANG, picks the catalogue, as main._version does (today both say the same)."""
    from salesselect_cli import entry, i18n

    class Catalogue:
        def gettext(self, message):
            return message.replace("salesselect", "salesselect versie")

    monkeypatch.setattr(i18n, "_catalogue", Catalogue())
    if not lang:
        monkeypatch.setenv("SALESSELECT_LANG", "nl")
    monkeypatch.setattr(sys, "argv", ["salesselect", *lang, "--version"])
    try:
        entry.run()
    finally:
        i18n.configure(None)
    assert capsys.readouterr().out == "salesselect versie 0.2.0\n"


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
    assert not modules & NOT_FOR_A_TABLE


# what a command that reads and draws a table does not need (each was once imported by every command)
NOT_FOR_A_TABLE = {
    "salesselect_cli.rules.transitions", "salesselect_cli.rules.permissions", "salesselect_cli.rules.setup",
    "json", "rich._emoji_codes", "typer.rich_utils", "rich.markdown", "markdown_it", "pygments",
}


@pytest.mark.sqlite_only  # its database is a file in tmp_path
@pytest.mark.parametrize("args", [("config", "show"), ("user", "list"), ("opp", "list")], ids=" ".join)
def test_a_reading_command_leaves_the_deal_rules_and_help_unloaded(args, agency):
    from tests.conftest import add_opp

    add_opp(agency)
    code, modules = imported_modules(*args)
    assert code == 0
    assert "rich.table" in modules  # the measurement works: a table was drawn
    assert not modules & NOT_FOR_A_TABLE


def test_needed_width_measures_an_emoji_code_as_the_table_prints_it():
    """The console prints ':thumbs_up:' as it is (emoji=False), so the width it needs is measured that way."""
    import io

    from salesselect_cli import render

    console = render.make_console(file=io.StringIO(), width=200)
    table = render.build_table([{"name": "x"}], [render.Column("name", "N", cell=lambda row: ":thumbs_up:")])
    render.needed_width(table, console)
    assert table.columns[0].min_width == len(":thumbs_up:")
    console.print(table)
    assert ":thumbs_up:" in console.file.getvalue()



# ---------------------------------------------------------------- sub-apps build only the command that runs


def sub_apps():
    return [name for name, (_, attribute, _) in tree.COMMANDS.items() if attribute == "app"]


@pytest.mark.parametrize("name", sub_apps())
def test_a_lazy_group_is_the_group_typer_builds(name):
    """Same names in the same order, same options and help, command for command (nested groups too)."""
    import typer

    lazy = main.load_command(name)
    eager = typer.main.get_group(getattr(__import__(f"salesselect_cli.commands.{tree.COMMANDS[name][0]}",
                                                    fromlist=["app"]), "app"))

    def same(lazy, eager):
        assert (lazy.help, lazy.no_args_is_help, [p.name for p in lazy.params]) == (
            eager.help, eager.no_args_is_help, [p.name for p in eager.params])
        if hasattr(eager, "commands"):
            assert lazy.list_commands(None) == eager.list_commands(None)
            for sub in eager.list_commands(None):
                same(lazy.get_command(None, sub), eager.get_command(None, sub))
        else:
            assert [(p.name, p.opts, p.help, p.default) for p in lazy.params] == [
                (p.name, p.opts, p.help, p.default) for p in eager.params]
            assert lazy.callback is not None and lazy.help == eager.help

    same(lazy, eager)


def test_a_lazy_group_builds_a_command_when_it_is_looked_up():
    group = main.load_command("config")
    assert group.commands.built() == []
    assert "show" in group.list_commands(None) and "module" in group.commands  # listed, not built
    assert group.commands.built() == []
    show = group.get_command(None, "show")
    assert group.commands.built() == [show] and group.get_command(None, "show") is show  # built once
    assert group.get_command(None, "nosuch") is None
    module = group.get_command(None, "module")
    assert module.commands.built() == [] and "enable" in module.list_commands(None)


def test_a_resolved_lazy_command_is_tidied_when_built(db, ok):
    """helptext.tidy reaches commands built after their group was tidied (metavars, reflowed help)."""
    group = main.load_command("user")
    from salesselect_cli.helptext import tidy

    tidy(group)
    assert group.commands.built() == []
    add = group.get_command(None, "add")
    assert add._tidied and [p.metavar for p in add.params if p.name == "name"] == ["NAME"]


def test_an_unknown_subcommand_still_suggests_the_close_ones(cli):
    run = cli("opp", "lst")
    assert run.exit_code == 2
    assert "No such command 'lst'. Did you mean 'list'?" in run.stderr


@pytest.mark.sqlite_only  # its database is a file in tmp_path
def test_a_command_of_a_sub_app_builds_only_itself(db, tmp_path):
    """Checked in a fresh process: `config show` builds one of config's commands (no other callback's
    parameters are read), through the console script's entry point."""
    code = ("import sys, typer.main; built = []; real = typer.main.get_command_from_info\n"
            "def spy(info, **kw):\n    built.append(info.callback.__name__); return real(info, **kw)\n"
            "typer.main.get_command_from_info = spy\n"
            "sys.argv = ['salesselect', 'config', 'show', '--format', 'json']\n"
            "from salesselect_cli.entry import run\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\nprint(built, file=sys.stderr)")
    result = in_a_fresh_process(code, SALESSELECT_DB=str(tmp_path / "sales.db"))
    assert result.stderr.strip().splitlines()[-1] == "['show']", result.stderr


def group_help(args: list[str], prelude: str = "", lang: str = "en") -> tuple[str, str]:
    """(help drawn, the commands typer built) for `salesselect ARGS` in a fresh process."""
    code = (f"import sys, typer.main\n{prelude}\nbuilt = []; real = typer.main.get_command_from_info\n"
            "def spy(info, **kw):\n    built.append(info.callback.__name__); return real(info, **kw)\n"
            f"typer.main.get_command_from_info = spy\nsys.argv = ['salesselect', *{args!r}]\n"
            "from salesselect_cli.entry import run\ntry:\n    run()\nexcept SystemExit:\n    pass\n"
            "print(built, file=sys.stderr)")
    result = in_a_fresh_process(code, COLUMNS="90", SALESSELECT_LANG=lang)
    return result.stdout, result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [["opp", "--help"], ["config"], ["config", "module", "--help"], ["report", "-h"]],
                         ids=" ".join)
def test_a_group_lists_its_commands_as_the_built_commands_would(args):
    """Help of a group lists each command from a stand-in (nothing is built); the list reads exactly as the
    one drawn from the commands themselves (stand-ins switched off)."""
    listed, built = group_help(args)
    assert built == "[]"
    drawn, built = group_help(args, "import salesselect_cli.groups as g; g.LazyGroup.get_command = g.TyperGroup.get_command")
    assert built != "[]"  # the commands themselves were drawn from
    assert listed == drawn
    assert listed.count("│ ") > 3


# ---------------------------------------------------------------- help without Markdown and tracebacks


HELP_LINES = [["--help"], ["opp", "--help"], ["opp"], ["config", "module"], ["opp", "list", "-h"], [], ["--lang", "nl", "opp"],
              ["--lang", "nl", "--help"]]
NEVER_FOR_HELP = {"markdown_it", "pygments", "rich.markdown", "rich.traceback", "rich.syntax"}


@pytest.mark.parametrize("args", HELP_LINES, ids=" ".join)
def test_help_imports_no_markdown_or_traceback_renderer(args):
    code, modules = imported_modules(*args)
    assert code in (0, 2)
    assert "salesselect_cli.helpscreen" in modules  # the measurement works: help was drawn
    assert not (modules | top_level(modules)) & NEVER_FOR_HELP
    assert "typer.rich_utils" not in modules  # the project draws its help (helpscreen.py)


# English help screens as Typer's own renderer drew them before the project drew its own (UPDATE_SNAPSHOTS=1
# rewrites): the layout, the words and the tidied metavars stay as they were
ENGLISH_HELP = [["--help"], ["opp", "--help"], ["opp"], ["config", "module"], ["opp", "list", "-h"], [],
                ["opp", "add", "--help"], ["opp", "show", "--help"], ["board", "--help"], ["report", "winloss", "--help"],
                ["workflow", "--help"], ["config", "add-stage", "--help"]]


@pytest.mark.parametrize("args", ENGLISH_HELP, ids=" ".join)
def test_english_help_is_drawn_as_typer_drew_it(args):
    """Drawn through the console script in a fresh process at 100 columns, stdout only."""
    from tests.test_i18n import SNAPSHOTS

    result = subprocess.run([sys.executable, "-m", "salesselect_cli", *args], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, env={**os.environ, "COLUMNS": "100", "SALESSELECT_LANG": "en"})
    assert "salesselect" in result.stdout
    snapshot = SNAPSHOTS / f"en-help-{'-'.join(word.strip('-') for word in args) or 'root'}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == snapshot.read_text(encoding="utf-8")


def test_the_console_script_skips_the_collection_at_exit():
    """entry.run freezes what is alive at exit, so the interpreter's last garbage collection has nothing to walk."""
    code = ("import atexit, gc, sys\natexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
            "sys.argv = ['salesselect', '--version']\nfrom salesselect_cli.entry import run\nrun()")
    result = in_a_fresh_process(code)
    assert result.stdout.splitlines() == ["salesselect 0.2.0", "frozen True"], result.stderr


@pytest.mark.sqlite_only  # its database is a file in tmp_path
def test_a_ctrl_c_after_the_command_finished_leaves_its_exit_code(db, tmp_path):
    """Checked in a fresh process: once the command has said what it did, a Ctrl-C while the process ends
    interrupts nothing (Python would reset its handler late in the exit, and the signal would kill it)."""
    code = ("import os, signal, sys, time\nsys.argv = ['salesselect', 'user', 'list']\n"
            "from salesselect_cli.entry import run\n"
            "try:\n    run()\nexcept SystemExit as exc:\n    code = exc.code\n"
            "os.kill(os.getpid(), signal.SIGINT)\ntime.sleep(0.05)\n"
            "print('after', code, file=sys.stderr)\nsys.exit(code)")
    result = in_a_fresh_process(code, SALESSELECT_DB=str(tmp_path / "sales.db"))
    assert (result.returncode, result.stderr) == (0, "after 0\n")
    assert "anna" in result.stdout


def in_a_fresh_process(code: str, **env: str) -> subprocess.CompletedProcess:
    """`python -c code` in the checkout, with these environment variables on top of the test's."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, **env})
