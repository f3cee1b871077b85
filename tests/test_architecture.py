"""The layout holds: SQL only in the store's rooms, imports only run down, rooms only use lower rooms.

    main, entry -> commands, board_app, kanban, demo -> context -> usecases -> session -> store -> sql -> rules, model
    -> errors -> i18n
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "salesselect_cli"

# A string that is an SQL statement: a leading statement keyword and a clause keyword, in capitals.
SQL_STATEMENT = re.compile(
    r"^\s*(?:WITH\b.*\bSELECT|SELECT\b.*\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)|DROP\s+(?:TABLE|INDEX|TRIGGER)|ALTER\s+TABLE|PRAGMA\s)",
    re.DOTALL,
)

# Lower number = lower layer. A module may import only modules of a lower layer, or (inside one
# package of rooms) a lower-ranked sibling.
LAYERS = {
    "i18n": -1,  # the interface language: everything may translate, it imports nothing of ours
    "tree": -0.9,  # the one registry of the command tree: names, root options, what each option takes
    "argv": -0.8,  # the command line as text, read before Typer (entry.py answers --version with it)
    "errors": 0,
    "rules": 1,
    "model": 2,
    "sql": 3,
    "store": 4,
    "hooks": 4,
    "render": 4,
    "workbook": 3.5,  # -o FILE.xlsx: a typed sheet of what render would print (render writes through it)
    "ics": 4,  # the iCalendar writer: an output beside render
    "session": 4.5,  # the open store, today, who acts, language and output settings: decided once per command
    "usecases": 5,  # one module per noun: the whole operation on a Session, no typer/click/Rich
    "context": 6,
    "completion": 7,
    "kanban": 7,
    "board_app": 7.5,  # the interactive board: draws with kanban, acts through the Desk (use cases) it is handed
    "demo": 7,
    "commands": 8,
    "helptext": 8,
    "helpscreen": 7.8,  # the help screen, drawn by the project in Typer's layout (groups and main draw help with it)
    "groups": 8.5,  # sub-apps as click groups that build a command when it is used (main.load_command)
    "main": 9,
    "__main__": 11,  # python -m salesselect_cli: the console script's entry point
    "entry": 10,
    "__init__": 0,
}

# The rooms in sql/, by rank: a room may import or inherit only rooms of a lower rank.
ROOMS = {
    "dialect": 0, "schema": 1, "base": 1, "ddl_sqlite": 2, "ddl_postgres": 2, "connection": 2, "people": 2, "setup": 3, "followups": 3,
    "opportunities": 4, "workflows": 4, "reports": 5, "forecast": 5, "setup_file": 5, "imports": 5, "transfer": 3, "completion": 1,
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    return "salesselect_cli." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def layer_of(name: str) -> int | None:
    parts = name.split(".")
    if parts[0] != "salesselect_cli":
        return None
    if len(parts) == 1:
        return LAYERS["__init__"]
    return LAYERS[parts[1]]


def imported(tree: ast.AST) -> list[str]:
    """Every salesselect_cli module a file imports, at the top or inside functions."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names
                      if (PACKAGE.parent / f"{node.module}.{alias.name}".replace(".", "/")).with_suffix(".py").exists()]
    return [name for name in names if name.startswith("salesselect_cli")]


