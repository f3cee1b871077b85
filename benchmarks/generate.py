"""Build a benchmark agency of N deals: deterministic, through the store, years of history.

    python benchmarks/generate.py --deals 10k --out /tmp/bench/10k.db

Every deal is planned by one `random.Random(seed)`: a business type, a source, a walk through the
type's stages (days per stage as in the demo), then won, lost (in the stage the demo's story says)
or still open today; one in twelve stalls in a stage for good. The rows go through the store's bulk
import path (`Store.import_opportunities`, the one `salesselect import` uses, with each deal's path
through the stages), so the history and the derived stage_visits are the ones the CLI itself would
write; open deals get follow-ups through `Store.add_followup`. Same seed, same
size, same today: the same file, row for row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

from salesselect_cli import demo
from salesselect_cli.rules.importing import ImportRow
from salesselect_cli.store import Store, init_database

TODAY = dt.date(2026, 11, 27)  # the benchmark's fixed today ($SALESSELECT_TODAY in run.py)
SEED = 16
HISTORY_DAYS = 3 * 365
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}
ME = "bench"
STALL_CHANCE = 0.08  # with the deals still under way: about 10% open, so 100k deals put 10,000 on the board
TYPE_WEIGHTS = {"Staffing": 7, "Agencies": 3}


def parse_size(text: str) -> int:
    """'10k' -> 10000, '1M' -> 1000000, '2500' -> 2500."""
    if text in SIZES:
        return SIZES[text]
    try:
        number = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use {', '.join(SIZES)} or a number)") from None
    if number < 1:
        raise argparse.ArgumentTypeError("a size is at least 1")
    return number


def users_for(deals: int) -> list[str]:
    """Recruiters: 5 for a small agency, one more per 20,000 deals (50 at 1M)."""
    count = max(5, min(50, deals // 20_000))
    return [f"recruiter{n:02d}" for n in range(1, count + 1)]


class Planner:
    """Plans one deal at a time from one seeded random generator."""

    def __init__(self, rng: random.Random, names, users: list[str], today: dt.date):
        self.rng, self.names, self.today = rng, names, today
        self.types = list(TYPE_WEIGHTS)
        self.type_weights = list(TYPE_WEIGHTS.values())
        self.sources = list(demo.SOURCES)
        self.source_weights = [demo.SOURCES[s][0] for s in self.sources]
        self.user_ids = [names.users[u.casefold()][0] for u in users]
        self.lost_at = list(demo.LOST_AT)
        self.lost_weights = list(demo.LOST_AT.values())

    def stage(self, name: str):
        return self.names.stages[name.casefold()]

    def reason(self, text: str, status: str) -> tuple[int, str]:
        return self.names.reasons[(text.casefold(), status)]

    def deal(self, index: int) -> ImportRow:
        """One deal: its walk through the stages decides where it is today and how it ended."""
        rng = self.rng
        business_type = rng.choices(self.types, self.type_weights)[0]
        path = demo.PATHS[business_type]
        source = rng.choices(self.sources, self.source_weights)[0]
        _, win_chance, won_reason = demo.SOURCES[source]
        created = self.today - dt.timedelta(days=rng.randrange(HISTORY_DAYS))
        won = rng.random() < win_chance
        if won:
            last = len(path) - 1
        else:
            where = rng.choices(self.lost_at, self.lost_weights)[0]
            last = len(path) - 1 if where == "last" else path.index(where)
        # some deals stall in a stage and stay open for good: the stale pipeline every agency has
        stall = rng.randrange(last + 1) if rng.random() < STALL_CHANCE else None
        day, entries, closed = created, [], None
        for position in range(last + 1):
            entries.append((day.isoformat(), self.stage(path[position])))
            if position == stall:
                break
            low, high = demo.DAYS_IN_STAGE[path[position]]
            left = day + dt.timedelta(days=rng.randint(low, high))
            if left > self.today:
                break
            day = left
        else:
            closed = day  # left its last stage: won, or lost where it was
        stage_name = path[position]
        status, reason = "open", None
        closed_from = None
        if closed:
            status = "won" if won else "lost"
            if won:
                reason = won_reason
            else:
                reasons = demo.LOST_REASONS["last" if position == len(path) - 1 else stage_name]
                reason = rng.choices(list(reasons), list(reasons.values()))[0]
            closed_from = self.stage(stage_name)
            stage_name = "New client" if won else "Lost"
        reason_id, reason_text = self.reason(reason, status) if reason else (None, None)
        value = rng.randrange(20, 400) * 100_00 if business_type == "Staffing" else rng.randrange(100, 1500) * 100_00
        expected = created + dt.timedelta(days=rng.randint(20, 100)) if rng.random() < 0.9 else None
        if business_type == "Staffing":
            title = f"{rng.randint(2, 40)} {rng.choice(demo.STAFFING_ROLES)}"
            company = rng.choice(demo.COMPANIES)
        else:
            title = rng.choice(demo.AGENCY_DEALS).format(year=created.year)
            company = rng.choice(demo.AGENCY_CLIENTS)
        contact = f"{rng.choice(demo.FIRST_NAMES)} {rng.choice(demo.LAST_NAMES)}" if rng.random() < 0.7 else None
        notes = rng.choice(demo.NOTES["Proposal"]) if rng.random() < 0.1 else None
        return ImportRow(
            title=title, company=company, contact=contact,
            business_type_id=self.names.business_types[business_type.casefold()][0],
            stage=self.stage(stage_name), source_id=self.names.sources[source.casefold()][0],
            value_cents=value, expected_close=expected.isoformat() if expected else None,
            owner_id=rng.choice(self.user_ids), status=status, reason_id=reason_id, reason=reason_text,
            closed_from=closed_from, vacancy=f"VAC-{index:07d}" if won and closed else None, notes=notes,
            created=created.isoformat(), closed=closed.isoformat() if closed else None, path=tuple(entries),
        )


def setup(store: Store, deals: int) -> list[str]:
    """The demo's setup and the recruiters of an agency this size (no deals); returns their names."""
    store.setup_file.import_setup(json.loads(json.dumps(demo.SETUP)))
    users = users_for(deals)
    for name in users:
        store.people.add_user(name)
    return users


