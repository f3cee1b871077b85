"""The schema: tables, report indexes, and the numbered migrations, in one text for both backends.

A migration is a function `mNNN_what(db)` registered with @migration, in numeric order; names are never
reused or edited once released. `connection.py` applies the pending ones when a database is opened and
records their names in `salesselect_migrations` (the same table on SQLite and PostgreSQL).

`db` is connection.MigrationDb: `db.run(*statements)` runs DDL, and `db.ddl` is the backend's own part
(sql/ddl_sqlite.py or sql/ddl_postgres.py: the same names in both): `db.ddl.adapt(script)` turns the shared
SQLite-flavoured DDL into the backend's, and triggers, which differ in language, live there per migration.
A step only one backend needs is an empty tuple in the other's module.

Adding one: a function numbered above the last, at the end of this file,

    @migration
    def m040_goals(db):
        db.run(*statements(db.ddl.adapt(GOALS)), *db.ddl.GOALS_RULES)

with GOALS_RULES in both ddl modules (a tuple of statements; `()` where the backend needs none).
"""

from __future__ import annotations

import re


# --------------------------------------------------------------------------- migrations

SCHEMA_V1 = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    key_user INTEGER NOT NULL DEFAULT 0 CHECK (key_user IN (0, 1)),
    module TEXT CHECK (module IN ('on', 'off')),
    created TEXT NOT NULL
);
CREATE TABLE business_types (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    color TEXT NOT NULL
);
CREATE TABLE stages (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    position INTEGER NOT NULL,
    auto_status TEXT CHECK (auto_status IN ('won', 'lost'))
);
CREATE TABLE stage_business_types (
    stage_id INTEGER NOT NULL REFERENCES stages(id) ON DELETE CASCADE,
    business_type_id INTEGER NOT NULL REFERENCES business_types(id) ON DELETE CASCADE,
    PRIMARY KEY (stage_id, business_type_id)
);
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE reasons (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL CHECK (status IN ('won', 'lost')),
    UNIQUE (text, status)
);
CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    company TEXT NOT NULL,
    contact TEXT,
    business_type_id INTEGER NOT NULL REFERENCES business_types(id),
    stage_id INTEGER NOT NULL REFERENCES stages(id),
    source_id INTEGER NOT NULL REFERENCES sources(id),
    value_cents INTEGER NOT NULL DEFAULT 0 CHECK (value_cents >= 0),
    expected_close TEXT,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    reason_id INTEGER REFERENCES reasons(id),
    closed_from_stage_id INTEGER REFERENCES stages(id),
    vacancy TEXT,
    notes TEXT,
    created TEXT NOT NULL,
    closed TEXT
);
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    from_id INTEGER,
    to_id INTEGER
);
CREATE TABLE followups (
    id INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    due TEXT NOT NULL,
    text TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created TEXT NOT NULL,
    done TEXT
);
CREATE TABLE workflows (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    trigger TEXT NOT NULL CHECK (trigger IN ('stage', 'status')),
    to_stage_id INTEGER REFERENCES stages(id),
    from_stage_id INTEGER REFERENCES stages(id),
    to_status TEXT CHECK (to_status IN ('open', 'won', 'lost')),
    business_type_id INTEGER REFERENCES business_types(id),
    actions TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created TEXT NOT NULL
);
CREATE INDEX idx_opportunities_status_stage ON opportunities(status, stage_id);
CREATE INDEX idx_opportunities_type ON opportunities(business_type_id, status);
CREATE INDEX idx_opportunities_owner ON opportunities(owner_id, status);
CREATE INDEX idx_opportunities_source ON opportunities(source_id);
CREATE INDEX idx_opportunities_closed ON opportunities(closed);
CREATE INDEX idx_opportunities_created ON opportunities(created);
CREATE INDEX idx_opportunities_reason ON opportunities(reason_id);
CREATE INDEX idx_opportunities_closed_from ON opportunities(closed_from_stage_id);
CREATE INDEX idx_history_opportunity ON history(opportunity_id, id);
CREATE INDEX idx_history_field ON history(field, to_id);
CREATE INDEX idx_followups_open ON followups(done, due);
CREATE INDEX idx_followups_opportunity ON followups(opportunity_id, done, due);
"""

# Covering indexes for the reports: each report reads one range of one index, never the wide rows.
REPORT_INDEXES = """
CREATE INDEX idx_report_closed ON opportunities(closed, status, closed_from_stage_id, stage_id, reason_id,
    value_cents, business_type_id, owner_id, source_id) WHERE closed IS NOT NULL;
