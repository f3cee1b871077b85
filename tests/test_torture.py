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

from tests.conftest import ON_POSTGRES, ROOT, raw_connect

# Findings about files (outputs onto the database, storage failures, killed inits, journals, read-only
# folders) are SQLite's; every other finding is checked on both backends.
FILES = pytest.mark.sqlite_only


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(location) -> str:
    """The database as it is: the file's bytes on SQLite; every table's rows, in order, on PostgreSQL."""
    if not ON_POSTGRES:
        return digest(Path(location))
    conn = raw_connect(location)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")]
        state = hashlib.sha256()
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                state.update(repr(tuple(row)).encode())
        return state.hexdigest()
    finally:
        conn.close()


@pytest.fixture
def demo(demo_db):
    """The demo agency (300 opportunities; conftest's demo_db): its file's Path on SQLite, its URL on PostgreSQL."""
    return demo_db


# ---------------------------------------------------------------- 1. an output never overwrites the database

OUTPUT_COMMANDS = [
    ("export",), ("report", "pipeline"), ("report", "winloss", "--period", "all"), ("config", "export"),
    ("config", "show"), ("opp", "list"), ("user", "list"), ("workflow", "list"), ("followup", "list"),
    ("board",), ("config", "list-stages"), ("log",), ("opp", "trash"),
]


@FILES
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


@FILES
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


@FILES
def test_1_output_onto_another_sqlite_database_is_refused(demo, cli, isolated):
    other = isolated / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    before = digest(other)
    run = cli("opp", "list", "-o", other)
    assert run.exit_code == 1 and "is an SQLite database" in run.stderr
    assert digest(other) == before


@FILES
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


@FILES
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


@FILES
def test_6_a_fifo_as_database_is_refused_at_once(cli, isolated):
    fifo = isolated / "pipe.db"
    os.mkfifo(fifo)
    for args in (("--db", fifo, "board"), ("--db", fifo, "init")):
        run = cli(*args)  # before the fix this waited forever reading the header
        assert run.exit_code == 1
        assert run.stderr == f"Error: {fifo} is a named pipe, not a salesselect database file\n"


@FILES
def test_6_a_device_as_database_is_refused(cli):
    run = cli("--db", "/dev/null", "opp", "list")
    assert run.exit_code == 1 and run.stderr == "Error: /dev/null is a device, not a salesselect database file\n"


# ---------------------------------------------------------------- 4. terminal injection

HOSTILE = ["\u009b2J", "\u009d0;PWNED\u009c", "a\u202eb", "\x1b[2J", "x\u200by"]


def _plant(path, text: str) -> int:
    """Text written into the file by another tool, behind the CLI's back: the first open deal's title."""
    conn = raw_connect(path)
    opp_id = conn.execute("SELECT MIN(id) FROM opportunities WHERE status = 'open'").fetchone()[0]
    conn.execute("UPDATE opportunities SET title = ?, contact = ? WHERE id = ?", [text, text, opp_id])
    conn.commit()
    conn.close()
    return opp_id


@pytest.mark.parametrize("text", HOSTILE, ids=ascii)
def test_4_stored_controls_are_shown_escaped(demo, ok, text):
    opp_id = _plant(demo, f"Deal {text} end")
    escaped = ascii(text)[1:-1] if text != "\x1b[2J" else "\\x1b[2J"
    for args in (("board", "--limit", "0", "--width", "200"), ("opp", "list", "--limit", "500"), ("opp", "show", opp_id),
                 ("opp", "show", opp_id, "--format", "json"), ("opp", "list", "--format", "json"),
                 ("opp", "move", opp_id, "Lost", "--reason", "Too expensive")):
        run = ok(*args)
        for stream in (run.stdout, run.stderr):
            assert not any(ch in stream for ch in text if not ch.isprintable()), (args, stream[:300])
        if "json" not in args:
            assert escaped in run.stdout + run.stderr, args


