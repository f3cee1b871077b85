"""PostgreSQL across a network: the everyday commands direct and through a link that delays each direction.

    python benchmarks/network.py                  # its own cluster (.ci/pg-cluster), 10 ms each way, 7 runs
    python benchmarks/network.py --runs 11 --delay-ms 25
    python benchmarks/network.py --url postgresql://postgres@127.0.0.1:5432/postgres   # a cluster you started
    python benchmarks/network.py --before /tmp/old/.venv/bin/salesselect   # an older build, interleaved
    python benchmarks/network.py --no-handshake-delay   # the TCP handshake to the proxy is not held

A team's server is rarely on the recruiter's machine: every statement is a round trip. The benchmark puts its
own TCP proxy in front of the server (asyncio, in a thread) that holds every chunk `--delay-ms` in each
direction (20 ms round trip by default, a server across town) and one round trip more for the TCP handshake
(`--no-handshake-delay`: not that one, as a plain delaying proxy does: its handshake with the client is local).
On the demo agency (`salesselect init --demo`) it times `board`, `opp list`, `opp move` (a real move, and the
move back) and `report winloss` as a user runs them (the console script, start-up included), direct and through
the proxy, interleaved so a busy machine slows both alike; medians, the ratio, and what the proxy saw of each
command: round trips (each time the client speaks again after the server answered, the handshake included) and
statements (the Query and Execute messages on the wire). Target: each within 1.5x of its direct time.
The cluster it starts is stopped afterwards; with --url it only creates (and drops) a database there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SALESSELECT = str(Path(sys.executable).parent / "salesselect")
TODAY = "2026-12-07"
TARGET = 1.5
DATABASE = "salesselect_network_bench"
# PostgreSQL's untyped first messages (length, then a code) before the typed ones
SSL_REQUEST, GSS_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the delaying proxy


class Wire:
    """What the proxy saw since the last `reset`: round trips and statements, over all connections."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.round_trips = 0
            self.statements = 0
            self.connections = 0

    def add(self, round_trips: int = 0, statements: int = 0, connections: int = 0) -> None:
        with self.lock:
            self.round_trips += round_trips
            self.statements += statements
            self.connections += connections


class ClientMessages:
    """Counts the statements in the client's byte stream: simple Query ('Q', one round trip however many
    statements it holds) and extended-protocol Execute ('E') messages. Stops counting on an SSL session."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False  # past the untyped start-up messages
        self.blind = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The kinds of the messages completed by `chunk` (b"" for an untyped start-up message)."""
        if self.blind:
            return [b""]
        self.buffer += chunk
        kinds = []
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return kinds
                length, code = struct.unpack("!II", self.buffer[:8])
                if len(self.buffer) < length:
                    return kinds
                self.buffer = self.buffer[length:]
                kinds.append(b"")
                if code not in (SSL_REQUEST, GSS_REQUEST, CANCEL_REQUEST):
                    self.started = True  # the StartupMessage
                continue
            if len(self.buffer) < 5:
                return kinds
            kind, length = self.buffer[:1], struct.unpack("!I", self.buffer[1:5])[0]
            if len(self.buffer) < 1 + length:
                return kinds
            self.buffer = self.buffer[1 + length:]
            kinds.append(kind)

    def encrypted(self) -> None:
        self.blind = True


class DelayingProxy:
    """127.0.0.1:port -> the server, each chunk held `delay` seconds in each direction, order kept."""

    def __init__(self, upstream_host: str, upstream_port: int, delay: float, wire: Wire, handshake: bool = True):
        self.upstream = (upstream_host, upstream_port)
        self.delay = delay
        self.handshake = handshake
        self.wire = wire
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait()

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop)
        self.thread.join(timeout=5)

    async def _connection(self, client_reader, client_writer) -> None:
        # TCP's handshake is one round trip before the client's first byte can leave on a real link
        accepted = time.monotonic()
        handshake_until = accepted + (2 * self.delay if self.handshake else 0)
        self.wire.add(round_trips=1 if self.handshake else 0, connections=1)
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        state = {"server_spoke": True}
        messages = ClientMessages()
        upstream = asyncio.Queue()
        downstream = asyncio.Queue()

        async def read(reader, queue, from_client: bool) -> None:
            while True:
                chunk = await reader.read(65536)
                now = time.monotonic()
                if from_client:
                    if chunk:
                        kinds = messages.feed(chunk)
                        # Terminate ('X') at close waits for no answer: no round trip
                        if state["server_spoke"] and any(kind != b"X" for kind in kinds):
                            self.wire.add(round_trips=1)
                            state["server_spoke"] = False
                        self.wire.add(statements=sum(kind in (b"Q", b"E") for kind in kinds))
                    due = max(now, handshake_until) + self.delay
                else:
                    if chunk:
                        state["server_spoke"] = True
                        if not messages.started and chunk[:1] == b"S":
                            messages.encrypted()
                    due = now + self.delay
                await queue.put((due, chunk))
                if not chunk:
                    return

        async def write(queue, writer) -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    try:
                        writer.write_eof()
                    except (OSError, RuntimeError):
                        pass
                    return
                writer.write(chunk)
                await writer.drain()

        tasks = [asyncio.ensure_future(task) for task in (
            read(client_reader, upstream, True), write(upstream, server_writer),
            read(server_reader, downstream, False), write(downstream, client_writer))]
        try:
            await asyncio.gather(*tasks)
        except (ConnectionError, OSError, asyncio.CancelledError):  # a reset, or the proxy stopping
            pass
        finally:
            for task in tasks:
                task.cancel()
            for writer in (client_writer, server_writer):
                writer.close()


# --------------------------------------------------------------------------- the cluster and the agency


