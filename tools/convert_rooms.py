#!/usr/bin/env python3
"""Convert callers of the old mixin Store to the composed rooms (issue 23): `store.add_user(` -> `store.people.add_user(`.

Run it from a worktree root (or pass the root): `python /work/coord/convert_rooms.py [ROOT] [--check]`.
It is idempotent, so it can be re-applied after merging branches that still call the Store's methods
directly or that added room methods calling a sibling through `self`:

1. call sites: `<x>store.NAME` (store, fresh_store, self.store, session.store, opened.store ...) becomes
   `<x>store.ROOM.NAME` in the package, tests, benchmarks and tools (not inside salesselect_cli/sql/);
2. inside the rooms (salesselect_cli/sql/*.py): `self.NAME`, where NAME belongs to another room, becomes
   `self.ROOM.NAME`; the room must then receive ROOM in its __init__ (reported when it does not);
3. three private helpers used across rooms become public (RENAMES).

Methods found in a room module but missing from ROOM_METHODS are placed by the module they live in and
printed, so the table can be updated. `store.NAME` calls that match no room and no Store attribute are
printed too (a method someone added that still needs a room). --check changes nothing and exits 1 when
something would change.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

# Which room answers which method: store.<room>.<method>.
ROOM_METHODS = {
    "people": """
        get_setting set_setting open_hook_run close_hook_run hook_run_active currency set_currency
        language_setting set_language user_names find_user require_key_user module_enabled_for require_module
        add_user add_first_key_user set_role set_key_user list_users remove_user set_module module_report
        act_for act_as
    """,
    "setup": """
        business_type_names find_business_type add_business_type edit_business_type list_business_types
        remove_business_type stage_names stage_name_by_id find_stage stages_of_type add_stage edit_stage
        move_stage link_stage unlink_stage list_stages archive_stage unarchive_stage remove_stage source_names
        find_source add_source rename_source list_sources remove_source thresholds set_indicator reason_labels
        find_reason add_reason edit_reason list_reasons remove_reason business_type_colors config_check
        stage_rule forget_stages set_stage_probability stage_percents
    """,
    "deals": """
        record list_opportunities export_rows export_sql get_opportunity history opportunity_counts add_note
        add_opportunity edit_opportunity change_owner trash_opportunity restore_opportunity check_may_change
        trashed_opportunity list_trash require_may_purge purge_opportunity purge_trashed_before trashed_before
        move_opportunity close_opportunity reopen_opportunity filter_sql change_type
        undo_mark record_undo_step undo_steps undo_last
    """,
    "followups": """
        add_followup open_workflow_followups list_followups complete_followup edit_followup remove_followup
        cancel_followups
    """,
    "workflows": """
        workflow_names find_workflow list_workflows remove_workflow set_workflow_enabled export_workflows
        import_workflows add_workflow check_workflow workflow_rules hook_timeout set_hook_timeout
        record_hook_failure preview_workflows
    """,
    "reports": """
        board_columns board_cards audit_log report_winloss report_sources report_pipeline
        report_pipeline_months report_stages
    """,
    "imports": """
        import_names import_opportunities import_preview import_summary
    """,
    "setup_file": """
        export_setup import_setup
    """,
    "forecast": """
        learning_counts learning_counts_by_window chance_context chance_contexts with_chances forecast_buckets
        forecast_won set_goal remove_goal list_goals goal_cents backtest_snapshots
    """,
}

# The floor every room stands on (sql/base.py): callers reach these through the people room.
FLOOR_METHODS = {
    "people": "user require_known_user history_actor actor now _scalar _one _all",
    "deals": "require_may_change",
}

# What the Store itself keeps: one open database for one command.
STORE_OWN = set("""
    conn path today user_name acting_login fixed_time floor after_commit workflow_warnings
    transaction savepoint backup close scratch data_version workflow_acting workflow_actor
