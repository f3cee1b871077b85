"""What row-level security and the audit triggers (sql/pg_security.py) cost the CLI, at 100,000 deals.

    eval "$(.ci/pg-cluster start)"; .venv/bin/python benchmarks/pg_security_overhead.py "$SALESSELECT_TEST_PG"
    .ci/pg-cluster stop "$PG_DIR"

The benchmark agency (benchmarks/generate.py, 100k deals) is copied with `db copy` into two PostgreSQL
databases owned by an ordinary login with CREATEROLE: `secured` as salesselect leaves it (forced row security,
history and setup log written by triggers), and `plain`, the same copy with row security switched off and the
salesselect audit triggers dropped, where the client writes history itself (PgConnection.audit_by_triggers
set False in that process only). The same login, a key user holding the same group's privileges, runs each
command in both, interleaved; the best of --runs wall-clock times of the whole process is shown, with the
ratio secured / plain (target: at most 1.10).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-27"
LOGIN = "bench"  # generate.ME: the agency's key user, here an ordinary login
OWNER = "bench_owner"
COMMANDS = [("board",), ("opp", "move", "{deal}", "{stage}", "--no-workflows"), ("report", "winloss", "-p", "this-year"),
            ("report", "sources", "-p", "this-year"), ("report", "pipeline"), ("report", "stages", "-p", "this-year")]
# the plain database: salesselect's rules taken off again (the derived tables' own triggers stay)
STRIP = ("""
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY', t.relname);
  END LOOP;
  FOR t IN SELECT tg.tgname, c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
            WHERE NOT tg.tgisinternal AND tg.tgname LIKE 'salesselect_%' LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t.tgname, t.relname);
  END LOOP;
END $$""",
         # and the rights the old README had each login given by hand (the client writes history itself)
         f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{LOGIN}"')
# one process per run, as a user runs it; the plain database's client writes its own history
LAUNCH = ("import sys\nfrom salesselect_cli.sql import dialect\n"
          "if sys.argv.pop(1) == 'plain':\n    dialect.PgConnection.audit_by_triggers = False\n"
          "from salesselect_cli.entry import run\nsys.argv[0] = 'salesselect'\nrun()\n")


def run(kind: str, url: str, args: tuple[str, ...]) -> float:
    env = {**os.environ, "SALESSELECT_TODAY": TODAY, "SALESSELECT_USER": LOGIN, "NO_COLOR": "1", "COLUMNS": "200"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LAUNCH, kind, "--db", url, *args], env=env, capture_output=True,
                          text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{kind} {' '.join(args)}: {done.stderr.strip()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("SALESSELECT_TEST_PG"),
                        help="a superuser's URL on the cluster to use (default $SALESSELECT_TEST_PG)")
    parser.add_argument("--deals", default="100k")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None, help="a folder keeping the generated agency")
    options = parser.parse_args()
    import psycopg

    from salesselect_cli.sql import pg_security

    parts = urlsplit(options.admin_url)
    url = lambda db, user: f"postgresql://{user}@{parts.hostname}:{parts.port}/{db}"  # noqa: E731
    data = options.data or Path(tempfile.mkdtemp(prefix="bench-security-"))
    source = data / f"{options.deals}.db"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--deals", options.deals,
                        "--out", str(source)], check=True)
    databases = {kind: f"bench_{kind}_{os.getpid()}" for kind in ("secured", "plain")}
    with psycopg.connect(options.admin_url, autocommit=True) as admin:
        for role, extra in ((OWNER, "CREATEROLE"), (LOGIN, "")):
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER {extra}')
        for database in databases.values():
            admin.execute(f'CREATE DATABASE "{database}" OWNER "{OWNER}" TEMPLATE template0')
    try:
        for kind, database in databases.items():  # plain last: the owner, no user, reads it without row security
            subprocess.run([sys.executable, "-m", "salesselect_cli", "db", "copy", str(source), url(database, OWNER)],
                           check=True, capture_output=True, env={**os.environ, "SALESSELECT_USER": OWNER})
            with psycopg.connect(url(database, OWNER), autocommit=True) as owner:
                if kind == "plain":
                    for statement in STRIP:
                        owner.execute(statement)
                owner.execute("VACUUM ANALYZE")
                if kind != "plain":
                    continue
                deal, stages = owner.execute(
                    """SELECT o.id, array_agg(s.name ORDER BY s.position) FROM opportunities o
                         JOIN stage_business_types l ON l.business_type_id = o.business_type_id
                         JOIN stages s ON s.id = l.stage_id AND s.auto_status IS NULL AND s.archived = 0
                        WHERE o.status = 'open' AND o.deleted IS NULL GROUP BY o.id ORDER BY o.id LIMIT 1""").fetchone()
        print(f"| command ({options.deals} deals, best of {options.runs}) | plain | RLS + triggers | ratio |")
        print("| --- | --- | --- | --- |")
        for command in COMMANDS:
            best = {kind: float("inf") for kind in databases}
            for n in range(options.runs):
                for kind in (("plain", "secured") if n % 2 else ("secured", "plain")):  # interleaved
                    args = tuple(a.format(deal=deal, stage=stages[(n + (kind == "plain")) % 2]) for a in command)
                    best[kind] = min(best[kind], run(kind, url(databases[kind], LOGIN), args))
            shown = " ".join(command).replace("{deal}", str(deal)).replace("{stage}", "STAGE")
            print(f"| `{shown}` | {best['plain']:.2f} s | {best['secured']:.2f} s | "
                  f"{best['secured'] / best['plain']:.2f} |")
    finally:
        with psycopg.connect(options.admin_url, autocommit=True) as admin:
            for database in databases.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                for role in pg_security.ROLES:
                    admin.execute(f'DROP ROLE IF EXISTS "{pg_security.group_role(database, role)}"')


if __name__ == "__main__":
    main()
