"""Running a workflow's `run:` program: an argv (never a shell), the event JSON on stdin, a time limit.

No SQL here: the store decides what to run and records failures; this only runs one process.
Nothing it starts outlives the time limit: on Linux the tool becomes a child subreaper, so even a
grandchild that calls setsid stays its descendant and is stopped. The program sees a clean
environment: the tool's PATH, HOME, LANG, the SALESSELECT_* event variables and the names the
workflow lists, never the mover's secrets.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

HOOK_PATH = "/usr/local/bin:/usr/bin:/bin"
EVENT_VARIABLES = ("SALESSELECT_EVENT", "SALESSELECT_OPPORTUNITY_ID", "SALESSELECT_WORKFLOW", "SALESSELECT_DB",
                   "SALESSELECT_USER", "SALESSELECT_TODAY", "SALESSELECT_RUN")  # rules.workflows.SET_BY_THE_TOOL
PR_SET_CHILD_SUBREAPER = 36
_POLL = 0.02


def hook_environment(env: dict[str, str], passthrough: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment a hook gets from `env`: event variables and listed names only, our PATH; the database
    URL without its password (the program logs in with its own, e.g. ~/.pgpass)."""
    clean = {"PATH": HOOK_PATH, "HOME": env.get("HOME") or os.path.expanduser("~"), "LANG": env.get("LANG") or "C.UTF-8"}
    for name in EVENT_VARIABLES + tuple(passthrough):
        if name in env and name != "PATH":
            clean[name] = env[name]
    if "SALESSELECT_DB" in clean:
        clean["SALESSELECT_DB"] = database_for_hook(clean["SALESSELECT_DB"])
    return clean


def database_for_hook(location: str) -> str:
    """A database location as a hook may see it: a PostgreSQL URL loses its password, in the user part and
    in the query (password=...); a file path is unchanged."""
    import re

    if not re.match(r"postgres(?:ql)?://", location, flags=re.IGNORECASE):
        return location
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(location)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in ("password", "passfile", "sslpassword")])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def run_hook(argv: tuple[str, ...] | list[str], stdin_text: str, env: dict[str, str], timeout: float,
             passthrough: tuple[str, ...] = ()) -> str | None:
    """Run one program and wait at most `timeout` seconds. None when it succeeded, else why not (one line).

    Its output is captured: stdout is discarded, the last line of stderr explains a failure.
    Whatever it started and left running is stopped when its time is up.
    """
    reaper = _become_subreaper()
    before = _descendants() if reaper else set()
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=hook_environment(env, passthrough),
            start_new_session=os.name == "posix",  # a group of its own, so a time-out stops its children too
        )
    except FileNotFoundError:
        return f"program not found: {argv[0]}"
    except PermissionError:
        return f"not allowed to run {argv[0]}"
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    timed_out = False
    try:
        _, err = process.communicate(stdin_text.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        err = b""
        if reaper:  # first whatever it started elsewhere, which may hold its pipes
            _stop_descendants(before, deadline)
        _stop(process)
    if reaper:
        _stop_descendants(before, deadline)
    if timed_out:
        return f"timed out after {timeout:g} s and was stopped"
    if process.returncode == 0:
        return None
    if process.returncode < 0:
        why = f"killed by signal {-process.returncode}"
    else:
        why = f"exit code {process.returncode}"
    last = _last_line(err)
    return f"{why}: {last}" if last else why


def _become_subreaper() -> bool:
    """On Linux, adopt orphaned descendants (a hook's setsid grandchild) so they can be stopped."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _descendants() -> set[int]:
    """Every process below this one, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after the command name, which may hold spaces
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _stop_descendants(before: set[int], deadline: float) -> None:
    """Let what the hook left running finish until the deadline, then kill it all; reap the orphans."""
    while True:
        left = _descendants() - before
        _reap(left)
        left = {pid for pid in left if _alive(pid)}
        if not left:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(_POLL)
    for _ in range(20):  # a process may fork while we kill: repeat until none is left
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(_POLL)
        _reap(left)
        left = {pid for pid in _descendants() - before if _alive(pid)}
        if not left:
            return


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped by someone else."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


def _reap(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (yet): its own parent reaps it
            pass


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
        _close_pipes(process)


def _close_pipes(process: subprocess.Popen) -> None:
    for pipe in (process.stdin, process.stdout, process.stderr):
        try:
            if pipe:
                pipe.close()
        except OSError:
            pass
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        pass


def _last_line(output: bytes) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    line = "".join(ch if ch.isprintable() else " " for ch in lines[-1])
    return line if len(line) <= 200 else line[:197] + "..."
