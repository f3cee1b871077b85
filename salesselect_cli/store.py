"""The only module that speaks SQL: schema, migrations, transactions, queries.

Every command opens one `Store` and runs in one transaction: `BEGIN IMMEDIATE` for writes
(several writers queue on the busy timeout instead of failing), `BEGIN` for reads. Money is
integer cents. Names compare case-insensitively, Unicode included: `fold(name) = fold(?)`, where
fold() is Python's str.casefold registered on the connection (COLLATE NOCASE folds ASCII only).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from salesselect_cli.errors import (
    Conflict,
    DatabaseProblem,
    Invalid,
    NotFound,
    PermissionDenied,
    unknown_name,
)
from salesselect_cli.rules import transitions
from salesselect_cli.rules.indicator import close_date_bounds, days_left, indicator, validate_thresholds
from salesselect_cli.rules.money import cents_to_decimal_string
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.rules.text import clean_text as _blank_to_none

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 30
MIGRATION_SET = "salesselect"
STATUSES = ("open", "won", "lost")


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

# Covering indexes for the reports (issue 5): each report reads one range of one index, never the wide rows.
REPORT_INDEXES = """
CREATE INDEX idx_report_closed ON opportunities(closed, status, closed_from_stage_id, stage_id, reason_id,
    value_cents, business_type_id, owner_id, source_id) WHERE closed IS NOT NULL;
CREATE INDEX idx_report_created ON opportunities(created, source_id, status, value_cents, closed,
    business_type_id, owner_id);
CREATE INDEX idx_report_open ON opportunities(status, stage_id, expected_close, value_cents, business_type_id,
    owner_id, source_id);
CREATE INDEX idx_report_history ON history(at, field, opportunity_id, to_id, to_value);
"""

def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


MIGRATIONS: list = []  # (name, function) in order; sqlite_utils is imported only when one is pending


def migration(function):
    """Register a numbered migration (`mNNN_what`); names are never reused or edited once released."""
    MIGRATIONS.append((function.__name__, function))
    return function


@migration
def m001_initial(db):
    for statement in _statements(SCHEMA_V1):
        db.execute(statement)


@migration
def m002_report_indexes(db):
    for statement in _statements(REPORT_INDEXES):
        db.execute(statement)


# Issue 5's stage funnel reads one row per stage visit instead of a window over all history: a visit
# starts at a 'created'/'stage' history row and ends at the opportunity's next such row or won/lost status
# row (ordered by at, then id). Triggers keep it equal to what the history implies on every write path,
# and copy the opportunity's status, type, owner and source so the report never reads the wide rows.
STAGE_VISIT_EVENT = "({h}field IN ('created', 'stage') OR ({h}field = 'status' AND {h}to_value NOT LIKE 'open%'))"

STAGE_VISITS_FROM_HISTORY = """
INSERT INTO stage_visits (opportunity_id, stage_id, entered, ended, outcome, next_stage_id,
                          status, business_type_id, owner_id, source_id)
SELECT e.opportunity_id, e.to_id, substr(e.at, 1, 10), substr(e.next_at, 1, 10),
       CASE e.next_kind WHEN 'S' THEN 'moved' WHEN 'W' THEN 'won' WHEN 'L' THEN 'lost' END,
       CASE WHEN e.next_kind = 'S' THEN e.next_to_id END,
       o.status, o.business_type_id, o.owner_id, o.source_id
  FROM (SELECT opportunity_id, at, to_id, kind, LEAD(kind) OVER w AS next_kind, LEAD(at) OVER w AS next_at,
               LEAD(to_id) OVER w AS next_to_id
          FROM (SELECT opportunity_id, id, at, to_id,
                       CASE WHEN field IN ('created', 'stage') THEN 'S' WHEN to_value LIKE 'won%' THEN 'W' ELSE 'L' END
                         AS kind
                  FROM history WHERE {event} AND {which})
        WINDOW w AS (PARTITION BY opportunity_id ORDER BY at, id)) e
  JOIN opportunities o ON o.id = e.opportunity_id
 WHERE e.kind = 'S'
"""

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

STAGE_VISITS_TRIGGERS = (f"""
CREATE TRIGGER stage_visits_next_event AFTER INSERT ON history
WHEN {STAGE_VISIT_EVENT.format(h="new.")}
 AND NOT EXISTS (SELECT 1 FROM history h WHERE h.opportunity_id = new.opportunity_id AND h.at > new.at)
BEGIN
  UPDATE stage_visits
     SET ended = substr(new.at, 1, 10),
         outcome = CASE WHEN new.field != 'status' THEN 'moved'
                        WHEN new.to_value LIKE 'won%' THEN 'won' ELSE 'lost' END,
         next_stage_id = CASE WHEN new.field != 'status' THEN new.to_id END
   WHERE opportunity_id = new.opportunity_id AND outcome IS NULL;
  INSERT INTO stage_visits (opportunity_id, stage_id, entered, status, business_type_id, owner_id, source_id)
  SELECT o.id, new.to_id, substr(new.at, 1, 10), o.status, o.business_type_id, o.owner_id, o.source_id
    FROM opportunities o WHERE o.id = new.opportunity_id AND new.field != 'status';
END""", f"""
CREATE TRIGGER stage_visits_earlier_event AFTER INSERT ON history
WHEN {STAGE_VISIT_EVENT.format(h="new.")}
 AND EXISTS (SELECT 1 FROM history h WHERE h.opportunity_id = new.opportunity_id AND h.at > new.at)
BEGIN
  DELETE FROM stage_visits WHERE opportunity_id = new.opportunity_id;
  {STAGE_VISITS_FROM_HISTORY.format(event=STAGE_VISIT_EVENT.format(h=""), which="opportunity_id = new.opportunity_id")};
END""", """
CREATE TRIGGER stage_visits_opportunity AFTER UPDATE OF status, business_type_id, owner_id, source_id ON opportunities
WHEN old.status IS NOT new.status OR old.business_type_id IS NOT new.business_type_id
  OR old.owner_id IS NOT new.owner_id OR old.source_id IS NOT new.source_id
BEGIN
  UPDATE stage_visits SET status = new.status, business_type_id = new.business_type_id, owner_id = new.owner_id,
         source_id = new.source_id
   WHERE opportunity_id = new.id;
END""")


@migration
def m003_stage_visits(db):
    db.execute(STAGE_VISITS_TABLE)
    db.execute(STAGE_VISITS_FROM_HISTORY.format(event=STAGE_VISIT_EVENT.format(h=""), which="1 = 1"))
    for statement in _statements(STAGE_VISITS_INDEXES):
        db.execute(statement)
    for trigger in STAGE_VISITS_TRIGGERS:
        db.execute(trigger)


# A bulk load (CSV import) sets this settings row inside its transaction: the per-row triggers step aside
# and the load fills stage_visits for its own opportunities with one set-based INSERT at the end.
BULK_LOAD_KEY = "bulk_load"
NOT_BULK = f"NOT EXISTS (SELECT 1 FROM settings WHERE key = '{BULK_LOAD_KEY}')"


@migration
def m004_bulk_load_and_lighter_indexes(db):
    # indexes no query needs any more: prefixes of m002's covering ones, and history by time (m003 replaced it)
    for name in ("idx_opportunities_status_stage", "idx_opportunities_created", "idx_opportunities_closed",
                 "idx_report_history"):
        db.execute(f"DROP INDEX IF EXISTS {name}")
    for name in ("stage_visits_next_event", "stage_visits_earlier_event", "stage_visits_opportunity"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    for trigger in STAGE_VISITS_TRIGGERS:
        head, _, body = trigger.partition("\nWHEN ")
        condition, _, rest = body.partition("\nBEGIN")
        db.execute(f"{head}\nWHEN {NOT_BULK} AND ({condition})\nBEGIN{rest}")  # the cheap test first


def _migrations():
    """The registered migrations as a sqlite_utils Migrations set."""
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for name, function in MIGRATIONS:
        migrations(name=name)(function)
    return migrations


def _known_migration_names() -> list[str]:
    return [name for name, _ in MIGRATIONS]


# --------------------------------------------------------------------------- opening


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise DatabaseProblem(f"{path} is a directory, not a salesselect database") from None
    except OSError as exc:
        raise DatabaseProblem(f"cannot read {path}: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        raise DatabaseProblem(f"{path} is not a SQLite database; it was left untouched")


def _fold(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.create_function("fold", 1, _fold, deterministic=True)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB, used only as needed: big imports and reports
    return conn


def _check_version(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Refuse a file that is not ours or newer than this code, before anything is written."""
    known = _known_migration_names()
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
        ).fetchone()
        applied = (
            [row[0] for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                [MIGRATION_SET],
            )]
            if has_table
            else []
        )
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if any(word in str(exc) for word in ("readonly", "unable to open", "disk I/O")):
            raise DatabaseProblem(f"cannot open {path} for reading and writing ({exc}); check its permissions") from None
        raise DatabaseProblem(f"{path} is not a usable SQLite database ({exc}); it was left untouched") from None
    if not applied:
        raise DatabaseProblem(f"{path} is not a salesselect database; it was left untouched")
    unknown = [name for name in applied if name not in known]
    if unknown or user_version > len(known):
        raise DatabaseProblem(
            f"{path} has schema version {max(user_version, len(applied))}, newer than this "
            f"salesselect knows ({len(known)}); upgrade salesselect. The file was left untouched"
        )
    return applied


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations under a write lock, so two processes never race to migrate."""
    from sqlite_utils import Database

    migrations = _migrations()
    db = Database(conn)
    if not migrations.pending(db):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.apply(db)  # each migration becomes a savepoint inside our transaction
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def create_database(path: Path) -> None:
    """Create a new salesselect database file at `path` with the current schema."""
    if path.exists():
        raise Conflict(f"{path} already exists; refusing to overwrite it (choose another --db)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path)
    except (OSError, sqlite3.OperationalError) as exc:
        raise DatabaseProblem(f"cannot create {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        _migrate(conn)
    finally:
        conn.close()


def open_connection(path: Path) -> sqlite3.Connection:
    """Open an existing database: header, version and WAL checks, then pending migrations."""
    if not path.exists():
        raise DatabaseProblem(f"no database at {path}; run 'salesselect init' first (or pass --db)")
    _check_header(path)
    try:
        conn = _connect(path)
    except sqlite3.OperationalError as exc:
        raise DatabaseProblem(f"cannot open {path}: {exc}") from None
    try:
        applied = _check_version(conn, path)
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        if applied != _known_migration_names():
            _migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


# --------------------------------------------------------------------------- records


@dataclass
class OpportunityFilter:
    """Filters shared by opp list, export, board and reports. Names are resolved by the store."""

    business_type: str | None = None
    stage: str | None = None
    source: str | None = None
    owner: str | None = None
    status: str | None = "open"  # None or 'all' means every status
    close_before: dt.date | None = None
    close_after: dt.date | None = None
    overdue: bool = False
    search: str | None = None
    ids: list[int] | None = field(default=None)


OPPORTUNITY_SELECT = """
SELECT o.id, o.title, o.company, o.contact,
       bt.name AS business_type, s.name AS stage, src.name AS source,
       o.value_cents, o.expected_close, u.name AS owner, o.status,
       r.text AS reason, o.vacancy, o.created, o.closed, o.notes,
       (SELECT MIN(f.due) FROM followups f
         WHERE f.opportunity_id = o.id AND f.done IS NULL) AS next_followup,
       bt.color AS business_type_color, s.position AS stage_position,
       cs.name AS closed_from_stage
  FROM opportunities o
  JOIN business_types bt ON bt.id = o.business_type_id
  JOIN stages s ON s.id = o.stage_id
  JOIN sources src ON src.id = o.source_id
  JOIN users u ON u.id = o.owner_id
  LEFT JOIN reasons r ON r.id = o.reason_id
  LEFT JOIN stages cs ON cs.id = o.closed_from_stage_id