def sql_strings(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_STATEMENT.match(node.value):
            found.append(node.value.strip().splitlines()[0])
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sql_only_in_the_store_and_its_rooms(path):
    rel = path.relative_to(PACKAGE)
    if rel.parts[0] == "sql" or rel == Path("store.py"):
        return
    assert sql_strings(ast.parse(path.read_text())) == [], f"SQL in {rel}: move it into a room in sql/"


def test_the_sql_detector_finds_statements_and_passes_prose():
    tree = ast.parse('a = "SELECT id FROM t"\nb = "INSERT INTO x VALUES (1)"\nc = "Select a stage from the list"\n'
                     'd = "UPDATE users SET name = ?"\ne = "delete the follow-up"\nf = "CREATE INDEX i ON t(a)"')
    assert [s.split()[0] for s in sql_strings(tree)] == ["SELECT", "INSERT", "UPDATE", "CREATE"]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_run_down(path):
    name = dotted(path)
    mine = layer_of(name)
    tree = ast.parse(path.read_text())
    for other in imported(tree):
        theirs = layer_of(other)
        same_package = other.split(".")[:2] == name.split(".")[:2] and len(name.split(".")) > 2
        if same_package and name.split(".")[1] == "sql" and len(other.split(".")) > 2:
            room, used = name.split(".")[2], other.split(".")[2]
            if room != "__init__":
                assert ROOMS[used] < ROOMS[room], f"room {room} uses room {used} at the same or a higher rank"
            continue
        if same_package or other == "salesselect_cli" or name.endswith("__init__"):
            continue
        assert theirs < mine, f"{name} (layer {mine}) imports {other} (layer {theirs}): imports must run down"


def test_the_store_imports_no_output_hooks_or_cli():
    for path in [PACKAGE / "store.py", *sorted((PACKAGE / "sql").glob("*.py"))]:
        tree = ast.parse(path.read_text())
        modules_used = imported(tree) + [
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        ] + [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
        for forbidden in ("salesselect_cli.render", "salesselect_cli.hooks", "typer", "click", "rich.console"):
            assert forbidden not in modules_used, f"{path.name} imports {forbidden}"
        assert "os.environ" not in path.read_text(), f"{path.name} reads the environment; pass the value in"


def room_classes():
    found = []
    for room in ROOMS:
        module = importlib.import_module(f"salesselect_cli.sql.{room}")
        found += [value for value in vars(module).values()
                  if isinstance(value, type) and value.__module__ == module.__name__ and value.__name__.endswith("Room")]
    return found


@pytest.mark.parametrize("room", room_classes(), ids=lambda cls: cls.__name__)
def test_rooms_use_only_themselves_and_lower_rooms(room):
    """Every `self.x` a room uses is defined by the room or one it inherits, never a sibling or a higher room."""
    tree = ast.parse(Path(importlib.import_module(room.__module__).__file__).read_text())
    declared = set()
    for cls in room.__mro__:
        declared |= set(vars(cls)) | set(getattr(cls, "__annotations__", {}))
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"}
    assigned = {node.attr for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)}
    assert sorted(used - declared - assigned) == []
    for base in room.__mro__[1:]:
        if base.__module__.startswith("salesselect_cli.sql."):
            assert ROOMS[base.__module__.split(".")[-1]] < ROOMS[room.__module__.split(".")[-1]]


def test_the_store_is_composed_of_every_room():
    from salesselect_cli.store import Store

    assert {cls for cls in room_classes()} <= set(Store.__mro__)


# The command-line shell: only these modules may know Typer and click.
SHELL = ("main", "entry", "commands", "helptext", "help_renderer", "groups", "completion")


def every_import(tree: ast.AST) -> list[str]:
    """Every module a file imports, ours and others', at the top, inside functions or under TYPE_CHECKING."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_shell_imports_typer_or_click(path):
    rel = path.relative_to(PACKAGE)
    if rel.with_suffix("").parts[0] in SHELL:
        return
    used = [name for name in every_import(ast.parse(path.read_text())) if name.split(".")[0] in ("typer", "click")]
    assert used == [], f"{rel} imports {used}: only the shell ({', '.join(SHELL)}) knows the CLI framework"


@pytest.mark.parametrize("path", [PACKAGE / "session.py", *sorted((PACKAGE / "usecases").glob("*.py"))],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_use_cases_know_no_cli_and_no_drawing(path):
    used = every_import(ast.parse(path.read_text()))
    for forbidden in ("typer", "click", "rich", "salesselect_cli.render", "salesselect_cli.commands",
                      "salesselect_cli.context"):
        assert not [name for name in used if name == forbidden or name.startswith(forbidden + ".")], \
            f"{path.name} imports {forbidden}"


def test_the_board_app_imports_no_command_module():
    used = every_import(ast.parse((PACKAGE / "board_app.py").read_text()))
    assert [name for name in used if name.startswith("salesselect_cli.commands")] == []


def test_the_shell_checks_see_an_import():
    """The checks above find an import inside a function and under TYPE_CHECKING (else they could not fail)."""
    tree = ast.parse("if TYPE_CHECKING:\n    import typer\ndef f():\n    from click import echo\n")
    assert every_import(tree) == ["typer", "click"]