def start_cluster() -> tuple[str, str]:
    """(superuser URL, cluster directory) of a private cluster from .ci/pg-cluster."""
    out = subprocess.run([str(ROOT / ".ci" / "pg-cluster"), "start"], check=True, capture_output=True, text=True).stdout
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return values["SALESSELECT_TEST_PG"], values["PG_DIR"]


def stop_cluster(directory: str) -> None:
    subprocess.run([str(ROOT / ".ci" / "pg-cluster"), "stop", directory], check=False)


def admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def with_database(url: str, database: str, port: int | None = None) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    netloc = parts.netloc
    if port is not None:
        login = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
        netloc = f"{login}{parts.hostname}:{port}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


def salesselect(url: str, *args: str, env: dict, program: str = SALESSELECT) -> subprocess.CompletedProcess:
    run = subprocess.run([program, "--db", url, *args], capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise SystemExit(f"salesselect {' '.join(args)} failed ({run.returncode}): {run.stderr[-500:]}")
    return run


# --------------------------------------------------------------------------- timing


def timed(url: str, args: list[str], env: dict, program: str = SALESSELECT) -> float:
    started = time.perf_counter()
    salesselect(url, *args, env=env, program=program)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command on each side (median)")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="delay in each direction (round trip: twice)")
    parser.add_argument("--no-handshake-delay", action="store_true",
                        help="do not hold the TCP handshake one round trip (nor count it): a plain delaying proxy")
    parser.add_argument("--url", help="a superuser URL of a running cluster (default: start a private one)")
    parser.add_argument("--before", metavar="SALESSELECT",
                        help="also time this salesselect console script (an older build in its own virtual "
                             "environment), interleaved with this one: a before/after table")
    options = parser.parse_args()

    env = dict(os.environ, SALESSELECT_TODAY=TODAY, NO_COLOR="1", COLUMNS="200")
    env.pop("SALESSELECT_USER", None)
    cluster = None
    if options.url:
        admin_url = options.url
    else:
        log("starting a private PostgreSQL cluster (.ci/pg-cluster)")
        admin_url, cluster = start_cluster()
    proxy = None
    try:
        admin(admin_url, f"DROP DATABASE IF EXISTS {DATABASE}")
        admin(admin_url, f"CREATE DATABASE {DATABASE}")
        direct = with_database(admin_url, DATABASE)
        salesselect(direct, "init", "--demo", env=env)
        from urllib.parse import urlsplit

        server = urlsplit(direct)
        wire = Wire()
        proxy = DelayingProxy(server.hostname, server.port or 5432, options.delay_ms / 1000, wire,
                              handshake=not options.no_handshake_delay)
        linked = with_database(direct, DATABASE, proxy.port)
        deal = json.loads(salesselect(direct, "opp", "list", "--stage", "Proposal", "--format", "json",
                                      env=env).stdout)[0]["id"]
        there, back = ["opp", "move", str(deal), "Negotiation"], ["opp", "move", str(deal), "Proposal"]
        commands = {"board": [["board"]], "opp list": [["opp", "list"]], "opp move": [there, back],
                    "report winloss": [["report", "winloss"]]}
        programs = {"after": SALESSELECT, "before": options.before} if options.before else {"": SALESSELECT}
        seen = {}
        for name, program in programs.items():  # once each, untimed: caches warm, and what the wire carries
            for label, argvs in commands.items():
                wire.reset()
                timed(linked, argvs[0], env, program)
                seen[name, label] = (wire.round_trips, wire.statements)
                for argv in argvs[1:]:
                    timed(linked, argv, env, program)
                for argv in argvs:
                    timed(direct, argv, env, program)
        times = {(name, label, side): [] for name in programs for label in commands for side in ("direct", "linked")}
        for round_ in range(options.runs):
            runs = [(name, program, side, url) for name, program in programs.items()
                    for side, url in (("direct", direct), ("linked", linked))]
            shift = round_ % len(runs)
            for label, argvs in commands.items():
                for name, program, side, url in runs[shift:] + runs[:shift]:
                    for argv in argvs:
                        times[name, label, side].append(timed(url, argv, env, program))
        rtt = 2 * options.delay_ms
        handshake = "no delayed TCP handshake" if options.no_handshake_delay else "its TCP handshake delayed too"
        print(f"PostgreSQL through a {rtt:g} ms round-trip link ({handshake}) vs direct, demo agency, median of "
              f"{options.runs} interleaved runs (opp move: a move and the move back, each timed)\n")
        worst = 0.0
        for name in programs:
            if name:
                print(f"{name} ({programs[name]}):\n")
            print(f"| command | direct | {rtt:g} ms link | added | ratio | round trips | statements |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for label in commands:
                near = statistics.median(times[name, label, "direct"])
                far = statistics.median(times[name, label, "linked"])
                if name != "before":
                    worst = max(worst, far / near)
                trips, statements = seen[name, label]
                print(f"| {label} | {near:.2f} s | {far:.2f} s | {(far - near) * 1000:+.0f} ms | {far / near:.2f}x "
                      f"| {trips} | {statements} |")
            print()
        print(f"round trips: as the proxy saw them, {'' if options.no_handshake_delay else 'TCP handshake and '}start-up included (a read's COMMIT sent "
              f"unanswered at close counts too); target: every ratio within {TARGET}x "
              f"({'met' if worst <= TARGET else 'NOT met'}: worst {worst:.2f}x)")
        return 0 if worst <= TARGET else 1
    finally:
        if proxy is not None:
            proxy.stop()
        if cluster is not None:
            stop_cluster(cluster)
        elif options.url:
            try:
                admin(admin_url, f"DROP DATABASE IF EXISTS {DATABASE}")
            except Exception as exc:  # the numbers are printed already
                log(f"could not drop {DATABASE}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
