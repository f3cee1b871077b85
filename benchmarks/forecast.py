"""The forecast's speed targets (issue 25), each against its anchor measured in the same run.

    python benchmarks/run.py --only forecast --sizes 100k,1M --runs 5 --data DIR [--write-readme]

- `report forecast -p this-year`, at every size (the issue's is 1M): within start-up + 1.5x the raw SQL
  of its own queries. Start-up is `user list` on the same file (Python, Typer, opening the database, one
  query); the raw SQL is the very statements the command ran (traced in-process, as run.py's anchors)
  given to the `sqlite3` CLI. Limit: median(`user list`) + 1.5 x median(sqlite3).
- `report forecast --backtest --step month` (the twelve whole months before today: 12 monthly
  snapshots), at the sizes up to 100k: under 30 s. Its raw SQL is shown beside it.

The three (or two) commands of a target run interleaved, so a busy machine slows them alike; the verdict
is on wall-clock medians, with the CPU medians (steadier on a shared machine) judged the same way beside it.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

import generate
from run import Command, interleave, log, ms

FORECAST = ["report", "forecast", "-p", "this-year"]
BACKTEST = ["report", "forecast", "--backtest", "--step", "month"]
STARTUP = ["user", "list"]
SQL_FACTOR = 1.5  # the forecast may take start-up + this x its own SQL
BACKTEST_SECONDS = 30.0
BACKTEST_SNAPSHOTS = 12
BACKTEST_MAX_DEALS = 100_000  # the target's size; larger agencies time the forecast only


@dataclass
class Target:
    """One target's measurement: the command, its anchors and the limit they set (wall and CPU seconds)."""

    what: str
    data: str
    ours: Command
    startup: Command | None
    sql: Command | None
    limit: float
    cpu_limit: float
    rule: str

    @property
    def met(self) -> bool:
        return self.ours.median <= self.limit

    @property
    def cpu_met(self) -> bool:
        return self.ours.cpu_median <= self.cpu_limit


def snapshots(bench, db) -> int:
    """How many snapshots the timed backtest scores (the target says twelve)."""
    output = subprocess.run(bench.ours(db, BACKTEST + ["--format", "json"]).argv, capture_output=True,
                            env=bench.env, check=True).stdout
    return len(json.loads(output)["snapshots"])


def measure(bench, sizes: list[str]) -> list[Target]:
    """Time both targets on each agency of `sizes` (generated first when missing, untimed)."""
    targets = []
    for size in sizes:
        db = bench.agency(size)
        log(f"forecast targets, {size} deals")
        forecast, startup = bench.ours(db, FORECAST), bench.ours(db, STARTUP)
        sql = bench.sql_anchor(db, FORECAST, f"forecast-target-{size}")
        if sql is None:
            raise SystemExit("the forecast target needs the sqlite3 CLI (apt-get install sqlite3)")
        log(f"  `{' '.join(FORECAST)}` ({size})")
        interleave([forecast, startup, sql], bench.runs, bench.env)
        targets.append(Target(f"`{' '.join(FORECAST)}`", size, forecast, startup, sql,
                              startup.median + SQL_FACTOR * sql.median,
                              startup.cpu_median + SQL_FACTOR * sql.cpu_median,
                              f"start-up + {SQL_FACTOR}x SQL"))
        if generate.parse_size(size) > BACKTEST_MAX_DEALS:
            continue
        count = snapshots(bench, db)
        if count != BACKTEST_SNAPSHOTS:
            raise SystemExit(f"the backtest scored {count} snapshots, not {BACKTEST_SNAPSHOTS}")
        backtest = bench.ours(db, BACKTEST)
        sql = bench.sql_anchor(db, BACKTEST, f"backtest-target-{size}")
        log(f"  `{' '.join(BACKTEST)}` ({size}, {count} snapshots)")
        interleave([backtest] + ([sql] if sql else []), bench.runs, bench.env)
        targets.append(Target(f"`{' '.join(BACKTEST)}`", f"{size}, {count} snapshots", backtest, None, sql,
                              BACKTEST_SECONDS, BACKTEST_SECONDS, f"under {BACKTEST_SECONDS:.0f} s"))
    return targets


def table(targets: list[Target]) -> str:
    """The Markdown table of the targets: medians, the anchors, the limit and whether each was met."""
    lines = ["| target | data | salesselect | start-up (`user list`) | raw SQL (sqlite3) | x SQL | limit | met "
             "| CPU: salesselect / limit | met (CPU) |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |"]
    for t in targets:
        startup = ms(t.startup.median) if t.startup else ""
        sql = ms(t.sql.median) if t.sql else ""
        ratio = f"{t.ours.median / t.sql.median:.2f}x" if t.sql and t.sql.median else ""
        lines.append(f"| {t.what} | {t.data} | {ms(t.ours.median)} | {startup} | {sql} | {ratio} "
                     f"| {t.rule}: {ms(t.limit)} | {'yes' if t.met else '**no**'} "
                     f"| {ms(t.ours.cpu_median)} / {ms(t.cpu_limit)} | {'yes' if t.cpu_met else '**no**'} |")
    return "\n".join(lines)