"""

# The SPEC §3 JSON shape of one opportunity, in order. days_left/indicator are derived.
OPPORTUNITY_KEYS = (
    "id", "title", "company", "contact", "business_type", "stage", "source", "value",
    "expected_close", "owner", "status", "reason", "vacancy", "created", "closed",
    "days_left", "indicator", "next_followup",
)


def _iso(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


# --------------------------------------------------------------------------- the store


class Store:
    """One open database for one command: the current user, today, one transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path, today: dt.date, user_name: str):
        self.conn = conn
        self.path = path
        self.today = today
        self.user_name = user_name
        self._user: sqlite3.Row | None = None
        self._thresholds: tuple[int | None, int | None] | None = None
        self.after_commit: list = []  # callables run once the command's transaction has committed
        self.fixed_time: str | None = None  # 'HH:MM:SS' for deterministic history (demo data, tests)
        self.workflow_warnings: list[str] = []  # one line per failed run: action, for the command to print

    # ---- transactions

    @contextlib.contextmanager
    def transaction(self, write: bool) -> Iterator["Store"]:
        """One transaction: BEGIN IMMEDIATE for writes (waits for other writers), BEGIN for reads."""
        self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            callbacks, self.after_commit = self.after_commit, []
            for callback in callbacks:
                callback()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested all-or-nothing step inside the command's transaction."""
        self.conn.execute("SAVEPOINT step")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO step")
            self.conn.execute("RELEASE step")
            raise
        else:
            self.conn.execute("RELEASE step")

    def close(self) -> None:
        self.conn.close()

    def data_version(self) -> int:
        """A number that changes when another connection commits (SQLite's PRAGMA data_version).

        Live views keep one connection open outside any transaction and poll this cheaply.
        """
        return self._scalar("PRAGMA data_version")

    def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def _scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def now(self) -> str:
        """A history timestamp: today's date (which may be fixed) with the clock's time."""
        clock = self.fixed_time or dt.datetime.now().strftime("%H:%M:%S")
        return f"{self.today.isoformat()} {clock}"

    # ---- settings

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        value = self._scalar("SELECT value FROM settings WHERE key = ?", [key])
        return default if value is None else value

    def set_setting(self, key: str, value: str | None) -> None:
        if value is None:
            self.conn.execute("DELETE FROM settings WHERE key = ?", [key])
        else:
            self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    @property
    def currency(self) -> str:
        return self.get_setting("currency", "EUR") or "EUR"

    def set_currency(self, code: str) -> None:
        code = code.strip().upper()
        if not (len(code) == 3 and code.isalpha()):
            raise Invalid(f"currency must be a three-letter code like EUR, not '{code}'")
        self.set_setting("currency", code)

    # ---- users and permissions

    def user_names(self) -> list[str]:
        return [row[0] for row in self._all("SELECT name FROM users ORDER BY name COLLATE NOCASE")]

    def find_user(self, name: str) -> sqlite3.Row:
        """The user called `name` (case-insensitive) or NotFound listing the users."""
        row = self._one("SELECT * FROM users WHERE fold(name) = fold(?)", [name.strip()])
        if row is None:
            raise unknown_name("user", name, self.user_names())
        return row

    @property
    def user(self) -> sqlite3.Row:
        """The current user's row; a user the database does not know is refused (exit 3)."""
        if self._user is None:
            row = self._one("SELECT * FROM users WHERE fold(name) = fold(?)", [self.user_name])
            if row is None:
                raise PermissionDenied(
                    f"user '{self.user_name}' is not a user of this database; "
                    f"a key user can add it with 'salesselect user add {self.user_name}' "
                    f"(or pass --user NAME)"
                )
            self._user = row
        return self._user

    def require_known_user(self) -> None:
        self.user  # noqa: B018 - raises when unknown

    def require_key_user(self, what: str = "change the setup") -> None:
        if not self.user["key_user"]:
            raise PermissionDenied(f"only key users may {what}; '{self.user['name']}' is not a key user")

    def module_enabled_for(self, user: sqlite3.Row) -> bool:
        """The user's own setting wins; 'inherit' (NULL) follows the client setting."""
        if user["module"] is not None:
            return user["module"] == "on"
        return self.get_setting("module", "off") == "on"

    def require_module(self) -> None:
        if not self.module_enabled_for(self.user):
            name = self.user["name"]
            how = (f"'salesselect config module enable --user {name}' (or 'inherit --user {name}')"
                   if self.user["module"] == "off" else "'salesselect config module enable'")
            raise PermissionDenied(f"the Sales Select module is off for '{name}'; a key user can turn it on with {how}")

    def add_user(self, name: str, key_user: bool = False) -> None:
        name = _clean_name(name, "user name")
        if self._one("SELECT 1 FROM users WHERE fold(name) = fold(?)", [name]):
            raise Conflict(f"user '{name}' already exists")
        self.conn.execute(
            "INSERT INTO users (name, key_user, created) VALUES (?, ?, ?)",
            [name, int(key_user), self.today.isoformat()],
        )

    def set_key_user(self, name: str, key_user: bool) -> None:
        row = self.find_user(name)
        if not key_user and row["key_user"]:
            others = self._scalar("SELECT COUNT(*) FROM users WHERE key_user = 1 AND id != ?", [row["id"]])
            if not others:
                raise Conflict(f"'{row['name']}' is the last key user; make another user a key user first")
        self.conn.execute("UPDATE users SET key_user = ? WHERE id = ?", [int(key_user), row["id"]])

    def list_users(self) -> list[dict]:
        rows = self._all(
            """SELECT u.name, u.key_user, u.module, u.created,
                      (SELECT COUNT(*) FROM opportunities o WHERE o.owner_id = u.id AND o.status = 'open') AS open_opportunities
                 FROM users u ORDER BY u.name COLLATE NOCASE"""
        )
        client = self.get_setting("module", "off")
        return [
            {
                "name": row["name"],
                "key_user": bool(row["key_user"]),
                "module": row["module"] or "inherit",
                "module_effective": (row["module"] or client) == "on",
                "open_opportunities": row["open_opportunities"],
                "created": row["created"],
            }
            for row in rows
        ]

    def remove_user(self, name: str, reassign_to: str | None = None) -> int:
        """Remove a user; their opportunities and follow-ups go to `reassign_to`. Returns how many moved."""
        row = self.find_user(name)
        if row["id"] == self.user["id"]:
            raise Conflict("you cannot remove yourself")
        if row["key_user"] and not self._scalar(
            "SELECT COUNT(*) FROM users WHERE key_user = 1 AND id != ?", [row["id"]]
        ):
            raise Conflict(f"'{row['name']}' is the last key user")
        handing_over = [r[0] for r in self._all(
            """SELECT DISTINCT w.name FROM workflows w, json_each(w.actions) a
                WHERE a.value LIKE 'owner:%' AND fold(substr(a.value, 7)) = fold(?) ORDER BY w.id""", [row["name"]])]
        if handing_over:
            raise Conflict(
                f"workflow(s) {', '.join(handing_over)} hand opportunities to '{row['name']}'; "
                f"change or remove them first (salesselect workflow remove NAME)"
            )
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE owner_id = ?", [row["id"]])
        used_followups = self._scalar("SELECT COUNT(*) FROM followups WHERE user_id = ?", [row["id"]])
        if used_followups and not used and reassign_to is None:
            raise Conflict(
                f"{used_followups} follow-up(s) belong to user '{row['name']}'; pass --reassign-to OTHER to move them first"
            )
        target = self._reassign_target("user", row, reassign_to, used, self.find_user)
        if target is None and used_followups:
            target = self.find_user(reassign_to)
        if target is not None:
            self._history_for_all(
                "owner_id = ?", [row["id"]], "owner", row["name"], target["name"], row["id"], target["id"],
                actor=f"{self.user['name']} (user removed)",
            )
            self.conn.execute("UPDATE opportunities SET owner_id = ? WHERE owner_id = ?", [target["id"], row["id"]])
            self.conn.execute("UPDATE followups SET user_id = ? WHERE user_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM users WHERE id = ?", [row["id"]])
        return used

    def _reassign_target(self, kind: str, row, reassign_to: str | None, used: int, finder):
        if used and reassign_to is None:
            noun = "opportunity uses" if used == 1 else "opportunities use"
            raise Conflict(
                f"{used} {noun} {kind} '{_label(row)}'; pass --reassign-to OTHER to move them first"
            )
        if reassign_to is None:
            return None
        target = finder(reassign_to)
        if target["id"] == row["id"]:
            raise Invalid(f"--reassign-to must name another {kind} than '{_label(row)}'")
        return target

    # ---- module enablement (SE3573)

    def set_module(self, state: str, user_name: str | None = None) -> None:
        """state: 'on', 'off' or 'inherit' (users only)."""
        if user_name is None:
            if state == "inherit":
                raise Invalid("'inherit' applies to one user: pass --user NAME")
            self.set_setting("module", state)
            return
        row = self.find_user(user_name)
        self.conn.execute(
            "UPDATE users SET module = ? WHERE id = ?", [None if state == "inherit" else state, row["id"]]
        )

    def module_report(self) -> dict:
        return {"client": self.get_setting("module", "off"), "users": self.list_users()}

    # ---- business types

    def business_type_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM business_types ORDER BY id")]

    def find_business_type(self, name: str) -> sqlite3.Row:
        row = self._one("SELECT * FROM business_types WHERE fold(name) = fold(?)", [name.strip()])
        if row is None:
            raise unknown_name("business type", name, self.business_type_names())
        return row

    def add_business_type(self, name: str, color: str) -> None:
        name = _clean_name(name, "business type name")
        color = validate_color(color)
        if self._one("SELECT 1 FROM business_types WHERE fold(name) = fold(?)", [name]):
            raise Conflict(f"business type '{name}' already exists")
        self.conn.execute("INSERT INTO business_types (name, color) VALUES (?, ?)", [name, color])

    def edit_business_type(self, name: str, new_name: str | None = None, color: str | None = None) -> None:
        row = self.find_business_type(name)
        if new_name is None and color is None:
            raise Invalid("nothing to change: pass --name NEW and/or --color C")
        if new_name is not None:
            new_name = _clean_name(new_name, "business type name")
            clash = self._one(
                "SELECT 1 FROM business_types WHERE fold(name) = fold(?) AND id != ?", [new_name, row["id"]]
            )
            if clash:
                raise Conflict(f"business type '{new_name}' already exists")
            self.conn.execute("UPDATE business_types SET name = ? WHERE id = ?", [new_name, row["id"]])
        if color is not None:
            self.conn.execute("UPDATE business_types SET color = ? WHERE id = ?", [validate_color(color), row["id"]])

    def list_business_types(self) -> list[dict]:
        rows = self._all(
            """SELECT bt.id, bt.name, bt.color,
                      (SELECT group_concat(name, ', ') FROM (
                          SELECT s.name FROM stages s JOIN stage_business_types l ON l.stage_id = s.id
                           WHERE l.business_type_id = bt.id ORDER BY s.position)) AS stages,
                      (SELECT COUNT(*) FROM opportunities o WHERE o.business_type_id = bt.id) AS opportunities
                 FROM business_types bt ORDER BY bt.id"""
        )
        return [
            {"name": r["name"], "color": r["color"], "stages": r["stages"] or "", "opportunities": r["opportunities"]}
            for r in rows
        ]

    def remove_business_type(self, name: str, reassign_to: str | None = None) -> int:
        row = self.find_business_type(name)
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE business_type_id = ?", [row["id"]])
        used_workflows = self._scalar("SELECT COUNT(*) FROM workflows WHERE business_type_id = ?", [row["id"]])
        target = self._reassign_target("business type", row, reassign_to, used, self.find_business_type)
        orphans = [r[0] for r in self._all(
            """SELECT s.name FROM stages s JOIN stage_business_types l ON l.stage_id = s.id
                WHERE l.business_type_id = ? AND NOT EXISTS (
                  SELECT 1 FROM stage_business_types o WHERE o.stage_id = s.id AND o.business_type_id != ?)
                ORDER BY s.position""", [row["id"], row["id"]])]
        if orphans:
            raise Conflict(
                f"stage(s) {', '.join(orphans)} belong only to business type '{row['name']}'; "
                f"remove them or link them to another type first"
            )
        if target is None and used_workflows:
            raise Conflict(f"{used_workflows} workflow(s) apply to business type '{row['name']}'; remove them or pass --reassign-to OTHER")
        if target is not None:
            unlinked = self._all(
                """SELECT DISTINCT s.name FROM opportunities o JOIN stages s ON s.id = o.stage_id
                    WHERE o.business_type_id = ? AND NOT EXISTS (
                      SELECT 1 FROM stage_business_types l WHERE l.stage_id = o.stage_id AND l.business_type_id = ?)
                    ORDER BY s.position""",
                [row["id"], target["id"]],
            )
            if unlinked:
                names = ", ".join(r[0] for r in unlinked)
                raise Conflict(
                    f"opportunities of '{row['name']}' are in stages not linked to '{target['name']}' "
                    f"({names}); link them first with 'salesselect config link-stage'"
                )
            self.conn.execute(
                "UPDATE opportunities SET business_type_id = ? WHERE business_type_id = ?", [target["id"], row["id"]]
            )
            self.conn.execute(
                "UPDATE workflows SET business_type_id = ? WHERE business_type_id = ?", [target["id"], row["id"]]
            )
        self.conn.execute("DELETE FROM business_types WHERE id = ?", [row["id"]])
        return used

    # ---- stages

    def stage_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM stages ORDER BY position")]

    def find_stage(self, name: str) -> sqlite3.Row:
        row = self._one("SELECT * FROM stages WHERE fold(name) = fold(?)", [name.strip()])
        if row is None:
            raise unknown_name("stage", name, self.stage_names())
        return row

    def _stage_rule(self, row: sqlite3.Row) -> transitions.Stage:
        type_ids = frozenset(
            r[0] for r in self._all("SELECT business_type_id FROM stage_business_types WHERE stage_id = ?", [row["id"]])
        )
        return transitions.Stage(row["id"], row["name"], row["position"], row["auto_status"], type_ids)

    def stages_of_type(self, business_type_id: int) -> list[transitions.Stage]:
        """The stages linked to a business type, in position order, as rule objects."""
        rows = self._all(
            """SELECT s.* FROM stages s JOIN stage_business_types l ON l.stage_id = s.id
                WHERE l.business_type_id = ? ORDER BY s.position""",
            [business_type_id],
        )
        return [self._stage_rule(row) for row in rows]

    def add_stage(
        self, name: str, business_types: list[str], auto: str | None = None, position: int | None = None
    ) -> None:
        name = _clean_name(name, "stage name")
        if not business_types:
            raise Invalid("a stage needs at least one --business-type")
        types = [self.find_business_type(t) for t in business_types]
        auto = _auto_status(auto)
        if self._one("SELECT 1 FROM stages WHERE fold(name) = fold(?)", [name]):
            raise Conflict(f"stage '{name}' already exists")
        count = self._scalar("SELECT COUNT(*) FROM stages")
        if position is None:
            position = count + 1
        if position < 1 or position > count + 1:
            raise Invalid(f"position must be between 1 and {count + 1}, not {position}")
        self.conn.execute("UPDATE stages SET position = position + 1 WHERE position >= ?", [position])
        cursor = self.conn.execute(
            "INSERT INTO stages (name, position, auto_status) VALUES (?, ?, ?)", [name, position, auto]
        )
        for business_type in {t["id"]: t for t in types}.values():
            self.conn.execute(
                "INSERT INTO stage_business_types (stage_id, business_type_id) VALUES (?, ?)",
                [cursor.lastrowid, business_type["id"]],
            )

    def edit_stage(self, name: str, new_name: str | None = None, auto: str | None = None) -> None:
        """Rename a stage and/or change its auto-select ('won', 'lost' or 'none')."""
        row = self.find_stage(name)
        if new_name is None and auto is None:
            raise Invalid("nothing to change: pass --name NEW and/or --auto won|lost|none")
        if new_name is not None:
            new_name = _clean_name(new_name, "stage name")
            if self._one("SELECT 1 FROM stages WHERE fold(name) = fold(?) AND id != ?", [new_name, row["id"]]):
                raise Conflict(f"stage '{new_name}' already exists")
            self.conn.execute("UPDATE stages SET name = ? WHERE id = ?", [new_name, row["id"]])
        if auto is not None:
            status = _auto_status(None if auto.lower() == "none" else auto)
            if status != row["auto_status"]:
                in_stage = self._scalar(
                    "SELECT COUNT(*) FROM opportunities WHERE stage_id = ? AND status != ?",
                    [row["id"], status or "open"],
                )
                if in_stage:
                    raise Conflict(
                        f"{in_stage} opportunities in stage '{row['name']}' do not have status "
                        f"{status or 'open'}; move them before changing the auto-select"
                    )
            self.conn.execute("UPDATE stages SET auto_status = ? WHERE id = ?", [status, row["id"]])

    def move_stage(self, name: str, position: int) -> None:
        row = self.find_stage(name)
        count = self._scalar("SELECT COUNT(*) FROM stages")
        if position < 1 or position > count:
            raise Invalid(f"position must be between 1 and {count}, not {position}")
        old = row["position"]
        if position == old:
            return
        # park the stage at 0 so positions stay unique while the others shift
        self.conn.execute("UPDATE stages SET position = 0 WHERE id = ?", [row["id"]])
        if position < old:
            self.conn.execute(
                "UPDATE stages SET position = position + 1 WHERE position >= ? AND position < ?", [position, old]
            )
        else:
            self.conn.execute(
                "UPDATE stages SET position = position - 1 WHERE position > ? AND position <= ?", [old, position]
            )
        self.conn.execute("UPDATE stages SET position = ? WHERE id = ?", [position, row["id"]])

    def link_stage(self, name: str, business_type: str) -> None:
        stage = self.find_stage(name)
        bt = self.find_business_type(business_type)
        self.conn.execute(
            "INSERT OR IGNORE INTO stage_business_types (stage_id, business_type_id) VALUES (?, ?)",
            [stage["id"], bt["id"]],
        )

    def unlink_stage(self, name: str, business_type: str) -> None:
        stage = self.find_stage(name)
        bt = self.find_business_type(business_type)
        linked = self._one(
            "SELECT 1 FROM stage_business_types WHERE stage_id = ? AND business_type_id = ?", [stage["id"], bt["id"]]
        )
        if not linked:
            raise Invalid(f"stage '{stage['name']}' is not linked to business type '{bt['name']}'")
        used = self._scalar(
            "SELECT COUNT(*) FROM opportunities WHERE stage_id = ? AND business_type_id = ?", [stage["id"], bt["id"]]
        )
        if used:
            raise Conflict(
                f"{used} {bt['name']} opportunities are in stage '{stage['name']}'; move them first"
            )
        others = self._scalar("SELECT COUNT(*) FROM stage_business_types WHERE stage_id = ?", [stage["id"]])
        if others <= 1:
            raise Conflict(
                f"stage '{stage['name']}' would be linked to no business type; remove the stage instead"
            )
        self.conn.execute(
            "DELETE FROM stage_business_types WHERE stage_id = ? AND business_type_id = ?", [stage["id"], bt["id"]]
        )

    def list_stages(self) -> list[dict]:
        rows = self._all(
            """SELECT s.id, s.position, s.name, s.auto_status,
                      (SELECT group_concat(name, ', ') FROM (
                          SELECT bt.name FROM business_types bt JOIN stage_business_types l ON l.business_type_id = bt.id
                           WHERE l.stage_id = s.id ORDER BY bt.id)) AS business_types,
                      (SELECT COUNT(*) FROM opportunities o WHERE o.stage_id = s.id) AS opportunities
                 FROM stages s ORDER BY s.position"""
        )
        return [
            {
                "position": r["position"],
                "name": r["name"],
                "business_types": r["business_types"] or "",
                "auto": r["auto_status"] or "",
                "opportunities": r["opportunities"],
            }
            for r in rows
        ]

    def remove_stage(self, name: str, reassign_to: str | None = None) -> int:
        row = self.find_stage(name)
        used = self._scalar(
            "SELECT COUNT(*) FROM opportunities WHERE stage_id = ? OR closed_from_stage_id = ?", [row["id"], row["id"]]
        )
        used_workflows = self._scalar(
            "SELECT COUNT(*) FROM workflows WHERE to_stage_id = ? OR from_stage_id = ?", [row["id"], row["id"]]
        )
        target = self._reassign_target("stage", row, reassign_to, used, self.find_stage)
        if target is None and used_workflows:
            raise Conflict(
                f"{used_workflows} workflow(s) use stage '{row['name']}'; remove them or pass --reassign-to OTHER"
            )
        if target is not None:
            unlinked = self._all(
                """SELECT DISTINCT bt.name FROM opportunities o JOIN business_types bt ON bt.id = o.business_type_id
                    WHERE o.stage_id = ? AND NOT EXISTS (
                      SELECT 1 FROM stage_business_types l WHERE l.stage_id = ? AND l.business_type_id = o.business_type_id)""",
                [row["id"], target["id"]],
            )
            if unlinked:
                raise Conflict(
                    f"stage '{target['name']}' is not linked to business type(s) "
                    f"{', '.join(r[0] for r in unlinked)} of the opportunities in '{row['name']}'"
                )
            if (target["auto_status"] or None) != (row["auto_status"] or None):
                moving = self._scalar("SELECT COUNT(*) FROM opportunities WHERE stage_id = ?", [row["id"]])
                if moving:
                    raise Conflict(
                        f"'{row['name']}' and '{target['name']}' mark opportunities differently "
                        f"(auto-select {row['auto_status'] or 'none'} vs {target['auto_status'] or 'none'}); "
                        f"reassign to a stage with the same auto-select"
                    )
            self._history_for_all("stage_id = ?", [row["id"]], "stage", row["name"], target["name"], row["id"],
                                  target["id"], actor=f"{self.user['name']} (stage removed)")
            self.conn.execute("UPDATE opportunities SET stage_id = ? WHERE stage_id = ?", [target["id"], row["id"]])
            self.conn.execute(
                "UPDATE opportunities SET closed_from_stage_id = ? WHERE closed_from_stage_id = ?",
                [target["id"], row["id"]],
            )
            self.conn.execute("UPDATE workflows SET to_stage_id = ? WHERE to_stage_id = ?", [target["id"], row["id"]])
            self.conn.execute("UPDATE workflows SET from_stage_id = ? WHERE from_stage_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM stages WHERE id = ?", [row["id"]])
        self.conn.execute("UPDATE stages SET position = position - 1 WHERE position > ?", [row["position"]])
        return used

    # ---- sources

    def source_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM sources ORDER BY id")]

    def find_source(self, name: str) -> sqlite3.Row:
        row = self._one("SELECT * FROM sources WHERE fold(name) = fold(?)", [name.strip()])
        if row is None:
            raise unknown_name("source", name, self.source_names())
        return row

    def add_source(self, name: str) -> None:
        name = _clean_name(name, "source name")
        if self._one("SELECT 1 FROM sources WHERE fold(name) = fold(?)", [name]):
            raise Conflict(f"source '{name}' already exists")
        self.conn.execute("INSERT INTO sources (name) VALUES (?)", [name])

    def rename_source(self, name: str, new_name: str) -> None:
        row = self.find_source(name)
        new_name = _clean_name(new_name, "source name")
        if self._one("SELECT 1 FROM sources WHERE fold(name) = fold(?) AND id != ?", [new_name, row["id"]]):
            raise Conflict(f"source '{new_name}' already exists")
        self.conn.execute("UPDATE sources SET name = ? WHERE id = ?", [new_name, row["id"]])

    def list_sources(self) -> list[dict]:
        rows = self._all(
            """SELECT s.name, (SELECT COUNT(*) FROM opportunities o WHERE o.source_id = s.id) AS opportunities
                 FROM sources s ORDER BY s.id"""
        )
        return [{"name": r["name"], "opportunities": r["opportunities"]} for r in rows]

    def remove_source(self, name: str, reassign_to: str | None = None) -> int:
        row = self.find_source(name)
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE source_id = ?", [row["id"]])
        target = self._reassign_target("source", row, reassign_to, used, self.find_source)
        if target is not None:
            self.conn.execute("UPDATE opportunities SET source_id = ? WHERE source_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM sources WHERE id = ?", [row["id"]])
        return used

    # ---- remaining-days indicator

    def thresholds(self) -> tuple[int | None, int | None]:
        """(orange_days, red_days); None where not configured."""
        if self._thresholds is None:
            orange = self.get_setting("orange_days")
            red = self.get_setting("red_days")
            self._thresholds = (int(orange) if orange is not None else None, int(red) if red is not None else None)
        return self._thresholds

    def set_indicator(self, orange_days: int, red_days: int) -> None:
        validate_thresholds(orange_days, red_days)
        self.set_setting("orange_days", str(orange_days))
        self.set_setting("red_days", str(red_days))
        self._thresholds = None

    # ---- won/lost reasons

    def reason_labels(self, status: str | None = None) -> list[str]:
        if status:
            return [r[0] for r in self._all("SELECT text FROM reasons WHERE status = ? ORDER BY id", [status])]
        return [f"{r[0]} ({r[1]})" for r in self._all("SELECT text, status FROM reasons ORDER BY status DESC, id")]

    def find_reason(self, text: str, status: str | None = None) -> sqlite3.Row:
        """A reason by text; `status` narrows it (and is needed when the text exists for both)."""
        if status is not None and status not in ("won", "lost"):
            raise Invalid(f"status must be won or lost, not '{status}'")
        rows = self._all(
            "SELECT * FROM reasons WHERE fold(text) = fold(?)" + (" AND status = ?" if status else ""),
            [text.strip(), status] if status else [text.strip()],
        )
        if not rows:
            other = None
            if status:
                other = self._one("SELECT status FROM reasons WHERE fold(text) = fold(?)", [text.strip()])
            if other is not None:
                raise Invalid(
                    f"reason '{text}' is a {other['status']} reason, not a {status} reason; "
                    f"{status} reasons: {', '.join(self.reason_labels(status)) or 'none'}"
                )
            kind = f"{status} reason" if status else "reason"
            raise unknown_name(kind, text, self.reason_labels(status) if status else
                               [r[0] for r in self._all("SELECT DISTINCT text FROM reasons ORDER BY id")])
        if len(rows) > 1:
            raise Invalid(f"reason '{text}' exists for won and lost; pass --status won|lost")
        return rows[0]

    def add_reason(self, text: str, status: str) -> None:
        text = _clean_name(text, "reason")
        if status not in ("won", "lost"):
            raise Invalid(f"status must be won or lost, not '{status}'")
        if self._one("SELECT 1 FROM reasons WHERE fold(text) = fold(?) AND status = ?", [text, status]):
            raise Conflict(f"{status} reason '{text}' already exists")
        self.conn.execute("INSERT INTO reasons (text, status) VALUES (?, ?)", [text, status])

    def edit_reason(self, text: str, status: str | None, new_text: str | None, new_status: str | None) -> None:
        row = self.find_reason(text, status)
        if new_text is None and new_status is None:
            raise Invalid("nothing to change: pass --text NEW and/or --new-status won|lost")
        final_text = _clean_name(new_text, "reason") if new_text is not None else row["text"]
        final_status = new_status or row["status"]
        if final_status not in ("won", "lost"):
            raise Invalid(f"status must be won or lost, not '{final_status}'")
        if final_status != row["status"]:
            used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE reason_id = ?", [row["id"]])
            if used:
                raise Conflict(f"{used} {row['status']} opportunities use reason '{row['text']}'; its status cannot change")
        if self._one(
            "SELECT 1 FROM reasons WHERE fold(text) = fold(?) AND status = ? AND id != ?",
            [final_text, final_status, row["id"]],
        ):
            raise Conflict(f"{final_status} reason '{final_text}' already exists")
        self.conn.execute("UPDATE reasons SET text = ?, status = ? WHERE id = ?", [final_text, final_status, row["id"]])

    def list_reasons(self, status: str | None = None) -> list[dict]:
        rows = self._all(
            """SELECT r.text, r.status, (SELECT COUNT(*) FROM opportunities o WHERE o.reason_id = r.id) AS opportunities
                 FROM reasons r""" + (" WHERE r.status = ?" if status else "") + " ORDER BY r.status DESC, r.id",
            [status] if status else [],
        )
        return [{"reason": r["text"], "status": r["status"], "opportunities": r["opportunities"]} for r in rows]

    def remove_reason(self, text: str, status: str | None = None, reassign_to: str | None = None) -> int:
        row = self.find_reason(text, status)
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE reason_id = ?", [row["id"]])
        target = self._reassign_target(
            "reason", row, reassign_to, used, lambda other: self.find_reason(other, row["status"])
        )
        if target is not None:
            self.conn.execute("UPDATE opportunities SET reason_id = ? WHERE reason_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM reasons WHERE id = ?", [row["id"]])
        return used

    # ---- the whole setup

    def config_check(self) -> list[str]:
        """What a correct setup still misses (SPEC §1 config check); empty when complete."""
        missing = []
        if not self._scalar("SELECT COUNT(*) FROM business_types"):
            missing.append("no business type (salesselect config add-business-type NAME --color C)")
        for row in self._all(
            """SELECT bt.name FROM business_types bt WHERE NOT EXISTS (
                 SELECT 1 FROM stage_business_types l JOIN stages s ON s.id = l.stage_id
                  WHERE l.business_type_id = bt.id AND s.auto_status IS NULL) ORDER BY bt.id"""
        ):
            missing.append(
                f"business type '{row[0]}' has no open stage (salesselect config add-stage NAME --business-type '{row[0]}')"
            )
        if not self._scalar("SELECT COUNT(*) FROM sources"):
            missing.append("no source (salesselect config add-source NAME)")
        orange, red = self.thresholds()
        if orange is None or red is None:
            missing.append("remaining-days indicator not set (salesselect config set-indicator --orange N --red N)")
        for status in ("won", "lost"):
            if not self._scalar("SELECT COUNT(*) FROM reasons WHERE status = ?", [status]):
                missing.append(f"no {status} reason (salesselect config add-reason TEXT --status {status})")
        return missing

    def export_setup(self) -> dict:
        """The whole setup as one JSON-ready dict; `import_setup` takes it back."""
        orange, red = self.thresholds()
        stages = []
        for row in self._all("SELECT * FROM stages ORDER BY position"):
            types = [r[0] for r in self._all(
                """SELECT bt.name FROM business_types bt JOIN stage_business_types l ON l.business_type_id = bt.id
                    WHERE l.stage_id = ? ORDER BY bt.id""", [row["id"]])]
            stages.append({"name": row["name"], "business_types": types, "auto": row["auto_status"]})
        return {
            "currency": self.currency,
            "business_types": [
                {"name": r["name"], "color": r["color"]} for r in self._all("SELECT * FROM business_types ORDER BY id")
            ],
            "stages": stages,
            "sources": self.source_names(),
            "indicator": {"orange_days": orange, "red_days": red} if orange is not None else None,
            "reasons": [
                {"text": r["text"], "status": r["status"]}
                for r in self._all("SELECT * FROM reasons ORDER BY status DESC, id")
            ],
            "workflows": self.export_workflows(),
        }

    def import_setup(self, setup: Any) -> list[str]:
        """Merge a setup (as `export_setup` writes it) into this database. Idempotent; never deletes.

        Everything is validated before anything is written; returns what changed.
        """
        from salesselect_cli.rules.setup import validate_setup

        spec = validate_setup(setup)
        changes: list[str] = []
        if spec.currency and spec.currency != self.currency:
            self.set_currency(spec.currency)
            changes.append(f"currency {spec.currency}")
        for bt in spec.business_types:
            existing = self._one("SELECT * FROM business_types WHERE fold(name) = fold(?)", [bt["name"]])
            if existing is None:
                self.add_business_type(bt["name"], bt["color"])
                changes.append(f"business type {bt['name']} added")
            elif existing["color"] != bt["color"]:
                self.edit_business_type(existing["name"], color=bt["color"])
                changes.append(f"business type {bt['name']} colour {bt['color']}")
        for stage in spec.stages:
            for type_name in stage["business_types"]:
                self.find_business_type(type_name)
        for index, stage in enumerate(spec.stages, start=1):
            existing = self._one("SELECT * FROM stages WHERE fold(name) = fold(?)", [stage["name"]])
            if existing is None:
                count = self._scalar("SELECT COUNT(*) FROM stages")
                self.add_stage(stage["name"], stage["business_types"], stage["auto"], min(index, count + 1))
                changes.append(f"stage {stage['name']} added")
                continue
            if existing["position"] != index and index <= self._scalar("SELECT COUNT(*) FROM stages"):
                self.move_stage(existing["name"], index)
                changes.append(f"stage {stage['name']} moved to {index}")
            if (existing["auto_status"] or None) != stage["auto"]:
                self.edit_stage(existing["name"], auto=stage["auto"] or "none")
                changes.append(f"stage {stage['name']} auto-select {stage['auto'] or 'none'}")
            for type_name in stage["business_types"]:
                bt = self.find_business_type(type_name)
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO stage_business_types (stage_id, business_type_id) VALUES (?, ?)",
                    [existing["id"], bt["id"]],
                )
                if cursor.rowcount:
                    changes.append(f"stage {stage['name']} linked to {bt['name']}")
        for source in spec.sources:
            if not self._one("SELECT 1 FROM sources WHERE fold(name) = fold(?)", [source]):
                self.add_source(source)
                changes.append(f"source {source} added")
        if spec.indicator is not None and self.thresholds() != spec.indicator:
            self.set_indicator(*spec.indicator)
            changes.append(f"indicator orange {spec.indicator[0]} red {spec.indicator[1]}")
        for reason in spec.reasons:
            if not self._one(
                "SELECT 1 FROM reasons WHERE fold(text) = fold(?) AND status = ?", [reason["text"], reason["status"]]
            ):
                self.add_reason(reason["text"], reason["status"])
                changes.append(f"{reason['status']} reason {reason['text']} added")
        changes.extend(self.import_workflows(spec.workflows))
        return changes

    # ---- workflows (stored rules; matching and running live in rules/ and commands/)

    def export_workflows(self) -> list[dict]:
        return [self._workflow_dict(row) for row in self._all("SELECT * FROM workflows ORDER BY id")]

    def _workflow_dict(self, row: sqlite3.Row) -> dict:
        def name_of(table: str, column: str, ident: int | None) -> str | None:
            if ident is None:
                return None
            return self._scalar(f"SELECT {column} FROM {table} WHERE id = ?", [ident])

        return {
            "name": row["name"],
            "on": row["trigger"],
            "to_stage": name_of("stages", "name", row["to_stage_id"]),
            "from_stage": name_of("stages", "name", row["from_stage_id"]),
            "to_status": row["to_status"],
            "business_type": name_of("business_types", "name", row["business_type_id"]),
            "actions": json.loads(row["actions"]),
            "enabled": bool(row["enabled"]),
        }

    def import_workflows(self, workflows: list[dict]) -> list[str]:
        changes = []
        for workflow in workflows:
            existing = self._one("SELECT * FROM workflows WHERE fold(name) = fold(?)", [workflow["name"]])
            if existing is not None:
                current = self._workflow_dict(existing)
                if {k: current[k] for k in workflow} == workflow:
                    continue
                self.conn.execute("DELETE FROM workflows WHERE id = ?", [existing["id"]])
            self.add_workflow(
                workflow["name"], workflow["on"], workflow["actions"], to_stage=workflow.get("to_stage"),
                from_stage=workflow.get("from_stage"), to_status=workflow.get("to_status"),
                business_type=workflow.get("business_type"), enabled=workflow.get("enabled", True),
            )
            changes.append(f"workflow {workflow['name']} {'replaced' if existing else 'added'}")
        return changes

    def add_workflow(
        self, name: str, trigger: str, actions: list[str], *, to_stage: str | None = None,
        from_stage: str | None = None, to_status: str | None = None, business_type: str | None = None,
        enabled: bool = True,
    ) -> int:
        """Store a workflow rule. Actions are validated by the caller (rules.workflows)."""
        name = _clean_name(name, "workflow name")
        if trigger not in ("stage", "status"):
            raise Invalid(f"--on must be stage or status, not '{trigger}'")
        if to_status is not None and to_status not in STATUSES:
            raise Invalid(f"--to-status must be open, won or lost, not '{to_status}'")
        if not actions:
            raise Invalid("a workflow needs at least one --action")
        if self._one("SELECT 1 FROM workflows WHERE fold(name) = fold(?)", [name]):
            raise Conflict(f"workflow '{name}' already exists")
        to_stage_id = self.find_stage(to_stage)["id"] if to_stage else None
        from_stage_id = self.find_stage(from_stage)["id"] if from_stage else None
        type_id = self.find_business_type(business_type)["id"] if business_type else None
        self.check_workflow(trigger, actions, to_stage_id, from_stage_id, to_status, type_id)
        cursor = self.conn.execute(
            """INSERT INTO workflows (name, trigger, to_stage_id, from_stage_id, to_status, business_type_id,
                                      actions, enabled, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [name, trigger, to_stage_id, from_stage_id, to_status, type_id, json.dumps(actions),
             int(enabled), self.today.isoformat()],
        )
        return cursor.lastrowid

    # ---- opportunities: reading

    def _filter_sql(self, flt: OpportunityFilter) -> tuple[str, list]:
        """WHERE clause (without the keyword) and parameters for a filter; names must exist."""
        clauses, params = ["1 = 1"], []
        if flt.business_type:
            clauses.append("o.business_type_id = ?")
            params.append(self.find_business_type(flt.business_type)["id"])
        if flt.stage:
            clauses.append("o.stage_id = ?")
            params.append(self.find_stage(flt.stage)["id"])
        if flt.source:
            clauses.append("o.source_id = ?")
            params.append(self.find_source(flt.source)["id"])
        if flt.owner:
            clauses.append("o.owner_id = ?")
            params.append(self.find_user(flt.owner)["id"])
        if flt.status and flt.status != "all":
            if flt.status not in STATUSES:
                raise Invalid(f"status must be open, won, lost or all, not '{flt.status}'")
            clauses.append("o.status = ?")
            params.append(flt.status)
        if flt.close_before:
            clauses.append("o.expected_close <= ?")
            params.append(flt.close_before.isoformat())
        if flt.close_after:
            clauses.append("o.expected_close >= ?")
            params.append(flt.close_after.isoformat())
        if flt.overdue:
            clauses.append("o.status = 'open' AND o.expected_close < ?")
            params.append(self.today.isoformat())
        if flt.search:
            clauses.append("(o.title LIKE ? ESCAPE '\\' OR o.company LIKE ? ESCAPE '\\')")
            pattern = "%" + flt.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern]
        if flt.ids is not None:
            clauses.append(f"o.id IN ({','.join('?' * len(flt.ids))})" if flt.ids else "0")
            params += list(flt.ids)
        return " AND ".join(clauses), params

    def record(self, row: sqlite3.Row) -> dict:
        """One opportunity in the SPEC §3 JSON shape (money as decimal string, derived fields added).

        Keys starting with '_' are for people (tables, show); JSON and CSV writers drop them.
        """
        orange, red = self.thresholds()
        status, close_text, cents = row["status"], row["expected_close"], row["value_cents"]
        close = _iso(close_text) if status == "open" else None
        return {
            "id": row["id"], "title": row["title"], "company": row["company"], "contact": row["contact"],
            "business_type": row["business_type"], "stage": row["stage"], "source": row["source"],
            "value": cents_to_decimal_string(cents), "expected_close": close_text, "owner": row["owner"],
            "status": status, "reason": row["reason"], "vacancy": row["vacancy"], "created": row["created"],
            "closed": row["closed"], "days_left": days_left(close, self.today),
            "indicator": indicator(status, close, self.today, orange, red), "next_followup": row["next_followup"],
            "_color": row["business_type_color"], "_value_cents": cents, "_notes": row["notes"],
            "_closed_from_stage": row["closed_from_stage"],
        }

    def list_opportunities(self, flt: OpportunityFilter, limit: int | None = None) -> Iterator[dict]:
        """Opportunities matching `flt`, ordered by stage position then urgency, as records."""
        where, params = self._filter_sql(flt)
        sql = (
            OPPORTUNITY_SELECT + f" WHERE {where} ORDER BY s.position, o.expected_close IS NULL, o.expected_close, o.id"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        for row in self.conn.execute(sql, params):
            yield self.record(row)

    def get_opportunity(self, opportunity_id: int) -> dict:
        row = self._one(OPPORTUNITY_SELECT + " WHERE o.id = ?", [opportunity_id])
        if row is None:
            raise NotFound(f"no opportunity #{opportunity_id}")
        return self.record(row)

    def _opportunity_row(self, opportunity_id: int) -> sqlite3.Row:
        row = self._one(
            """SELECT o.*, bt.name AS business_type FROM opportunities o
                 JOIN business_types bt ON bt.id = o.business_type_id WHERE o.id = ?""",
            [opportunity_id],
        )
        if row is None:
            raise NotFound(f"no opportunity #{opportunity_id}")
        return row

    def history(self, opportunity_id: int) -> list[dict]:
        self._opportunity_row(opportunity_id)
        return [
            dict(r) for r in self._all(
                """SELECT at, actor, field, from_value, to_value FROM history
                    WHERE opportunity_id = ? ORDER BY id""",
                [opportunity_id],
            )
        ]

    # ---- opportunities: writing

    def _history(
        self, opportunity_id: int, field_name: str, from_value: Any, to_value: Any,
        from_id: int | None = None, to_id: int | None = None, actor: str | None = None,
    ) -> None:
        self.conn.execute(
            """INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [opportunity_id, self.now(), actor or self.user["name"], field_name,
             None if from_value is None else str(from_value), None if to_value is None else str(to_value),
             from_id, to_id],
        )

    def _history_for_all(
        self, where: str, params: list, field_name: str, from_value: str, to_value: str,
        from_id: int | None, to_id: int | None, actor: str | None = None,
    ) -> None:
        """One history row for every opportunity matching `where`, in one statement."""
        self.conn.execute(
            f"""INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                SELECT id, ?, ?, ?, ?, ?, ?, ? FROM opportunities WHERE {where}""",
            [self.now(), actor or self.user["name"], field_name, from_value, to_value, from_id, to_id, *params],
        )

    def add_note(self, opportunity_id: int, text: str, actor: str | None = None) -> None:
        """A note in the opportunity's timeline."""
        self._opportunity_row(opportunity_id)
        text = _blank_to_none(text, "a note", multiline=True)
        if text is None:
            raise Invalid("a note needs text")
        self._history(opportunity_id, "note", None, text, actor=actor)

    def add_opportunity(
        self, *, title: str, company: str, business_type: str, source: str, stage: str | None = None,
        value_cents: int = 0, expected_close: dt.date | None = None, owner: str | None = None,
        contact: str | None = None, vacancy: str | None = None, note: str | None = None,
    ) -> int:
        """Create an open opportunity (stage defaults to the type's first); returns its id."""
        title = _clean_name(title, "title")
        company = _clean_name(company, "company")
        bt = self.find_business_type(business_type)
        src = self.find_source(source)
        type_stages = self.stages_of_type(bt["id"])
        if stage is None:
            target = transitions.default_stage(type_stages, bt["name"])
        else:
            target = self._stage_rule(self.find_stage(stage))
            state = transitions.State(0, "open", 0, bt["id"], bt["name"])
            transitions.check_stage_of_type(state, target, type_stages)
            if target.auto_status is not None:
                raise Invalid(
                    f"stage '{target.name}' marks opportunities {target.auto_status}; add it in an open "
                    f"stage, then 'opp {'win' if target.auto_status == 'won' else 'lose'}'"
                )
        owner_row = self.find_user(owner) if owner else self.user
        if value_cents < 0:
            raise Invalid("value must not be negative")
        cursor = self.conn.execute(
            """INSERT INTO opportunities (title, company, contact, business_type_id, stage_id, source_id, value_cents,
                                          expected_close, owner_id, status, vacancy, notes, created)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)""",
            [title, company, _blank_to_none(contact, "contact"), bt["id"], target.id, src["id"], value_cents,
             expected_close.isoformat() if expected_close else None, owner_row["id"],
             _blank_to_none(vacancy, "vacancy"), _blank_to_none(note, "note", multiline=True), self.today.isoformat()],
        )
        new_id = cursor.lastrowid
        self._history(new_id, "created", None, target.name, None, target.id)
        if note and note.strip():
            self._history(new_id, "note", None, note.strip())
        return new_id

    def edit_opportunity(self, opportunity_id: int, changes: dict[str, Any], workflows: bool = True) -> list[str]:
        """Change plain fields. Keys: title, company, contact, vacancy, notes, business_type, stage (with a type
        change), source, value_cents, expected_close (date or None), owner. Returns the changed field names."""
        row = self._opportunity_row(opportunity_id)
        done: list[str] = []
        for key in ("title", "company"):
            if key in changes and changes[key] != row[key]:
                value = _clean_name(changes[key], key)
                self.conn.execute(f"UPDATE opportunities SET {key} = ? WHERE id = ?", [value, opportunity_id])
                done.append(key)
        for key in ("contact", "vacancy", "notes"):
            value = _blank_to_none(changes[key], key, multiline=key == "notes") if key in changes else None
            if key in changes and value != row[key]:
                self.conn.execute(f"UPDATE opportunities SET {key} = ? WHERE id = ?", [value, opportunity_id])
                done.append(key)
        if "source" in changes:
            src = self.find_source(changes["source"])
            if src["id"] != row["source_id"]:
                self.conn.execute("UPDATE opportunities SET source_id = ? WHERE id = ?", [src["id"], opportunity_id])
                done.append("source")
        if "business_type" in changes:
            before = self.get_opportunity(opportunity_id)
            changed = self._change_type(row, changes["business_type"], changes.get("stage"))
            done += changed
            if "stage" in changed and workflows:
                self._fire_workflows(row, before)
        elif changes.get("stage") is not None:
            raise Invalid(f"use 'salesselect opp move {opportunity_id} STAGE' to change the stage")
        if "value_cents" in changes and changes["value_cents"] != row["value_cents"]:
            if changes["value_cents"] < 0:
                raise Invalid("value must not be negative")
            self.conn.execute(
                "UPDATE opportunities SET value_cents = ? WHERE id = ?", [changes["value_cents"], opportunity_id]
            )
            self._history(opportunity_id, "value", cents_to_decimal_string(row["value_cents"]),
                          cents_to_decimal_string(changes["value_cents"]))
            done.append("value")
        if "expected_close" in changes:
            new = changes["expected_close"].isoformat() if changes["expected_close"] else None
            if new != row["expected_close"]:
                self.conn.execute("UPDATE opportunities SET expected_close = ? WHERE id = ?", [new, opportunity_id])
                self._history(opportunity_id, "expected_close", row["expected_close"], new)
                done.append("expected_close")
        if "owner" in changes:
            self.change_owner(opportunity_id, changes["owner"]) and done.append("owner")
        return done

    def change_owner(self, opportunity_id: int, owner: str, actor: str | None = None) -> bool:
        """Reassign an opportunity; True when the owner changed."""
        row = self._opportunity_row(opportunity_id)
        new = self.find_user(owner)
        if new["id"] == row["owner_id"]:
            return False
        old_name = self._scalar("SELECT name FROM users WHERE id = ?", [row["owner_id"]])
        self.conn.execute("UPDATE opportunities SET owner_id = ? WHERE id = ?", [new["id"], opportunity_id])
        self._history(opportunity_id, "owner", old_name, new["name"], row["owner_id"], new["id"], actor=actor)
        return True

    def _change_type(self, row: sqlite3.Row, business_type: str, stage: str | None) -> list[str]:
        bt = self.find_business_type(business_type)
        if bt["id"] == row["business_type_id"]:
            if stage is not None:
                raise Invalid(f"#{row['id']} is already of business type '{bt['name']}'; use 'salesselect opp move {row['id']} STAGE'")
            return []
        type_stages = self.stages_of_type(bt["id"])
        state = transitions.State(row["id"], row["status"], row["stage_id"], bt["id"], bt["name"])
        if stage is not None:
            target = self._stage_rule(self.find_stage(stage))
            transitions.check_stage_of_type(state, target, type_stages)
        else:
            current = next((s for s in type_stages if s.id == row["stage_id"]), None)
            if current is None:
                raise Invalid(
                    f"stage '{self._scalar('SELECT name FROM stages WHERE id = ?', [row['stage_id']])}' is not a "
                    f"stage of business type '{bt['name']}'; pass --stage with one of: "
                    f"{', '.join(s.name for s in type_stages) or 'none'}"
                )
            target = current
        if (target.auto_status or "open") != row["status"]:
            raise Invalid(f"stage '{target.name}' does not fit a {row['status']} opportunity")
        self.conn.execute(
            "UPDATE opportunities SET business_type_id = ?, stage_id = ? WHERE id = ?", [bt["id"], target.id, row["id"]]
        )
        self._history(row["id"], "business_type", row["business_type"], bt["name"], row["business_type_id"], bt["id"])
        changed = ["business_type"]
        if target.id != row["stage_id"]:
            old = self._scalar("SELECT name FROM stages WHERE id = ?", [row["stage_id"]])
            self._history(row["id"], "stage", old, target.name, row["stage_id"], target.id)
            changed.append("stage")
        return changed

    def delete_opportunity(self, opportunity_id: int) -> dict:
        record = self.get_opportunity(opportunity_id)
        self.conn.execute("DELETE FROM opportunities WHERE id = ?", [opportunity_id])
        return record

    def _state(self, row: sqlite3.Row) -> transitions.State:
        return transitions.State(
            row["id"], row["status"], row["stage_id"], row["business_type_id"], row["business_type"],
            row["closed_from_stage_id"],
        )

    def _reason_rule(self, text: str | None, status: str | None) -> transitions.Reason | None:
        if text is None:
            return None
        if status is None:
            raise Invalid("--reason applies only when the opportunity is won or lost")
        row = self.find_reason(text, status)
        return transitions.Reason(row["id"], row["text"], row["status"])

    def _apply(self, row: sqlite3.Row, outcome: transitions.Outcome, actor: str | None = None) -> None:
        """Write a transition's outcome and its history rows."""
        stage_names = {r["id"]: r["name"] for r in self._all("SELECT id, name FROM stages")}
        self.conn.execute(
            """UPDATE opportunities SET stage_id = ?, status = ?, reason_id = ?, closed = ?, closed_from_stage_id = ?
                WHERE id = ?""",
            [outcome.stage_id, outcome.status, outcome.reason_id,
             outcome.closed.isoformat() if outcome.closed else None, outcome.closed_from_stage_id, row["id"]],
        )
        if outcome.stage_id != row["stage_id"]:
            self._history(row["id"], "stage", stage_names.get(row["stage_id"]), stage_names.get(outcome.stage_id),
                          row["stage_id"], outcome.stage_id, actor=actor)
        if outcome.status != row["status"]:
            reason = self._scalar("SELECT text FROM reasons WHERE id = ?", [outcome.reason_id]) if outcome.reason_id else None
            to_value = f"{outcome.status} ({reason})" if reason else outcome.status
            self._history(row["id"], "status", row["status"], to_value,
                          row["stage_id"], outcome.reason_id, actor=actor)

    def move_opportunity(self, opportunity_id: int, stage: str, reason: str | None = None,
                         workflows: bool = True) -> dict:
        """Move to a stage of the opportunity's type; returns the record before the change."""
        before = self.get_opportunity(opportunity_id)
        row = self._opportunity_row(opportunity_id)
        target = self._stage_rule(self.find_stage(stage))
        state = self._state(row)
        type_stages = self.stages_of_type(row["business_type_id"])
        if state.status != "open":
            transitions.move(state, target, type_stages, None, self.today)  # raises the reopen hint
        reason_rule = self._reason_rule(reason, target.auto_status) if reason is not None else None
        if reason is not None and target.auto_status is None:
            transitions.move(state, target, type_stages, transitions.Reason(0, reason, "lost"), self.today)
        outcome = transitions.move(state, target, type_stages, reason_rule, self.today)
        self._apply(row, outcome)
        if workflows:
            self._fire_workflows(row, before)
        return before

    def close_opportunity(self, opportunity_id: int, status: str, reason: str | None = None,
                          workflows: bool = True) -> dict:
        """Win or lose; returns the record before the change."""
        before = self.get_opportunity(opportunity_id)
        row = self._opportunity_row(opportunity_id)
        state = self._state(row)
        if state.status != "open":
            transitions.close(state, status, [], None, self.today)  # raises the reopen hint
        reason_rule = self._reason_rule(reason, status)
        outcome = transitions.close(state, status, self.stages_of_type(row["business_type_id"]), reason_rule, self.today)
        self._apply(row, outcome)
        if workflows:
            self._fire_workflows(row, before)
        return before

    def reopen_opportunity(self, opportunity_id: int, stage: str | None = None, workflows: bool = True) -> dict:
        before = self.get_opportunity(opportunity_id)
        row = self._opportunity_row(opportunity_id)
        target = self._stage_rule(self.find_stage(stage)) if stage else None
        outcome = transitions.reopen(self._state(row), target, self.stages_of_type(row["business_type_id"]))
        self._apply(row, outcome)
        if workflows:
            self._fire_workflows(row, before)
        return before

    # ---- follow-ups

    def add_followup(self, opportunity_id: int, due: dt.date, text: str, user: str | None = None,
                     actor: str | None = None) -> int:
        row = self._opportunity_row(opportunity_id)
        text = _blank_to_none(text, "a follow-up")
        if text is None:
            raise Invalid("a follow-up needs text")
        user_id = self.find_user(user)["id"] if user else row["owner_id"]
        cursor = self.conn.execute(
            "INSERT INTO followups (opportunity_id, due, text, user_id, created) VALUES (?, ?, ?, ?, ?)",
            [opportunity_id, due.isoformat(), text, user_id, self.today.isoformat()],
        )
        self._history(opportunity_id, "followup", None, f"{due.isoformat()} {text}", actor=actor)
        return cursor.lastrowid

    def list_followups(
        self, *, mine: bool = False, due_before: dt.date | None = None, due_on_or_after: dt.date | None = None,
        opportunity_id: int | None = None, include_done: bool = False, user: str | None = None,
    ) -> list[dict]:
        clauses, params = ["1 = 1"], []
        if not include_done:
            clauses.append("f.done IS NULL")
        if mine:
            clauses.append("f.user_id = ?")
            params.append(self.user["id"])
        if user:
            clauses.append("f.user_id = ?")
            params.append(self.find_user(user)["id"])
        if due_before is not None:
            clauses.append("f.due <= ?")
            params.append(due_before.isoformat())
        if due_on_or_after is not None:
            clauses.append("f.due >= ?")
            params.append(due_on_or_after.isoformat())
        if opportunity_id is not None:
            clauses.append("f.opportunity_id = ?")
            params.append(opportunity_id)
        rows = self._all(
            f"""SELECT f.id, f.due, f.text, u.name AS user, f.opportunity_id, o.title, o.company, f.done
                  FROM followups f JOIN users u ON u.id = f.user_id JOIN opportunities o ON o.id = f.opportunity_id
                 WHERE {' AND '.join(clauses)} ORDER BY f.due, f.id""",
            params,
        )
        result = []
        for r in rows:
            item = dict(r)
            item["overdue"] = r["done"] is None and r["due"] < self.today.isoformat()
            result.append(item)
        return result

    def complete_followup(self, followup_id: int) -> dict:
        row = self._one("SELECT * FROM followups WHERE id = ?", [followup_id])
        if row is None:
            raise NotFound(f"no follow-up #{followup_id}")
        if row["done"] is not None:
            raise Conflict(f"follow-up #{followup_id} was already done on {row['done']}")
        self.conn.execute("UPDATE followups SET done = ? WHERE id = ?", [self.today.isoformat(), followup_id])
        self._history(row["opportunity_id"], "followup done", None, f"{row['due']} {row['text']}")
        return dict(row)

    # ---- board (issue 4): queries for `salesselect board`

    # Cards in a column, most urgent first. The indicator only grows with the close date, so
    # ordering by date alone gives overdue, red, orange, green; undated cards come last.
    BOARD_URGENCY = "o.expected_close IS NULL, o.expected_close, o.id"

    def _indicator_cutoffs(self) -> tuple[str, str, str]:
        """The last close dates (ISO) that are overdue, red and orange: rules.indicator as bounds for SQL."""
        return tuple(day.isoformat() for day in close_date_bounds(self.today, *self.thresholds()))

    def board_columns(self, flt: OpportunityFilter, all_stages: bool = False) -> list[dict]:
        """The board's columns in position order: stage, count, value_cents, overdue, red, orange.

        Counts and totals cover every open opportunity matching `flt` (one GROUP BY). Which
        stages: with a business type, its stages (auto-select won/lost ones only with
        `all_stages`); without one, the stages holding matching cards (every stage with `all_stages`).
        """
        flt = OpportunityFilter(**{**flt.__dict__, "status": "open"})
        where, params = self._filter_sql(flt)
        overdue_until, red_until, orange_until = self._indicator_cutoffs()
        stage_clause = "1 = 1"
        stage_params: list = []
        if flt.business_type:
            stage_clause = "s.id IN (SELECT stage_id FROM stage_business_types WHERE business_type_id = ?)"
            stage_params.append(self.find_business_type(flt.business_type)["id"])
            if not all_stages:
                stage_clause += " AND (s.auto_status IS NULL OR a.count > 0)"
        elif not all_stages:
            stage_clause = "a.count > 0"
        rows = self._all(
            f"""WITH a AS (
                  SELECT o.stage_id, COUNT(*) AS count, SUM(o.value_cents) AS value_cents,
                         SUM(o.expected_close <= ?) AS overdue,
                         SUM(o.expected_close <= ?) AS red,
                         SUM(o.expected_close > ? AND o.expected_close <= ?) AS orange
                    FROM opportunities o
                   WHERE {where}
                   GROUP BY o.stage_id)
                SELECT s.id, s.name, s.position, s.auto_status,
                       COALESCE(a.count, 0) AS count, COALESCE(a.value_cents, 0) AS value_cents,
                       COALESCE(a.overdue, 0) AS overdue, COALESCE(a.red, 0) AS red,
                       COALESCE(a.orange, 0) AS orange
                  FROM stages s LEFT JOIN a ON a.stage_id = s.id
                 WHERE {stage_clause}
                 ORDER BY s.position""",
            [overdue_until, red_until, red_until, orange_until] + params + stage_params,
        )
        return [
            {
                "stage_id": r["id"], "stage": r["name"], "position": r["position"], "auto_status": r["auto_status"],
                "count": r["count"], "value_cents": r["value_cents"], "overdue": r["overdue"],
                "red": r["red"], "orange": r["orange"],
            }
            for r in rows
        ]

    def board_cards(self, flt: OpportunityFilter, stage_ids: list[int], limit: int | None) -> dict[str, list[dict]]:
        """The first `limit` cards (all when None) of each stage by urgency, as records keyed by stage name.

        Only the shown cards are fetched: one LIMIT subquery per stage, joined in one statement.
        (Measured at 100,000 open opportunities: SQLite's top-N sort per stage is 3-6x faster
        than numbering every card with ROW_NUMBER() OVER (PARTITION BY stage_id).)
        """
        if not stage_ids or limit == 0:
            return {}
        flt = OpportunityFilter(**{**flt.__dict__, "status": "open"})
        where, params = self._filter_sql(flt)
        if limit is None:
            shown = f"SELECT o.id FROM opportunities o WHERE {where} AND o.stage_id IN ({','.join('?' * len(stage_ids))})"
            args = params + list(stage_ids)
        else:
            one_stage = (
                f"SELECT id FROM (SELECT o.id FROM opportunities o WHERE {where} AND o.stage_id = ?"
                f" ORDER BY {self.BOARD_URGENCY} LIMIT ?)"
            )
            shown = " UNION ALL ".join([one_stage] * len(stage_ids))
            args = [arg for stage_id in stage_ids for arg in (*params, stage_id, limit)]
        sql = (
            f"WITH shown(id) AS ({shown}) " + OPPORTUNITY_SELECT
            + f" JOIN shown ON shown.id = o.id ORDER BY s.position, {self.BOARD_URGENCY}"
        )
        cards: dict[str, list[dict]] = {}
        for row in self.conn.execute(sql, args):
            cards.setdefault(row["stage"], []).append(self.record(row))
        return cards

    def business_type_colors(self) -> list[dict]:
        """Business types with their colours, in setup order (for the board's legend)."""
        return [{"name": r["name"], "color": r["color"]} for r in self._all("SELECT name, color FROM business_types ORDER BY id")]

    # ---- reports (issue 5): win/loss, sources, pipeline, stages
    #
    # Every number is aggregated by SQL. Periods are inclusive [start, end] days, queried half-open
    # (>= start, < end + 1 day) so a date with a time part still falls on its day. Money stays cents.

    def _report_scope(self, flt: OpportunityFilter, table: str = "o") -> tuple[str, list]:
        """The WHERE clause of a report's --type/--owner/--source filters (every status) on alias `table`.

        The unary '+' keeps SQLite (which has no statistics on a user's file) from driving the query by
        these columns' indexes: the period's covering index range is the small side.
        """
        clauses, params = ["1 = 1"], []
        if flt.business_type:
            clauses.append(f"+{table}.business_type_id = ?")
            params.append(self.find_business_type(flt.business_type)["id"])
        if flt.owner:
            clauses.append(f"+{table}.owner_id = ?")
            params.append(self.find_user(flt.owner)["id"])
        if flt.source:
            clauses.append(f"+{table}.source_id = ?")
            params.append(self.find_source(flt.source)["id"])
        return " AND ".join(clauses), params

    @staticmethod
    def _day_range(start: dt.date, end: dt.date) -> list[str]:
        # the day after `end`; past 9999-12-31 a string that still sorts after every date
        return [start.isoformat(), (end + dt.timedelta(days=1)).isoformat() if end < dt.date.max else "9999-12-32"]

    def _report_stages_scope(self, flt: OpportunityFilter) -> tuple[str, list]:
        """Which stages a stage-by-stage report lists: open (non auto-select) stages, of the type when filtered."""
        if flt.business_type:
            type_id = self.find_business_type(flt.business_type)["id"]
            return ("EXISTS (SELECT 1 FROM stage_business_types l WHERE l.stage_id = s.id "
                    "AND l.business_type_id = ?)", [type_id])
        return "1 = 1", []

    def report_winloss(self, flt: OpportunityFilter, start: dt.date, end: dt.date) -> list[dict]:
        """Won and lost opportunities closed in [start, end], by status, closed-from stage and reason.

        share is the percentage of that status's count; lost rows first, then by share (largest first).
        """
        where, params = self._report_scope(flt)
        rows = self._all(
            f"""WITH closed AS (
                  SELECT o.status, COALESCE(o.closed_from_stage_id, o.stage_id) AS stage_id, o.reason_id,
                         COUNT(*) AS n, SUM(o.value_cents) AS cents
                    FROM opportunities o
                   WHERE o.closed >= ? AND o.closed < ? AND +o.status IN ('won', 'lost') AND {where}
                   GROUP BY 1, 2, 3)
                SELECT c.status, s.name AS stage, r.text AS reason, c.n, c.cents,
                       ROUND(100.0 * c.n / SUM(c.n) OVER per_status, 1) AS share,
                       ROUND(100.0 * c.cents / NULLIF(SUM(c.cents) OVER per_status, 0), 1) AS value_share,
                       SUM(c.n) OVER per_status AS status_count
                  FROM closed c JOIN stages s ON s.id = c.stage_id LEFT JOIN reasons r ON r.id = c.reason_id
                WINDOW per_status AS (PARTITION BY c.status)
                 ORDER BY c.status = 'won', c.n DESC, c.cents DESC, s.position, r.text IS NULL, r.text""",
            self._day_range(start, end) + params,
        )
        return [
            {
                "status": r["status"], "stage": r["stage"], "reason": r["reason"], "count": r["n"],
                "value": cents_to_decimal_string(r["cents"]), "share": r["share"],
                "value_share": r["value_share"], "status_count": r["status_count"], "_value_cents": r["cents"],
            }
            for r in rows
        ]

    def report_sources(self, flt: OpportunityFilter, start: dt.date, end: dt.date) -> list[dict]:
        """Per source, the opportunities created in [start, end] and what became of them; a total row last.

        average_days_to_close is over the closed (won or lost) ones, from created to closed date.
        """
        where, params = self._report_scope(flt)
        rows = self._all(
            f"""WITH cohort AS (
                  SELECT o.source_id, COUNT(*) AS created,
                         SUM(o.status = 'won') AS won, SUM(o.status = 'lost') AS lost, SUM(o.status = 'open') AS open,
                         SUM(CASE WHEN o.status = 'won' THEN o.value_cents ELSE 0 END) AS revenue,
                         SUM(o.status != 'open' AND o.closed IS NOT NULL) AS closed_count,
                         SUM(CASE WHEN o.status != 'open' AND o.closed IS NOT NULL
                                  THEN julianday(date(o.closed)) - julianday(date(o.created)) END) AS close_days
                    FROM opportunities o
                   WHERE o.created >= ? AND o.created < ? AND {where}
                   GROUP BY o.source_id),
                totalled AS (
                  SELECT src.name AS source, 0 AS total, c.created, c.won, c.lost, c.open, c.revenue,
                         c.closed_count, c.close_days
                    FROM cohort c JOIN sources src ON src.id = c.source_id
                  UNION ALL
                  SELECT 'Total', 1, SUM(created), SUM(won), SUM(lost), SUM(open), SUM(revenue),
                         SUM(closed_count), SUM(close_days)
                    FROM cohort HAVING COUNT(*) > 0)
                SELECT source, total, created, won, lost, open, revenue,
                       ROUND(100.0 * won / created, 1) AS conversion_rate,
                       ROUND(100.0 * won / NULLIF(won + lost, 0), 1) AS win_rate,
                       CAST(ROUND(1.0 * revenue / NULLIF(won, 0)) AS INTEGER) AS average_deal_cents,
                       ROUND(close_days / NULLIF(closed_count, 0), 1) AS average_days_to_close
                  FROM totalled ORDER BY total, created DESC, revenue DESC, source COLLATE NOCASE""",
            self._day_range(start, end) + params,
        )
        return [
            {
                "source": r["source"], "created": r["created"], "won": r["won"], "lost": r["lost"],
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
        return [
            {
                "stage": r["stage"], "count": r["n"], "value": cents_to_decimal_string(r["cents"]),
                "red": r["red"], "orange": r["orange"], "overdue": r["overdue"], "share": r["share"],
                "value_share": r["value_share"], "_value_cents": r["cents"],
                "_total_count": r["total_n"], "_total_cents": r["total_cents"],
            }
            for r in rows
        ]

    def report_pipeline_months(self, flt: OpportunityFilter, months: list[dt.date], start: dt.date | None = None,
                               end: dt.date | None = None) -> list[dict]:
        """Open opportunities by expected close month: 'earlier', each of `months` (first days), 'later', 'no date'."""
        from salesselect_cli.rules.money import cents_to_decimal_string
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
        The visits come from stage_visits (m003), which the history triggers keep; positions and auto-select
        are read now, as the stages are today.
        """
        where, params = self._report_scope(flt, "v")
        stage_where, stage_params = self._report_stages_scope(flt)
        # `grouped` walks idx_stage_visits_report in order (no sort) and folds a period's visits into one row
        # per day, stage, end and next stage; everything after works on those few rows.
        rows = self._all(
            f"""WITH grouped AS (
                  SELECT v.entered, v.stage_id, v.ended, v.outcome, v.next_stage_id,
                         COUNT(*) AS n, SUM(v.status = 'won') AS ended_won
                    FROM stage_visits v
                   WHERE v.entered >= ? AND v.entered < ? AND {where}
                   GROUP BY v.entered, v.stage_id, v.ended, v.outcome, v.next_stage_id),
                visits AS (
                  SELECT g.stage_id, g.n, g.ended_won,
                         CASE WHEN g.outcome IS NULL THEN 'still'
                              WHEN g.outcome != 'moved' THEN g.outcome
                              WHEN ns.auto_status IS NOT NULL THEN ns.auto_status
                              WHEN ns.position > s.position THEN 'moved_on'
                              ELSE 'moved_back' END AS outcome,
                         CAST(julianday(COALESCE(g.ended, ?)) - julianday(g.entered) AS INTEGER) AS days
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
                  SELECT b.*, SUM(b.n) OVER (PARTITION BY b.stage_id ORDER BY b.days) AS upto,
                         SUM(b.n) OVER (PARTITION BY b.stage_id) AS entered
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
            self._day_range(start, end) + params + [self.today.isoformat()] + stage_params,
        )
        return [dict(r) for r in rows]

    # ---- workflows (issue 6): firing rules on stage and status changes

    def workflow_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM workflows ORDER BY id")]

    def find_workflow(self, ref: str) -> sqlite3.Row:
        """A workflow by name (case-insensitive) or by id; NotFound listing the names."""
        text = (ref or "").strip()
        row = self._one("SELECT * FROM workflows WHERE fold(name) = fold(?)", [text])
        if row is None and text.isdigit() and len(text) < 19:  # an id SQLite can hold
            row = self._one("SELECT * FROM workflows WHERE id = ?", [int(text)])
        if row is None:
            raise unknown_name("workflow", ref, self.workflow_names())
        return row

    def list_workflows(self, ref: str | None = None) -> list[dict]:
        """Every workflow (or the one `ref` names) with stage and type names, in the order they fire."""
        where, params = ("WHERE w.id = ?", [self.find_workflow(ref)["id"]]) if ref is not None else ("", [])
        rows = self._all(
            f"""SELECT w.id, w.name, w.trigger, ts.name AS to_stage, fs.name AS from_stage, w.to_status,
                       bt.name AS business_type, w.actions, w.enabled, w.created
                  FROM workflows w
                  LEFT JOIN stages ts ON ts.id = w.to_stage_id
                  LEFT JOIN stages fs ON fs.id = w.from_stage_id
                  LEFT JOIN business_types bt ON bt.id = w.business_type_id
                  {where} ORDER BY w.id""",
            params,
        )
        return [
            {"id": r["id"], "name": r["name"], "on": r["trigger"], "to_stage": r["to_stage"],
             "from_stage": r["from_stage"], "to_status": r["to_status"], "business_type": r["business_type"],
             "actions": json.loads(r["actions"]), "enabled": bool(r["enabled"]), "created": r["created"]}
            for r in rows
        ]

    def remove_workflow(self, ref: str) -> str:
        row = self.find_workflow(ref)
        self.conn.execute("DELETE FROM workflows WHERE id = ?", [row["id"]])
        return row["name"]

    def set_workflow_enabled(self, ref: str, enabled: bool) -> bool:
        """Switch a workflow on or off; True when that changed something."""
        row = self.find_workflow(ref)
        if bool(row["enabled"]) == enabled:
            return False
        self.conn.execute("UPDATE workflows SET enabled = ? WHERE id = ?", [int(enabled), row["id"]])
        return True

    def check_workflow(
        self, trigger: str, actions: list[str], to_stage_id: int | None, from_stage_id: int | None,
        to_status: str | None, business_type_id: int | None,
    ) -> None:
        """Refuse actions that cannot run (syntax, unknown user) and conditions that can never hold."""
        from salesselect_cli.rules import workflows as wf

        for action in wf.parse_actions(actions):
            if action.kind == "owner":
                self.find_user(action.argument)
        stages = {s["id"]: s for s in self._all("SELECT * FROM stages WHERE id IN (?, ?)", [to_stage_id, from_stage_id])}
        if to_stage_id is not None and to_stage_id == from_stage_id and trigger == "stage":
            raise Invalid("--from-stage and --to-stage are the same stage: a stage change never does that")
        to_auto = stages[to_stage_id]["auto_status"] if to_stage_id is not None else None
        if to_status is not None and to_auto is not None and to_auto != to_status:
            raise Invalid(
                f"stage '{stages[to_stage_id]['name']}' marks opportunities {to_auto}, "
                f"so --to-status {to_status} would never hold there"
            )
        if business_type_id is not None:
            linked = {r[0] for r in self._all(
                "SELECT stage_id FROM stage_business_types WHERE business_type_id = ?", [business_type_id])}
            for stage_id in (to_stage_id, from_stage_id):
                if stage_id is not None and stage_id not in linked:
                    type_name = self._scalar("SELECT name FROM business_types WHERE id = ?", [business_type_id])
                    raise Invalid(
                        f"stage '{stages[stage_id]['name']}' is not a stage of business type '{type_name}', "
                        f"so this workflow would never fire"
                    )

    def workflow_rules(self) -> list:
        """The enabled workflows as pure rules, in the order they fire."""
        from salesselect_cli.rules import workflows as wf

        return [
            wf.Rule(r["id"], r["name"], r["trigger"], tuple(json.loads(r["actions"])), r["to_stage_id"],
                    r["from_stage_id"], r["to_status"], r["business_type_id"], bool(r["enabled"]))
            for r in self._all("SELECT * FROM workflows WHERE enabled = 1 ORDER BY id")
        ]

    def hook_timeout(self) -> float:
        """Seconds a run: action may take: $SALESSELECT_HOOK_TIMEOUT, else the workflow_timeout setting, else 10."""
        from salesselect_cli.rules import workflows as wf

        return wf.hook_timeout(os.environ.get("SALESSELECT_HOOK_TIMEOUT"), self.get_setting("workflow_timeout"))

    def set_hook_timeout(self, seconds: str | None) -> None:
        """Set (or with None, reset to the default) the workflow_timeout setting."""
        from salesselect_cli.rules import workflows as wf

        value = wf.parse_timeout(seconds, "the time limit")
        self.set_setting("workflow_timeout", None if value is None else f"{value:g}")

    def _fire_workflows(self, row: sqlite3.Row, before: dict) -> list[str]:
        """Run the workflows that the change from `row` (the opportunity before it) sets off.

        Followup, note and owner actions write now, in the same transaction, as 'workflow:NAME';
        run: actions wait for the commit. Returns the names of the rules that fired.
        """
        from salesselect_cli.errors import SalesSelectError
        from salesselect_cli.rules import workflows as wf

        if os.environ.get("SALESSELECT_WORKFLOW"):  # inside a run: hook, actions never trigger workflows
            return []
        after_row = self._opportunity_row(row["id"])
        event = wf.Event(row["id"], row["business_type_id"], row["stage_id"], after_row["stage_id"],
                         row["status"], after_row["status"])
        if not event.triggers:
            return []
        fired = wf.match(event, self.workflow_rules())
        hooks = []
        for rule in fired:
            actor = f"workflow:{rule.name}"
            for raw in rule.actions:
                try:
                    action = wf.parse_action(raw)
                    if action.kind == "followup":
                        self.add_followup(row["id"], wf.followup_due(action, self.today), action.argument, actor=actor)
                    elif action.kind == "note":
                        self.add_note(row["id"], action.argument, actor=actor)
                    elif action.kind == "owner":
                        self.change_owner(row["id"], action.argument, actor=actor)
                    else:
                        hooks.append((rule, action))
                except SalesSelectError as exc:
                    raise type(exc)(
                        f"workflow '{rule.name}', action '{raw}': {exc}; nothing was changed "
                        f"(fix the workflow, or pass --no-workflows)"
                    ) from None
        if hooks:
            import functools

            from salesselect_cli.render import public

            timeout = self.hook_timeout()
            common = {
                "opportunity_id": row["id"],
                "before": public(before),
                "after": public(self.get_opportunity(row["id"])),
                "user": self.user["name"],
                "time": self.now().replace(" ", "T"),
            }
            for rule, action in hooks:
                event_json = {"trigger": rule.trigger, "workflow": rule.name, **common}
                self.after_commit.append(functools.partial(self._run_hook, rule.name, action, event_json, timeout))
        return [rule.name for rule in fired]

    def _run_hook(self, workflow: str, action, event_json: dict, timeout: float) -> None:
        """After the commit: run one run: action; a failure becomes a warning and a history row."""
        import shlex

        from salesselect_cli.hooks import run_hook

        opportunity_id = event_json["opportunity_id"]
        env = dict(
            os.environ, SALESSELECT_EVENT=event_json["trigger"], SALESSELECT_OPPORTUNITY_ID=str(opportunity_id),
            SALESSELECT_WORKFLOW=workflow, SALESSELECT_DB=str(self.path), SALESSELECT_USER=event_json["user"],
        )
        try:
            problem = run_hook(action.argv, json.dumps(event_json, ensure_ascii=False), env, timeout)
        except Exception as exc:  # the change is committed: whatever happens here is only a warning
            problem = f"could not run it: {exc.__class__.__name__}: {exc}"
        if problem is None:
            return
        command = shlex.join(action.argv)
        self.workflow_warnings.append(
            f"workflow '{workflow}': {command} failed ({problem}); opportunity #{opportunity_id} was changed all the same"
        )
        try:
            with self.transaction(write=True):
                self.record_hook_failure(opportunity_id, workflow, f"{command}: {problem}")
        except sqlite3.Error as exc:
            self.workflow_warnings.append(f"workflow '{workflow}': the failure could not be recorded in the history ({exc})")

    def record_hook_failure(self, opportunity_id: int, workflow: str, problem: str) -> bool:
        """A failed run: action in the opportunity's history; False when the opportunity is gone."""
        if self._one("SELECT 1 FROM opportunities WHERE id = ?", [opportunity_id]) is None:
            return False
        self._history(opportunity_id, "hook failed", None, problem, actor=f"workflow:{workflow}")
        return True

    def preview_workflows(self, opportunity_id: int, to_stage: str | None = None, to_status: str | None = None) -> dict:
        """What `move`/`win`/`lose`/`reopen` to this stage or status would fire, computed without writing."""
        from salesselect_cli.rules import workflows as wf

        if to_stage is None and to_status is None:
            raise Invalid("pass --to-stage STAGE and/or --to-status won|lost|open")
        if to_status is not None and to_status not in STATUSES:
            raise Invalid(f"--to-status must be open, won or lost, not '{to_status}'")
        row = self._opportunity_row(opportunity_id)
        state = self._state(row)
        type_stages = self.stages_of_type(row["business_type_id"])
        target = self._stage_rule(self.find_stage(to_stage)) if to_stage else None
        if to_status == "open":
            outcome = transitions.reopen(state, target, type_stages)
        elif target is not None:
            any_reason = transitions.Reason(0, "any", target.auto_status) if target.auto_status else None
            outcome = transitions.move(state, target, type_stages, any_reason, self.today)
            if to_status is not None and outcome.status != to_status:
                raise Invalid(f"moving to '{target.name}' leaves it {outcome.status}, not {to_status}")
        else:
            outcome = transitions.close(state, to_status, type_stages, transitions.Reason(0, "any", to_status), self.today)
        event = wf.Event(row["id"], row["business_type_id"], row["stage_id"], outcome.stage_id, row["status"],
                         outcome.status)
        names = {r["id"]: r["name"] for r in self._all("SELECT id, name FROM stages")}
        timeout = self.hook_timeout()
        fires = []
        for rule in wf.match(event, self.workflow_rules()):
            for raw in rule.actions:
                action = wf.parse_action(raw)
                effect = wf.describe(action, self.today, timeout)
                if action.kind == "owner":
                    try:
                        self.find_user(action.argument)
                    except NotFound:
                        effect += " (unknown user: the change would be refused)"
                fires.append({"workflow": rule.name, "trigger": rule.trigger, "action": raw, "effect": effect})
        return {
            "opportunity_id": row["id"],
            "from_stage": names.get(row["stage_id"]), "to_stage": names.get(outcome.stage_id),
            "from_status": row["status"], "to_status": outcome.status,
            "triggers": list(event.triggers),
            "fires": fires,
        }

    # ---- import and export (issue 7)

    def import_names(self):
        """The setup resolved once into dicts (rules.importing.Names) for validating many rows fast."""
        from salesselect_cli.rules.importing import Names, StageInfo

        links: dict[int, set[int]] = {}
        for row in self._all("SELECT stage_id, business_type_id FROM stage_business_types"):
            links.setdefault(row[0], set()).add(row[1])
        stages = [
            StageInfo(r["id"], r["name"], r["auto_status"], frozenset(links.get(r["id"], ())))
            for r in self._all("SELECT id, name, auto_status FROM stages ORDER BY position")
        ]
        type_ids = [r[0] for r in self._all("SELECT id FROM business_types")]

        def by_name(sql: str) -> dict[str, tuple[int, str]]:
            return {r[1].casefold(): (r[0], r[1]) for r in self._all(sql)}

        return Names(
            business_types=by_name("SELECT id, name FROM business_types ORDER BY id"),
            stages={s.name.casefold(): s for s in stages},
            type_stages={t: [s for s in stages if t in s.type_ids] for t in type_ids},
            sources=by_name("SELECT id, name FROM sources ORDER BY id"),
            users=by_name("SELECT id, name FROM users ORDER BY name COLLATE NOCASE"),
            reasons={(r["text"].casefold(), r["status"]): (r["id"], r["text"])
                     for r in self._all("SELECT id, text, status FROM reasons ORDER BY id")},
            stage_names=[s.name for s in stages],
        )

    def import_opportunities(self, rows, batch_size: int = 5000) -> tuple[int, int]:
        """Insert validated rows (rules.importing.ImportRow) in batches; returns (first id, count).

        Ids are assigned here (we hold the write lock) so each batch's history rows can point at
        their opportunities without a round trip per row. Creating is not a workflow trigger.
        """
        first_id = (self._scalar("SELECT MAX(id) FROM opportunities") or 0) + 1
        clock = self.fixed_time or dt.datetime.now().strftime("%H:%M:%S")
        actor = self.user["name"]
        next_id = first_id
        opportunities: list[tuple] = []
        history: list[tuple] = []

        def flush() -> None:
            self.conn.executemany(
                """INSERT INTO opportunities (id, title, company, contact, business_type_id, stage_id, source_id,
                       value_cents, expected_close, owner_id, status, reason_id, closed_from_stage_id, vacancy, notes,
                       created, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                opportunities,
            )
            self.conn.executemany(
                """INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                history,
            )
            opportunities.clear()
            history.clear()

        self.set_setting(BULK_LOAD_KEY, "1")  # per-row stage_visits triggers step aside (m004)
        for row in rows:
            ident = next_id
            next_id += 1
            stage, came_from = row.stage, row.closed_from
            opportunities.append((
                ident, row.title, row.company, row.contact, row.business_type_id, stage.id, row.source_id,
                row.value_cents, row.expected_close, row.owner_id, row.status, row.reason_id,
                came_from.id if came_from else None, row.vacancy, row.notes, row.created, row.closed,
            ))
            entered = came_from or stage
            history.append((ident, f"{row.created} {clock}", actor, "created", None, entered.name, None, entered.id))
            if row.notes:
                history.append((ident, f"{row.created} {clock}", actor, "note", None, row.notes, None, None))
            if row.status != "open":
                at = f"{row.closed} {clock}"
                if entered.id != stage.id:
                    history.append((ident, at, actor, "stage", entered.name, stage.name, entered.id, stage.id))
                to_value = f"{row.status} ({row.reason})" if row.reason else row.status
                history.append((ident, at, actor, "status", "open", to_value, entered.id, row.reason_id))
            if len(opportunities) >= batch_size:
                flush()
        if opportunities:
            flush()
        self.conn.execute(STAGE_VISITS_FROM_HISTORY.format(
            event=STAGE_VISIT_EVENT.format(h=""), which=f"opportunity_id >= {int(first_id)}"))
        self.set_setting(BULK_LOAD_KEY, None)
        return first_id, next_id - first_id

    def act_as(self, user_name: str) -> None:
        """Make `user_name` the acting user from now on (history's actor); the demo plays its recruiters."""
        self.find_user(user_name)
        self.user_name = user_name
        self._user = None

    def opportunity_counts(self) -> dict[str, int]:
        """How many opportunities per status (open, won, lost), zeros included."""
        counts = dict(self._all("SELECT status, COUNT(*) FROM opportunities GROUP BY status"))
        return {status: counts.get(status, 0) for status in STATUSES}

    def import_summary(self, first_id: int) -> list[dict]:
        """What an import added (ids from `first_id`): count and value per type, stage and status."""
        rows = self._all(
            """SELECT bt.name AS business_type, s.name AS stage, o.status, COUNT(*) AS count,
                      SUM(o.value_cents) AS value_cents
                 FROM opportunities o JOIN business_types bt ON bt.id = o.business_type_id
                 JOIN stages s ON s.id = o.stage_id
                WHERE o.id >= ?
                GROUP BY bt.id, s.id, o.status ORDER BY bt.id, s.position, o.status DESC""",
            [first_id],
        )
        return [
            {"business_type": r["business_type"], "stage": r["stage"], "status": r["status"], "count": r["count"],
             "value": cents_to_decimal_string(r["value_cents"]), "_value_cents": r["value_cents"]}
            for r in rows
        ]


# --------------------------------------------------------------------------- small pure helpers


def _auto_status(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered not in ("won", "lost"):
        raise Invalid(f"--auto must be won or lost, not '{value}'")
    return lowered


def _label(row: sqlite3.Row) -> str:
    keys = row.keys()
    return row["name"] if "name" in keys else row["text"]


def validate_color(color: str) -> str:
    """A Rich colour name or #rrggbb, normalised to lower case; Invalid otherwise."""
    from rich.color import Color, ColorParseError

    text = (color or "").strip().lower()
    try:
        Color.parse(text)
    except ColorParseError:
        raise Invalid(
            f"'{color}' is not a colour; use a Rich colour name (red, dark_orange, steel_blue) or #rrggbb"
        ) from None
    return text


def resolve_db_path(option: str | None) -> Path:
    """--db, else $SALESSELECT_DB, else salesselect.db in the app dir."""
    if option is not None:
        if not option.strip():
            raise Invalid("--db needs a file path")
        return Path(option).expanduser()
    env = os.environ.get("SALESSELECT_DB")
    if env:
        return Path(env).expanduser()
    import typer

    return Path(typer.get_app_dir("salesselect")) / "salesselect.db"


def init_database(path: Path, user_name: str, today: dt.date, fill=None) -> Any:
    """Create the file, make `user_name` the first key user, switch the module on.

    `fill(store)` (e.g. the demo agency) runs in the same transaction; its result is returned.
    Whatever fails, no half-made file is left behind.
    """
    user_name = _clean_name(user_name, "user name")
    create_database(path)
    store = None
    try:
        store = Store(open_connection(path), path, today, user_name)
        with store.transaction(write=True):
            store.conn.execute("INSERT INTO users (name, key_user, created) VALUES (?, 1, ?)", [user_name, today.isoformat()])
            store.set_setting("module", "on")
            store.set_setting("currency", "EUR")
            return fill(store) if fill else None
    except BaseException:
        if store is not None:
            store.close()
            store = None
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        raise
    finally:
        if store is not None:
            store.close()
