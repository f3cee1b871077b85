"""Every list and report keeps one line per row on an 80- and a 100-column terminal (the demo agency):
no line wider than the terminal, no label blocks, and what is left out is named below the table."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from salesselect_cli.main import app
from tests.conftest import TODAY


@pytest.fixture(scope="module")
def demo_agency(tmp_path_factory):
    """The demo agency, built once for the module (every command here only reads it), with a deal in the trash."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    env = environment(path, 200)
    runner = CliRunner()
    for args in (["init", "--demo"], ["opp", "delete", "290", "--yes"]):
        result = runner.invoke(app, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    return path


def environment(path, width: int) -> dict:
    return {"SALESSELECT_DB": str(path), "SALESSELECT_TODAY": TODAY.isoformat(), "SALESSELECT_USER": "root",
            "NO_COLOR": "1", "COLUMNS": str(width), "SALESSELECT_LANG": "en"}


def run(path, width: int, *args: str):
    result = CliRunner().invoke(app, list(args), env=environment(path, width), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def body_lines(stdout: str) -> list[str]:
    """The rows of every table printed: the lines after a header rule, up to the next blank line."""
    rows, inside = [], False
    for line in stdout.splitlines():
        if line.strip().startswith("─"):
            inside = True
        elif not line.strip():
            inside = False
        elif inside:
            rows.append(line)
    return rows


LISTS = [
    ("opp", "list"), ("opp", "list", "--status", "all"), ("opp", "list", "--status", "lost"), ("opp", "trash"),
    ("followup", "list"), ("followup", "list", "--status", "all"), ("log",), ("log", "--limit", "0"),
    ("user", "list"), ("workflow", "list"), ("config", "list-business-types"), ("config", "list-stages"),
    ("config", "list-sources"), ("config", "list-reasons"),
]


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("args", LISTS, ids=" ".join)
def test_every_list_keeps_one_line_per_row(demo_agency, args, width):
    stdout = run(demo_agency, width, *args)
    lines = stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    assert not any(line.startswith(("ID: ", "Title: ", "User: ", "Workflow: ", "When: ", "Stage: ")) for line in lines)
    rows = json.loads(run(demo_agency, width, *args, "--format", "json"))
    assert len(rows) > 0
    assert len(body_lines(stdout)) == len(rows)
    left = [number for number, line in enumerate(lines) if line.startswith("Left out: ")]
    for number in left:  # the footer names the option that shows every column
        footer = " ".join(line.strip() for line in lines[number:])
        assert "--format csv/json" in footer
        assert ("--wide" in footer) == (args[0] in ("opp", "followup", "log"))


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("args", [("opp", "list"), ("followup", "list"), ("log",), ("opp", "trash")], ids=" ".join)
def test_wide_shows_every_column_whole(demo_agency, args, width):
    stdout = run(demo_agency, width, *args, "--wide")
    assert "Left out" not in stdout and "…" not in "\n".join(body_lines(stdout))
    rows = json.loads(run(demo_agency, width, *args, "--format", "json"))
    assert len(body_lines(stdout)) == len(rows)


def test_opp_list_at_80_columns_keeps_id_title_stage_value_and_days_left(demo_agency):
    lines = run(demo_agency, 80, "opp", "list").splitlines()
    header = next(line for line in lines if line.strip().startswith("ID"))
    assert header.split() == ["ID", "Title", "Company", "Stage", "Value", "Left"]
    footer = next(line for line in lines if line.startswith("Left out: "))
    assert footer.startswith("Left out: Type, Close, Owner (")
    assert all("■" in row for row in body_lines("\n".join(lines)))  # the type stays as its colour square


REPORTS = [("winloss", "-p", "all"), ("winloss", "-p", "last-quarter"), ("sources", "-p", "all"),
           ("sources", "-p", "this-year"), ("pipeline",), ("pipeline", "--by", "month"), ("stages", "-p", "all")]


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("args", REPORTS, ids=" ".join)
def test_every_report_keeps_one_line_per_row(demo_agency, args, width):
    stdout = run(demo_agency, width, "report", *args)
    lines = stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    assert not any(line.startswith(("Stage: ", "Source: ", "Reason: ", "Month: ", "Deals: ")) for line in lines)
    rows = json.loads(run(demo_agency, width, "report", *args, "--format", "json"))
    if args[0] == "winloss":  # one table row per JSON row, in the lost and the won table
        assert len(body_lines(stdout)) == len(rows)
    if args[0] == "sources":  # the total row sits in its own section, after a blank line
        assert len(body_lines(stdout)) + [line.split()[:1] for line in lines].count(["Total"]) == len(rows)
    if args[0] == "stages":
        assert len(body_lines(stdout)) == len(rows)
    for row in rows:
        name = row.get("stage") or row.get("source")
        if name and len(name) <= 12 and not row.get("total"):
            assert any(line.split() and line.split()[0] == name.split()[0] for line in body_lines(stdout)), name
