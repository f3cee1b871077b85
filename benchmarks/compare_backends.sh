#!/usr/bin/env bash
# The same 100,000 deals on SQLite and on PostgreSQL: board and each report timed on both.
#   eval "$(.ci/pg-cluster start)"; benchmarks/compare_backends.sh; .ci/pg-cluster stop "$PG_DIR"
# Data: examples/setup.json, 100,000 CSV rows (half closed) through `import`, then `db copy` to PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
S=.venv/bin/salesselect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SALESSELECT_TODAY=2026-11-27 SALESSELECT_USER=postgres NO_COLOR=1 COLUMNS=200
.venv/bin/python - "$work/deals.csv" <<'PY'
import csv, datetime as dt, random, sys
rng = random.Random(7)
stages = {"Staffing": ["Lead", "Introduction", "Proposal", "Negotiation"],
          "Agencies": ["Lead", "Introduction", "Proposal", "Framework agreement"]}
won, lost = ["Good price", "Strong candidates"], ["Too expensive", "Chose a competitor", "No candidates"]
with open(sys.argv[1], "w", newline="") as handle:
    out = csv.writer(handle)
    out.writerow(["title", "company", "type", "source", "stage", "value", "close", "status", "reason",
                  "created", "closed", "closed_from"])
    for i in range(100_000):
        kind = rng.choice(["Staffing", "Agencies"])
        created = dt.date(2026, 11, 27) - dt.timedelta(days=rng.randint(0, 700))
        status = rng.choice(["open", "won", "lost"]) if i % 2 else "open"
        stage = rng.choice(stages[kind])
        closed = min(created + dt.timedelta(days=rng.randint(1, 120)), dt.date(2026, 11, 27))
        row = [f"Deal {i}", f"Company {i % 5000}", kind, rng.choice(["HubSpot", "Google", "LinkedIn", "Referral", "Website"])]
        if status == "open":
            row += [stage, rng.randint(1, 900) * 100, (dt.date(2026, 11, 27) + dt.timedelta(days=rng.randint(-30, 200))).isoformat(),
                    "", "", created.isoformat(), "", ""]
        else:
            auto = "New client" if status == "won" else "Lost"
            row += [auto, rng.randint(1, 900) * 100, "", status, rng.choice(won if status == "won" else lost),
                    created.isoformat(), closed.isoformat(), stage]
        out.writerow(row)
PY
url="${SALESSELECT_TEST_PG%/*}/bench_$$"
psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
"$psql_bin" "$SALESSELECT_TEST_PG" -qc "CREATE DATABASE bench_$$"
$S --db "$work/b.db" init 2>/dev/null
$S --db "$work/b.db" config import examples/setup.json >/dev/null 2>&1
$S --db "$work/b.db" import "$work/deals.csv" >/dev/null 2>&1
$S db copy "$work/b.db" "$url" 2>/dev/null
"$psql_bin" "$url" -qc "VACUUM ANALYZE"
best() {  # the best of three runs, in seconds
  local best=999 t
  for _ in 1 2 3; do
    /usr/bin/time -f %e -o "$work/time" "$@" >/dev/null 2>&1
    t=$(tail -n 1 "$work/time")
    best=$(python3 -c "print(min($best, $t))")
  done
  echo "$best"
}
printf '| command | SQLite | PostgreSQL |\n| --- | --- | --- |\n'
for cmd in "board" "report winloss -p this-year" "report sources -p this-year" "report pipeline" "report stages -p this-year"; do
  # shellcheck disable=SC2086
  $S --db "$work/b.db" $cmd >/dev/null && $S --db "$url" $cmd >/dev/null  # each works (set -e), and is warm
  # shellcheck disable=SC2086
  printf '| `%s` | %s s | %s s |\n' "$cmd" "$(best $S --db "$work/b.db" $cmd)" "$(best $S --db "$url" $cmd)"
done
"$psql_bin" "$SALESSELECT_TEST_PG" -qc "DROP DATABASE bench_$$ WITH (FORCE)"