""".split()) | set(ROOM_METHODS)

# The module each room lives in (a method found there and missing above is placed by its module).
ROOM_MODULES = {
    "people": "people", "setup": "setup", "opportunities": "deals", "followups": "followups",
    "workflows": "workflows", "reports": "reports", "imports": "imports", "setup_file": "setup_file",
    "forecast": "forecast",
}

# Private helpers one room used of another: public now that they are called across rooms.
RENAMES = {"_stage_rule": "stage_rule", "_filter_sql": "filter_sql", "_change_type": "change_type"}

CALLER_GLOBS = ("salesselect_cli/**/*.py", "tests/**/*.py", "benchmarks/**/*.py", "tools/**/*.py")
# a store: store, fresh_store, self.store, session.store ...; `copy` is the dry run's store (store.scratch())
RECEIVER = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*(?:[A-Za-z_]*store|copy))\.([A-Za-z_]\w*)\b")


def method_table(root: Path) -> dict[str, str]:
    """method name -> room attribute, from ROOM_METHODS and the room modules as they are now."""
    table = {name: room for room, names in FLOOR_METHODS.items() for name in names.split()}
    table.update({name: room for room, names in ROOM_METHODS.items() for name in names.split()})
    for module, room in ROOM_MODULES.items():
        path = root / "salesselect_cli" / "sql" / f"{module}.py"
        if not path.exists():
            continue
        for cls in room_classes(ast.parse(path.read_text())):
            for node in cls.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("__"):
                    if node.name not in table and not node.name.startswith("_"):
                        print(f"new method {node.name} in sql/{module}.py: placed in store.{room} (add it to ROOM_METHODS)")
                    table.setdefault(node.name, room)
    return table


def room_classes(tree: ast.Module) -> list[ast.ClassDef]:
    return [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name.endswith("Room")
            and node.name != "BaseRoom"]


def rename_private_helpers(text: str) -> str:
    for old, new in RENAMES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return text


def convert_room_module(path: Path, table: dict[str, str], own_room: str) -> str:
    """`self.NAME` of another room's method -> `self.ROOM.NAME`, inside this module's room classes."""
    text = rename_private_helpers(path.read_text())
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits = []  # (line index, column after 'self', room)
    for cls in room_classes(tree):
        own = {node.name for node in cls.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        own |= {target.id for node in cls.body if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name)}
        used_rooms = set()
        for node in ast.walk(cls):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
                    and node.attr in table and node.attr not in own and table[node.attr] != own_room
                    and node.attr not in FLOOR_NAMES):
                edits.append((node.value.end_lineno - 1, node.value.end_col_offset, table[node.attr]))
                used_rooms.add(table[node.attr])
        init = next((node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"), None)
        given = {arg.arg for arg in init.args.args} if init else set()
        uses = {node.attr for node in ast.walk(cls) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in ROOM_METHODS}
        for room in sorted((used_rooms | uses) - given):
            print(f"{path}: {cls.name} uses store.{room}: pass it to its __init__")
    for line, col, room in sorted(edits, reverse=True):
        lines[line] = lines[line][:col] + f".{room}" + lines[line][col:]
    return "".join(lines)


def convert_callers(text: str, table: dict[str, str], where: str, unknown: set[str]) -> str:
    def replace(match: re.Match) -> str:
        receiver, name = match.group(1), match.group(2)
        if receiver.endswith("restore") or receiver.split(".")[-1] in ("Store",):
            return match.group(0)
        if name in ROOM_METHODS or (name in STORE_OWN and name not in table):
            return match.group(0)
        if name in table:
            return f"{receiver}.{table[name]}.{name}"
        if name[0].isupper() or name == "py":  # the store module's own names (store.MIGRATIONS), "store.py"
            return match.group(0)
        if receiver != "copy":
            unknown.add(f"{where}: {receiver}.{name}")
        return match.group(0)

    for name in re.findall(r"setattr\(Store, \"(\w+)\"", text):
        if name in table:
            unknown.add(f"{where}: setattr(Store, {name!r}): patch the {table[name]} room's class instead")
    return RECEIVER.sub(replace, text)


FLOOR_NAMES = {name for names in FLOOR_METHODS.values() for name in names.split()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [arg for arg in argv if arg != "--check"]
    root = Path(args[0] if args else ".").resolve()
    table = method_table(root)
    changed = []
    for module, room in ROOM_MODULES.items():
        path = root / "salesselect_cli" / "sql" / f"{module}.py"
        if path.exists():
            new = convert_room_module(path, table, room)
            if new != path.read_text():
                changed.append(path)
                if not check:
                    path.write_text(new)
    unknown: set[str] = set()
    for pattern in CALLER_GLOBS:
        for path in sorted(root.glob(pattern)):
            rel = path.relative_to(root)
            if rel.parts[:2] == ("salesselect_cli", "sql") or ".venv" in rel.parts:
                continue
            text = path.read_text()
            new = convert_callers(text, table, str(rel), unknown)
            if new != text:
                changed.append(path)
                if not check:
                    path.write_text(new)
    for line in sorted(unknown):
        print(f"no room known for {line}")
    for path in changed:
        print(("would change " if check else "changed ") + str(path.relative_to(root)))
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