CREATE INDEX idx_report_created ON opportunities(created, source_id, status, value_cents, closed,
    business_type_id, owner_id);
CREATE INDEX idx_report_open ON opportunities(status, stage_id, expected_close, value_cents, business_type_id,
    owner_id, source_id);
CREATE INDEX idx_report_history ON history(at, field, opportunity_id, to_id, to_value);
"""

# (name, function), in numeric order. Files made before m010 and m017 moved here applied them last: the runner
# applies whatever a database has not recorded, by name, so the order they were applied in stays theirs.
MIGRATIONS: list = []


def migration_number(name: str) -> int:
    return int(re.match(r"m(\d+)_", name).group(1))


def migration(function):
    """Register the next migration `mNNN_what`: its number above every registered one's."""
    if MIGRATIONS and migration_number(function.__name__) <= migration_number(MIGRATIONS[-1][0]):
        raise ValueError(f"{function.__name__} must be numbered after {MIGRATIONS[-1][0]}")
    MIGRATIONS.append((function.__name__, function))
    return function


def known_migration_names() -> list[str]:
    return [name for name, _ in MIGRATIONS]


def statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


@migration
def m001_initial(db):
    db.run(*statements(db.ddl.adapt(SCHEMA_V1)), *db.ddl.FOLD_FUNCTION)


@migration
def m002_report_indexes(db):
    db.run(*statements(REPORT_INDEXES))


# The stage funnel report reads one row per stage visit instead of a window over all history: a visit
# starts at a 'created'/'stage' history row and ends at the opportunity's next such row or won/lost status
# row (ordered by at, then id). Triggers keep it equal to what the history implies on every write path,
# and copy the opportunity's status, type, owner and source so the report never reads the wide rows.
STAGE_VISIT_EVENT = "({h}field IN ('created', 'stage') OR ({h}field = 'status' AND {h}to_value NOT LIKE 'open%'))"

def _visits_from_history(days: bool, in_event_order: bool = False) -> str:
    """The INSERT that rebuilds stage_visits from the history rows matching {which} ({event}: STAGE_VISIT_EVENT);
    with `days` it also writes each visit's length ({days}: the connection's days_between of ended and entered);
    `in_event_order` gives the visits their ids in the order of the history rows that began them, as the per-row
    triggers do."""
    days_column, days_value = ("days, ", "\n       {days},") if days else ("", "")
    event_id, order = (", id", "\n ORDER BY e.id") if in_event_order else ("", "")
    return f"""
INSERT INTO stage_visits (opportunity_id, stage_id, entered, ended, {days_column}outcome, next_stage_id,
                          status, business_type_id, owner_id, source_id)
SELECT e.opportunity_id, e.to_id, substr(e.at, 1, 10), substr(e.next_at, 1, 10),{days_value}
       CASE e.next_kind WHEN 'S' THEN 'moved' WHEN 'W' THEN 'won' WHEN 'L' THEN 'lost' END,
       CASE WHEN e.next_kind = 'S' THEN e.next_to_id END,
       o.status, o.business_type_id, o.owner_id, o.source_id
  FROM (SELECT opportunity_id{event_id}, at, to_id, kind, LEAD(kind) OVER w AS next_kind, LEAD(at) OVER w AS next_at,
               LEAD(to_id) OVER w AS next_to_id
          FROM (SELECT opportunity_id, id, at, to_id,
                       CASE WHEN field IN ('created', 'stage') THEN 'S' WHEN to_value LIKE 'won%' THEN 'W' ELSE 'L' END
                         AS kind
                  FROM history WHERE {{event}} AND {{which}}) k
        WINDOW w AS (PARTITION BY opportunity_id ORDER BY at, id)) e
  JOIN opportunities o ON o.id = e.opportunity_id
 WHERE e.kind = 'S'{order}
"""


STAGE_VISITS_FROM_HISTORY = _visits_from_history(days=False)

