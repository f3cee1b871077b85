"""Running a workflow's `run:` program: an argv (never a shell), the event JSON on stdin, a time limit.

No SQL here: the store decides what to run and records failures; this only runs one process.
"""

from __future__ import annotations

import os
import signal
import subprocess


def run_hook(argv: tuple[str, ...] | list[str], stdin_text: str, env: dict[str, str], timeout: float) -> str | None:
    """Run one program and wait at most `timeout` seconds. None when it succeeded, else why not (one line).

    Its output is captured: stdout is discarded, the last line of stderr explains a failure.
    """
    try:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            start_new_session=os.name == "posix",  # a group of its own, so a time-out stops its children too
        )
    except FileNotFoundError:
        return f"program not found: {argv[0]}"
    except PermissionError:
        return f"not allowed to run {argv[0]}"
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    try:
        _, err = process.communicate(stdin_text.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        return f"timed out after {timeout:g} s and was stopped"
    if process.returncode == 0:
        return None
    if process.returncode < 0:
        why = f"killed by signal {-process.returncode}"
    else:
        why = f"exit code {process.returncode}"
    last = _last_line(err)
    return f"{why}: {last}" if last else why


def _stop(process: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.communicate(timeout=2)
    except subprocess.TimeoutExpired:  # a grandchild in another group still holds the pipes
        process.kill()


def _last_line(output: bytes) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    line = "".join(ch if ch.isprintable() else " " for ch in lines[-1])
    return line if len(line) <= 200 else line[:197] + "..."
