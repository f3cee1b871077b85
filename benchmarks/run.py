"""Time the everyday commands against their anchors, side by side, and print a Markdown table.

    python benchmarks/run.py                      # quick: 1k and 10k deals, 3 runs (about a minute)
    python benchmarks/run.py --sizes 1k,10k,100k,1M --bulk-max 100k --runs 5 --data /work/bench-data  # full
    python benchmarks/run.py --write-readme       # also put the table into README.md
    python benchmarks/run.py --only forecast --sizes 100k,1M --runs 5 --data DIR  # the forecast's targets

Each pair runs interleaved (ours, anchor, anchor, ours, ...) so a busy machine slows both alike;
medians are shown with the ratio ours / anchor and each one's peak RSS (`/usr/bin/time -f %M`).
Anchors: start-up against `python -c "import typer"` and `import typer, pydantic` (what Typer
itself costs); board, reports and export against the very SQL the command ran (traced from an
in-process run) given to the `sqlite3` CLI; import against `sqlite-utils insert --csv` of the same
file; board against Taskwarrior's `task next limit:40` over as many tasks as open deals.
The forecast's two speed targets (issue 25: `report forecast` within start-up + 1.5x its own SQL,
`--backtest` under 30 s at 100k) get a table of their own with a verdict each (benchmarks/forecast.py).
Agencies missing from --data are generated first (benchmarks/generate.py); that is not timed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402  (benchmarks/ is not a package)

README = HERE.parent / "README.md"
BEGIN, END = "<!-- speed-table: begin (benchmarks/run.py --write-readme) -->", "<!-- speed-table: end -->"
TARGETS_BEGIN = "<!-- forecast-targets: begin (benchmarks/run.py --only forecast --write-readme) -->"
TARGETS_END = "<!-- forecast-targets: end -->"
PYTHON = sys.executable
SALESSELECT = [str(Path(PYTHON).parent / "salesselect")]
REPORTS = [["report", "winloss", "-p", "this-year"], ["report", "sources", "-p", "this-year"],
           ["report", "pipeline"], ["report", "stages", "-p", "this-year"], ["report", "forecast", "-p", "this-year"],
           ["report", "forecast", "--backtest", "--step", "month"]]
TIME = shutil.which("time", path="/usr/bin:/bin")
STARTUP_ROWS = set()  # filled by Bench.startup: rows that are start-up itself
STARTUP = [["--version"], ["--help"], ["user", "list"], ["opp", "--help"], ["config", "show"]]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Command:
    """One program to time: argv, where its stdin comes from, what to do before each run (untimed)."""

    label: str
    argv: list[str]
    stdin: Path | None = None
    prepare: object = None
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds: steadier than wall time when busy

    def run(self, env: dict) -> None:
        if self.prepare:
            self.prepare()
        # /usr/bin/time reports the program's own peak RSS; wait4's would include the fork of this big process
        with tempfile.NamedTemporaryFile() as peak, tempfile.TemporaryFile() as err, \
                (open(self.stdin, "rb") if self.stdin else open(os.devnull, "rb")) as inp:
            argv = ([TIME, "-f", "%M %U %S", "-o", peak.name] if TIME else []) + self.argv
            started = time.perf_counter()
            process = subprocess.run(argv, stdin=inp, stdout=subprocess.DEVNULL, stderr=err, env=env)
            elapsed = time.perf_counter() - started
            if process.returncode != 0:
                err.seek(0)
                raise SystemExit(f"{self.label} failed ({process.returncode}): {err.read().decode()[-500:]}")
            if TIME:
                rss, user, system = Path(peak.name).read_text().split()[-3:]
                self.rss_kb.append(int(rss))
                self.cpu.append(float(user) + float(system))
        self.times.append(elapsed)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def rss_mb(self) -> float:
        return max(self.rss_kb, default=0) / 1024  # 0 without /usr/bin/time

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else 0.0


def interleave(commands: list[Command], runs: int, env: dict) -> None:
    """Run every command once untimed (bytecode compiled, files cached: a user's machine), then `runs`
    times, rotating the order each round."""
    for command in commands:
        command.run(env)
        command.times.clear(), command.rss_kb.clear(), command.cpu.clear()
    for round_ in range(runs):
        shift = round_ % len(commands)
        for command in commands[shift:] + commands[:shift]:
            command.run(env)


@dataclass
class Row:
    what: str
    data: str
    ours: Command
    anchor: Command | None
    note: str = ""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def table(rows: list[Row], startup: float | None) -> str:
    """The Markdown table; `startup` (the CPU median of `user list`) gives the column (ours - start-up) / anchor."""
    lines = ["| what | data | salesselect | anchor | anchor time | ratio | over anchor | beyond start-up "
             "| CPU (ours / anchor) | peak RSS (ours / anchor) |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        if row.anchor is None:
            lines.append(f"| {row.what} | {row.data} | {ms(row.ours.median)} | {row.note} | | | | "
                         f"| {ms(row.ours.cpu_median)} | {row.ours.rss_mb:.0f} MB |")
            continue
        ratio = row.ours.median / row.anchor.median
        over = (row.ours.median - row.anchor.median) * 1000
        # in CPU time, which a busy machine disturbs less; blank where the anchor is too quick to divide by
        beyond = (f"{(row.ours.cpu_median - startup) / row.anchor.cpu_median:.2f}x"
                  if startup is not None and row.what not in STARTUP_ROWS and row.anchor.cpu_median >= 0.05 else "")
        lines.append(
            f"| {row.what} | {row.data} | {ms(row.ours.median)} | {row.anchor.label} | {ms(row.anchor.median)} "
            f"| {ratio:.2f}x | {over:+,.0f} ms | {beyond} | {ms(row.ours.cpu_median)} / {ms(row.anchor.cpu_median)} "
            f"| {row.ours.rss_mb:.0f} / {row.anchor.rss_mb:.0f} MB |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{platform.system()} {platform.release()}")


# ---------------------------------------------------------------------------- tools the anchors need


def ensure_tool(command: str, package: str) -> str | None:
    """The tool's path, installing its apt package when missing; None when that is not possible."""
    found = shutil.which(command)
    if found:
        return found
    log(f"{command} is missing: trying apt-get install -y {package}")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    for argv in (prefix + ["apt-get", "install", "-y", "-q", package],
                 prefix + ["apt-get", "update", "-q"], prefix + ["apt-get", "install", "-y", "-q", package]):
        try:
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        found = shutil.which(command)
        if found:
            return found
    return None


# ---------------------------------------------------------------------------- the SQL a command runs


def traced_sql(argv: list[str], env: dict) -> str:
    """Run the command in this process with every SQLite statement traced; the reads, as one script.

    Statements calling fold() (the name look-ups of filters) are left out: the sqlite3 CLI lacks it.
    """
    from typer.testing import CliRunner

    from salesselect_cli.main import app

    statements: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    sqlite3.connect = connect
    try:
        result = CliRunner().invoke(app, argv, env=env)
    finally:
        sqlite3.connect = real_connect
    if result.exit_code != 0:
        raise SystemExit(f"salesselect {' '.join(argv)} failed: {result.output[-500:]}")
    reads = [s.strip() for s in statements
             if s.lstrip().upper().startswith(("SELECT", "WITH")) and "fold(" not in s]
    return ";\n".join(reads) + ";\n"


# ---------------------------------------------------------------------------- the benchmark


class Bench:
    def __init__(self, data: Path, runs: int):
        self.data, self.runs = data, runs
        self.work = Path(tempfile.mkdtemp(prefix="salesselect-bench-"))
        self.env = {**os.environ, "SALESSELECT_TODAY": generate.TODAY.isoformat(), "SALESSELECT_USER": generate.ME,
                    "NO_COLOR": "1", "COLUMNS": "160"}
        self.env.pop("SALESSELECT_DB", None)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode compiled
        self.rows: list[Row] = []
        self.startup_median: float | None = None
        self.sqlite3 = ensure_tool("sqlite3", "sqlite3")

    def agency(self, size: str) -> Path:
        path = self.data / f"{size}.db"
        if not path.exists():
            log(f"generating {path} ...")
            self.data.mkdir(parents=True, exist_ok=True)
            generate.generate(path, generate.parse_size(size))
        return path

    def ours(self, db: Path, argv: list[str], label: str | None = None) -> Command:
        return Command(label or "salesselect " + " ".join(argv), SALESSELECT + ["--db", str(db)] + argv)

    def sql_anchor(self, db: Path, argv: list[str], name: str, csv: bool = False) -> Command | None:
        if not self.sqlite3:
            return None
        script = self.work / f"{name}.sql"
        script.write_text(traced_sql(["--db", str(db)] + argv, self.env))
        return Command("sqlite3 -csv (same SQL)" if csv else "sqlite3 (same SQL)",
                       [self.sqlite3] + (["-csv"] if csv else []) + [str(db)], stdin=script)

    def pair(self, what: str, data: str, ours: Command, anchor: Command | None, note: str = "") -> None:
        log(f"  {what} ({data})")
        interleave([ours] + ([anchor] if anchor else []), self.runs, self.env)
        self.rows.append(Row(what, data, ours, anchor, note or ("" if anchor else "sqlite3 CLI missing")))

    def startup(self, size: str) -> None:
        db = self.agency(size)
        log("start-up")
        typer_only = Command('python -c "import typer"', [PYTHON, "-c", "import typer"])
        # the anchor is Typer with pydantic (what typer 0.29+ costs); pydantic is not our dependency
        has_pydantic = subprocess.run([PYTHON, "-c", "import pydantic"], capture_output=True).returncode == 0
        with_pydantic = Command('python -c "import typer, pydantic"', [PYTHON, "-c", "import typer, pydantic"])
        anchors = [typer_only, with_pydantic] if has_pydantic else [typer_only]
        note = "" if has_pydantic else "pydantic not installed: anchor is import typer (pip install pydantic)"
        if not has_pydantic:
            log("  pydantic is not installed here: start-up is compared with `import typer` only")
        ours = [self.ours(db, argv) for argv in STARTUP]
        interleave(anchors + ours, self.runs, self.env)
        version = ours[0]
        self.rows.append(Row("`--version`", "none", version, typer_only))
        for argv, command in zip(STARTUP, ours):
            what = f"`{' '.join(argv)}`"
            STARTUP_ROWS.add(what)
            if command is version and not has_pydantic:
                continue  # the row above already compares it with `import typer`
            self.rows.append(Row(what, "none" if argv[-1].startswith("--") else size, command,
                                 anchors[-1], note))
            if argv == ["user", "list"]:
                self.startup_median = command.cpu_median

    def everyday(self, size: str, bulk: bool = True) -> None:
        db = self.agency(size)
        log(f"{size} deals")
        self.pair("`board`", size, self.ours(db, ["board"]), self.sql_anchor(db, ["board"], f"board-{size}"))
        for argv in REPORTS:
            self.pair(f"`{' '.join(argv)}`", size, self.ours(db, argv),
                      self.sql_anchor(db, argv, f"{argv[1]}-{size}"))
        if not bulk:
            return
        export = ["export", "--format", "csv"]
        self.pair("`export` (CSV)", size, self.ours(db, export), self.sql_anchor(db, export, f"export-{size}", csv=True))
        self.import_pair(db, size)

    def import_pair(self, db: Path, size: str) -> None:
        csv_file = self.work / f"deals-{size}.csv"
        with open(csv_file, "wb") as out:
            subprocess.run(SALESSELECT + ["--db", str(db), "export", "--format", "csv"], stdout=out, env=self.env,
                           check=True)
        empty = self.work / f"empty-{size}.db"
        if not empty.exists():  # the same setup and recruiters as the agency, no deals
            generate.init_database(empty, generate.ME, generate.TODAY,
                                   fill=lambda store: generate.setup(store, generate.parse_size(size)))
        target, anchor_target = self.work / "import.db", self.work / "anchor.db"

        def fresh_target() -> None:
            shutil.copyfile(empty, target)

        def fresh_anchor() -> None:
            anchor_target.unlink(missing_ok=True)

        ours = Command("salesselect import", SALESSELECT + ["--db", str(target), "import", str(csv_file)],
                       prepare=fresh_target)
        sqlite_utils = Path(PYTHON).parent / "sqlite-utils"
        anchor = Command("sqlite-utils insert --csv",
                         [str(sqlite_utils), "insert", str(anchor_target), "opportunities", str(csv_file), "--csv"],
                         prepare=fresh_anchor)
        self.pair("`import` (CSV)", size, ours, anchor)

    def taskwarrior(self, size: str) -> None:
        db = self.agency(size)
        board = self.ours(db, ["board"], "salesselect board")
        opens = json.loads(subprocess.run(SALESSELECT + ["--db", str(db), "export", "--format", "json", "--status",
                                                         "open"], capture_output=True, env=self.env, check=True).stdout)
        what, data = "`board` vs Taskwarrior", f"{len(opens):,} open deals / tasks"
        task = ensure_tool("task", "taskwarrior")
        if not task:
            log("  Taskwarrior cannot be installed here: skipping board vs task next")
            self.pair(what, data, board, None, "Taskwarrior not installable: skipped")
            return
        home = self.work / f"task-{size}"
        home.mkdir(exist_ok=True)
        rc = home / "taskrc"
        rc.write_text(f"data.location={home}\nconfirmation=off\nverbose=nothing\ncolor=off\nhooks=off\n"
                      "news.version=99.99.99\n")
        tasks = [{"description": f"{d['title']} ({d['company']})", "project": d["stage"].replace(" ", "_"),
                  "status": "pending", "entry": d["created"].replace("-", "") + "T090000Z",
                  **({"due": d["expected_close"].replace("-", "") + "T000000Z"} if d["expected_close"] else {})}
                 for d in opens]
        tasks_file = home / "tasks.json"
        tasks_file.write_text(json.dumps(tasks))
        env = {**self.env, "TASKRC": str(rc), "TASKDATA": str(home)}
        if not (home / "pending.data").exists() and not (home / "taskchampion.sqlite3").exists():
            subprocess.run([task, "rc.verbose=nothing", "import", str(tasks_file)], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        anchor = Command("task next limit:40", [task, "next", "limit:40"])
        log(f"  {what} ({data})")
        saved = self.env
        self.env = env
        try:
            interleave([board, anchor], self.runs, env)
        finally:
            self.env = saved
        self.rows.append(Row(what, data, board, anchor))


def write_readme(text: str, begin: str = BEGIN, end: str = END) -> None:
    readme = README.read_text()
    head, found, rest = readme.partition(begin)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise SystemExit(f"README.md has no {begin} ... {end} block")
    README.write_text(f"{head}{begin}\n{text}\n{end}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k", help="agencies to time (1k,10k,100k,1M); default 1k,10k")
    parser.add_argument("--runs", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where the agencies are (made when missing)")
    parser.add_argument("--bulk-max", default="1k", help="time import and export up to this size (default 1k)")
    parser.add_argument("--taskwarrior-size", help="the agency whose open deals face Taskwarrior (default: the largest"
                        " size up to 100k)")
    parser.add_argument("--only", choices=["startup", "everyday", "taskwarrior", "forecast"], action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--write-readme", action="store_true", help="replace the speed table in README.md")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for size in sizes:
        generate.parse_size(size)
    parts = args.only or ["startup", "everyday", "taskwarrior", "forecast"]
    bench = Bench(args.data, args.runs)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    targets = []
    try:
        if "startup" in parts:
            bench.startup(sizes[0])
        if "everyday" in parts:
            for size in sizes:
                bench.everyday(size, bulk=generate.parse_size(size) <= generate.parse_size(args.bulk_max))
        if "taskwarrior" in parts:
            small = [s for s in sizes if generate.parse_size(s) <= 100_000] or sizes
            bench.taskwarrior(args.taskwarrior_size or max(small, key=generate.parse_size))
        if "forecast" in parts:
            import forecast

            targets = forecast.measure(bench, sizes)
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    heading = (f"Medians of {args.runs} interleaved runs, {dt.date.today().isoformat()}, on {machine()}.\n"
               f"Made by `{command.strip()}`.")
    if bench.rows:
        text = (f"{heading} *beyond start-up*: CPU of (salesselect - `user list`) / anchor, where the anchor takes "
                f"50 ms or more.\n\n{table(bench.rows, bench.startup_median)}")
        print(text)
        if args.write_readme:
            write_readme(text)
    if targets:
        import forecast

        # other work on the machine stretches wall time, not CPU time: say how busy it was
        text = (f"{heading} Load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. *x SQL*: "
                f"salesselect / its raw SQL; *limit*: the target, from anchors timed in the same run.\n\n"
                f"{forecast.table(targets)}")
        print(text)
        if args.write_readme:
            write_readme(text, TARGETS_BEGIN, TARGETS_END)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
