"""What row-level security and the audit triggers (sql/pg_security.py) cost, in SQL, at 100,000 deals.

    eval "$(.ci/pg-cluster start)"; .venv/bin/python benchmarks/pg_security_overhead.py "$SALESSELECT_TEST_PG"
    .ci/pg-cluster stop "$PG_DIR"

The same statements (a board's aggregate, the win/loss report's, one deal moved with its history row) timed
by the database's owner before install and by a manager's ordinary login after; median of 30 runs each.
Until the client stops writing history itself (issue 24's wiring), the CLI cannot be timed this way.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import psycopg

BOARD = """SELECT stage_id, count(*), sum(value_cents) FROM opportunities
            WHERE deleted IS NULL AND status = 'open' GROUP BY stage_id"""
WINLOSS = """SELECT status, closed_from_stage_id, reason_id, count(*), sum(value_cents) FROM opportunities
              WHERE closed >= '2026-01-01' AND closed IS NOT NULL AND deleted IS NULL GROUP BY 1, 2, 3"""
HISTORY = "SELECT count(*) FROM history WHERE field = 'stage' AND at >= '2026-01-01'"


def move(conn, n: int) -> None:
    """One deal to the other stage and its history row (the client's two writes; after install one UPDATE)."""
    with conn.transaction():
        row = conn.execute("UPDATE opportunities SET stage_id = 3 - stage_id WHERE id = %s RETURNING stage_id",
                           [n % 1000 + 1]).fetchone()
        if not secured:
            conn.execute("INSERT INTO history (opportunity_id, at, actor, field, from_id, to_id) "
                         "VALUES (%s, '2026-11-27 10:00:00', 'x', 'stage', %s, %s)", [n % 1000 + 1, 3 - row[0], row[0]])


def timed(conn, statement) -> float:
    runs = []
    for n in range(30):
        start = time.perf_counter()
        statement(conn, n) if callable(statement) else conn.execute(statement).fetchall()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def main(admin_url: str) -> None:
    global secured
    from urllib.parse import urlsplit

    from salesselect_cli.sql import pg_security

    parts = urlsplit(admin_url)
    url = lambda db, user: f"postgresql://{user}@{parts.hostname}:{parts.port}/{db}"  # noqa: E731
    database = f"bench_security_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for role, extra in (("bench_owner", "CREATEROLE"), ("bench_max", "")):
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                admin.execute(f'CREATE ROLE "{role}" LOGIN {extra}')
        admin.execute(f'CREATE DATABASE "{database}" OWNER bench_owner')
    try:
        env = {**os.environ, "SALESSELECT_USER": "bench_owner", "SALESSELECT_TODAY": "2026-11-27"}
        subprocess.run([sys.executable, "-m", "salesselect_cli", "--db", url(database, "bench_owner"), "init"],
                       env=env, check=True, capture_output=True)
        with psycopg.connect(url(database, "bench_owner"), autocommit=True) as owner:
            owner.execute("INSERT INTO business_types (name, color) VALUES ('Staffing', 'blue')")
            owner.execute("INSERT INTO stages (name, position) VALUES ('Lead', 1), ('Proposal', 2)")
            owner.execute("INSERT INTO sources (name) VALUES ('HubSpot')")
            owner.execute("INSERT INTO users (name, role, created) VALUES ('bench_max', 'manager', '2026-01-01')")
            owner.execute("""INSERT INTO opportunities (title, company, business_type_id, stage_id, source_id, value_cents,
                                                        owner_id, status, created, closed)
                             SELECT 'Deal ' || i, 'Co ' || (i % 5000), 1, 1 + i % 2, 1, (i % 900) * 100, 1 + i % 2,
                                    CASE WHEN i % 2 = 0 THEN 'open' WHEN i % 4 = 1 THEN 'won' ELSE 'lost' END,
                                    '2026-01-01', CASE WHEN i % 2 = 1 THEN to_char(date '2025-06-01' + i % 500, 'YYYY-MM-DD') END
                               FROM generate_series(1, 100000) i""")
            owner.execute("""INSERT INTO history (opportunity_id, at, actor, field, from_id, to_id)
                             SELECT id, to_char(date '2025-06-01' + (id % 500)::int, 'YYYY-MM-DD'), 'x', 'stage', 1, 2
                               FROM opportunities""")
            owner.execute("ANALYZE")
            secured = False
            before = {name: timed(owner, s) for name, s in (("board", BOARD), ("winloss", WINLOSS),
                                                            ("history", HISTORY), ("move", move))}
            pg_security.install(owner)
            pg_security.grant_member(owner, "bench_max", "manager")
        secured = True
        with psycopg.connect(url(database, "bench_max"), autocommit=True) as member:
            member.execute("SET salesselect.now = '2026-11-27 10:00:00'")
            after = {name: timed(member, s) for name, s in (("board", BOARD), ("winloss", WINLOSS),
                                                            ("history", HISTORY), ("move", move))}
        for name in before:
            print(f"{name:8} owner, no RLS {before[name]:7.2f} ms   manager, RLS+triggers {after[name]:7.2f} ms   "
                  f"x{after[name] / before[name]:.2f}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in pg_security.ROLES:
                admin.execute(f'DROP ROLE IF EXISTS "{pg_security.group_role(database, role)}"')


secured = False

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ["SALESSELECT_TEST_PG"])