STAGE_VISITS_TABLE = """
CREATE TABLE stage_visits (
    id INTEGER PRIMARY KEY,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    stage_id INTEGER,
    entered TEXT NOT NULL,
    ended TEXT,
    outcome TEXT CHECK (outcome IN ('moved', 'won', 'lost')),
    next_stage_id INTEGER,
    status TEXT NOT NULL,
    business_type_id INTEGER NOT NULL,
    owner_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL
)
"""

# The report's GROUP BY follows idx_stage_visits_report's order, so SQLite aggregates without sorting.
STAGE_VISITS_INDEXES = """
CREATE INDEX idx_stage_visits_report ON stage_visits(entered, stage_id, ended, outcome, next_stage_id, status,
    business_type_id, owner_id, source_id);
CREATE INDEX idx_stage_visits_opportunity ON stage_visits(opportunity_id, outcome)
"""

@migration
def m003_stage_visits(db):
    db.run(db.ddl.adapt(STAGE_VISITS_TABLE),
           STAGE_VISITS_FROM_HISTORY.format(event=STAGE_VISIT_EVENT.format(h=""), which="1 = 1"),
           *statements(STAGE_VISITS_INDEXES), *db.ddl.STAGE_VISITS_TRIGGERS)


# A bulk load (CSV import) sets this settings row inside its transaction: the per-row triggers step aside
# and the load fills stage_visits for its own opportunities with one set-based INSERT at the end.
BULK_LOAD_KEY = "bulk_load"
NOT_BULK = f"NOT EXISTS (SELECT 1 FROM settings WHERE key = '{BULK_LOAD_KEY}')"
IS_BULK = f"EXISTS (SELECT 1 FROM settings WHERE key = '{BULK_LOAD_KEY}')"


@migration
def m004_bulk_load_and_lighter_indexes(db):
    # indexes no query needs any more: prefixes of m002's covering ones, and history by time (m003 replaced it)
    db.run(*(f"DROP INDEX IF EXISTS {name}" for name in (
        "idx_opportunities_status_stage", "idx_opportunities_created", "idx_opportunities_closed", "idx_report_history")))
    db.run(*db.ddl.BULK_AWARE_STAGE_VISITS_TRIGGERS)


@migration
def m005_workflow_env(db):
    # the environment variables (names) a workflow's run: hooks may see besides the event's own
    db.run(db.ddl.adapt("ALTER TABLE workflows ADD COLUMN env TEXT NOT NULL DEFAULT '[]'"))


# Team rules (issue 12): a role per user, a trash instead of deletion, and the setup part of the audit log
# (the deal part is the history). setup_log.history_mark is the last history id when the line was written,
# so the log orders setup and deal changes made in the same second. Independent of the other phase-2
# migrations; portable SQL only.
TEAM_SCHEMA = """
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'recruiter' CHECK (role IN ('recruiter', 'manager'));
ALTER TABLE opportunities ADD COLUMN deleted TEXT;
ALTER TABLE opportunities ADD COLUMN deleted_by TEXT;
CREATE INDEX idx_opportunities_trash ON opportunities(deleted) WHERE deleted IS NOT NULL;
CREATE TABLE setup_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    what TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    opportunity_id INTEGER,
    history_mark INTEGER
);
CREATE INDEX idx_setup_log_at ON setup_log(at, id)
"""

# Every deal query now says `o.deleted IS NULL` (the trash scope): the reports' covering indexes carry the
# column so they stay covering (measured at 100,200 deals: without it the board took 3x, win/loss 2x longer).
TEAM_REPORT_INDEXES = """
DROP INDEX IF EXISTS idx_report_closed;
DROP INDEX IF EXISTS idx_report_created;
DROP INDEX IF EXISTS idx_report_open;
CREATE INDEX idx_report_closed ON opportunities(closed, status, closed_from_stage_id, stage_id, reason_id,
    value_cents, business_type_id, owner_id, source_id, deleted) WHERE closed IS NOT NULL;
CREATE INDEX idx_report_created ON opportunities(created, source_id, status, value_cents, closed,
    business_type_id, owner_id, deleted);
CREATE INDEX idx_report_open ON opportunities(status, stage_id, expected_close, value_cents, business_type_id,
    owner_id, source_id, deleted)
"""


