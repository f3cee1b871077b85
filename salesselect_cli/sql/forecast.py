"""Win chances, the forecast and goals: the counts the learned chance trains on, the open deals expected in a
period grouped by what decides their chance, the value won, and the goals per owner and period.

The rules (rules/forecast.py) decide; this room only counts. Nothing here loads every deal into Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from salesselect_cli.errors import NotFound
from salesselect_cli.i18n import _
from salesselect_cli.model import OpportunityFilter
from salesselect_cli.rules.money import cents_to_decimal_string
from salesselect_cli.sql.base import BaseRoom, Floor, value_band_sql
from salesselect_cli.sql.opportunities import live

if TYPE_CHECKING:
    from salesselect_cli.rules.forecast import ChanceContext, History
    from salesselect_cli.sql.opportunities import OpportunityRoom
    from salesselect_cli.sql.people import PeopleRoom

# Win chances may be in use (the board's columns say whether they are): an open stage has its percentage set, or a
# deal was ever given a chance of its own
CHANCES_MAY_BE_IN_USE = ("(EXISTS (SELECT 1 FROM stages p WHERE p.probability IS NOT NULL AND p.auto_status IS NULL"
                         " AND p.archived = 0) OR EXISTS (SELECT 1 FROM history h WHERE h.field = 'probability'))")
# What --by groups the forecast by: the SQL of the group's name (aliases as in _forecast_from)
GROUP_SQL = {"owner": "u.name", "type": "bt.name", "source": "src.name", "stage": "s.name", None: "NULL"}


class ForecastRoom(BaseRoom):
    """Counts for win chances and the forecast, and the goals. Uses opportunities (filters) and people."""

    def __init__(self, floor: Floor, people: PeopleRoom, deals: OpportunityRoom):
        super().__init__(floor)
        self.people = people
        self.deals = deals
        self._chance_context: ChanceContext | None = None

    def learning_counts(self, start: dt.date, end: dt.date) -> "History":
        """The History of the deals closed from `start` to `end` (inclusive), in ONE statement."""
        return self.learning_counts_by_window([(start, end)])[0]

    def learning_counts_by_window(self, windows: "list[tuple[dt.date, dt.date]]") -> "list[History]":
        """One History per window (first and last closing day, inclusive), all in ONE statement over the closed
        deals: each counted once, in the bucket of closing days it falls in (rules.forecast.window_buckets), and
        each window the sum of its buckets. A deal counts for every stage it reached (once, however often:
        idx_stage_visits_reached answers 'did it reach this stage' from the index alone); the other fields are
        grouped once per (type, source, owner, value band, bucket) and summed per field from that."""
        from salesselect_cli.rules.forecast import histories_from_bucket_counts

        if not windows:
            return []
        sql, params, buckets = self._learning_sql(windows)
        return histories_from_bucket_counts(self._all(sql, params), buckets)

    def _learning_sql(self, windows: "list[tuple[dt.date, dt.date]]", only_when: str = "1 = 1") -> tuple[str, list, Any]:
        """(sql, params, buckets) of learning_counts_by_window's statement; it counts no deal unless `only_when`."""
        from salesselect_cli.rules.forecast import window_buckets

        buckets = window_buckets(windows)
        first, last = min(start for start, _end in windows), max(end for _start, end in windows)
        bucket = " ".join(f"WHEN o.closed {comparison} ? THEN {index}" for index, (comparison, _day)
                          in enumerate(buckets.tests))
        won = "SUM(CASE WHEN c.status = 'won' THEN 1 ELSE 0 END)"
        lost = "SUM(CASE WHEN c.status = 'lost' THEN 1 ELSE 0 END)"
        by_field = "SUM(g.won), SUM(g.lost)"
        # idx_report_closed covers c: a range of closing days, not every closed deal (status = ? looks cheaper);
        # c in id order probes idx_stage_visits_reached in its own order (half the CPU at 1M deals)
        sql = f"""
            WITH c AS MATERIALIZED (
                   SELECT o.id, o.status, o.business_type_id, o.source_id, o.owner_id,
                          {value_band_sql('o.value_cents')} AS band, CASE {bucket} ELSE {len(buckets.tests)} END AS bucket
                     FROM opportunities o {self.conn.indexed_by("idx_report_closed")}
                    WHERE {live('o')} AND o.status IN ('won', 'lost') AND o.closed >= ? AND o.closed <= ? AND {only_when}
                    ORDER BY o.id),
                 g AS MATERIALIZED (
                   SELECT c.business_type_id, c.source_id, c.owner_id, c.band, c.bucket, {won} AS won, {lost} AS lost
                     FROM c GROUP BY c.business_type_id, c.source_id, c.owner_id, c.band, c.bucket)
            SELECT 'total' AS field, NULL AS value, g.bucket, {by_field} FROM g GROUP BY g.bucket
            UNION ALL
            SELECT 'stage', s.name, c.bucket, {won}, {lost}
              FROM stages s CROSS JOIN c
             WHERE s.auto_status IS NULL
               AND EXISTS (SELECT 1 FROM stage_visits v WHERE v.opportunity_id = c.id AND v.stage_id = s.id)
             GROUP BY s.name, c.bucket
            UNION ALL
            SELECT 'business_type', bt.name, g.bucket, {by_field} FROM g JOIN business_types bt ON bt.id = g.business_type_id
             GROUP BY bt.name, g.bucket
            UNION ALL
            SELECT 'source', src.name, g.bucket, {by_field} FROM g JOIN sources src ON src.id = g.source_id
             GROUP BY src.name, g.bucket
            UNION ALL
            SELECT 'owner', u.name, g.bucket, {by_field} FROM g JOIN users u ON u.id = g.owner_id GROUP BY u.name, g.bucket
            UNION ALL
            SELECT 'value_band', g.band, g.bucket, {by_field} FROM g GROUP BY g.band, g.bucket"""
        # closed is a day ('YYYY-MM-DD')
        params = [day for _comparison, day in buckets.tests] + [first.isoformat(), last.isoformat()]
        return sql, params, buckets

    def chance_context(self, before: dt.date | None = None) -> "ChanceContext":
        """The history and model a chance needs as of today (two statements, once per command); with `before`,
        as of that day: trained only on deals closed before it (the backtest)."""
        if before is None and self._chance_context is not None:
            return self._chance_context
        context = self.chance_contexts([before])[0]
        if before is None:
            self._chance_context = context
        return context

    def chance_contexts(self, befores: "list[dt.date | None]") -> "list[ChanceContext]":
        """chance_context for each day of `befores` (None: today), in two statements however many there are:
        the backtest's snapshots, each trained only on the deals closed before it."""
        from salesselect_cli.rules.forecast import ChanceContext, learn, learning_window

        windows = [learning_window(before - dt.timedelta(days=1) if before else self.today) for before in befores]
        histories = self.learning_counts_by_window(windows)
        stages = {row[0]: (row[1], row[2]) for row in self._all("SELECT name, auto_status, probability FROM stages")}
        return [ChanceContext(history, learn(history), stages) for history in histories]

    def with_chances(self, records: Iterable[dict], explain: bool = False) -> Iterator[dict]:
        """Records with `probability` (0-100 or None) and `probability_basis` (set, learned or stage) added;
        `_chance` keeps the whole Chance (its reasons) for people."""
        from salesselect_cli.rules.forecast import value_band

        context = None
        for record in records:
            if context is None:
                context = self.chance_context()
            deal = {"stage": record["stage"], "business_type": record["business_type"], "source": record["source"],
                    "owner": record["owner"], "value_band": value_band(record["_value_cents"])}
            chance = context.chance(deal, record.get("_probability_set"), explain=explain)
            yield {**record, "probability": chance.probability, "probability_basis": chance.basis, "_chance": chance}

    def export_rows_with_chances(self, flt: OpportunityFilter, decimal_mark: str = ".") -> Iterator[tuple]:
        """The export's rows (OpportunityRoom.export_rows) with `probability` and `probability_basis` last. One
        chance per combination of what decides it (stage, type, source, owner, value band, own percentage): a
        big export computes a few thousand chances, not one per deal."""
        context = None
        known: dict[tuple, tuple] = {}
        # what decides a chance, unguarded, last
        keys = f", s.name, bt.name, src.name, u.name, {value_band_sql('o.value_cents')}, o.probability"
        for row in self.deals.export_rows(flt, decimal_mark, keys):
            key = tuple(row[-6:])
            found = known.get(key)
            if found is None:
                if context is None:
                    context = self.chance_context()
                stage, business_type, source, owner, band, set_percent = key
                deal = {"stage": stage, "business_type": business_type, "source": source, "owner": owner,
                        "value_band": band}
                chance = context.chance(deal, set_percent, explain=False)
                found = known[key] = (chance.probability, chance.basis)
            yield tuple(row[:-6]) + found

    def weighted_by_stage(self, columns: list[dict]) -> dict[int, int] | None:
        """The board's weighted value per stage id: Σ value x win chance (whole cents) of the open deals in the
        board's `columns` (ReportRoom.board_columns, with their chance buckets); None when chances are not in use
        (no stage has a percentage and no card on the board a chance of its own).
        One statement, the learning counts: the board's own statement brought the buckets and the stages."""
        from decimal import Decimal

        from salesselect_cli.rules.forecast import ChanceContext, histories_from_bucket_counts, learn, weighted_cents

        buckets = [bucket for column in columns for bucket in column["chance_buckets"]]
        # in use: a stage's percentage set, or a card on the board with a chance of its own
        if not any(column["stage_chances"] for column in columns) and all(b[6] is None for b in buckets):
            return None
        if not buckets:
            return {}
        sql, params, windows = self._board_learning_sql()
        history = histories_from_bucket_counts(self._all(sql, params), windows)[0]
        stages = {column["stage"]: (column["auto_status"], column["probability"]) for column in columns}
        context = ChanceContext(history, learn(history), stages)
        sums: dict[int, Decimal] = {}
        for stage_id, stage, business_type, source, owner, band, set_percent, value in buckets:
            deal = {"stage": stage, "business_type": business_type, "source": source, "owner": owner, "value_band": band}
            chance = context.chance(deal, set_percent, explain=False)
            sums[stage_id] = sums.get(stage_id, Decimal(0)) + weighted_cents(int(value or 0), chance.probability)
        return {stage_id: int(total.quantize(Decimal(1))) for stage_id, total in sums.items()}

    def _board_learning_sql(self) -> tuple[str, list, Any]:
        """The learning counts weighted_by_stage needs, as a statement that counts nothing while win chances are out
        of use (no open stage's percentage set, no deal ever given a chance of its own), so that it can be sent
        before the board's columns say whether they are in use."""
        from salesselect_cli.rules.forecast import learning_window

        return self._learning_sql([learning_window(self.today)], CHANCES_MAY_BE_IN_USE)

    def expect_weighted(self) -> None:
        """weighted_by_stage may follow (the board): a server across a network sends its learning counts with the
        next statement; while chances are out of use they count nothing."""
        sql, params, _windows = self._board_learning_sql()
        self.conn.prefetch(sql, params)

    # ------------------------------------------------------------ the forecast

    def forecast_buckets(self, flt: OpportunityFilter, start: dt.date, end: dt.date, by: str | None,
                         today: dt.date) -> list[tuple]:
        """The open deals expected to close from `start` to `end` (overdue ones and those without a date count
        when the period holds today), grouped by (group, stage, type, source, owner, value band, percent set):
        rows of (group, stage, business_type, source, owner, band, set percent, count, value cents)."""
        where, params = self.deals.filter_sql(OpportunityFilter(**{**flt.__dict__, "status": "open"}))
        group = GROUP_SQL[by]
        current = start <= today <= end
        in_period = "(o.expected_close >= ? AND o.expected_close <= ?)"
        period_params = [start.isoformat(), end.isoformat()]
        if current:
            in_period = f"({in_period} OR o.expected_close < ? OR o.expected_close IS NULL)"
            period_params.append(start.isoformat())
        sql = f"""
            SELECT {group} AS grp, s.name, bt.name, src.name, u.name, {value_band_sql('o.value_cents')} AS band,
                   o.probability, COUNT(*), SUM(o.value_cents)
              FROM opportunities o
              JOIN business_types bt ON bt.id = o.business_type_id
              JOIN stages s ON s.id = o.stage_id
              JOIN sources src ON src.id = o.source_id
              JOIN users u ON u.id = o.owner_id
             WHERE {where} AND {in_period}
             GROUP BY {'' if by is None else group + ', '}s.name, bt.name, src.name, u.name, band, o.probability"""
        return [tuple(row) for row in self._all(sql, params + period_params)]

    def forecast_won(self, flt: OpportunityFilter, start: dt.date, end: dt.date, by: str | None) -> dict:
        """Value won from `start` to `end` per group (cents)."""
        where, params = self.deals.filter_sql(OpportunityFilter(**{**flt.__dict__, "status": "won"}))
        group = GROUP_SQL[by]
        # a range of idx_report_closed, not every won deal ever (status = ? looks cheaper): 20x faster at 1M deals
        sql = f"""
            SELECT {group}, SUM(o.value_cents)
              FROM opportunities o {self.conn.indexed_by("idx_report_closed")}
              JOIN business_types bt ON bt.id = o.business_type_id
              JOIN stages s ON s.id = o.stage_id
              JOIN sources src ON src.id = o.source_id
              JOIN users u ON u.id = o.owner_id
             WHERE {where} AND o.closed >= ? AND o.closed <= ?
             {'' if by is None else 'GROUP BY ' + group}"""
        rows = self._all(sql, params + [start.isoformat(), end.isoformat()])
        return {row[0]: int(row[1]) for row in rows if row[1] is not None}

    def backtest_snapshots(self, snapshots: "list[tuple[dt.date, dt.date]]") -> "list[list[tuple]]":
        """Per snapshot (day, period end), in ONE statement: the deals open at the start of `day` that have closed
        since, in the stage they were in then (from stage_visits), grouped by what decides a chance: rows of
        (stage, business_type, source, owner, band, the deal's own chance then ('64%', 'auto' or None, from its
        history), status, closed by the period's end (1/0), count, value cents). Type, source, owner and value
        are the deal's present ones."""
        if not snapshots:
            return []
        days = ", ".join(f"({index}, ?, ?)" for index in range(len(snapshots)))
        sql = f"""
            WITH p (n, day, period_end) AS (VALUES {days})
            SELECT p.n, s.name, bt.name, src.name, u.name, {value_band_sql('o.value_cents')} AS band,
                   (SELECT h.to_value FROM history h
                     WHERE h.opportunity_id = o.id AND h.field = 'probability' AND h.at < p.day
                     ORDER BY h.at DESC, h.id DESC LIMIT 1) AS set_then,
                   o.status, CASE WHEN o.closed <= p.period_end THEN 1 ELSE 0 END AS in_period, COUNT(*),
                   SUM(o.value_cents)
              FROM p
             CROSS JOIN stage_visits v
             CROSS JOIN opportunities o
              JOIN stages s ON s.id = v.stage_id
              JOIN business_types bt ON bt.id = o.business_type_id
              JOIN sources src ON src.id = o.source_id
              JOIN users u ON u.id = o.owner_id
             WHERE o.id = v.opportunity_id AND v.entered < p.day AND (v.ended IS NULL OR v.ended >= p.day)
               AND s.auto_status IS NULL
               AND o.status IN ('won', 'lost') AND {live('o')}
             GROUP BY p.n, s.name, bt.name, src.name, u.name, band, set_then, o.status, in_period
             ORDER BY p.n, s.name, bt.name, src.name, u.name, band, set_then, o.status, in_period"""
        # CROSS JOIN: the visits before the deals (SQLite keeps that order), 5x faster at 100k deals than deals
        # first; one statement for every snapshot: one round trip, and one plan (PostgreSQL JIT-compiles it once)
        params = [text for day, period_end in snapshots for text in (day.isoformat(), period_end.isoformat())]
        found: list[list[tuple]] = [[] for _snapshot in snapshots]
        for row in self._all(sql, params):
            found[row[0]].append(tuple(row[1:]))
        return found

    # ------------------------------------------------------------ goals

    def set_goal(self, owner: str, start: dt.date, end: dt.date, amount_cents: int) -> None:
        """One owner's goal for one period (replaces the one set before); audit-logged ('goal bob 2026-07-01
        to 2026-09-30': the dates, as PostgreSQL's trigger writes it, not a word like next-quarter that moves)."""
        from salesselect_cli.errors import Invalid

        if amount_cents < 0:
            raise Invalid(_("a goal must not be negative"))
        user = self.people.find_user(owner)
        old = self._one("SELECT amount_cents FROM goals WHERE owner_id = ? AND period_start = ? AND period_end = ?",
                        [user["id"], start.isoformat(), end.isoformat()])
        if old is not None and old[0] == amount_cents:
            return
        self.conn.execute(
            """INSERT INTO goals (owner_id, period_start, period_end, amount_cents, set_by, set_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (owner_id, period_start, period_end)
               DO UPDATE SET amount_cents = excluded.amount_cents, set_by = excluded.set_by, set_at = excluded.set_at""",
            [user["id"], start.isoformat(), end.isoformat(), amount_cents, self.user_name, self.now()])
        self._setup_log(f"goal {user['name']} {start} to {end}", None if old is None else cents_to_decimal_string(old[0]),
                        cents_to_decimal_string(amount_cents))

    def remove_goal(self, owner: str, start: dt.date, end: dt.date, period: str) -> None:
        """Remove one owner's goal for one period (`period`: the user's word for it, for the refusal); audit-logged."""
        user = self.people.find_user(owner)
        row = self._one("SELECT id, amount_cents FROM goals WHERE owner_id = ? AND period_start = ? AND period_end = ?",
                        [user["id"], start.isoformat(), end.isoformat()])
        if row is None:
            raise NotFound(_("{owner} has no goal for {period}").format(owner=user["name"], period=period))
        self.conn.execute("DELETE FROM goals WHERE id = ?", [row[0]])
        self._setup_log(f"goal {user['name']} {start} to {end}", cents_to_decimal_string(row[1]), None)

    def list_goals(self, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
        """Goals (those overlapping `start`-`end` when given), by period then owner."""
        where, params = "1 = 1", []
        if start is not None:
            where, params = "g.period_end >= ? AND g.period_start <= ?", [start.isoformat(), end.isoformat()]
        rows = self._all(f"""SELECT u.name, g.period_start, g.period_end, g.amount_cents, g.set_by, g.set_at
                               FROM goals g JOIN users u ON u.id = g.owner_id
                              WHERE {where} ORDER BY g.period_start, g.period_end, u.name""", params)
        return [{"owner": r[0], "from": r[1], "to": r[2], "amount": cents_to_decimal_string(r[3]),
                 "set_by": r[4], "set_at": r[5], "_amount_cents": r[3]} for r in rows]

    def goal_cents(self, start: dt.date, end: dt.date, by: str | None) -> dict:
        """Goals for exactly this period: per owner with by='owner', else one total under None (only when
        grouping by owner or not at all: a goal belongs to an owner, not to a type or source)."""
        if by not in ("owner", None):
            return {}
        rows = self._all("""SELECT u.name, g.amount_cents FROM goals g JOIN users u ON u.id = g.owner_id
                             WHERE g.period_start = ? AND g.period_end = ?""", [start.isoformat(), end.isoformat()])
        if by == "owner":
            return {r[0]: int(r[1]) for r in rows}
        return {None: sum(int(r[1]) for r in rows)} if rows else {}
