"""Running a workflow's `run:` program: an argv (never a shell), the event JSON on stdin, a time limit.

No SQL here: the store decides what to run and records failures; this only runs one process.
Nothing it starts outlives the time limit or salesselect itself: a small supervisor process (this file
run as a script) starts the program as a child subreaper, so even a grandchild that calls setsid stays
its descendant, and kills them all when salesselect closes its lifeline pipe or dies. Output is read
as it comes and only stderr's last KB kept, so a flooding program costs no memory. The program sees a clean
environment: the tool's PATH, HOME, LANG, the SALESSELECT_* event variables and the names the
workflow lists, never the mover's secrets (nor a password in the database URL).

While a hook runs, a marker file outside the database (in the user's config folder) says so; the hook's
SALESSELECT_RUN names it, and a salesselect command carrying a live marker fires no workflows. Nothing
in the database can forge it, and setting the variable by hand skips nothing.
"""

from __future__ import annotations

import os
import re
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


# --------------------------------------------------------------------------- the marker of a hook running now

_MARKER_NAME = re.compile(r"^[0-9a-f]{32}$")


def open_run_marker(folder: str | os.PathLike, database: str, until: float) -> str:
    """Mark a hook as running on `database` until `until` (epoch seconds): a new file in `folder`, readable
    by this user only; returns its path, the hook's SALESSELECT_RUN. Expired markers in it go."""
    import json
    import secrets

    os.makedirs(folder, mode=0o700, exist_ok=True)
    _forget_expired(folder, time.time())
    path = os.path.join(os.path.abspath(folder), secrets.token_hex(16))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"database": database, "until": until}, handle)
    return path


def close_run_marker(marker: str) -> None:
    """The hook is over: its marker goes (one left behind expires on its own)."""
    try:
        os.unlink(marker)
    except FileNotFoundError:
        pass


def inside_hook(marker: str | None, database: str, now: float) -> bool:
    """True when `marker` (a command's SALESSELECT_RUN) is the live marker of a hook running on `database`:
    a file of ours, named as open_run_marker names them, not yet expired. Any other value is no marker."""
    if not marker or not os.path.isabs(marker) or not _MARKER_NAME.match(os.path.basename(marker)):
        return False
    state = _read_marker(marker)
    return state is not None and state.get("database") == database and _until(state) >= now


def _read_marker(path: str) -> dict | None:
    import json
    import stat

    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 65536 or info.st_mode & 0o022:
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _until(state: dict) -> float:
    until = state.get("until")
    return float(until) if isinstance(until, (int, float)) and not isinstance(until, bool) else float("-inf")


def _forget_expired(folder: str | os.PathLike, now: float) -> None:
    try:
        names = [name for name in os.listdir(folder) if _MARKER_NAME.match(name)]
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        state = _read_marker(path)
        if state is None:  # being written this moment, or damaged: only an old one goes
            try:
                if os.lstat(path).st_mtime > now - 3600:
                    continue
            except OSError:
                continue
        if state is None or _until(state) < now - 60:
            try:
                os.unlink(path)
            except OSError:
                pass


def run_hook(argv: tuple[str, ...] | list[str], stdin_text: str, env: dict[str, str], timeout: float,
             passthrough: tuple[str, ...] = ()) -> str | None:
    """Run one program and wait at most `timeout` seconds. None when it succeeded, else why not (one line).

    Its output is read as it comes: stdout is discarded, the last KB of stderr explain a failure, so
    memory stays flat whatever it writes. Whatever it started and left running is stopped when its
    time is up, or as soon as salesselect ends (Ctrl-C, SIGTERM, SIGHUP, even SIGKILL).
    """
    if os.name != "posix":
        return _run_plainly(argv, stdin_text, hook_environment(env, passthrough), timeout)
    # A supervisor (this file run as a script) starts the hook and adopts all it leaves running (a child
    # subreaper). It kills the lot when its lifeline pipe reaches end-of-file: when we close it at the time
    # limit, or when the kernel closes it because salesselect died, however it died.
    lifeline_read, lifeline = os.pipe()
    status_read, status_write = os.pipe()
    deadline = time.monotonic() + timeout
    try:
        supervisor = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), str(lifeline_read), str(status_write), "--",
             *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=hook_environment(env, passthrough), pass_fds=(lifeline_read, status_write),
        )
    except BaseException:
        for fd in (lifeline_read, lifeline, status_read, status_write):
            os.close(fd)
        raise
    os.close(lifeline_read)
    os.close(status_write)
    status = b""
    err_tail = bytearray()
    timed_out = False
    try:
        status, err_tail, timed_out = _follow(supervisor, stdin_text.encode("utf-8"), status_read, deadline)
    finally:
        os.close(lifeline)  # the supervisor now stops whatever is still running
        os.close(status_read)
        try:
            supervisor.wait(timeout=2)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()
        for pipe in (supervisor.stdin, supervisor.stdout, supervisor.stderr):
            try:
                pipe.close()
            except OSError:
                pass
    return _outcome(argv, status.decode("utf-8", "replace").split(), bytes(err_tail), timed_out, timeout)


TAIL = 4096  # bytes of stderr kept for the history line


