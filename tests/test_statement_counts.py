"""What a command costs in statements, connection set-up included: on a server across a network each one is
a round trip. The limits are issue 23's; a command that grows an N+1 fails here."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="counted with SQLite's trace callback")

LIMITS = {  # the whole command, connection set-up included
    ("opp", "move", "{deal}", "Negotiation"): 15,
    ("board",): 10,
    ("opp", "list"): 10,
    ("report", "winloss"): 10,
    # the learned chance's counts in one statement; the backtest's twelve snapshots in two, not one or two each
    ("report", "forecast"): 12,
    ("report", "forecast", "--backtest"): 10,
}
# Opening a connection (pragmas, the migration check; a write also asks for the journal mode): the dialect
# layer's share of each limit above. The command's own statements get the rest.
SET_UP = {"read": 3, "write": 4}
# What opening a connection costs on this branch; the dialect layer (sql/dialect.py, sql/connection.py) cuts
# it to SET_UP, and then this line becomes SET_UP, so the totals above hold as a whole.
SET_UP_TODAY = SET_UP  # the one migration runner opens a file in 2 (read) or 3 (write) statements


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


def test_the_count_sees_an_extra_statement(demo_db, cli, statements):
    """The trace counts every statement on every connection (a second connection, an N+1 alike)."""
    cli("opp", "list")
    once = len(statements)
    statements.clear()
    cli("opp", "list")
    cli("opp", "list")
    assert len(statements) == 2 * once > 0


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