@pytest.mark.parametrize("text", ["\u009b2J", "\u009d0;PWNED\u009c", "a\u202eb", "a\u2066b", "a\x1b[8m"])
def test_4_input_refuses_c1_and_bidi_controls(agency, cli, text):
    for args in (("opp", "add", text, "--company", "Acme", "--type", "Staffing", "--source", "HubSpot"),
                 ("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot",
                  "--contact", text),
                 ("user", "add", f"anna{text}")):
        run = cli(*args)
        assert run.exit_code == 1 and "must not contain control characters" in run.stderr, (args, run.stderr)
        assert not any(ch in run.stderr for ch in text if not ch.isprintable())


def test_4_json_stays_the_same_data(demo, ok):
    opp_id = _plant(demo, "a\u202eb\u009b")
    import json

    out = ok("opp", "show", opp_id, "--format", "json").stdout
    assert "\\u202e" in out and "\u202e" not in out
    assert json.loads(out)["title"] == "a\u202eb\u009b"


# ---------------------------------------------------------------- 5. values that break others later


def test_5_indicator_days_are_bounded(demo, ok, cli):
    before = fingerprint(demo)
    run = cli("config", "set-indicator", "--orange", "3000000", "--red", "1")
    assert run.exit_code == 1 and "at most 3,650" in run.stderr
    run = cli("config", "set-indicator", "--orange", "9223372036854775808", "--red", "1")
    assert run.exit_code == 1 and "at most 3,650" in run.stderr
    assert fingerprint(demo) == before
    ok("config", "set-indicator", "--orange", "3650", "--red", "3649")
    assert fingerprint(demo) != before  # the fingerprint does see a change
    ok("board")
    ok("report", "pipeline")


@pytest.mark.parametrize("action", ["note:" + "x" * 6000, "followup:+1d:" + "y" * 5001, "run:" + "z" * 6000,
                                    "note:a\u009bb", "owner:"])
def test_5_workflow_actions_within_the_limits_of_notes(agency, cli, action):
    run = cli("workflow", "add", "Long", "--on", "stage", "--action", action)
    assert run.exit_code == 1, run.stderr
    assert len(run.stderr) < 400


def test_5_module_for_an_empty_user_is_refused(agency, ok, cli):
    for args in (("config", "module", "disable", "--user", ""), ("config", "module", "disable", "--user", " "),
                 ("config", "module", "inherit", "--user", "")):
        run = cli(*args)
        assert run.exit_code == 1 and "--user needs a name" in run.stderr
    assert ok("config", "module", "show", "--format", "json").json()["client"] == "on"
    run = cli("--user", "", "user", "list")
    assert run.exit_code == 1 and run.stderr == "Error: --user needs a name\n"


# ---------------------------------------------------------------- 7. our own message for every bad input


@pytest.mark.parametrize("args, env, message", [
    (["opp", "list", "--search", "caf\udce9"], {}, "argument 4 ('caf\\xe9') is not valid UTF-8 text"),
    (["opp", "list"], {"SALESSELECT_USER": "ann\udce9"}, "$SALESSELECT_USER is not valid UTF-8 text"),
    (["opp", "list", "--limit", "9223372036854775808"], {}, "--limit takes a whole number from 1 to 9223372036854775807"),
    (["board", "--limit", "99999999999999999999"], {}, "--limit takes a whole number from 0 to 9223372036854775807"),
    (["opp", "list"], {"SALESSELECT_TODAY": "0001-01-01"}, "out of range"),
    (["opp", "list"], {"SALESSELECT_TODAY": "9999-12-31"}, "out of range"),
    (["opp", "list", "--close-before", "1899-12-31"], {}, "outside the years 1900 to 9999"),
    (["--db", "~nouser/x.db", "opp", "list"], {}, "cannot find the home directory"),
    (["config", "move-stage", "Lead", "99999999999999999999999"], {}, "POSITION takes a whole number of 10000 or less"),
])
def test_7_bad_input_gets_our_own_message(demo, cli, args, env, message):
    before = fingerprint(demo)
    run = cli(*args, env=env)
    assert run.exit_code in (1, 2), run.stderr
    assert message in run.stderr
    assert "unexpected" not in run.stderr and "Traceback" not in run.stderr
    assert fingerprint(demo) == before


# ---------------------------------------------------------------- 9. skipping workflows is for key users