@migration
def m010_team_roles(db):
    db.run(*statements(db.ddl.adapt(TEAM_SCHEMA)), *statements(TEAM_REPORT_INDEXES))


# Issue 16 (m016: numbered after its issue, as m020 is; files that already have m020/m021 get it after them).
# The funnel groups a period's visits by (stage, days, outcome, next stage) directly instead of per entry day
# first. Each visit keeps its length in whole days once it has ended (NULL while it lasts: the report counts
# those up to today): triggers set it on every write path, the bulk load's one INSERT computes it.
# idx_stage_visits_funnel leads with those few-valued columns, then the entry day: SQLite reads a period by
# skip-scan, in GROUP BY order, without sorting; sqlite_stat1 tells the planner the columns have few values.
STAGE_VISITS_WITH_DAYS_FROM_HISTORY = _visits_from_history(days=True)
STAGE_VISITS_WITH_DAYS_IN_EVENT_ORDER = _visits_from_history(days=True, in_event_order=True)

STAGE_VISITS_FUNNEL_INDEXES = """
CREATE INDEX idx_stage_visits_funnel ON stage_visits(stage_id, days, outcome, next_stage_id, status, entered,
    business_type_id, owner_id, source_id);
CREATE INDEX idx_stage_visits_open ON stage_visits(entered, stage_id, status, business_type_id, owner_id, source_id)
    WHERE days IS NULL
"""
# rows, then rows per distinct (stage), (stage, days), (.., outcome), (.., next stage), (.., status), (.., entered)...
FUNNEL_INDEX_SHAPE = "1000000 100000 1000 500 300 150 2 1 1 1"


@migration
def m016_stage_visit_days(db):
    days = db.ddl.VISIT_DAYS.format(ended="ended", entered="entered")
    db.run(db.ddl.adapt("ALTER TABLE stage_visits ADD COLUMN days INTEGER"),
           f"UPDATE stage_visits SET days = {days} WHERE ended IS NOT NULL",
           "DROP INDEX IF EXISTS idx_stage_visits_report", *statements(STAGE_VISITS_FUNNEL_INDEXES),
           *db.ddl.STAGE_VISIT_DAYS_TRIGGERS,
           *db.ddl.index_shape("stage_visits", "idx_stage_visits_funnel", FUNNEL_INDEX_SHAPE))


# Issue 16: the funnel (`report stages`) without a filter groups a few thousand rows instead of every visit of
# the period. funnel_counts holds, per day a visit began, stage, length in days, outcome and next stage, how many
# visits there are (n) and how many of those belong to a deal that is won now (won). It is kept from stage_visits
# itself: triggers on stage_visits add a visit's row, take it away, or move it when a visit ends or its deal's
# status changes, so every path that keeps stage_visits (history triggers, trash, restore, purge, reassigning)
# keeps funnel_counts. A bulk load (CSV import, db copy) sets the bulk-load flag: the triggers step aside, an
# import adds its new visits with FUNNEL_COUNTS_FROM_VISITS, db copy copies the table as it is.
# Key columns are NOT NULL so the upsert finds its row (NULLs never conflict): a visit under way has days -1 and
# outcome '' (the report counts its days up to today from `entered`), no next stage is 0, no stage 0.
FUNNEL_KEY = ("entered", "stage_id", "days", "outcome", "next_stage_id")

FUNNEL_COUNTS_TABLE = """
CREATE TABLE funnel_counts (
    entered TEXT NOT NULL,
    stage_id INTEGER NOT NULL,
    days INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    next_stage_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    won INTEGER NOT NULL,
    PRIMARY KEY (entered, stage_id, days, outcome, next_stage_id)
)"""


def _funnel_key_values(v: str, visit_days: str | None = None) -> list[str]:
    """A stage_visits row's funnel_counts key (`v` is 'new.', 'old.' or an alias with its dot).

    `visit_days` (the backend's days_between of {ended} and {entered}): the days worked out from `ended`
    rather than read from `days`. SQLite's triggers need it (sql/ddl_sqlite.py says why); PostgreSQL sets
    `days` BEFORE the row is written, so its trigger and the one-statement fill read the column."""
    if visit_days:
        days = f"CASE WHEN {v}ended IS NULL THEN -1 ELSE {visit_days.format(ended=v + 'ended', entered=v + 'entered')} END"
    else:
        days = f"COALESCE({v}days, -1)"
    return [f"{v}entered", f"COALESCE({v}stage_id, 0)", days, f"COALESCE({v}outcome, '')",
            f"COALESCE({v}next_stage_id, 0)"]


