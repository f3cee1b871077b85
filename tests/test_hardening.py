"""Hardening (issue 28): hooks inside their limits, all-or-nothing copies, no catch-all messages, bounded errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, ROOT

FILES = pytest.mark.sqlite_only


def salesselect(*args) -> list[str]:
    """The installed console script (python -m when it is not installed beside this interpreter)."""
    script = Path(sys.executable).parent / "salesselect"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "salesselect_cli"]
    return command + [str(a) for a in args]


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


def hook(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return f"run:{sys.executable} {path}"


def new_opp(ok) -> int:
    return int(ok("opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot").stdout)


# ---------------------------------------------------------------- 1. hooks: bounded output, bounded time

FLOOD = (
    "import os, sys, time\n"
    "sys.stdin.read()\n"
    "chunk = b'x' * (1 << 20)\n"
    "for _ in range({megabytes}):\n"
    "    os.write({fd}, chunk)\n"
    "time.sleep(60)\n"
)

# Run salesselect in a child and report the largest resident size among the processes it waited for.
PEAK = ("import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="measures /proc and rusage")
@pytest.mark.parametrize("fd", [1, 2], ids=["stdout", "stderr"])
def test_a_hook_flooding_800_mb_costs_little_memory_and_its_time_limit_holds(agency, ok, tmp_path, fd):
    ok("workflow", "add", "Flood", "--on", "stage", "--action", hook(tmp_path, "flood.py", FLOOD.format(megabytes=800, fd=fd)))
    ok("workflow", "timeout", "3")
    opp = new_opp(ok)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", PEAK, *salesselect("opp", "move", opp, "Proposal")],
                          env=subprocess_env(), capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    peak_kib, code = (int(word) for word in proc.stdout.split())
    assert code == 0, proc.stderr
    assert "timed out after 3 s" in proc.stderr
    assert peak_kib < 200 * 1024, f"salesselect grew to {peak_kib // 1024} MB"
    assert elapsed < 3 + 3, f"a 3 s limit took {elapsed:.1f} s"


def test_a_hook_failure_keeps_the_last_line_of_a_long_stderr(agency, ok, cli, tmp_path):
    body = ("import sys\nsys.stdin.read()\n"
            "sys.stderr.write('noise\\n' * 200000)\nsys.stdout.write('out\\n' * 200000)\n"
            "sys.stderr.write('the real reason\\n')\nsys.exit(4)\n")
    ok("workflow", "add", "Loud", "--on", "stage", "--action", hook(tmp_path, "loud.py", body))
    opp = new_opp(ok)
    run = cli("opp", "move", opp, "Proposal")
    assert run.exit_code == 0
    assert "(exit code 4: the real reason)" in run.stderr


def test_a_hook_that_never_reads_its_stdin_still_runs(agency, ok, cli, tmp_path):
    marker = tmp_path / "ran"
    body = f"open({str(marker)!r}, 'w').write('yes')\n"
    ok("workflow", "add", "Deaf", "--on", "stage", "--action", hook(tmp_path, "deaf.py", body))
    opp = new_opp(ok)
    run = cli("opp", "move", opp, "Proposal")
    assert run.exit_code == 0 and "failed" not in run.stderr, run.stderr
    assert marker.read_text() == "yes"


DETACHING = (
    "import os, subprocess, sys, time\n"
    "sys.stdin.read()\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True,\n"
    "                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "open({pids!r} + '.tmp', 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
    "os.rename({pids!r} + '.tmp', {pids!r})\n"
    "time.sleep(60)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_hook_and_its_setsid_child_die_with_an_interrupted_salesselect(agency, ok, tmp_path, how):
    pids = tmp_path / "pids"
    ok("workflow", "add", "Detach", "--on", "stage", "--action", hook(tmp_path, "detach.py", DETACHING.format(pids=str(pids))))
    ok("workflow", "timeout", "60")
    opp = new_opp(ok)
    proc = subprocess.Popen(salesselect("opp", "move", opp, "Proposal"), env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    hook_pid = child_pid = None
    try:
        deadline = time.monotonic() + 30
        while not pids.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)
        hook_pid, child_pid = (int(word) for word in pids.read_text().split())
        assert running(hook_pid) and running(child_pid)
        number = getattr(signal, how)
        if how in ("SIGINT", "SIGHUP"):  # what a terminal does: the whole foreground group
            os.killpg(proc.pid, number)
        else:
            os.kill(proc.pid, number)
        proc.wait(timeout=10)
        time.sleep(1)
        assert not running(hook_pid) and not running(child_pid)
    finally:
        for pid in (proc.pid, hook_pid, child_pid):  # a failing run leaves nothing behind either
            if pid and running(pid):
                os.kill(pid, signal.SIGKILL)
        proc.communicate()