def test_9_only_key_users_skip_workflows(agency, ok, cli):
    ok("workflow", "add", "Give to kim", "--on", "stage", "--to-stage", "Proposal", "--action", "owner:kim")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot",
                 "--owner", "bob").stdout)
    run = cli("--user", "bob", "opp", "move", opp, "Proposal", "--no-workflows")
    assert run.exit_code == 3 and "only key users may skip workflows" in run.stderr
    assert ok("opp", "show", opp, "--format", "json").json()["stage"] != "Proposal"
    ok("--user", "bob", "opp", "move", opp, "Proposal")
    assert ok("opp", "show", opp, "--format", "json").json()["owner"] == "kim"


# ---------------------------------------------------------------- 10. look-alike names


@pytest.mark.parametrize("first, second, message", [
    ("Café", "Cafe\u0301", "already exists"),
    ("SpotOn", "Spot\u200bOn", "invisible characters (\\u200b)"),
    ("anna2", "\u0430nna2", "mixes Latin and Cyrillic"),
    ("Omega", "\u03a9mega", "mixes Latin and Greek"),
])
def test_10_look_alike_names_are_refused(agency, ok, cli, first, second, message):
    ok("config", "add-source", first)
    run = cli("config", "add-source", second)
    assert run.exit_code == 1 and message in run.stderr, run.stderr
    names = [row["name"] for row in ok("config", "list-sources", "--format", "json").json()]
    assert first in names and len([n for n in names if n.casefold() == first.casefold()]) == 1


def test_10_names_are_stored_composed(agency, ok):
    ok("user", "add", "Rene\u0301")
    assert "Ren\u00e9" in [row["name"] for row in ok("user", "list", "--format", "json").json()]
    ok("config", "add-source", "Ελληνικά Jobs")  # a word per alphabet is fine


# ---------------------------------------------------------------- 11. help and behaviour agree


def test_11_user_list_is_for_key_users_as_its_help_says(agency, ok, cli):
    assert "key users only" in ok("user", "--help").stdout
    assert "(key users)" in ok("user", "list", "--help").stdout
    run = cli("--user", "bob", "user", "list")
    assert run.exit_code == 3 and "only key users may manage users" in run.stderr
    assert [row["name"] for row in ok("--user", "kim", "user", "list", "--format", "json").json()] == ["anna", "bob", "kim"]


# ---------------------------------------------------------------- 9. hooks: nothing outlives them, nothing leaks in


def _hook(tmp_path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return f"{sys.executable} {path}"


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreaper is Linux only")
def test_9_a_setsid_grandchild_does_not_outlive_the_time_limit(agency, ok, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    command = _hook(tmp_path, "detach.py", (
        "import subprocess, sys\n"
        "sys.stdin.read()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True,\n"
        "                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
    ))
    ok("workflow", "add", "Detach", "--on", "stage", "--action", f"run:{command}")
    ok("workflow", "timeout", "1")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot").stdout)
    ok("opp", "move", opp, "Proposal")
    grandchild = int(pid_file.read_text())
    assert not _running(grandchild)


def test_9_hooks_get_a_clean_environment(agency, ok, tmp_path, monkeypatch):
    out = tmp_path / "env.json"
    command = _hook(tmp_path, "env.py", (
        "import json, os, sys\n"
        "sys.stdin.read()\n"
        f"open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
    ))
    ok("workflow", "add", "Env", "--on", "stage", "--action", f"run:{command}")
    stored = ok("workflow", "show", "Env", "--format", "json").json()["actions"][0]
    assert stored.startswith(f"run:{sys.executable} ")  # the program as an absolute path
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot").stdout)
    ok("opp", "move", opp, "Proposal")
    import json

    env = json.loads(out.read_text())
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"
    assert env["SALESSELECT_EVENT"] == "stage" and env["SALESSELECT_WORKFLOW"] == "Env"
    assert set(env) <= {"PATH", "HOME", "LANG", "SALESSELECT_EVENT", "SALESSELECT_OPPORTUNITY_ID",
                        "SALESSELECT_WORKFLOW", "SALESSELECT_DB", "SALESSELECT_USER", "SALESSELECT_TODAY", "SALESSELECT_RUN",
                        "LC_CTYPE"}  # LC_CTYPE: set by Python itself in the child on a C locale


def test_9_a_program_not_on_path_is_refused_when_added(agency, cli):
    run = cli("workflow", "add", "Ghost", "--on", "stage", "--action", "run:no-such-program-xyz --go")
    assert run.exit_code == 1 and "program not found: no-such-program-xyz" in run.stderr


# ---------------------------------------------------------------- 11. an interruption after the commit says so


def test_11_ctrl_c_after_an_import_committed_says_it_was_saved(agency, cli, ok, tmp_path, monkeypatch):
    from salesselect_cli.commands import io as io_command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io_command, "_print_summary", interrupted)
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("title,company,type,source\nA,Acme,Staffing,HubSpot\nB,Acme,Staffing,HubSpot\n")
    run = cli("import", csv_file)
    assert run.exit_code == 130
    assert run.stderr == "Imported 2 opportunities (interrupted after saving).\n"
    assert len(ok("opp", "list", "--format", "json").json()) == 2


def test_11_ctrl_c_before_the_commit_says_nothing_changed(agency, cli, ok, tmp_path, monkeypatch):
    from salesselect_cli.sql.imports import ImportRoom

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ImportRoom, "import_summary", interrupted)
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("title,company,type,source\nA,Acme,Staffing,HubSpot\n")
    run = cli("import", csv_file)
    assert run.exit_code == 130 and run.stderr == "Interrupted; nothing was changed.\n"
    assert ok("opp", "list", "--format", "json").json() == []


