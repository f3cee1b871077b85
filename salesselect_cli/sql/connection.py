"""Opening a database (a SQLite file or a PostgreSQL URL): header and version checks, pending migrations,
creating a new one.

PostgreSQL keeps the applied migrations' names in `salesselect_migrations` (SQLite in sqlite-utils'
`_sqlite_migrations` and `user_version`, as before); the same numbered migrations run on both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from salesselect_cli.errors import Conflict, DatabaseProblem, os_problem
from salesselect_cli.i18n import _
from salesselect_cli.sql import dialect, schema

SQLITE_HEADER = b"SQLite format 3\x00"


# --------------------------------------------------------------------------- opening


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise DatabaseProblem(_("{path} is a directory, not a salesselect database").format(path=path)) from None
    except OSError as exc:
        raise DatabaseProblem(_("cannot read {path}: {problem}").format(path=path, problem=os_problem(exc))) from None
    if header != SQLITE_HEADER:
        raise DatabaseProblem(_("{path} is not a SQLite database; it was left untouched").format(path=path))


def _check_version(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Refuse a file that is not ours or newer than this code, before anything is written."""
    known = schema.known_migration_names()
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
        ).fetchone()
        applied = (
            [row[0] for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                [schema.MIGRATION_SET],
            )]
            if has_table
            else []
        )
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if any(word in str(exc) for word in ("readonly", "unable to open", "disk I/O")):
            raise DatabaseProblem(_("cannot open {path} for reading and writing ({exc}); check its permissions").format(path=path, exc=exc)) from None
        raise DatabaseProblem(_("{path} is not a usable SQLite database ({exc}); it was left untouched").format(path=path, exc=exc)) from None
    if not applied:
        raise DatabaseProblem(_("{path} is not a salesselect database; it was left untouched").format(path=path))
    unknown = [name for name in applied if name not in known]
    if unknown or user_version > len(known):
        raise DatabaseProblem(
            _("{path} has schema version {user_version}, newer than this salesselect knows ({known}); upgrade salesselect. The file was left untouched").format(path=path, user_version=max(user_version, len(applied)), known=len(known))
        )
    return applied


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations under a write lock, so two processes never race to migrate."""
    from sqlite_utils import Database

    migrations = schema.migrations_set()
    db = Database(conn)
    if not migrations.pending(db):
        return
    conn.begin(write=True)
    try:
        migrations.apply(db)  # each migration becomes a savepoint inside our transaction
        conn.execute(f"PRAGMA user_version = {len(schema.MIGRATIONS)}")
        conn.execute("COMMIT")
        dialect.keep_wal(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def create_database(path: Path | str) -> None:
    """Create a new salesselect database file at `path` (or the schema in an empty PostgreSQL database)."""
    if dialect.is_postgres(path):
        conn = dialect.connect_postgres(path)
        try:
            if _pg_tables(conn):
                raise Conflict(
                    _("{path} already has tables; refusing to touch them (init needs an empty database: createdb a new one)").format(path=dialect.safe_location(path))
                )
            _pg_migrate(conn)
        finally:
            conn.close()
        return
    import os

    if os.path.lexists(path):
        raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = dialect.connect(path)
    except (OSError, sqlite3.OperationalError) as exc:
        raise DatabaseProblem(_("cannot create {path}: {problem}").format(path=path, problem=os_problem(exc))) from None
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        _migrate(conn)
    finally:
        conn.close()


def open_connection(path: Path | str, write: bool = True):
    """Open an existing database: header and version checks, then pending migrations.

    A read (`write=False`) opens a file read-only: it never takes the write lock, never switches the
    journal mode, and works on a read-only file or in a read-only folder. Only pending migrations
    (an older file) open it for writing once. A PostgreSQL URL opens the database there (reads run
    in a read-only snapshot either way).
    """
    if dialect.is_postgres(path):
        return _pg_open(path)
    import os

    if not os.path.exists(path):  # False, not an error, for a name too long to exist
        raise DatabaseProblem(_("no database at {path}; run 'salesselect init' first (or pass --db)").format(path=path))
    _check_header(path)
    if not write:
        conn = _open_for_reading(path)
        if conn is not None:
            return conn
    try:
        conn = dialect.connect(path)
    except sqlite3.OperationalError as exc:
        raise DatabaseProblem(_("cannot open {path}: {exc}").format(path=path, exc=exc)) from None
    try:
        applied = _check_version(conn, path)  # a rollback-journal file becomes WAL after its first commit (dialect.keep_wal)
        if applied != schema.known_migration_names():
            _migrate(conn)
    except BaseException:
        conn.close()
        raise
    if write:
        return conn
    conn.close()  # migrated: now read it as any read does
    return _open_for_reading(path) or dialect.connect(path)


def _open_for_reading(path: Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when the file first needs its pending migrations."""
    import os

    folder_locked = not os.access(path.parent, os.W_OK) and not os.path.exists(f"{path}-wal")
    for immutable in (False, True) if folder_locked else (False,):
        conn = None
        try:
            conn = dialect.connect(path, readonly=True, immutable=immutable)
            applied = _check_version(conn, path)
        except (sqlite3.OperationalError, DatabaseProblem) as exc:
            if conn is not None:
                conn.close()
            if folder_locked and not immutable:
                continue  # a read-only folder: SQLite cannot make its -shm file, and nobody can write here
            if isinstance(exc, DatabaseProblem):
                raise
            raise DatabaseProblem(_("cannot open {path}: {exc}").format(path=path, exc=exc)) from None
        if applied != schema.known_migration_names():
            conn.close()
            return None
        return conn
    return None


