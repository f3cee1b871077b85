"""What a command costs in statements, connection set-up included: on a server across a network each one is
a round trip. The limits are issue 23's; a command that grows an N+1 fails here.

On PostgreSQL the same commands are counted twice: statements (the same limits) and round trips, since the
dialect layer sends what needs no answer of its own with the next statement that does (issue 24: a 20 ms link)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import ON_POSTGRES

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="counted with SQLite's trace callback")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="counted at PgConnection's sending (the PostgreSQL pass)")

LIMITS = {  # the whole command, connection set-up included
    ("opp", "move", "{deal}", "Negotiation"): 15,
    ("board",): 10,
    ("opp", "list"): 10,
    ("report", "winloss"): 10,
    # the learned chance's counts in one statement; the backtest's twelve snapshots in two, not one or two each
    ("report", "forecast"): 12,
    ("report", "forecast", "--backtest"): 10,
    ("config", "show"): 8,  # 7 today: the four settings lists in one statement (it was one each, 10 in all)
}
# Opening a connection (pragmas, the migration check; a write also asks for the journal mode): the dialect
# layer's share of each limit above. The command's own statements get the rest.
SET_UP = {"read": 3, "write": 4}
# What opening a connection costs on this branch; the dialect layer (sql/dialect.py, sql/connection.py) cuts
# it to SET_UP, and then this line becomes SET_UP, so the totals above hold as a whole.
SET_UP_TODAY = SET_UP  # the one migration runner opens a file in 2 (read) or 3 (write) statements


# Round trips the command waits for on PostgreSQL, after libpq's own start-up (TCP, TLS negotiation,
# authentication): the opening one (BEGIN, lock, settings, users, the migrations record, and the command's first
# reads when they can be made before anything is read) and the command's.
ROUND_TRIPS = {
    ("opp", "move", "{deal}", "Negotiation"): 2,  # open with the deal, stages, workflows; the change, the deal after, COMMIT
    ("board",): 1,  # columns (no setting needed), legend and cards (LATERAL join: no stage ids) go with the open's
    ("opp", "list"): 1,  # its read goes with the open's (a filter that names nothing to look up)
    ("report", "winloss"): 1,  # likewise
    ("report", "forecast"): 6,  # open; its reads (period, learning counts, buckets, won, goals) each wait for the last
    ("report", "forecast", "--backtest"): 4,
    ("config", "show"): 2,  # open; the four lists
}


@pytest.fixture
def statements(monkeypatch):
    """Every SQL statement the command sends, on every SQLite connection it opens (its set-up included).

    SQLite's trace callback reports a statement when it starts and again each time it fires a trigger
    (with the same text); a trigger's work is no round trip, so only the first report after each
    execute counts."""
    seen: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        fresh = [False]

        def trace(sql: str) -> None:
            if fresh[0]:
                seen.append(sql)
                fresh[0] = False

        def sent(method):
            def send(*args, **kwargs):
                fresh[0] = True
                return method(*args, **kwargs)
            return send

        conn.set_trace_callback(trace)
        conn.execute, conn.executemany = sent(conn.execute), sent(conn.executemany)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    return seen


def a_deal_in_proposal(cli) -> int:
    run = cli("opp", "list", "--stage", "Proposal", "--format", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()[0]["id"]


def split(statements: list[str]) -> tuple[list[str], list[str]]:
    """(opening the connection, the command's own transaction): the transaction starts with its BEGIN."""
    begin = next(i for i, sql in enumerate(statements) if sql.startswith("BEGIN"))
    return statements[:begin], statements[begin:]


@sqlite_only
@pytest.mark.parametrize("args", list(LIMITS), ids=lambda args: " ".join(a for a in args if a[0] != "{"))
def test_a_command_stays_within_its_statements(args, demo_db, cli, statements):
    deal = a_deal_in_proposal(cli)
    statements.clear()
    run = cli(*[a.format(deal=deal) for a in args])
    assert run.exit_code == 0, run.stderr
    set_up, own = split(statements)
    kind = "write" if args[:2] == ("opp", "move") else "read"
    listing = "\n".join(statements)
    assert own[-1] == "COMMIT", listing
    assert len(own) <= LIMITS[args] - SET_UP[kind], f"{len(own)} statements of its own:\n{listing}"
    assert len(set_up) <= SET_UP_TODAY[kind], f"{len(set_up)} statements to open the connection:\n{listing}"


@sqlite_only
def test_the_count_sees_an_extra_statement(demo_db, cli, statements):
    """The trace counts every statement on every connection (a second connection, an N+1 alike)."""
    cli("opp", "list")
    once = len(statements)
    statements.clear()
    cli("opp", "list")
    cli("opp", "list")
    assert len(statements) == 2 * once > 0


@sqlite_only
def test_the_board_with_win_chances_in_use_stays_within_its_statements(demo_db, cli, statements):
    """The weighted value costs one statement more (the learning counts; its buckets come with the columns'
    statement), and the whole command still fits the board's limit. Its own share is 8, one more than the
    7 the split above leaves after the set-up's budget of 3: it fits because opening takes 2."""
    assert cli("config", "set-probability", "Proposal", "40").exit_code == 0
    statements.clear()
    run = cli("board", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert all("weighted" in column for column in run.json())
    set_up, own = split(statements)
    listing = "\n".join(statements)
    assert len(set_up) + len(own) <= LIMITS[("board",)], listing
    assert len(set_up) <= SET_UP_TODAY["read"] and len(own) <= 8, listing


@pytest.fixture
def wire(monkeypatch):
    """On PostgreSQL: each round trip the command waits for, as the list of statements it carried, counted
    where PgConnection sends (one statement alone, or a pipeline); a read's COMMIT sent unanswered at close
    is a statement and no round trip."""
    from salesselect_cli.sql.dialect import PgConnection

    trips: list[list[str]] = []
    unanswered: list[str] = []
    one, send, many, close = PgConnection._one, PgConnection._send, PgConnection.executemany, PgConnection.close

    def counted_one(self, text, values):
        trips.append([text])
        return one(self, text, values)

    def counted_send(self, statements):
        batch = [queued[0] for queued in self._queue + statements]
        if len(batch) > 1:  # one alone goes through _one
            trips.append(batch)
        return send(self, statements)

    def counted_many(self, sql, rows):
        self.flush()
        trips.append([sql])
        return many(self, sql, rows)

    def counted_close(self):
        if self._committed:
            unanswered.append("COMMIT")
        return close(self)

    monkeypatch.setattr(PgConnection, "_one", counted_one)
    monkeypatch.setattr(PgConnection, "_send", counted_send)
    monkeypatch.setattr(PgConnection, "executemany", counted_many)
    monkeypatch.setattr(PgConnection, "close", counted_close)

    class Wire:
        def clear(self):
            trips.clear(), unanswered.clear()

        @property
        def round_trips(self) -> int:
            return len(trips)

        @property
        def statements(self) -> list[str]:
            return [text for trip in trips for text in trip] + unanswered

        def listing(self) -> str:
            return "\n".join(f"trip {number}: " + " | ".join(" ".join(text.split())[:70] for text in trip)
                             for number, trip in enumerate(trips, start=1)) + f"\nunanswered: {unanswered}"

    return Wire()


@postgres_only
@pytest.mark.parametrize("args", list(LIMITS), ids=lambda args: " ".join(a for a in args if a[0] != "{"))
def test_a_command_stays_within_its_round_trips_on_postgres(args, demo_db, cli, wire):
    deal = a_deal_in_proposal(cli)
    wire.clear()
    run = cli(*[a.format(deal=deal) for a in args])
    assert run.exit_code == 0, run.stderr
    listing = wire.listing()
    assert wire.statements[-1] == "COMMIT", listing
    assert len(wire.statements) <= LIMITS[args], f"{len(wire.statements)} statements:\n{listing}"
    assert wire.round_trips <= ROUND_TRIPS[args], f"{wire.round_trips} round trips:\n{listing}"


@postgres_only
def test_the_board_with_win_chances_in_use_stays_within_its_round_trips(demo_db, cli, wire):
    """On PostgreSQL the weighted value's learning counts cost no round trip of their own: they go with the
    opening one, counting nothing while chances are out of use."""
    assert cli("config", "set-probability", "Proposal", "40").exit_code == 0
    wire.clear()
    run = cli("board", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert all("weighted" in column for column in run.json())
    assert len(wire.statements) <= LIMITS[("board",)], wire.listing()
    assert wire.round_trips <= ROUND_TRIPS[("board",)], wire.listing()


@postgres_only
def test_the_round_trip_count_sees_an_extra_one(demo_db, cli, wire):
    """The wrapper counts every round trip on every connection (a second connection, an N+1 alike)."""
    cli("opp", "list")
    once = wire.round_trips
    wire.clear()
    cli("opp", "list")
    cli("opp", "list")
    assert wire.round_trips == 2 * once > 0


@postgres_only
def test_a_move_and_back_on_postgres_is_whole(demo_db, cli, wire):
    """What goes without waiting for its answer still lands: the move, its history and undo step, both ways."""
    deal = a_deal_in_proposal(cli)
    for stage in ("Negotiation", "Proposal"):
        run = cli("opp", "move", deal, stage)
        assert run.exit_code == 0, run.stderr
    shown = cli("opp", "show", deal, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["stage"] == "Proposal"
    history = [(row["from_value"], row["to_value"]) for row in shown.json()["history"] if row["field"] == "stage"]
    assert history[-2:] == [("Proposal", "Negotiation"), ("Negotiation", "Proposal")]
    undone = cli("undo")
    assert undone.exit_code == 0, undone.stderr
    assert cli("opp", "show", deal, "--format", "json").json()["stage"] == "Negotiation"


@postgres_only
def test_transaction_settings_go_with_the_first_round_trip(demo_db, wire):
    """set_local (for per-transaction settings such as who acts) costs no round trip of its own, holds for
    the transaction only, and a read transaction that sent nothing costs none at all."""
    from salesselect_cli.sql import dialect

    conn = dialect.connect_postgres(str(demo_db))
    try:
        wire.clear()
        seen = "SELECT current_setting('salesselect.act_for', true), current_setting('salesselect.today', true)"
        conn.begin(write=True, reads=[(seen, [])])  # read ahead, queued before the settings are given
        conn.set_local({"salesselect.act_for": "bob", "salesselect.today": "2026-12-07"})
        assert tuple(conn.execute(seen).fetchone()) == ("bob", "2026-12-07")
        assert wire.round_trips == 1, wire.listing()
        conn.execute("COMMIT")
        assert conn.execute("SELECT current_setting('salesselect.act_for', true)").fetchone()[0] in (None, "")
        wire.clear()
        conn.begin(write=False)
        conn.execute("COMMIT")
        assert wire.round_trips == 0 and not conn.in_transaction, wire.listing()
        conn.begin(write=True)
        conn.execute("ROLLBACK")
        assert wire.round_trips == 0 and not conn.in_transaction, wire.listing()
    finally:
        conn.close()


@postgres_only
def test_a_prefetched_answer_never_outlives_a_change_to_its_table(demo_db):
    """A read sent ahead is answered from the round trip only while nothing changed its table since; a change
    to another table leaves it be."""
    from salesselect_cli.sql import dialect

    conn = dialect.connect_postgres(str(demo_db))
    read = ("SELECT value FROM settings WHERE key = ?", ["currency"])
    try:
        conn.begin(write=True)
        conn.defer("INSERT INTO settings (key, value) VALUES ('currency', 'EUR') ON CONFLICT (key) DO NOTHING")
        for change in ("UPDATE settings SET value = 'USD' WHERE key = 'currency'", None):
            conn.prefetch(*read)
            if change:
                conn.defer(change)  # queued after the read, before its answer is taken
            assert conn.execute(*read).fetchone()[0] == "USD"
        conn.prefetch(*read)
        conn.execute("SELECT 1")  # the read is answered, and kept
        conn.defer("UPDATE settings SET value = 'GBP' WHERE key = 'currency'")
        assert conn.execute(*read).fetchone()[0] == "GBP"
        conn.prefetch(*read)
        conn.execute("SELECT 1")
        conn.defer("UPDATE users SET name = name")  # another table: the answer stands
        assert conn.execute(*read).fetchone()[0] == "GBP"
    finally:
        dialect.undo_quietly(conn, "ROLLBACK")
        conn.close()


@postgres_only
def test_a_read_at_commit_goes_with_the_commit_and_never_shows_what_was_rolled_back(demo_db, wire):
    """read_at_commit travels with the COMMIT (one round trip for the change, the read and the COMMIT) and is
    answered after it without another; after a ROLLBACK it reads afresh what was kept."""
    from salesselect_cli.sql import dialect

    conn = dialect.connect_postgres(str(demo_db))
    read = "SELECT value FROM settings WHERE key = ?"
    try:
        conn.begin(write=True)
        conn.defer("INSERT INTO settings (key, value) VALUES ('probe', 'one')")
        rows = conn.read_at_commit(read, ["probe"])
        wire.clear()
        conn.execute("COMMIT")
        assert [tuple(row) for row in rows()] == [("one",)]
        assert wire.round_trips == 1 and wire.statements[-2:] == [dialect.to_postgres(read), "COMMIT"], wire.listing()
        conn.begin(write=True)
        conn.defer("UPDATE settings SET value = 'two' WHERE key = 'probe'")
        rows = conn.read_at_commit(read, ["probe"])
        conn.execute("ROLLBACK")
        assert [tuple(row) for row in rows()] == [("one",)]
    finally:
        dialect.undo_quietly(conn, "DELETE FROM settings WHERE key = 'probe'")
        conn.close()


@postgres_only
def test_a_move_that_fails_in_its_commit_trip_changes_nothing_and_runs_no_hook(demo_db, cli, tmp_path):
    """The change, its undo step, the deal after and the COMMIT share one round trip: a statement of it that the
    server refuses (here a trigger on the UPDATE) is one error line and exit 1; the deal, its history and the undo
    steps stay as they were, and the run: hook, which waits for the commit, never runs."""
    from salesselect_cli.sql import dialect
    from tests.test_workflows import script

    marker = tmp_path / "hook-ran"
    command = script(tmp_path, "touch.py", f"import sys\nsys.stdin.read()\nopen({str(marker)!r}, 'w').close()\n")
    assert cli("workflow", "add", "Touch", "--on", "stage", "--action", f"run:{command}").exit_code == 0
    deal = a_deal_in_proposal(cli)
    before = cli("opp", "show", deal, "--format", "json").json()
    steps = cli("undo", "--list", "--format", "json")
    conn = dialect.connect_postgres(str(demo_db))
    try:
        conn.raw.execute("CREATE FUNCTION refuse_move() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$BEGIN RAISE EXCEPTION 'moves are closed today'; END$$")
        conn.raw.execute("CREATE TRIGGER refuse_move BEFORE UPDATE OF stage_id ON opportunities "
                         "FOR EACH ROW EXECUTE FUNCTION refuse_move()")
        run = cli("opp", "move", deal, "Negotiation")
        assert run.exit_code == 1, run.stderr
        assert run.stderr.startswith("Error: ") and len(run.stderr.splitlines()) == 1, run.stderr
        assert "moves are closed today" in run.stderr and "Traceback" not in run.stderr
        assert not marker.exists()
    finally:
        conn.raw.execute("DROP TRIGGER IF EXISTS refuse_move ON opportunities")
        conn.raw.execute("DROP FUNCTION IF EXISTS refuse_move()")
        conn.close()
    assert cli("opp", "show", deal, "--format", "json").json() == before
    assert cli("undo", "--list", "--format", "json").stdout == steps.stdout
    moved = cli("opp", "move", deal, "Negotiation")  # the same move, once allowed, runs its hook after the commit
    assert moved.exit_code == 0, moved.stderr
    assert marker.exists()


@postgres_only
@pytest.mark.parametrize("options", [(), ("--type", "Agencies"), ("--limit", "0"), ("--all-stages", "--limit", "2"),
                                     ("--overdue",), ("--owner", "sanne", "--limit", "1")])
def test_the_boards_cards_by_lateral_join_are_those_read_stage_by_stage(demo_db, cli, monkeypatch, options):
    """The cards PostgreSQL reads with the columns (a LATERAL join, no stage ids) are the ones the stage-by-stage
    read gives (SQLite's, which needs the columns first): the same cards, columns and order."""
    from salesselect_cli.sql.dialect import PgConnection

    lateral = cli("board", "--format", "json", *options)
    assert lateral.exit_code == 0, lateral.stderr
    monkeypatch.setattr(PgConnection, "lateral_joins", False)
    by_stage = cli("board", "--format", "json", *options)
    assert by_stage.exit_code == 0, by_stage.stderr
    assert lateral.json() == by_stage.json()
    assert any(column["cards"] for column in lateral.json())


BOARD_OPTIONS = [(), ("--all-stages",), ("--limit", "0"), ("--limit", "1", "--all-stages"), ("--overdue",),
                 ("--type", "Agencies"), ("--owner", "sanne", "--limit", "2")]


@postgres_only
@pytest.mark.parametrize("setting", ["as the demo", "bad red_days", "no indicator", "wide indicator", "win chances",
                                     "module off"])
def test_the_board_read_with_the_opening_trip_is_the_board_read_after_it(demo_db, cli, monkeypatch, wire, setting):
    """The board's reads sent with the session's opening round trip (before the settings are read: its columns
    need none) give the board the reads sent after it give: table (its red/orange/overdue counts), JSON and
    warnings alike, for a bad or missing indicator setting, win chances in use, and a session that refuses."""
    from salesselect_cli.sql import dialect
    from salesselect_cli.sql.reports import ReportRoom

    changes = {"bad red_days": "UPDATE settings SET value = 'abc' WHERE key = 'red_days'",
               "no indicator": "DELETE FROM settings WHERE key IN ('orange_days', 'red_days')"}
    if setting in changes:
        conn = dialect.connect_postgres(str(demo_db))
        try:
            conn.raw.execute(changes[setting])
        finally:
            conn.close()
    elif setting == "wide indicator":
        assert cli("config", "set-indicator", "--orange", "60", "--red", "20").exit_code == 0
    elif setting == "win chances":
        assert cli("config", "set-probability", "Proposal", "40").exit_code == 0
    elif setting == "module off":
        assert cli("config", "module", "disable").exit_code == 0

    def boards():
        runs = [cli("board", *shape, *options) for options in BOARD_OPTIONS
                for shape in (("--width", "400"), ("--format", "json"))]
        return [(run.exit_code, run.stdout, run.stderr) for run in runs]

    wire.clear()
    ahead = boards()
    trips_ahead = wire.round_trips
    monkeypatch.setattr(ReportRoom, "expect_board", lambda self, flt, all_stages, limit: None)
    wire.clear()
    after = boards()
    assert ahead == after
    if setting == "module off":
        assert all(code != 0 and out == "" and err.startswith("Error: ") for code, out, err in ahead), ahead[0]
        return
    assert all(code == 0 for code, _out, _err in ahead), ahead
    assert trips_ahead < wire.round_trips  # what the read ahead saves: the filters that name nothing
    if setting == "bad red_days":
        assert all("red_days setting holds 'abc'" in err for _code, _out, err in ahead)
    if setting in ("as the demo", "wide indicator"):
        assert " red" in ahead[0][1] and " orange" in ahead[0][1] and " overdue" in ahead[0][1]
