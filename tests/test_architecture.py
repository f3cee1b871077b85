"""The layout holds: SQL only in the store's rooms, imports only run down, rooms composed of lower rooms.

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
    "allowlist": 4,  # which workflows may run programs on this machine, and the markers of hooks running now (config folder)
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
    "dialect": 0, "schema": 1, "base": 1, "ddl_sqlite": 2, "ddl_postgres": 2, "pg_security": 1, "connection": 2, "people": 2, "setup": 3, "followups": 3,
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


def room_class_nodes() -> list[tuple[type, ast.ClassDef]]:
    """Every room class but the base, with its source (ast)."""
    found = []
    for room in room_classes():
        if room.__name__ == "BaseRoom":
            continue
        tree = ast.parse(Path(importlib.import_module(room.__module__).__file__).read_text())
        found += [(room, node) for node in tree.body if isinstance(node, ast.ClassDef) and node.name == room.__name__]
    return found


def self_attributes(node: ast.AST) -> set[str]:
    return {child.attr for child in ast.walk(node) if isinstance(child, ast.Attribute)
            and isinstance(child.value, ast.Name) and child.value.id == "self"}


def given_rooms(node: ast.ClassDef) -> dict[str, str]:
    """The rooms a room's __init__ receives: parameter name -> the annotation's class name."""
    init = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
    if init is None:
        return {}
    return {arg.arg: arg.annotation.id for arg in init.args.args[1:]
            if isinstance(arg.annotation, ast.Name) and arg.annotation.id.endswith("Room")}


@pytest.mark.parametrize("room, node", room_class_nodes(), ids=lambda value: getattr(value, "__name__", ""))
def test_rooms_never_call_a_sibling_through_self(room, node):
    """A room inherits only the base room; every `self.x` it uses is its own, the base's, or a room it
    received in __init__, and what it uses of another room it calls on that room (`self.setup.find_stage`)."""
    from salesselect_cli.sql.base import BaseRoom

    assert room.__mro__ == (room, BaseRoom, object), f"{room.__name__} inherits {room.__mro__[1:-1]}"
    others = {name for other in room_classes() if other not in (room, BaseRoom) for name in vars(other)
              if not name.startswith("__")}
    declared = set(vars(room)) | set(vars(BaseRoom)) | set(given_rooms(node))
    assigned = {target.attr for child in ast.walk(node) if isinstance(child, ast.Assign) for target in child.targets
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"}
    used = self_attributes(node)
    assert sorted(used & others - declared) == [], f"{room.__name__} reaches a sibling's method through self"
    assert sorted(used - declared - assigned) == []


@pytest.mark.parametrize("room, node", room_class_nodes(), ids=lambda value: getattr(value, "__name__", ""))
def test_rooms_receive_only_lower_rooms(room, node):
    by_name = {cls.__name__: cls for cls in room_classes()}
    rank = ROOMS[room.__module__.split(".")[-1]]
    for attribute, class_name in given_rooms(node).items():
        given = by_name[class_name]
        assert ROOMS[given.__module__.split(".")[-1]] < rank, f"{room.__name__} receives {class_name} ({attribute})"


def test_the_rooms_catch_a_sibling_call():
    """The AST check above sees `self.find_stage(...)` in a room that does not define it (else it could not fail)."""
    node = ast.parse("class DealRoom:\n    def move(self):\n        return self.find_stage('Lead')\n").body[0]
    assert "find_stage" in self_attributes(node) and given_rooms(node) == {}


def test_the_store_is_composed_of_every_room():
    """The Store inherits nothing (at most 3 classes in its MRO) and hands out one of every room."""
    from salesselect_cli.sql.base import BaseRoom
    from salesselect_cli.sql.dialect import SqliteConnection
    from salesselect_cli.store import Store

    assert len(Store.__mro__) <= 3, Store.__mro__
    store = Store(SqliteConnection(":memory:"), Path("x.db"), None, "anna")
    handed_out = {type(value) for value in vars(store).values()}
    assert {cls for cls in room_classes() if cls is not BaseRoom} <= handed_out
    assert store.deals.setup is store.setup and store.reports.deals is store.deals
    assert store.people.floor is store.setup.floor is store.floor  # one command: one floor


def offending_assignments(tree: ast.AST) -> list[str]:
    """`sys.modules[...] = ...` and `x.__class__ = ...`: patching the interpreter or live objects."""
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Subscript) and isinstance(part.value, ast.Attribute) and \
                        part.value.attr == "modules" and isinstance(part.value.value, ast.Name) and \
                        part.value.value.id == "sys":
                    found.append(f"line {node.lineno}: sys.modules[...] =")
                if isinstance(part, ast.Attribute) and part.attr == "__class__":
                    found.append(f"line {node.lineno}: .__class__ =")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and \
                len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "__class__":
            found.append(f"line {node.lineno}: setattr(..., '__class__', ...)")
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_swaps_and_no_class_swaps(path):
    assert offending_assignments(ast.parse(path.read_text())) == []


def test_the_swap_check_sees_a_swap():
    tree = ast.parse("import sys\nsys.modules['typer.rich_utils'] = me\ncommand.__class__ = Mine\n"
                     "setattr(group, '__class__', Other)\n")
    assert offending_assignments(tree) == ["line 2: sys.modules[...] =", "line 3: .__class__ =",
                                           "line 4: setattr(..., '__class__', ...)"]


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


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at the top or inside functions), packages as their __init__."""
    known = {dotted(path) for path in modules()}
    graph = {}
    for path in modules():
        name = dotted(path)
        edges = set()
        for other in imported(ast.parse(path.read_text())):
            target = other if other in known else f"{other}.__init__" if f"{other}.__init__" in known else None
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by a depth-first walk (each reported once, from where the walk met it)."""
    found, state = [], {}

    def walk(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for other in sorted(graph.get(node, ())):
            if state.get(other) == "open":
                found.append(trail[trail.index(other):] + [other])
            elif other not in state:
                walk(other, trail + [other])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def test_the_import_graph_has_no_circle():
    """No circle anywhere, inside a package (usecases, commands, sql) as well as across the layers."""
    assert cycles(import_graph()) == []


def test_the_circle_check_sees_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def reaches_the_store(tree: ast.AST) -> list[str]:
    """A command working on the store itself: `x.store`, a function taking a `store` (a callback the store is
    handed to), an import from the store module, or a `session` helper of context (it yielded the store)."""
    found = [f"line {node.lineno}: .store" for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr == "store"]
    found += [f"line {node.lineno}: takes the store" for node in ast.walk(tree)
              if isinstance(node, ast.arg) and node.arg == "store"]
    found += [f"line {node.lineno}: imports the store" for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module == "salesselect_cli.store"
              or isinstance(node, ast.Import) and any(alias.name == "salesselect_cli.store" for alias in node.names)]
    found += [f"line {node.lineno}: context.session" for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module == "salesselect_cli.context"
              and any(alias.name == "session" for alias in node.names)]
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "commands").glob("*.py")), ids=lambda p: p.stem)
def test_commands_reach_the_store_only_through_use_cases(path):
    """Every command module, none exempt (issue 23: commands parse, call one use case, render)."""
    assert reaches_the_store(ast.parse(path.read_text())) == [], \
        f"commands/{path.name} works on the store: move the work into a use case (usecases/)"


def test_the_store_check_sees_a_command_on_the_store():
    tree = ast.parse("from salesselect_cli.context import open_session, session\n"
                     "def f(ctx):\n    with open_session(ctx) as opened:\n        return opened.store.deals\n"
                     "def g(ctx):\n    from salesselect_cli.store import init_database\n"
                     "    return init_database(ctx, lambda store: store.user_name)\n"
                     "import salesselect_cli.store\n")
    assert sorted(reaches_the_store(tree)) == ["line 1: context.session", "line 4: .store", "line 6: imports the store",
                                               "line 7: takes the store", "line 8: imports the store"]


def test_context_has_no_store_helper_left():
    """The `session()` helper that yielded the store is gone: commands get a Session from open_session."""
    import salesselect_cli.context as context

    assert not hasattr(context, "session")
