"""Import, export and their memory against their anchors: the targets of issue 14.

    python benchmarks/import_export.py                     # 1M-row import/export, 100k export, 3 runs
    python benchmarks/import_export.py --rows 100k --runs 1  # a quick look

Targets: a 1M-row import peaks at <= 150 MB RSS and takes <= 1.1x `sqlite-utils insert --csv` of the
same file; a 1M export peaks at <= 60 MB; a 100k export takes <= 1.5x the `sqlite3 -csv` CLI running
the export's own SELECT. Each run is a fresh process measured by a small wrapper (wall time, and the
child's peak RSS from getrusage); medians are printed as a Markdown table. Not a test: timings
depend on the machine, so CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SALESSELECT = str(Path(PYTHON).parent / "salesselect")
SQLITE_UTILS = str(Path(PYTHON).parent / "sqlite-utils")

# Runs argv with stdout to a file; prints wall seconds and the child's peak RSS (KiB on Linux).
WRAPPER = """
import json, resource, subprocess, sys, time
argv, out = json.loads(sys.argv[1]), sys.argv[2]
with open(out, "wb") as handle:
    start = time.perf_counter()
    code = subprocess.run(argv, stdout=handle, stderr=subprocess.PIPE).returncode
    wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss, "code": code}))
"""


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * {"k": 1_000, "m": 1_000_000}[text[-1]]) if text[-1] in "km" else int(text)


def generate_csv(path: Path, rows: int, seed: int = 14) -> None:
    """A deals file as an agency's CRM export gives it: open and closed deals, amounts, close dates."""
    rng = random.Random(seed)
    stages = ["Lead", "Introduction", "Proposal", "Negotiation"]
    companies = [f"Company {n}" for n in range(5000)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("title,company,type,source,stage,value,close,owner,status,reason,created\n")
        for n in range(rows):
            status = rng.choices(["open", "won", "lost"], [6, 2, 2])[0]
            reason = "Good price" if status == "won" else "Too expensive" if status == "lost" else ""
            stage = rng.choice(stages)
            close = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            created = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 26):02d}"
            handle.write(f"Deal {n},{rng.choice(companies)},Staffing,{rng.choice(['Google', 'LinkedIn', 'HubSpot'])},"
                         f"{stage},{rng.randint(1, 900) * 50}.00,{close},{rng.choice(['anna', 'bob'])},{status},"
                         f"{reason},{created}\n")


def env(db: Path) -> dict:
    return dict(os.environ, SALESSELECT_DB=str(db), SALESSELECT_USER="anna", SALESSELECT_TODAY="2026-11-27",
                NO_COLOR="1")