def _funnel_key(v: str, visit_days: str | None = None) -> str:
    return ", ".join(_funnel_key_values(v, visit_days))


def _funnel_key_matches(v: str, visit_days: str | None = None) -> str:
    return " AND ".join(f"{column} = {value}" for column, value in zip(FUNNEL_KEY, _funnel_key_values(v, visit_days)))


def _is_won(v: str) -> str:
    return f"CASE WHEN {v}status = 'won' THEN 1 ELSE 0 END"


def funnel_add(visit_days: str | None = None) -> str:
    """The statement a trigger runs to count the visit `new.` in funnel_counts."""
    return (f"INSERT INTO funnel_counts ({', '.join(FUNNEL_KEY)}, n, won) VALUES ({_funnel_key('new.', visit_days)}, "
            f"1, {_is_won('new.')}) ON CONFLICT ({', '.join(FUNNEL_KEY)}) DO UPDATE SET n = funnel_counts.n + 1, "
            "won = funnel_counts.won + excluded.won")


def funnel_take(visit_days: str | None = None) -> str:
    """The statements a trigger runs to uncount the visit `old.`."""
    matches = _funnel_key_matches("old.", visit_days)
    return (f"UPDATE funnel_counts SET n = n - 1, won = won - {_is_won('old.')} WHERE {matches};\n"
            f"  DELETE FROM funnel_counts WHERE {matches} AND n = 0")


def funnel_changed(key_length: str) -> str:
    """The visit's key or its deal's won status changed; `key_length` is the column its days come from."""
    return (f"old.entered IS NOT new.entered OR old.stage_id IS NOT new.stage_id OR old.{key_length} IS NOT "
            f"new.{key_length} OR old.outcome IS NOT new.outcome OR old.next_stage_id IS NOT new.next_stage_id "
            "OR (old.status = 'won') IS NOT (new.status = 'won')")


# Every visit of the stage_visits rows matching {which}, added to funnel_counts in one statement.
FUNNEL_COUNTS_FROM_VISITS = f"""
INSERT INTO funnel_counts ({', '.join(FUNNEL_KEY)}, n, won)
SELECT {_funnel_key('v.')}, COUNT(*), SUM({_is_won('v.')})
  FROM stage_visits v WHERE {{which}}
 GROUP BY {_funnel_key('v.')}
ON CONFLICT ({', '.join(FUNNEL_KEY)}) DO UPDATE SET n = funnel_counts.n + excluded.n,
   won = funnel_counts.won + excluded.won
"""


@migration
def m017_funnel_counts(db):
    db.run(db.ddl.funnel_counts_table(FUNNEL_COUNTS_TABLE), FUNNEL_COUNTS_FROM_VISITS.format(which="1 = 1"),
           *db.ddl.FUNNEL_COUNTS_TRIGGERS)


# Follow-ups get a status (open, done, cancelled: a won or lost deal's open to-dos are cancelled) and the
# name of the workflow that planned them (a workflow never plans a second open one with the same text).
FOLLOWUP_STATUS = """
ALTER TABLE followups ADD COLUMN status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled'));
ALTER TABLE followups ADD COLUMN workflow TEXT;
UPDATE followups SET status = 'done' WHERE done IS NOT NULL;
CREATE INDEX idx_followups_status ON followups(status, due);
CREATE INDEX idx_followups_opportunity_status ON followups(opportunity_id, status, due);
DROP INDEX IF EXISTS idx_followups_open;
DROP INDEX IF EXISTS idx_followups_opportunity;
"""


@migration
def m020_followup_status(db):
    db.run(*statements(db.ddl.adapt(FOLLOWUP_STATUS)))


# An archived stage is hidden from the board, moves and the setup lists, but stays for the deals closed
# from it (removing it would rewrite their history and last year's win/loss report).
@migration
def m021_stage_archived(db):
    db.run(db.ddl.adapt("ALTER TABLE stages ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))"))


