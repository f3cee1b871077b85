"""The board (columns, cards, legend) and the four reports: win/loss, sources, pipeline, stages.

Every number is aggregated by SQL. Periods are inclusive [start, end] days, queried half-open
(>= start, < end + 1 day) so a date with a time part still falls on its day. Money stays cents."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from salesselect_cli.model import OpportunityFilter
from salesselect_cli.rules.indicator import close_date_bounds, indicator_counts, reach_bounds
from salesselect_cli.rules.money import cents_to_decimal_string

from salesselect_cli.sql.base import BaseRoom, Floor, value_band_sql
from salesselect_cli.sql.opportunities import OPPORTUNITY_SELECT, live, names_nothing

if TYPE_CHECKING:
    from salesselect_cli.sql.people import PeopleRoom
    from salesselect_cli.sql.setup import SetupRoom
    from salesselect_cli.sql.opportunities import OpportunityRoom


class ReportRoom(BaseRoom):
    """Board and reports. Uses the opportunity filters and records."""

    def __init__(self, floor: Floor, people: PeopleRoom, setup: SetupRoom, deals: OpportunityRoom):
        super().__init__(floor)
        self.people = people
        self.setup = setup
        self.deals = deals

    # Cards in a column, most urgent first. The indicator only grows with the close date, so
    # ordering by date alone gives overdue, red, orange, green; undated cards come last.
    BOARD_URGENCY = "o.expected_close IS NULL, o.expected_close, o.id"

    def _indicator_cutoffs(self) -> tuple[str, str, str]:
        """The last close dates (ISO) that are overdue, red and orange: rules.indicator as bounds for SQL."""
        return tuple(day.isoformat() for day in close_date_bounds(self.today, *self.setup.thresholds()))

    def board_columns(self, flt: OpportunityFilter, all_stages: bool = False) -> list[dict]:
        """The board's columns in position order: stage, count, value_cents, overdue, red, orange, probability (the
        stage's percentage set), chances_in_use and chance_buckets.

        Counts and totals cover every open opportunity matching `flt` (one GROUP BY). Which
        stages: with a business type, its stages (auto-select won/lost ones only with
        `all_stages`); without one, the stages holding matching cards (every stage with `all_stages`).
        The statement needs no setting: it counts each column's overdue deals and its deals per close day the
        indicator's thresholds can reach (rules.indicator.reach_bounds); the thresholds sort those into red and
        orange afterwards (rules.indicator.indicator_counts), so the read can go before the settings are read.
        Win chances may be in use once an open stage has a percentage set (stage_chances, agency-wide) or a deal
        was ever given a chance of its own (its history says so, through an index: the open deals' covering
        index has no probability); then the same statement also groups the cards by what decides a chance, each
        column's chance_buckets: (stage_id, stage, business type, source, owner, value band, own percentage,
        value cents) for ForecastRoom.weighted_by_stage. Otherwise that part reads no row.
        """
        self.setup.expect_overview()  # the legend's colours, with the columns: one round trip
        rows = self._all(*self._columns_sql(flt, all_stages))
        buckets: dict[int, list[tuple]] = {}
        closing: dict[int, list[tuple[str, int]]] = {}
        for r in rows:
            if r["part"] == 1:
                buckets.setdefault(r["id"], []).append(
                    (r["id"], r["name"], r["business_type"], r["source"], r["owner"], r["band"], r["probability"],
                     r["value_cents"]))
            elif r["part"] == 2:
                closing.setdefault(r["id"], []).append((r["close_day"], r["count"]))
        thresholds = self.setup.thresholds()
        columns = []
        for r in rows:
            if r["part"] == 0:
                overdue, red, orange = indicator_counts(r["overdue"], closing.get(r["id"], ()), self.today, *thresholds)
                columns.append({
                    "stage_id": r["id"], "stage": r["name"], "position": r["position"], "auto_status": r["auto_status"],
                    "count": r["count"], "value_cents": r["value_cents"], "overdue": overdue,
                    "red": red, "orange": orange, "probability": r["probability"],
                    "stage_chances": r["in_use"], "chance_buckets": buckets.get(r["id"], []),
                })
        return columns

    def _columns_sql(self, flt: OpportunityFilter, all_stages: bool) -> tuple[str, list]:
        """(sql, params) of board_columns' one statement: part 0 the columns, 1 the chance buckets, 2 the counts
        per close day within the indicator's reach. It reads no setting."""
        flt = OpportunityFilter(**{**flt.__dict__, "status": "open"})
        where, params = self.deals.filter_sql(flt)
        overdue_until, reach_until = (day.isoformat() for day in reach_bounds(self.today))
        stage_clause = "s.archived = 0"
        stage_params: list = []
        if flt.business_type:
            stage_clause += " AND s.id IN (SELECT stage_id FROM stage_business_types WHERE business_type_id = ?)"
            stage_params.append(self.setup.find_business_type(flt.business_type)["id"])
            if not all_stages:
                stage_clause += " AND (s.auto_status IS NULL OR a.count > 0)"
        elif not all_stages:
            stage_clause += " AND a.count > 0"
        sql = f"""WITH a AS (
                  SELECT o.stage_id, COUNT(*) AS count, SUM(o.value_cents) AS value_cents,
                         SUM(CASE WHEN o.expected_close <= ? THEN 1 ELSE 0 END) AS overdue
                    FROM opportunities o
                   WHERE {where}
                   GROUP BY o.stage_id),
                chances AS (
                  SELECT COUNT(*) AS stages_set FROM stages p
                   WHERE p.probability IS NOT NULL AND p.auto_status IS NULL AND p.archived = 0),
                used AS (
                  SELECT 1 AS yes FROM chances
                   WHERE chances.stages_set > 0 OR EXISTS (SELECT 1 FROM history h WHERE h.field = 'probability'))
                SELECT 0 AS part, s.id, s.name, s.position, s.auto_status, s.probability,
                       COALESCE(a.count, 0) AS count, COALESCE(a.value_cents, 0) AS value_cents,
                       COALESCE(a.overdue, 0) AS overdue, (SELECT stages_set FROM chances) AS in_use,
                       NULL AS business_type, NULL AS source, NULL AS owner, NULL AS band, NULL AS close_day
                  FROM stages s LEFT JOIN a ON a.stage_id = s.id
                 WHERE {stage_clause}
                UNION ALL
                SELECT 1, o.stage_id, s.name, NULL, NULL, o.probability, 0, SUM(o.value_cents), 0, 0,
                       bt.name, src.name, u.name, {value_band_sql('o.value_cents')}, NULL
                  FROM opportunities o
                  JOIN stages s ON s.id = o.stage_id
                  JOIN business_types bt ON bt.id = o.business_type_id
                  JOIN sources src ON src.id = o.source_id
                  JOIN users u ON u.id = o.owner_id
                 WHERE {where} AND EXISTS (SELECT 1 FROM used)
                 GROUP BY o.stage_id, s.name, bt.name, src.name, u.name, {value_band_sql('o.value_cents')}, o.probability
                UNION ALL
                SELECT 2, o.stage_id, NULL, NULL, NULL, NULL, COUNT(*), 0, 0, 0, NULL, NULL, NULL, NULL, o.expected_close
                  FROM opportunities o
                 WHERE {where} AND o.expected_close > ? AND o.expected_close <= ?
                 GROUP BY o.stage_id, o.expected_close
                 ORDER BY 1, 4"""
        # a second pass over the open deals' index is cheaper than grouping them all by day (SQLite, 100k deals)
        return sql, [overdue_until] + params + stage_params + params + params + [overdue_until, reach_until]

    def expect_board(self, flt: OpportunityFilter, all_stages: bool, limit: int | None) -> None:
        """The board of `flt` will be read (board_columns, board_cards, the legend): when `flt` names nothing to
        look up, a server across a network sends those reads with the next statement, even ahead of the
        session's checks and its settings (the columns' read needs none; a refused session drops the answers
        unread)."""
        if not names_nothing(flt):
            return
        self.setup.expect_overview()
        self.conn.prefetch(*self._columns_sql(flt, all_stages))
        self.expect_board_cards(flt, limit)

    def board_cards(self, flt: OpportunityFilter, stage_ids: list[int], limit: int | None) -> dict[str, list[dict]]:
        """The first `limit` cards (all when None) of each stage by urgency, as records keyed by stage name.

        Only the shown cards are fetched: one LIMIT subquery per stage, joined in one statement.
        (Measured at 100,000 open opportunities: SQLite's top-N sort per stage is 3-6x faster
        than numbering every card with ROW_NUMBER() OVER (PARTITION BY stage_id).)
        """
        if not stage_ids or limit == 0:
            return {}
        if self.conn.lateral_joins:  # the same cards: those of the columns that have any
            return self._cards_by_stage(self.conn.execute(*self._cards_in_every_stage(flt, limit)))
        flt = OpportunityFilter(**{**flt.__dict__, "status": "open"})
        where, params = self.deals.filter_sql(flt)
        if limit is None:
            shown = f"SELECT o.id FROM opportunities o WHERE {where} AND o.stage_id IN ({','.join('?' * len(stage_ids))})"
            args = params + list(stage_ids)
        else:
            one_stage = (
                f"SELECT id FROM (SELECT o.id FROM opportunities o WHERE {where} AND o.stage_id = ?"
                f" ORDER BY {self.BOARD_URGENCY} LIMIT ?) AS one_stage"
            )
            shown = " UNION ALL ".join([one_stage] * len(stage_ids))
            args = [arg for stage_id in stage_ids for arg in (*params, stage_id, limit)]
        sql = (
            f"WITH shown(id) AS ({shown}) " + OPPORTUNITY_SELECT
            + f" JOIN shown ON shown.id = o.id ORDER BY s.position, {self.BOARD_URGENCY}"
        )
        return self._cards_by_stage(self.conn.execute(sql, args))

    def _cards_by_stage(self, rows) -> dict[str, list[dict]]:
        cards: dict[str, list[dict]] = {}
        for row in rows:
            cards.setdefault(row["stage"], []).append(self.deals.record(row))
        return cards

    def _cards_in_every_stage(self, flt: OpportunityFilter, limit: int | None) -> tuple[str, list]:
        """(sql, params) of the first `limit` open cards (all: None) in each stage a board column may show
        (board_columns' stages: not archived, the filter's business type's own), for a backend with LATERAL
        joins: it needs no stage ids, so it goes with the columns' read (expect_board_cards)."""
        flt = OpportunityFilter(**{**flt.__dict__, "status": "open"})
        where, params = self.deals.filter_sql(flt)
        stages, stage_params = "st.archived = 0", []
        if flt.business_type:
            stages += " AND st.id IN (SELECT stage_id FROM stage_business_types WHERE business_type_id = ?)"
            stage_params.append(self.setup.find_business_type(flt.business_type)["id"])
        shown = (f"SELECT one_stage.id FROM stages st CROSS JOIN LATERAL (SELECT o.id FROM opportunities o"
                 f" WHERE {where} AND o.stage_id = st.id ORDER BY {self.BOARD_URGENCY} LIMIT ?) AS one_stage"
                 f" WHERE {stages}")
        sql = (f"WITH shown(id) AS ({shown}) " + OPPORTUNITY_SELECT
               + f" JOIN shown ON shown.id = o.id ORDER BY s.position, {self.BOARD_URGENCY}")
        return sql, params + [limit] + stage_params

    def expect_board_cards(self, flt: OpportunityFilter, limit: int | None) -> None:
        """The board's cards will be read (board_cards): where the backend can read them without the columns'
        stage ids, a server across a network sends that read with the columns'."""
        if self.conn.lateral_joins and limit != 0:
            self.conn.prefetch(*self._cards_in_every_stage(flt, limit))

    def audit_log(self, user: str | None = None, opportunity_id: int | None = None, since: dt.date | None = None,
                  limit: int | None = None):
        """Who changed what and when, newest first: every deal's history (deals in the trash included) and the
        setup log (setup, users, workflows, trash, restore, purge), in the order they were written (a setup line
        comes after the history rows that existed when it was written). Yields dicts: at, actor, kind ('deal' or
        'setup'), opportunity_id, title, what, old_value, new_value."""
        parts, params = [], []
        for table, kind in (("history", None), ("setup_log", "setup")):
            clauses = []
            if user is not None:
                # 'anna (user removed)' is anna's too: what she did while removing a user or a stage
                clauses.append("(fold(x.actor) = fold(?) OR fold(x.actor) LIKE fold(?))")
                params += [user, user.replace("%", "").replace("_", "") + " (%"]
            if opportunity_id is not None:
                clauses.append("x.opportunity_id = ?")
                params.append(opportunity_id)
            if since is not None:
                clauses.append("x.at >= ?")
                params.append(since.isoformat())
            where = " AND ".join(clauses) or "1 = 1"
            if table == "history":
                parts.append(f"""SELECT x.at, x.actor, 'deal' AS kind, x.opportunity_id, x.field AS what,
                                        x.from_value AS old_value, x.to_value AS new_value, x.id AS mark, 0 AS src, x.id AS seq
                                   FROM history x WHERE {where}""")
            else:
                parts.append(f"""SELECT x.at, x.actor,
                                        CASE WHEN x.opportunity_id IS NULL THEN 'setup' ELSE 'deal' END AS kind,
                                        x.opportunity_id, x.what, x.old_value, x.new_value, COALESCE(x.history_mark, 0) AS mark,
                                        1 AS src, x.id AS seq
                                   FROM setup_log x WHERE {where}""")
        sql = (f"""SELECT e.at, e.actor, e.kind, e.opportunity_id, o.title, e.what, e.old_value, e.new_value
                     FROM ({" UNION ALL ".join(parts)}) e LEFT JOIN opportunities o ON o.id = e.opportunity_id
                    ORDER BY e.at DESC, e.mark DESC, e.src DESC, e.seq DESC""")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        for row in self.conn.execute(sql, params):
            yield dict(row)

    def _report_scope(self, flt: OpportunityFilter, table: str = "o") -> tuple[str, list]:
        """The WHERE clause of a report's --type/--owner/--source filters (every status) on alias `table`.

        The unary '+' keeps SQLite (which has no statistics on a user's file) from driving the query by
        these columns' indexes: the period's covering index range is the small side.
        """
        # the trash scope; stage_visits (alias v) has no rows for deals in the trash
        clauses, params = [live(table) if table == "o" else "1 = 1"], []
        if flt.business_type:
            clauses.append(f"+{table}.business_type_id = ?")
            params.append(self.setup.find_business_type(flt.business_type)["id"])
        if flt.owner:
            clauses.append(f"+{table}.owner_id = ?")
            params.append(self.people.find_user(flt.owner)["id"])
        if flt.source:
            clauses.append(f"+{table}.source_id = ?")
            params.append(self.setup.find_source(flt.source)["id"])
        return " AND ".join(clauses), params

    @staticmethod
    def _day_range(start: dt.date, end: dt.date) -> list[str]:
        # the day after `end`; past 9999-12-31 a string that still sorts after every date
        return [start.isoformat(), (end + dt.timedelta(days=1)).isoformat() if end < dt.date.max else "9999-12-32"]

    def _report_stages_scope(self, flt: OpportunityFilter) -> tuple[str, list]:
        """Which stages a stage-by-stage report lists: open (non auto-select) stages, of the type when filtered."""
        if flt.business_type:
            type_id = self.setup.find_business_type(flt.business_type)["id"]
            return ("EXISTS (SELECT 1 FROM stage_business_types l WHERE l.stage_id = s.id "
                    "AND l.business_type_id = ?)", [type_id])
        return "1 = 1", []

    def _id_list(self, column: str) -> str:
        """An aggregate of a group's ids as one comma-separated text (the dialect's group_concat)."""
        return self.conn.group_concat(f"CAST({column} AS TEXT)", ",", column)

    def report_winloss(self, flt: OpportunityFilter, start: dt.date, end: dt.date, with_ids: bool = False,
                       by_owner: bool = False) -> list[dict]:
        """Won and lost opportunities closed in [start, end], by status, closed-from stage and reason.

        share is the percentage of that status's count; lost rows first, then by share (largest first).
        with_ids: each row also gets `opportunity_ids`, the deals behind it (ascending).
        by_owner: by owner first (rows get `owner`, in name order); shares are of that owner's status.
        """
        rows = self._all(*self._winloss_sql(flt, start, end, with_ids, by_owner))
        return [
            {
                **({"owner": r["owner"]} if by_owner else {}),
                "status": r["status"], "stage": r["stage"], "reason": r["reason"], "count": r["n"],
                "value": cents_to_decimal_string(r["cents"]), "share": r["share"],
                "value_share": r["value_share"], "status_count": r["status_count"], "_value_cents": r["cents"],
                **({"opportunity_ids": sorted(int(i) for i in str(r["ids"]).split(","))} if with_ids else {}),
            }
            for r in rows
        ]

    def expect_winloss(self, flt: OpportunityFilter, start: dt.date, end: dt.date, with_ids: bool = False,
                       by_owner: bool = False) -> None:
        """report_winloss(...) will follow: when `flt` names nothing to look up, a server across a network sends
        its read with the next statement (as OpportunityRoom.expect_list)."""
        if names_nothing(flt):
            self.conn.prefetch(*self._winloss_sql(flt, start, end, with_ids, by_owner))

    def _winloss_sql(self, flt: OpportunityFilter, start: dt.date, end: dt.date, with_ids: bool,
                     by_owner: bool) -> tuple[str, list]:
        where, params = self._report_scope(flt)
        ids = f", {self._id_list('o.id')} AS ids" if with_ids else ", NULL AS ids"
        owner = "o.owner_id" if by_owner else "0"
        return (
            f"""WITH closed AS (
                  SELECT {owner} AS owner_id, o.status, COALESCE(o.closed_from_stage_id, o.stage_id) AS stage_id,
                         o.reason_id, COUNT(*) AS n, SUM(o.value_cents) AS cents{ids}
                    FROM opportunities o
                   WHERE o.closed >= ? AND o.closed < ? AND +o.status IN ('won', 'lost') AND {where}
                   GROUP BY 1, 2, 3, 4)
                SELECT u.name AS owner, c.status, s.name AS stage, r.text AS reason, c.n, c.cents, c.ids,
                       ROUND(100.0 * c.n / SUM(c.n) OVER per_status, 1) AS share,
                       ROUND(100.0 * c.cents / NULLIF(SUM(c.cents) OVER per_status, 0), 1) AS value_share,
                       SUM(c.n) OVER per_status AS status_count
                  FROM closed c JOIN stages s ON s.id = c.stage_id LEFT JOIN reasons r ON r.id = c.reason_id
                  LEFT JOIN users u ON u.id = c.owner_id
                WINDOW per_status AS (PARTITION BY c.owner_id, c.status)
                 ORDER BY u.name COLLATE NOCASE, u.name, c.status = 'won', c.n DESC, c.cents DESC, s.position,
                          r.text IS NULL, r.text""",
            self._day_range(start, end) + params,
        )

    def report_sources(self, flt: OpportunityFilter, start: dt.date, end: dt.date, by_owner: bool = False) -> list[dict]:
        """Per source, the opportunities created in [start, end] and what became of them; a total row last.

        average_days_to_close is over the closed (won or lost) ones, from created to closed date.
        by_owner: per owner instead of per source (rows have `owner` where they had `source`).
        """
        where, params = self._report_scope(flt)
        group, names = ("o.owner_id", "users") if by_owner else ("o.source_id", "sources")
        rows = self._all(
            f"""WITH cohort AS (
                  SELECT {group} AS group_id, COUNT(*) AS created,
                         SUM(CASE WHEN o.status = 'won' THEN 1 ELSE 0 END) AS won,
                         SUM(CASE WHEN o.status = 'lost' THEN 1 ELSE 0 END) AS lost,
                         SUM(CASE WHEN o.status = 'open' THEN 1 ELSE 0 END) AS open,
                         SUM(CASE WHEN o.status = 'won' THEN o.value_cents ELSE 0 END) AS revenue,
                         SUM(CASE WHEN o.status != 'open' AND o.closed IS NOT NULL THEN 1 ELSE 0 END) AS closed_count,
                         SUM(CASE WHEN o.status != 'open' AND o.closed IS NOT NULL
                                  THEN {self.conn.days_between("substr(o.closed, 1, 10)", "substr(o.created, 1, 10)")} END) AS close_days
                    FROM opportunities o
                   WHERE o.created >= ? AND o.created < ? AND {where}
                   GROUP BY {group}),
                totalled AS (
                  SELECT g.name AS source, 0 AS total, c.created, c.won, c.lost, c.open, c.revenue,
                         c.closed_count, c.close_days
                    FROM cohort c JOIN {names} g ON g.id = c.group_id
                  UNION ALL
                  SELECT 'Total', 1, SUM(created), SUM(won), SUM(lost), SUM(open), SUM(revenue),
                         SUM(closed_count), SUM(close_days)
                    FROM cohort HAVING COUNT(*) > 0)
                SELECT source, total, created, won, lost, open, revenue,
                       ROUND(100.0 * won / created, 1) AS conversion_rate,
                       ROUND(100.0 * won / NULLIF(won + lost, 0), 1) AS win_rate,
                       CAST(ROUND(1.0 * revenue / NULLIF(won, 0)) AS BIGINT) AS average_deal_cents,
                       ROUND(1.0 * close_days / NULLIF(closed_count, 0), 1) AS average_days_to_close
                  FROM totalled ORDER BY total, created DESC, revenue DESC, source COLLATE NOCASE""",
            self._day_range(start, end) + params,
        )
        return [
            {
                "owner" if by_owner else "source": r["source"], "created": r["created"], "won": r["won"], "lost": r["lost"],
                "open": r["open"], "conversion_rate": r["conversion_rate"], "win_rate": r["win_rate"],
                "revenue": cents_to_decimal_string(r["revenue"]),
                "average_deal_size": None if r["average_deal_cents"] is None
                else cents_to_decimal_string(r["average_deal_cents"]),
                "average_days_to_close": r["average_days_to_close"], "total": bool(r["total"]),
                "_revenue_cents": r["revenue"], "_average_deal_cents": r["average_deal_cents"],
            }
            for r in rows
        ]

    def _indicator_bounds(self) -> tuple[str, str, str]:
        """(today, red_until, orange_until) as ISO dates: an open deal closing on or before red_until is red."""
        _, red_until, orange_until = self._indicator_cutoffs()
        return self.today.isoformat(), red_until, orange_until

    def _pipeline_where(self, flt: OpportunityFilter, start: dt.date | None, end: dt.date | None) -> tuple[str, list]:
        where, params = self._report_scope(flt)
        if start is not None and end is not None:
            where += " AND o.expected_close >= ? AND o.expected_close < ?"
            params += self._day_range(start, end)
        return where, params

    _PIPELINE_COUNTS = """COUNT(*) AS n, SUM(o.value_cents) AS cents,
                   SUM(CASE WHEN o.expected_close <= ? THEN 1 ELSE 0 END) AS red,
                   SUM(CASE WHEN o.expected_close > ? AND o.expected_close <= ? THEN 1 ELSE 0 END) AS orange,
                   SUM(CASE WHEN o.expected_close < ? THEN 1 ELSE 0 END) AS overdue"""

    def report_pipeline(self, flt: OpportunityFilter, start: dt.date | None = None,
                        end: dt.date | None = None) -> list[dict]:
        """Open opportunities per open stage (in position order): count, value, red, orange, overdue.

        With start/end only those expected to close in [start, end]. Red includes overdue.
        """
        today, red_until, orange_until = self._indicator_bounds()
        where, params = self._pipeline_where(flt, start, end)
        stage_where, stage_params = self._report_stages_scope(flt)
        rows = self._all(
            f"""WITH open_deals AS (
                  SELECT o.stage_id, {self._PIPELINE_COUNTS}
                    FROM opportunities o WHERE o.status = 'open' AND {where} GROUP BY o.stage_id)
                SELECT s.name AS stage, COALESCE(p.n, 0) AS n, COALESCE(p.cents, 0) AS cents,
                       COALESCE(p.red, 0) AS red, COALESCE(p.orange, 0) AS orange, COALESCE(p.overdue, 0) AS overdue,
                       ROUND(100.0 * COALESCE(p.n, 0) / NULLIF(SUM(p.n) OVER (), 0), 1) AS share,
                       ROUND(100.0 * COALESCE(p.cents, 0) / NULLIF(SUM(p.cents) OVER (), 0), 1) AS value_share,
                       COALESCE(SUM(p.n) OVER (), 0) AS total_n, COALESCE(SUM(p.cents) OVER (), 0) AS total_cents
                  FROM stages s LEFT JOIN open_deals p ON p.stage_id = s.id
                 WHERE p.n IS NOT NULL OR (s.auto_status IS NULL AND {stage_where})
                 ORDER BY s.position""",
            [red_until, red_until, orange_until, today] + params + stage_params,
        )
        return _pipeline_rows("stage", rows)

    def report_pipeline_owners(self, flt: OpportunityFilter, start: dt.date | None = None,
                               end: dt.date | None = None) -> list[dict]:
        """Open opportunities per owner (by name; owners with open deals): count, value, red, orange, overdue,
        share and value_share (percentages of all the open deals matching `flt`)."""
        today, red_until, orange_until = self._indicator_bounds()
        where, params = self._pipeline_where(flt, start, end)
        rows = self._all(
            f"""WITH open_deals AS (
                  SELECT o.owner_id, {self._PIPELINE_COUNTS}
                    FROM opportunities o WHERE o.status = 'open' AND {where} GROUP BY o.owner_id)
                SELECT u.name AS owner, p.n, p.cents, p.red, p.orange, p.overdue,
                       ROUND(100.0 * p.n / SUM(p.n) OVER (), 1) AS share,
                       ROUND(100.0 * p.cents / NULLIF(SUM(p.cents) OVER (), 0), 1) AS value_share,
                       SUM(p.n) OVER () AS total_n, SUM(p.cents) OVER () AS total_cents
                  FROM open_deals p JOIN users u ON u.id = p.owner_id
                 ORDER BY u.name COLLATE NOCASE, u.name""",
            [red_until, red_until, orange_until, today] + params,
        )
        return _pipeline_rows("owner", rows)

    def report_pipeline_months(self, flt: OpportunityFilter, months: list[dt.date], start: dt.date | None = None,
                               end: dt.date | None = None) -> list[dict]:
        """Open opportunities by expected close month: 'earlier', each of `months` (first days), 'later', 'no date'."""
        from salesselect_cli.rules.periods import add_months


        today, red_until, orange_until = self._indicator_bounds()
        where, params = self._pipeline_where(flt, start, end)
        first, after = months[0].isoformat(), add_months(months[-1], 1).isoformat()
        rows = self._all(
            f"""SELECT CASE WHEN o.expected_close IS NULL THEN 'no date'
                            WHEN o.expected_close < ? THEN 'earlier'
                            WHEN o.expected_close >= ? THEN 'later'
                            ELSE substr(o.expected_close, 1, 7) END AS month, {self._PIPELINE_COUNTS}
                  FROM opportunities o WHERE o.status = 'open' AND {where} GROUP BY 1""",
            [first, after, red_until, red_until, orange_until, today] + params,
        )
        found = {r["month"]: r for r in rows}
        buckets = ["earlier"] + [month.strftime("%Y-%m") for month in months] + ["later", "no date"]
        result = []
        for bucket in buckets:  # fills the months without deals; every number comes from the query
            r = found.get(bucket)
            cents = r["cents"] if r else 0
            result.append({
                "month": bucket, "count": r["n"] if r else 0, "value": cents_to_decimal_string(cents),
                "red": r["red"] if r else 0, "orange": r["orange"] if r else 0,
                "overdue": r["overdue"] if r else 0, "_value_cents": cents,
            })
        return result

    def report_stages(self, flt: OpportunityFilter, start: dt.date, end: dt.date) -> list[dict]:
        """The funnel from the history: per open stage, the visits that entered it in [start, end].

        A visit lasts from its stage row to the opportunity's next stage row or closing status row (or today).
        It ends as moved_on (to a later open stage), moved_back, won, lost (also by entering an auto-select
        stage) or still there. conversion = (moved_on + won) / entered; conversion_to_won = entries whose
        opportunity is won now. Days are whole calendar days, so the median comes from per-day counts.
        The visits come from stage_visits (m003, days since m016), which the history triggers keep; without a
        type/owner/source filter from their counts per entry day in funnel_counts (m017), which triggers on
        stage_visits keep. Positions and auto-select are read now, as the stages are today.
        """
        return self._report_stages(flt, start, end, counted=not (flt.business_type or flt.owner or flt.source))

    def _report_stages(self, flt: OpportunityFilter, start: dt.date, end: dt.date, counted: bool) -> list[dict]:
        """report_stages from funnel_counts (`counted`, no filter) or from the visits themselves."""
        stage_where, stage_params = self._report_stages_scope(flt)
        period = self._day_range(start, end)
        today = self.today.isoformat()
        # `grouped`: one row per stage, length in days, end and next stage (outcome NULL while under way), with how
        # many visits (n) and how many of those are of a deal won now (won).
        if counted:
            # funnel_counts holds a few rows per day of the period: one range of its primary key (m017). A visit
            # under way (days -1) is counted up to today.
            grouped = f"""
                  SELECT c.stage_id, CASE WHEN c.days < 0 THEN {self.conn.days_between("?", "c.entered")}
                                          ELSE c.days END AS days,
                         NULLIF(c.outcome, '') AS outcome, NULLIF(c.next_stage_id, 0) AS next_stage_id,
                         SUM(c.n) AS n, SUM(c.won) AS won
                    FROM funnel_counts c
                   WHERE c.entered >= ? AND c.entered < ?
                   GROUP BY 1, 2, 3, 4"""
            params = [today] + period
        else:
            where, scope = self._report_scope(flt, "v")
            # the period's visits of the filter, grouped with the deal's status now (COUNT alone is cheaper per
            # visit than a SUM beside it): ended visits by skip-scanning idx_stage_visits_funnel in GROUP BY order
            # (m016), the ones still under way (days NULL, counted up to today) from the small
            # idx_stage_visits_open, both pinned: another index on the entry day looks cheaper to the planner and
            # costs a sort of the whole period.
            grouped = f"""
                  SELECT v.stage_id, v.days, v.outcome, v.next_stage_id, COUNT(*) AS n,
                         CASE WHEN v.status = 'won' THEN COUNT(*) ELSE 0 END AS won
                    FROM stage_visits v {self.conn.indexed_by("idx_stage_visits_funnel")}
                   WHERE v.entered >= ? AND v.entered < ? AND v.days IS NOT NULL AND {where}
                   GROUP BY v.stage_id, v.days, v.outcome, v.next_stage_id, v.status
                  UNION ALL
                  SELECT v.stage_id, {self.conn.days_between("?", "v.entered")}, NULL, NULL, COUNT(*),
                         CASE WHEN v.status = 'won' THEN COUNT(*) ELSE 0 END
                    FROM stage_visits v {self.conn.indexed_by("idx_stage_visits_open")}
                   WHERE v.entered >= ? AND v.entered < ? AND v.days IS NULL AND {where}
                   GROUP BY v.entered, v.stage_id, v.status"""
            params = period + scope + [today] + period + scope
        # The rest works on few rows.
        rows = self._all(
            f"""WITH grouped AS ({grouped}),
                visits AS (
                  SELECT g.stage_id, g.n, g.won AS ended_won, g.days,
                         CASE WHEN g.outcome IS NULL THEN 'still'
                              WHEN g.outcome != 'moved' THEN g.outcome
                              WHEN ns.auto_status IS NOT NULL THEN ns.auto_status
                              WHEN ns.position > s.position THEN 'moved_on'
                              ELSE 'moved_back' END AS outcome
                    FROM grouped g
                    JOIN stages s ON s.id = g.stage_id
                    LEFT JOIN stages ns ON ns.id = g.next_stage_id
                   WHERE s.auto_status IS NULL),
                by_days AS (
                  SELECT stage_id, days, SUM(n) AS n, SUM(CASE WHEN outcome = 'moved_on' THEN n ELSE 0 END) AS moved_on,
                         SUM(CASE WHEN outcome = 'moved_back' THEN n ELSE 0 END) AS moved_back,
                         SUM(CASE WHEN outcome = 'lost' THEN n ELSE 0 END) AS lost,
                         SUM(CASE WHEN outcome = 'won' THEN n ELSE 0 END) AS won,
                         SUM(CASE WHEN outcome = 'still' THEN n ELSE 0 END) AS still_there,
                         SUM(ended_won) AS ended_won
                    FROM visits GROUP BY stage_id, days),
                running AS (
                  SELECT b.*, CAST(SUM(b.n) OVER (PARTITION BY b.stage_id ORDER BY b.days) AS BIGINT) AS upto,
                         CAST(SUM(b.n) OVER (PARTITION BY b.stage_id) AS BIGINT) AS entered
                    FROM by_days b),
                per_stage AS (
                  SELECT stage_id, MAX(entered) AS entered, SUM(moved_on) AS moved_on, SUM(moved_back) AS moved_back,
                         SUM(lost) AS lost, SUM(won) AS won, SUM(still_there) AS still_there,
                         SUM(ended_won) AS ended_won,
                         1.0 * SUM(days * n) / MAX(entered) AS average_days,
                         (MIN(CASE WHEN upto >= (entered + 1) / 2 THEN days END)
                          + MIN(CASE WHEN upto >= (entered + 2) / 2 THEN days END)) / 2.0 AS median_days
                    FROM running GROUP BY stage_id)
                SELECT s.name AS stage, COALESCE(p.entered, 0) AS entered, COALESCE(p.moved_on, 0) AS moved_on,
                       COALESCE(p.lost, 0) AS lost, COALESCE(p.won, 0) AS won,
                       ROUND(p.median_days, 1) AS median_days, ROUND(p.average_days, 1) AS average_days,
                       ROUND(100.0 * (p.moved_on + p.won) / p.entered, 1) AS conversion,
                       ROUND(100.0 * p.ended_won / p.entered, 1) AS conversion_to_won,
                       COALESCE(p.moved_back, 0) AS moved_back, COALESCE(p.still_there, 0) AS still_there
                  FROM stages s LEFT JOIN per_stage p ON p.stage_id = s.id
                 WHERE p.entered IS NOT NULL OR (s.auto_status IS NULL AND {stage_where})
                 ORDER BY s.position""",
            params + stage_params,
        )
        return [dict(r) for r in rows]


def _pipeline_rows(label: str, rows) -> list[dict]:
    """`report pipeline`'s rows, by stage or by owner (`label`: the column naming the row)."""
    return [
        {
            label: r[label], "count": r["n"], "value": cents_to_decimal_string(r["cents"]),
            "red": r["red"], "orange": r["orange"], "overdue": r["overdue"], "share": r["share"],
            "value_share": r["value_share"], "_value_cents": r["cents"],
            "_total_count": r["total_n"], "_total_cents": r["total_cents"],
        }
        for r in rows
    ]
