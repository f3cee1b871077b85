"""What a torture run found (issue 19), one test per finding: no lost data, no stuck files, no poisoned terminals."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TODAY


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    """One demo agency (300 opportunities) built once; tests copy it."""
    from typer.testing import CliRunner

    from salesselect_cli.main import app

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    env = {"SALESSELECT_DB": str(path), "SALESSELECT_TODAY": TODAY.isoformat(), "SALESSELECT_USER": "anna"}
    result = CliRunner().invoke(app, ["init", "--demo"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def demo(demo_file, isolated) -> Path:
    """The demo agency at $SALESSELECT_DB (tmp_path/sales.db), as anna (a key user)."""
    path = isolated / "sales.db"
    shutil.copyfile(demo_file, path)
    return path


# ---------------------------------------------------------------- 1. an output never overwrites the database

OUTPUT_COMMANDS = [
    ("export",), ("report", "pipeline"), ("report", "winloss", "--period", "all"), ("config", "export"),
    ("config", "show"), ("opp", "list"), ("user", "list"), ("workflow", "list"), ("followup", "list"),
    ("board",), ("config", "list-stages"),
]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("suffix", ["", "-wal", "-journal"])
def test_1_output_onto_the_database_is_refused(demo, cli, command, suffix):
    target = Path(str(demo) + suffix)
    before = digest(demo)
    run = cli(*command, "--output", target)
    assert run.exit_code == 1, run.stderr
    assert run.stderr.startswith("Error: refusing to write") and "database" in run.stderr
    assert digest(demo) == before
    assert not Path(str(demo) + "-journal").exists()


def test_1_output_through_a_link_or_a_relative_path_is_refused(demo, cli, monkeypatch):
    before = digest(demo)
    link = demo.parent / "link.csv"
    link.symlink_to(demo)
    hard = demo.parent / "hard.csv"
    os.link(demo, hard)
    monkeypatch.chdir(demo.parent)
    for target in (link, hard, Path("sales.db"), Path("./sub/../sales.db")):
        (demo.parent / "sub").mkdir(exist_ok=True)
        run = cli("export", "-o", target)
        assert run.exit_code == 1 and "refusing to write" in run.stderr, (target, run.stderr)
    assert digest(demo) == before


def test_1_output_onto_another_sqlite_database_is_refused(demo, cli, isolated):
    other = isolated / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    before = digest(other)
    run = cli("opp", "list", "-o", other)
    assert run.exit_code == 1 and "is an SQLite database" in run.stderr
    assert digest(other) == before


def test_1_output_is_renamed_into_place_and_keeps_the_mode(demo, ok, isolated):
    target = isolated / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    ok("export", "-o", target)
    assert target.read_text().startswith("id,title,")
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in isolated.iterdir() if p.name.startswith(".")) == []  # no temporary file left
    ok("export", "-o", "/dev/null")  # a device is written directly


# ---------------------------------------------------------------- 3. a full disk leaves the old output whole


def test_3_a_failed_write_leaves_the_old_file_as_it_was(demo, isolated):
    """Under a 16 KB file-size limit (EFBIG, like a full disk) the 50 KB export fails; the old file stays."""
    target = isolated / "out.csv"
    target.write_text("the old export\n")
    keep_open = sqlite3.connect(demo)  # the -shm file exists at full size: the limit hits only the output
    keep_open.execute("SELECT COUNT(*) FROM opportunities").fetchone()
    script = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384)); "
        "from salesselect_cli.main import run; sys.argv = ['salesselect', 'export', '-o', sys.argv[1]]; run()"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    finally:
        keep_open.close()
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"Error: cannot write {target}: File too large")
    assert target.read_text() == "the old export\n"
    assert [p.name for p in isolated.iterdir() if p.name.startswith(".out.csv")] == []


# ---------------------------------------------------------------- 6. --db must be a regular file


def test_6_a_fifo_as_database_is_refused_at_once(cli, isolated):
    fifo = isolated / "pipe.db"
    os.mkfifo(fifo)
    for args in (("--db", fifo, "board"), ("--db", fifo, "init")):
        run = cli(*args)  # before the fix this waited forever reading the header
        assert run.exit_code == 1
        assert run.stderr == f"Error: {fifo} is a named pipe, not a salesselect database file\n"


def test_6_a_device_as_database_is_refused(cli):
    run = cli("--db", "/dev/null", "opp", "list")
    assert run.exit_code == 1 and run.stderr == "Error: /dev/null is a device, not a salesselect database file\n"