# --------------------------------------------------------------------------- PostgreSQL

PG_MIGRATIONS_TABLE = "salesselect_migrations"


class PgMigrations:
    """What a migration function gets on PostgreSQL: execute(sql) (no parameters), and the backend."""

    backend = "postgresql"

    def __init__(self, conn: dialect.PgConnection):
        self.conn = conn

    def execute(self, sql: str) -> None:
        self.conn.raw.execute(sql)


def _pg_tables(conn: dialect.PgConnection) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
    )]


def _pg_applied(conn: dialect.PgConnection) -> list[str] | None:
    """The applied migrations' names in order, or None when the database has no bookkeeping table."""
    if conn.execute("SELECT to_regclass(?)", [PG_MIGRATIONS_TABLE]).fetchone()[0] is None:
        return None
    return [row[0] for row in conn.execute(f"SELECT name FROM {PG_MIGRATIONS_TABLE} ORDER BY id")]


def _pg_check(applied: list[str] | None, conn: dialect.PgConnection, url: str) -> list[str]:
    where = dialect.safe_location(url)
    if applied is None:
        if not _pg_tables(conn):
            raise DatabaseProblem(_("{where} is an empty database; run 'salesselect --db URL init' first").format(where=where))
        raise DatabaseProblem(_("{where} is not a salesselect database; it was left untouched").format(where=where))
    known = schema.known_migration_names()
    if any(name not in known for name in applied):
        raise DatabaseProblem(
            _("{where} has schema version {applied}, newer than this salesselect knows ({known}); upgrade salesselect. The database was left untouched").format(where=where, applied=len(applied), known=len(known))
        )
    return applied


def _pg_migrate(conn: dialect.PgConnection) -> None:
    """Apply pending migrations in one write transaction (under the writers' lock)."""
    conn.begin(write=True)
    try:
        if conn.execute("SELECT to_regclass(?)", [PG_MIGRATIONS_TABLE]).fetchone()[0] is None:
            conn.execute(f"CREATE TABLE {PG_MIGRATIONS_TABLE} (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                         f"applied TEXT NOT NULL)")
        applied = set(_pg_applied(conn) or [])
        db = PgMigrations(conn)
        for number, (name, function) in enumerate(schema.MIGRATIONS, start=1):
            if name in applied:
                continue
            function(db)
            conn.execute(f"INSERT INTO {PG_MIGRATIONS_TABLE} (id, name, applied) VALUES (?, ?, "
                         f"to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))", [number, name])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _pg_open(url: str) -> dialect.PgConnection:
    conn = dialect.connect_postgres(url)
    try:
        applied = _pg_check(_pg_applied(conn), conn, url)
        if applied != schema.known_migration_names():
            _pg_migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def drop_schema(conn: dialect.PgConnection) -> None:
    """Undo a failed init on PostgreSQL: drop what the migrations made (the database was empty before)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.begin(write=True)
    for table in _pg_tables(conn):
        conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    for function in ("stage_visits_on_history()", "stage_visits_on_opportunity()", "stage_visits_days()",
                     "funnel_counts_on_visit()", "fold(text)"):
        conn.execute(f"DROP FUNCTION IF EXISTS {function}")
    conn.execute("COMMIT")