# ---------------------------------------------------------------- 2. init --demo killed at any moment


@FILES
@pytest.mark.long_running
def test_2_init_demo_killed_at_20_moments_leaves_no_file_or_a_whole_one(tmp_path, cli, warm_salesselect):
    """SIGKILL at 20 spread moments (5 at a time): the file is absent, or complete and intact. The runs are real
    salesselect processes forked from a warm one (conftest.Zygote): the moments span the command's own run."""
    import random
    import signal
    import time

    rng = random.Random(19)
    zygote = warm_salesselect("salesselect_cli.demo", "salesselect_cli.commands.config")
    started = time.monotonic()  # how long a run takes when 5 run at a time, as the killed ones will
    timing = [zygote.start(["--db", tmp_path / f"timing{index}.db", "init", "--demo"], tmp_path / f"timing{index}.err")
              for index in range(5)]
    for index, pid in enumerate(timing):
        assert zygote.wait(pid) == 0, (tmp_path / f"timing{index}.err").read_text()
    duration = time.monotonic() - started
    moments = sorted(rng.uniform(0.0, duration * 1.1) for _ in range(20))
    outcomes = []
    for batch in range(0, 20, 5):
        runs = []
        for index in range(batch, batch + 5):
            path = tmp_path / f"demo{index}.db"
            runs.append((path, time.monotonic() + moments[index],
                         zygote.start(["--db", path, "init", "--demo"], tmp_path / f"demo{index}.err")))
        for path, moment, pid in sorted(runs, key=lambda run: run[1]):  # each at its moment
            time.sleep(max(0.0, moment - time.monotonic()))
            zygote.kill(pid, signal.SIGKILL)
        for path, moment, pid in runs:
            assert zygote.wait(pid) in (0, -signal.SIGKILL)
            if not path.exists():
                outcomes.append("absent")
                continue
            conn = sqlite3.connect(path)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
            run = cli("--db", path, "config", "check")
            assert run.exit_code == 0, (moment, run.stderr)
            assert cli("--db", path, "user", "list", "--format", "json").json()
            outcomes.append("complete")
    assert "absent" in outcomes


# ---------------------------------------------------------------- 8. reads never write

READS = [("board",), ("opp", "list"), ("opp", "show", "1"), ("report", "pipeline"), ("report", "winloss"),
         ("user", "list"), ("config", "show"), ("config", "check"), ("workflow", "list"), ("followup", "list"),
         ("workflow", "test", "1", "--to-stage", "Proposal")]


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("title,company,type,source\nA,Acme,Staffing,HubSpot\nB,Acme,Staffing,HubSpot\n")
    return path