def measure(argv: list[str], db: Path | None, out: Path) -> dict:
    run = subprocess.run([PYTHON, "-c", WRAPPER, json.dumps(argv), str(out)], capture_output=True, text=True,
                         env=env(db) if db else None, check=True)
    result = json.loads(run.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{argv} failed with exit {result['code']}")
    return result


def copy_db(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
        if Path(str(source) + suffix).exists():
            shutil.copyfile(str(source) + suffix, str(target) + suffix)


def template(folder: Path) -> Path:
    """An agency with the example setup and two users: every import starts from a copy of it."""
    db = folder / "template.db"
    if not db.exists():
        for args in (["init"], ["config", "import", str(ROOT / "examples" / "setup.json")], ["user", "add", "bob"]):
            subprocess.run([SALESSELECT, *args], env=env(db), check=True, capture_output=True)
    return db


def export_select(db: Path) -> str:
    """The export's own SELECT (with its parameters written in) for the sqlite3 CLI: the same rows."""
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.store import Store, open_connection

    store = Store(open_connection(db), db, dt.date(2026, 11, 27), "anna")
    try:
        sql, params = store.deals.export_sql(OpportunityFilter(status="all"))
    finally:
        store.close()
    parts = sql.split("?")
    assert len(parts) == len(params) + 1
    literal = [("'" + str(p).replace("'", "''") + "'") if isinstance(p, str) else str(p) for p in params]
    return "".join(part + (literal[i] if i < len(literal) else "") for i, part in enumerate(parts))


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="1M", help="rows for the import and the big export (default 1M)")
    parser.add_argument("--export-rows", default="100k", help="rows for the timed export (default 100k)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-runs", type=int, default=None, help="runs of the 1M import and export (default --runs)")
    parser.add_argument("--data", type=Path, default=None, help="keep generated files here (default: a temp dir)")
    args = parser.parse_args()
    rows, export_rows = parse_size(args.rows), parse_size(args.export_rows)
    folder = args.data or Path(tempfile.mkdtemp(prefix="salesselect-io-"))
    folder.mkdir(parents=True, exist_ok=True)
    sqlite3_cli = shutil.which("sqlite3")
    if sqlite3_cli is None:
        raise SystemExit("the sqlite3 CLI is needed (apt-get install -y sqlite3)")
    lines = ["| measure | ours | anchor | ratio | target |", "|---|---|---|---|---|"]
    try:
        empty = template(folder)
        big_csv, small_csv = folder / f"deals-{rows}.csv", folder / f"deals-{export_rows}.csv"
        for path, count in ((big_csv, rows), (small_csv, export_rows)):
            if not path.exists():
                print(f"generating {path}", file=sys.stderr)
                generate_csv(path, count)

        ours, anchor = [], []
        db, plain = folder / "import.db", folder / "plain.db"
        big_runs = args.big_runs or args.runs
        for run in range(big_runs):  # interleaved, so a busy machine slows both alike
            copy_db(empty, db)
            ours.append(measure([SALESSELECT, "import", str(big_csv), "--no-workflows"], db, folder / "out.txt"))
            for suffix in ("", "-wal", "-shm"):
                Path(str(plain) + suffix).unlink(missing_ok=True)
            anchor.append(measure([SQLITE_UTILS, "insert", str(plain), "deals", str(big_csv), "--csv"], None,
                                  folder / "out.txt"))
            print(f"import run {run + 1}: ours {ours[-1]}, sqlite-utils {anchor[-1]}", file=sys.stderr)
        ratio = median(ours, "wall") / median(anchor, "wall")
        lines.append(f"| import {rows:,} rows: time | {median(ours, 'wall'):.2f} s | {median(anchor, 'wall'):.2f} s "
                     f"(sqlite-utils insert --csv) | {ratio:.2f}x | <= 1.1x |")
        lines.append(f"| import {rows:,} rows: CPU | {median(ours, 'cpu'):.2f} s | {median(anchor, 'cpu'):.2f} s | "
                     f"{median(ours, 'cpu') / median(anchor, 'cpu'):.2f}x | |")
        lines.append(f"| import {rows:,} rows: peak RSS | {median(ours, 'rss_kb') / 1024:.0f} MB | "
                     f"{median(anchor, 'rss_kb') / 1024:.0f} MB | | <= 150 MB |")

        big_export = [measure([SALESSELECT, "export", "--output", str(folder / "export.csv")], db, folder / "out.txt")
                      for _ in range(big_runs)]
        lines.append(f"| export {rows:,} rows: peak RSS | {median(big_export, 'rss_kb') / 1024:.0f} MB | | | "
                     f"<= 60 MB |")

        small = folder / "small.db"
        copy_db(empty, small)
        subprocess.run([SALESSELECT, "import", str(small_csv), "--no-workflows"], env=env(small), check=True,
                       capture_output=True)
        ours, anchor = [], []
        for _ in range(args.runs):
            ours.append(measure([SALESSELECT, "export", "--output", str(folder / "small.csv")], small,
                                folder / "out.txt"))
            anchor.append(measure([sqlite3_cli, "-csv", "-header", str(small), export_select(small)], None,
                                  folder / "anchor.csv"))
        ratio = median(ours, "wall") / median(anchor, "wall")
        lines.append(f"| export {export_rows:,} rows: time | {median(ours, 'wall'):.2f} s | "
                     f"{median(anchor, 'wall'):.2f} s (sqlite3 -csv, the export's SELECT) | {ratio:.2f}x | <= 1.5x |")
        lines.append(f"| export {export_rows:,} rows: CPU | {median(ours, 'cpu'):.2f} s | {median(anchor, 'cpu'):.2f} s | "
                     f"{median(ours, 'cpu') / median(anchor, 'cpu'):.2f}x | |")
        lines.append(f"| export {export_rows:,} rows: peak RSS | {median(ours, 'rss_kb') / 1024:.0f} MB | "
                     f"{median(anchor, 'rss_kb') / 1024:.0f} MB | | |")
    finally:
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"Medians of {args.runs} runs ({args.big_runs or args.runs} for {rows:,} rows); wall and CPU seconds.\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