def build(store: Store, deals: int, seed: int) -> dict:
    """Fill a fresh database (inside init's transaction): the demo's setup, recruiters, `deals` deals."""
    users = setup(store, deals)
    rng = random.Random(seed)
    planner = Planner(rng, store.imports.import_names(), users, store.today)
    store.fixed_time = "09:00:00"
    result = store.imports.import_opportunities(planner.deal(i) for i in range(deals))
    first_id, count = result.first_id, result.added
    # follow-ups on open deals: most planned, some overdue, a third already done
    followups = 0
    for record in store.deals.list_opportunities(_open_filter()):
        due = store.today + dt.timedelta(days=rng.randint(-7, 21))
        fid = store.followups.add_followup(record["id"], due, rng.choice(list(demo.FOLLOWUPS.values())))
        followups += 1
        if rng.random() < 0.33:
            store.followups.complete_followup(fid)
    for workflow in demo.WORKFLOWS:
        store.workflows.add_workflow(workflow["name"], workflow["on"], workflow["actions"], to_stage=workflow.get("to_stage"),
                           to_status=workflow.get("to_status"))
    return {"deals": count, "followups": followups, **store.deals.opportunity_counts()}


def _open_filter():
    from salesselect_cli.store import OpportunityFilter

    return OpportunityFilter(status="open")


def generate(path: Path, deals: int, seed: int = SEED, today: dt.date = TODAY) -> dict:
    """Create `path` (which must not exist) holding a benchmark agency; returns its counts."""
    return init_database(path, ME, today, fill=lambda store: build(store, deals, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=parse_size, required=True, help="1k, 10k, 100k, 1M or a number")
    parser.add_argument("--out", type=Path, required=True, help="the database file to create")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="replace --out when it exists")
    args = parser.parse_args(argv)
    if args.out.exists():
        if not args.force:
            print(f"Error: {args.out} exists (use --force to replace it)", file=sys.stderr)
            return 1
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.out}{suffix}").unlink(missing_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    counts = generate(args.out, args.deals, args.seed)
    print(f"{args.out}: {counts} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