@FILES
def test_8_reads_leave_a_rollback_journal_file_byte_for_byte(demo, cli, tmp_path):
    conn = sqlite3.connect(demo)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = digest(demo)
    for args in READS + [("import", _csv(tmp_path), "--dry-run"), ("export", "-o", tmp_path / "out.csv"),
                         ("config", "import", ROOT / "examples" / "setup.json", "--dry-run")]:
        run = cli(*args)
        assert run.exit_code in (0, 1), (args, run.stderr)  # config check may say what is missing
        assert digest(demo) == before, args
    conn = sqlite3.connect(demo)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_8_a_dry_run_import_takes_no_write_lock(demo, cli, tmp_path, monkeypatch):
    import salesselect_cli.sql.dialect as dialect

    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_SECONDS", 0.2)
    if ON_POSTGRES:  # another command is writing: it holds the one write lock
        writer = raw_connect(demo)
        writer.execute(f"SELECT pg_advisory_xact_lock({dialect.WRITE_LOCK_KEY})")
    else:
        writer = sqlite3.connect(demo, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
    try:
        assert cli("user", "add", "eve").exit_code == 1  # a write does wait for the lock, and gives up
        run = cli("import", _csv(tmp_path), "--dry-run")
        setup_run = cli("config", "import", ROOT / "examples" / "setup.json", "--dry-run")
    finally:
        writer.execute("ROLLBACK") if not ON_POSTGRES else writer.conn.rollback()
        writer.close()
    assert run.exit_code == 0, run.stderr
    assert "Dry run: 2 opportunities would be imported" in run.stderr
    assert setup_run.exit_code == 0, setup_run.stderr


@FILES
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to drop the override")
def test_8_reads_work_in_a_read_only_folder(demo, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "agency.db"
    shutil.copyfile(demo, path)
    path.chmod(0o444)
    folder.chmod(0o555)
    before = digest(path)
    # root overrides file permissions; without these capabilities it is a plain user of a read-only folder
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", sys.executable, "-m", "salesselect_cli",
            "--db", str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SALESSELECT_USER": "anna"}
    try:
        for args in (["board"], ["opp", "list", "--format", "json"], ["import", str(_csv(tmp_path)), "--dry-run"]):
            proc = subprocess.run(drop + args, capture_output=True, text=True, env=env, timeout=60)
            assert proc.returncode == 0, (args, proc.stderr)
        proc = subprocess.run(drop + ["user", "add", "eve"], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and "readonly" in proc.stderr
        assert digest(path) == before and sorted(p.name for p in folder.iterdir()) == ["agency.db"]
    finally:
        folder.chmod(0o755)


def test_9_setting_the_hook_variables_skips_no_workflow(agency, ok):
    ok("workflow", "add", "Note it", "--on", "stage", "--action", "note:moved")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot").stdout)
    ok("opp", "move", opp, "Proposal", env={"SALESSELECT_WORKFLOW": "x", "SALESSELECT_RUN": "0" * 32})
    history = ok("opp", "show", opp, "--format", "json").json()["history"]
    assert [row["to_value"] for row in history if row["field"] == "note"] == ["moved"]


@FILES
def test_7_a_storage_failure_reports_its_real_cause(demo, tmp_path):
    """Under a file-size limit an import said 'no such savepoint: step'; now the cause, and nothing changed."""
    csv_file = tmp_path / "big.csv"
    csv_file.write_text("title,company,type,source,notes\n"
                        + "".join(f"Deal {i},Acme,Staffing,HubSpot,{'n' * 300}\n" for i in range(4000)))
    before = digest(demo)
    limit = demo.stat().st_size + 200_000
    script = (
        f"import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from salesselect_cli.main import run; sys.argv = ['salesselect', 'import', sys.argv[1]]; run()"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(csv_file)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("Error: database error:") and f"file too large" in proc.stderr, proc.stderr
    assert "savepoint" not in proc.stderr and "nothing was changed" in proc.stderr
    assert digest(demo) == before


def test_9_workflow_env_passes_only_the_names_listed(agency, ok, cli, tmp_path, monkeypatch):
    out = tmp_path / "env.json"
    command = _hook(tmp_path, "env.py", (
        "import json, os, sys\n"
        "sys.stdin.read()\n"
        f"open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))\n"
    ))
    for bad in ("PATH", "1X", "SALESSELECT_TODAY", "A-B"):
        run = cli("workflow", "add", "Env", "--on", "stage", "--action", f"run:{command}", "--env", bad)
        assert run.exit_code == 1 and "--env" in run.stderr, run.stderr
    ok("workflow", "add", "Env", "--on", "stage", "--action", f"run:{command}", "--env", "MAIL_HOST")
    assert ok("workflow", "show", "Env", "--format", "json").json()["env"] == ["MAIL_HOST"]
    exported = ok("config", "export").json()["workflows"]
    assert [w.get("env") for w in exported] == [["MAIL_HOST"]]
    monkeypatch.setenv("MAIL_HOST", "smtp.example")
    monkeypatch.setenv("MAIL_PASSWORD", "secret")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot").stdout)
    ok("opp", "move", opp, "Proposal")
    import json

    env = json.loads(out.read_text())
    assert env["MAIL_HOST"] == "smtp.example" and "MAIL_PASSWORD" not in env


def test_9_config_import_resolves_hook_programs_too(agency, ok, cli, tmp_path):
    import json

    setup = {"workflows": [{"name": "Hook", "on": "stage", "actions": ["run:python3 -c pass"]}]}
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(setup))
    ok("config", "import", path)
    stored = ok("workflow", "show", "Hook", "--format", "json").json()["actions"]
    assert stored == [f"run:{shutil.which('python3')} -c pass"]
    path.write_text(json.dumps({"workflows": [{"name": "Ghost", "on": "stage", "actions": ["run:no-such-xyz"]}]}))
    run = cli("config", "import", path)
    assert run.exit_code == 1 and "program not found: no-such-xyz" in run.stderr


def test_10_lookups_compare_the_normalized_form(agency, ok, tmp_path):
    ok("config", "add-source", "Café")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "CAFE\u0301").stdout)
    assert ok("opp", "show", opp, "--format", "json").json()["source"] == "Café"
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("title,company,type,source\nA,Acme,Staffing,cafe\u0301\n")
    ok("import", csv_file)
    assert len(ok("opp", "list", "--source", "Café", "--format", "json").json()) == 2


@FILES
def test_2_a_killed_init_leaves_nothing_the_next_one_trips_over(cli, ok, isolated):
    leftover = isolated / ".sales.db.999999999.init"  # no such process: its init was killed
    leftover.write_bytes(b"half")
    Path(str(leftover) + "-wal").write_bytes(b"half")
    ok("init")
    assert sorted(p.name for p in isolated.iterdir() if ".init" in p.name) == []


def test_11_ctrl_c_during_a_hook_says_the_move_was_saved(agency, ok, cli, tmp_path, monkeypatch):
    from salesselect_cli import hooks

    command = _hook(tmp_path, "noop.py", "import sys\nsys.stdin.read()\n")
    ok("workflow", "add", "Hook", "--on", "stage", "--action", f"run:{command}")
    opp = int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot").stdout)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hooks, "run_hook", interrupted)
    run = cli("opp", "move", opp, "Proposal")
    assert run.exit_code == 130 and run.stderr == "The change was saved (interrupted after saving).\n"
    assert ok("opp", "show", opp, "--format", "json").json()["stage"] == "Proposal"


def test_4_csv_on_a_terminal_is_shown_escaped_and_a_file_keeps_the_data():
    import io

    from salesselect_cli.render import write_csv

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rows = [{"title": "a\u202eb\x1b[2J", "value": 3}]
    screen, file = Terminal(), io.StringIO()
    write_csv(rows, screen)
    write_csv(rows, file)
    assert screen.getvalue() == "title,value\r\na\\u202eb\\x1b[2J,3\r\n"
    assert file.getvalue() == "title,value\r\na\u202eb\x1b[2J,3\r\n"