def _follow(supervisor: subprocess.Popen, stdin_bytes: bytes, status_read: int, deadline: float):
    """Feed stdin, drain stdout and stderr as they come (keeping stderr's tail), until the supervisor is done
    or the deadline passes. Returns (status bytes, stderr tail, timed out)."""
    import selectors

    selector = selectors.DefaultSelector()
    stdin_fd = supervisor.stdin.fileno()
    os.set_blocking(stdin_fd, False)
    if stdin_bytes:
        selector.register(stdin_fd, selectors.EVENT_WRITE, "stdin")
    else:
        supervisor.stdin.close()
    selector.register(supervisor.stdout.fileno(), selectors.EVENT_READ, "stdout")
    selector.register(supervisor.stderr.fileno(), selectors.EVENT_READ, "stderr")
    selector.register(status_read, selectors.EVENT_READ, "status")
    status = bytearray()
    err_tail = bytearray()
    written = 0
    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(status), err_tail, b"end" not in status
            for key, _ in selector.select(min(remaining, 0.5)):
                if key.data == "stdin":
                    try:
                        written += os.write(stdin_fd, stdin_bytes[written:written + 65536])
                    except (BrokenPipeError, BlockingIOError) as exc:
                        if isinstance(exc, BlockingIOError):
                            continue
                        written = len(stdin_bytes)
                    if written >= len(stdin_bytes):
                        selector.unregister(stdin_fd)
                        supervisor.stdin.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fd)
                elif key.data == "stderr":
                    err_tail += chunk
                    del err_tail[:-TAIL]
                elif key.data == "status":
                    status += chunk
        return bytes(status), err_tail, False
    finally:
        selector.close()


def _outcome(argv, status: list[str], err: bytes, timed_out: bool, timeout: float) -> str | None:
    """The supervisor's report ('start', then 'end exit N' / 'end signal N', or 'fail KIND ...') as one line."""
    if timed_out:
        return f"timed out after {timeout:g} s and was stopped"
    if status[:2] == ["fail", "missing"]:
        return f"program not found: {argv[0]}"
    if status[:2] == ["fail", "denied"]:
        return f"not allowed to run {argv[0]}"
    if status[:1] == ["fail"]:
        return f"cannot run {argv[0]}: {' '.join(status[2:])}"
    if "end" not in status:
        return "stopped before it finished"
    how, number = status[status.index("end") + 1:status.index("end") + 3]
    if how == "exit" and number == "0":
        return None
    why = f"killed by signal {number}" if how == "signal" else f"exit code {number}"
    last = _last_line(err)
    return f"{why}: {last}" if last else why


def _run_plainly(argv, stdin_text: str, env: dict[str, str], timeout: float) -> str | None:
    """Outside POSIX: no supervisor, no process groups; the time limit still holds."""
    try:
        process = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, env=env)
    except FileNotFoundError:
        return f"program not found: {argv[0]}"
    except OSError as exc:
        return f"cannot run {argv[0]}: {exc.strerror or exc}"
    try:
        _, err = process.communicate(stdin_text.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return f"timed out after {timeout:g} s and was stopped"
    if process.returncode == 0:
        return None
    last = _last_line(err[-TAIL:])
    return f"exit code {process.returncode}: {last}" if last else f"exit code {process.returncode}"


# --------------------------------------------------------------------------- the supervisor (its own process)


def _supervise(lifeline: int, status: int, argv: list[str]) -> int:
    """Start the hook, adopt its orphans, report how it ended; kill them all once the lifeline closes."""
    for number in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):  # a handler, not SIG_IGN: the hook gets the defaults
        signal.signal(number, lambda *_: None)  # salesselect's end reaches us through the lifeline, always
    _become_subreaper()
    try:
        hook = subprocess.Popen(argv, start_new_session=True)  # its own group, so one killpg reaches most
    except FileNotFoundError:
        os.write(status, b"fail missing\n")
        return 0
    except PermissionError:
        os.write(status, b"fail denied\n")
        return 0
    except OSError as exc:
        os.write(status, f"fail error {exc.strerror or exc}\n".encode("utf-8", "replace"))
        return 0
    quiet = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the pipes belong to the hook alone now: they end when it and its children do
        os.dup2(quiet, fd)
    os.write(status, b"start\n")
    import select

    while True:
        ready, _, _ = select.select([lifeline], [], [], 0.05)
        if ready:  # end-of-file: salesselect is gone, or its time limit is up
            break
        try:
            while True:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if pid == hook.pid:
                    code = os.waitstatus_to_exitcode(wait_status)
                    how = f"signal {-code}" if code < 0 else f"exit {code}"
                    os.write(status, f"end {how}\n".encode())
        except ChildProcessError:  # the hook and all it started are done
            return 0
    try:
        os.killpg(hook.pid, signal.SIGKILL)
    except OSError:
        pass
    for _ in range(100):  # a process may fork while we kill: repeat until none is left
        left = _descendants()
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap()
        time.sleep(0.01)
    _reap()
    return 0


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


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


def _last_line(output: bytes) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    line = "".join(ch if ch.isprintable() else " " for ch in lines[-1])
    return line if len(line) <= 200 else line[:197] + "..."


if __name__ == "__main__":  # the supervisor: hooks.py LIFELINE_FD STATUS_FD -- PROGRAM ARG...
    sys.exit(_supervise(int(sys.argv[1]), int(sys.argv[2]), sys.argv[4:]))
