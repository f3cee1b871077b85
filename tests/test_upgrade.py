"""A file made by salesselect 0.1.0 opens with today's code and keeps every deal, history row and
follow-up, and every report says what 0.1.0 printed.

tests/fixtures/v0.1.0-demo.db is the demo agency exactly as 0.1.0 (commit 7334fac) wrote it on
2026-11-27 as `anna`; tests/fixtures/v0.1.0-expected/ holds what 0.1.0 printed for it, made by
tests/fixtures/record_v010.py (its docstring has the commands).

Output formats grew since 0.1.0, so the comparison is of data, not of layout:
- JSON and CSV records may carry fields 0.1.0 did not have (closed_from, external_key, a follow-up's
  status and workflow, winloss's opportunity_ids); every field 0.1.0 printed must be there with the
  same value, and every list must have the same records in the same order.
- Tables changed layout (column widths, wrapping, winloss's drill-down hint), so a table is compared
  by its figures in order (reports) or by its rows' ids in order (lists), not character by character.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesselect_cli.main import app
from tests.conftest import TODAY

pytestmark = pytest.mark.sqlite_only

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V010_DB = FIXTURES / "v0.1.0-demo.db"
EXPECTED = FIXTURES / "v0.1.0-expected"
MANIFEST = json.loads((EXPECTED / "manifest.json").read_text())
V010_MIGRATIONS = ["m001_initial", "m002_report_indexes", "m003_stage_visits", "m004_bulk_load_and_lighter_indexes"]
# bookkeeping, not agency data: how migrations are recorded is the migration runner's business
NOT_DATA = {"_sqlite_migrations"}
# derived from the history (the funnel's visits); a rebuild may number them afresh, so compared without ids
DERIVED = {"stage_visits": "id"}
ENV = {"SALESSELECT_TODAY": MANIFEST["today"], "SALESSELECT_USER": MANIFEST["user"], "NO_COLOR": "1",
       "COLUMNS": str(MANIFEST["columns"]), "LANG": "C.UTF-8", "SALESSELECT_LANG": None, "LC_ALL": None,
       "LC_MESSAGES": None, "LANGUAGE": None, "FORCE_COLOR": None, "SALESSELECT_DEBUG": None}


def table_rows(connection: sqlite3.Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """Per table of the file: its columns and its rows, sorted (the order rows are stored in is not data)."""
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    found = {}
    for table in tables:
        if table in NOT_DATA:
            continue
        columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')
                   if row[1] != DERIVED.get(table)]
        found[table] = (columns, read(connection, table, columns))
    return found


def read(connection: sqlite3.Connection, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{column}"' for column in columns)
    return sorted(connection.execute(f'SELECT {listed} FROM "{table}"').fetchall(), key=repr)


class Upgraded:
    def __init__(self, path: Path, before: dict, opened_with: str):
        self.path = path
        self.before = before
        self.opened_with = opened_with

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory) -> Upgraded:
    """A copy of the 0.1.0 file, read as 0.1.0 left it, then opened once with today's code."""
    path = tmp_path_factory.mktemp("upgrade") / "v010.db"
    shutil.copy(V010_DB, path)
    with sqlite3.connect(path) as connection:
        migrations = [name for (name,) in connection.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert migrations == V010_MIGRATIONS, "the fixture must stay as 0.1.0 wrote it"
        before = table_rows(connection)
    connection.close()
    result = CliRunner().invoke(app, ["--db", str(path), "opp", "list"], env=ENV, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return Upgraded(path, before, result.stdout)


def test_the_fixture_is_what_0_1_0_made():
    assert MANIFEST["version"] == "salesselect 0.1.0"
    assert MANIFEST["today"] == TODAY.isoformat()  # the suite's fixed day: relative periods mean the same
    assert V010_DB.stat().st_size < 2_000_000


def test_opening_migrates_the_file(upgraded):
    with upgraded.connect() as connection:
        migrations = [name for (name,) in connection.execute("SELECT name FROM _sqlite_migrations")]
    assert set(V010_MIGRATIONS) < set(migrations)  # today's code ran its own migrations on top
    assert "6 mechanics" in upgraded.opened_with  # and the command that opened it worked


def test_every_deal_history_row_and_follow_up_is_kept(upgraded):
    before = upgraded.before
    assert len(before["opportunities"][1]) == 300
    assert len(before["history"][1]) == 5201
    assert len(before["followups"][1]) == 1729
    with upgraded.connect() as connection:
        for table in ("opportunities", "history", "followups"):
            columns, rows = before[table]
            ids = [row[columns.index("id")] for row in rows]
            after_ids = [row[0] for row in connection.execute(f"SELECT id FROM {table} ORDER BY id")]
            assert after_ids == sorted(ids), table
            assert read(connection, table, columns) == rows, f"{table}: a 0.1.0 value changed"


def test_every_table_0_1_0_wrote_keeps_its_rows(upgraded):
    """Users, settings lists, workflows and the rest: every 0.1.0 column of every row is unchanged
    (migrations may add columns and tables, never alter or drop what was there)."""
    with upgraded.connect() as connection:
        for table, (columns, rows) in upgraded.before.items():
            assert read(connection, table, columns) == rows, table


def assert_kept(old, new, where="$"):
    """Every value 0.1.0 printed is in `new` at the same place; `new` may add fields to a record."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} is gone"
            assert_kept(value, new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list), where
        assert len(new) == len(old), f"{where}: {len(old)} entries in 0.1.0, {len(new)} now"
        for index, (was, now) in enumerate(zip(old, new)):
            assert_kept(was, now, f"{where}[{index}]")
    else:
        assert new == old, f"{where}: 0.1.0 printed {old!r}, now {new!r}"


FIGURE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?|-?€?\d[\d,.]*%?")  # a date is one figure
ROW_ID = re.compile(r"^\s{1,6}(\d+)\s", re.MULTILINE)


def figures(text: str) -> list[str]:
    return FIGURE.findall(text)


COMMANDS = [command for command in MANIFEST["commands"]]


@pytest.mark.parametrize("command", COMMANDS, ids=[command["file"] for command in COMMANDS])
def test_output_matches_what_0_1_0_printed(upgraded, cli, command):
    result = cli("--db", upgraded.path, *command["args"], env={"COLUMNS": str(MANIFEST["columns"])})
    assert result.exit_code == 0, result.stderr
    printed = (EXPECTED / command["file"]).read_text()
    if command["file"].endswith(".json"):
        assert_kept(json.loads(printed), result.json())
    elif command["file"].endswith(".csv"):
        old = list(csv.DictReader(io.StringIO(printed)))
        assert_kept(old, list(csv.DictReader(io.StringIO(result.stdout))))
    elif command["args"][0] == "report":
        assert figures(result.stdout) == figures(printed)
    else:  # a list: the same rows in the same order
        assert ROW_ID.findall(result.stdout) == ROW_ID.findall(printed)
        assert ROW_ID.findall(printed)


def test_every_deal_shows_the_history_and_follow_ups_0_1_0_showed(upgraded, cli):
    counts = json.loads((EXPECTED / "per_deal_counts.json").read_text())
    assert len(counts) == 300
    with upgraded.connect() as connection:
        history = dict(connection.execute("SELECT opportunity_id, COUNT(*) FROM history GROUP BY opportunity_id"))
        followups = dict(connection.execute("SELECT opportunity_id, COUNT(*) FROM followups GROUP BY opportunity_id"))
    for deal, expected in counts.items():
        assert (history.get(int(deal), 0), followups.get(int(deal), 0)) == (expected["history"], expected["followups"]), deal
    for deal in list(counts)[::25]:  # and as `opp show` prints them, for a spread of deals
        shown = cli("--db", upgraded.path, "opp", "show", deal, "--format", "json").json()
        assert (len(shown["history"]), len(shown["followups"])) == (counts[deal]["history"], counts[deal]["followups"])