# A deal's id in the system it was imported from (`import --key`): unique per source, so a re-import
# of the same export updates the deals it made instead of adding them again.
@migration
def m030_external_keys(db):
    db.run(db.ddl.adapt("ALTER TABLE opportunities ADD COLUMN external_key TEXT"),
           "CREATE UNIQUE INDEX idx_opportunities_external_key ON opportunities(source_id, external_key) "
           "WHERE external_key IS NOT NULL")




# One row per change a user may take back with `salesselect undo`: the deal's columns before it (JSON) and after
# it (after_*: written by the same INSERT that reads them), and the marks around what it wrote: its history
# rows (history_from, history_to] (notes, cancelled follow-ups) and follow-ups (followup_from, followup_to].
UNDO_AFTER_COLUMNS = (("title", "TEXT"), ("company", "TEXT"), ("contact", "TEXT"), ("vacancy", "TEXT"),
                      ("notes", "TEXT"), ("source_id", "INTEGER"), ("business_type_id", "INTEGER"),
                      ("stage_id", "INTEGER"), ("status", "TEXT"), ("reason_id", "INTEGER"), ("closed", "TEXT"),
                      ("closed_from_stage_id", "INTEGER"), ("value_cents", "INTEGER"), ("expected_close", "TEXT"),
                      ("owner_id", "INTEGER"))
UNDO_LOG = """
CREATE TABLE undo_log (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    before_values TEXT NOT NULL,
    history_from INTEGER NOT NULL,
    history_to INTEGER NOT NULL,
    followup_from INTEGER NOT NULL,
    followup_to INTEGER NOT NULL,
    undone TEXT,
""" + ",\n".join(f"    after_{name} {kind}" for name, kind in UNDO_AFTER_COLUMNS) + """
);
CREATE INDEX idx_undo_log_user ON undo_log(user_id, undone, id);
CREATE INDEX idx_undo_log_opportunity ON undo_log(opportunity_id)
"""


@migration
def m031_undo_log(db):
    db.run(*statements(db.ddl.adapt(UNDO_LOG)))


# Win chances and goals (issue 25): a stage's percentage and a deal's own (NULL: follow the method); a
# deal's probability changes are history rows (field 'probability'); one goal per owner per period.
FORECAST_SCHEMA = """
ALTER TABLE stages ADD COLUMN probability INTEGER CHECK (probability BETWEEN 0 AND 100);
ALTER TABLE opportunities ADD COLUMN probability INTEGER CHECK (probability BETWEEN 0 AND 100);
CREATE TABLE goals (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    UNIQUE (owner_id, period_start, period_end)
);
CREATE INDEX idx_goals_period ON goals(period_start, period_end)
"""


@migration
def m040_forecast(db):
    db.run(*statements(db.ddl.adapt(FORECAST_SCHEMA)))


# Issue 25's speed targets: the learned chance counts, per closed deal, each stage it reached once however often
# it came back. (opportunity_id, stage_id) answers that from the index alone, one probe per deal and stage,
# instead of reading each visit's row and sorting the pairs to drop repeats (3x less CPU at 100k deals).
FORECAST_COUNT_INDEXES = """
CREATE INDEX idx_stage_visits_reached ON stage_visits(opportunity_id, stage_id)
"""


@migration
def m045_forecast_counts(db):
    db.run(*statements(FORECAST_COUNT_INDEXES))


# PostgreSQL's own enforcement of the team rules (sql/pg_security.py): groups, privileges, forced row-level
# security, the audit trail written by triggers. SQLite is one trust domain: nothing to do there. After any
# later migration the runner installs it again (connection.migrate), so new tables get their rules.
@migration
def m050_pg_security(db):
    db.ddl.secure(db.conn)


# A bulk-load flag left committed would stop stage visits and funnel counts for everyone: PostgreSQL now refuses
# to commit one (pg_security's salesselect_bulk_load_ends). Installing again puts that trigger on older databases.
@migration
def m055_bulk_load_lasts_one_transaction(db):
    db.run(f"DELETE FROM settings WHERE key = '{BULK_LOAD_KEY}'")  # one committed before kept the triggers aside
    db.ddl.secure(db.conn)
