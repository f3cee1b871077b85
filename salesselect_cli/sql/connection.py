"""Opening a database (a SQLite file or a PostgreSQL URL): header and version checks, pending migrations,
creating a new one.

One runner (`migrate`) applies schema.MIGRATIONS on both backends and records each name in one table,
`salesselect_migrations`, the same on both. Files made before it kept sqlite-utils' `_sqlite_migrations`
and user_version: they are read as they are, and the first write that opens one moves their names over.

Opening costs few statements: a file's header says whether it is SQLite and in WAL mode (no statement),
one query reads the record; only a pending migration (or an old record) opens a write transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from salesselect_cli.errors import Conflict, DatabaseProblem, PermissionDenied, os_problem
from salesselect_cli.i18n import _
from salesselect_cli.sql import dialect, schema

MIGRATIONS_TABLE = "salesselect_migrations"
MIGRATIONS_RECORD = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    applied TEXT NOT NULL
)"""
CURRENT, PENDING = "current", "pending"
SECURITY_MIGRATION = "m050_pg_security"
SECURING_MIGRATIONS = {SECURITY_MIGRATION, "m055_bulk_load_lasts_one_transaction"}  # each installs pg_security itself


# --------------------------------------------------------------------------- migrations


class MigrationDb:
    """What a migration function gets: `run(*statements)` for DDL, and `ddl`, the backend's part of each
    migration (sql/ddl_sqlite.py or sql/ddl_postgres.py)."""

    def __init__(self, conn):
        import importlib

        self.conn = conn
        self.ddl = importlib.import_module(conn.ddl_module)

    def run(self, *statements: str) -> None:
        for statement in statements:
            self.conn.run_ddl(statement)

    def execute(self, sql: str) -> None:
        self.conn.run_ddl(sql)


def schema_state(conn, where: str) -> str:
    """CURRENT or PENDING (migrations to apply, or an old record to move); refuses a database that is not
    ours or is newer than this code, before anything is written. One statement for a current database."""
    known = schema.known_migration_names()
    applied = conn.recorded_migrations(MIGRATIONS_TABLE)
    version = 0
    if applied is None:
        legacy = conn.legacy_migrations()
        if legacy is not None and legacy[0]:
            applied, version = legacy
            version = max(version, len(applied))
    if not applied:
        if conn.awaits_init_text and not conn.table_names():
            raise DatabaseProblem(_(conn.awaits_init_text).format(where=where))
        raise DatabaseProblem(_("{path} is not a salesselect database; it was left untouched").format(path=where))
    if any(name not in known for name in applied) or version > len(known):
        version = max(version, len(applied))
        raise DatabaseProblem(_(conn.newer_text).format(where=where, path=where, user_version=version, applied=version,
                                                        known=len(known)))
    return CURRENT if version == 0 and set(applied) == set(known) else PENDING


def migrate(conn) -> None:
    """Apply the pending migrations, in registered order, in one write transaction (under the writers'
    lock, so two processes never race), recording each; an old record is moved into the one record first."""
    import datetime as dt

    db = MigrationDb(conn)
    conn.begin(write=True)
    try:
        db.run(db.ddl.adapt(MIGRATIONS_RECORD))
        moved = conn.take_legacy_record()
        if moved:
            conn.executemany(f"INSERT INTO {MIGRATIONS_TABLE} (id, name, applied) VALUES (?, ?, ?)",
                             [(number, name, applied) for number, (name, applied) in enumerate(moved, start=1)])
        applied = {row[0] for row in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE}")}
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        ran = []
        for name, function in schema.MIGRATIONS:
            if name in applied:
                continue
            function(db)
            ran.append(name)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (id, name, applied) "
                         f"SELECT COALESCE(MAX(id), 0) + 1, ?, ? FROM {MIGRATIONS_TABLE}", [name, now])
        if ran and ran[-1] not in SECURING_MIGRATIONS and SECURITY_MIGRATION in applied | set(ran):
            db.ddl.secure(conn)  # PostgreSQL: a later migration's tables get the privileges, policies and triggers too
        conn.execute("COMMIT")
        dialect.keep_wal(conn)
    except BaseException:
        if conn.in_transaction:
            dialect.undo_quietly(conn, "ROLLBACK")
        raise


# --------------------------------------------------------------------------- opening a file


def _check_header(path: Path) -> bool:
    """Refuse what is not a SQLite file; True when it is in WAL mode."""
    try:
        with path.open("rb") as handle:
            header = handle.read(dialect.HEADER_LENGTH)
    except IsADirectoryError:
        raise DatabaseProblem(_("{path} is a directory, not a salesselect database").format(path=path)) from None
    except OSError as exc:
        raise DatabaseProblem(_("cannot read {path}: {problem}").format(path=path, problem=os_problem(exc))) from None
    if not header.startswith(dialect.SQLITE_HEADER):
        raise DatabaseProblem(_("{path} is not a SQLite database; it was left untouched").format(path=path))
    return dialect.is_wal(header)


def _file_state(conn: sqlite3.Connection, path: Path) -> str:
    try:
        return schema_state(conn, str(path))
    except sqlite3.DatabaseError as exc:
        if any(word in str(exc) for word in ("readonly", "unable to open", "disk I/O")):
            raise DatabaseProblem(_("cannot open {path} for reading and writing ({exc}); check its permissions").format(path=path, exc=exc)) from None
        raise DatabaseProblem(_("{path} is not a usable SQLite database ({exc}); it was left untouched").format(path=path, exc=exc)) from None


def create_database(path: Path | str) -> None:
    """Create a new salesselect database file at `path` (or the schema in an empty PostgreSQL database)."""
    if dialect.is_postgres(path):
        with new_postgres(path):
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
        migrate(conn)
    finally:
        conn.close()


@contextlib.contextmanager
def new_database(location: Path | str, committed: Callable[[], None] | None = None) -> Iterator:
    """A new, migrated database, open for the block that fills it; whole or absent afterwards, and
    `committed()` called once it is whole.

    A file is built in a temporary file beside `location` and linked into place only when the block
    completes, so an interruption at any moment (kill -9 included) leaves no file or a whole one. On
    PostgreSQL schema and rows are one transaction (new_postgres): a failure leaves the database empty.
    """
    if dialect.is_postgres(location):
        with new_postgres(location, committed) as conn:
            yield conn
        return
    import os

    path = location
    if os.path.lexists(path):
        raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseProblem(_("cannot create {path}: {problem}").format(path=path, problem=os_problem(exc))) from None
    _remove_abandoned_builds(path)
    building = path.with_name(f".{path.name}.{os.getpid()}.init")
    conn = None
    try:
        create_database(building)
        conn = open_connection(building)
        yield conn
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before it moves
        conn.close()
        conn = None
        if os.path.exists(str(building) + "-wal"):
            raise DatabaseProblem(_("cannot create {path}: the new database could not be completed").format(path=path))
        _sync(building)
        _link_into_place(building, path)
        if committed:
            committed()
    finally:
        if conn is not None:
            conn.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(building) + suffix).unlink(missing_ok=True)


def _link_into_place(building: Path, path: Path) -> None:
    """Give the finished file its name; never over a file that appeared meanwhile (another init)."""
    import os

    try:
        os.link(building, path)
    except FileExistsError:
        raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path)) from None
    except OSError:  # a file system without hard links: a rename is atomic too
        if os.path.lexists(path):
            raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path)) from None
        os.rename(building, path)
    _sync_folder(path.parent)


def _remove_abandoned_builds(path: Path) -> None:
    """Temporary files of an init that was killed (its process is gone) are removed."""
    for leftover in path.parent.glob(f".{glob_escape(path.name)}.*.init*"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def _process_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sync(path: Path) -> None:
    import os

    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    import os

    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    wal = _check_header(path)
    if not write:
        conn = _open_for_reading(path)
        if conn is not None:
            return conn
    try:
        conn = dialect.connect(path)
    except sqlite3.OperationalError as exc:
        raise DatabaseProblem(_("cannot open {path}: {exc}").format(path=path, exc=exc)) from None
    try:
        state = _file_state(conn, path)
        conn.wal_known = wal  # a rollback-journal file becomes WAL after its first committed write (dialect.keep_wal)
        if state != CURRENT:
            migrate(conn)
    except BaseException:
        conn.close()
        raise
    if write:
        return conn
    conn.close()  # migrated: now read it as any read does
    return _open_for_reading(path) or dialect.connect(path, readonly=True)


def _open_for_reading(path: Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when the file first needs its pending migrations (a file that only
    keeps the old record is read as it is: reads never write)."""
    import os

    folder_locked = not os.access(path.parent, os.W_OK) and not os.path.exists(f"{path}-wal")
    for immutable in (False, True) if folder_locked else (False,):
        conn = None
        try:
            conn = dialect.connect(path, readonly=True, immutable=immutable)
            state = _read_state(conn, path)
        except (sqlite3.OperationalError, DatabaseProblem) as exc:
            if conn is not None:
                conn.close()
            if folder_locked and not immutable:
                continue  # a read-only folder: SQLite cannot make its -shm file, and nobody can write here
            if isinstance(exc, DatabaseProblem):
                raise
            raise DatabaseProblem(_("cannot open {path}: {exc}").format(path=path, exc=exc)) from None
        if state != CURRENT:
            conn.close()
            return None
        return conn
    return None


def _read_state(conn: sqlite3.Connection, path: Path) -> str:
    """As _file_state, but a file whose only pending step is moving the old record is current for a read."""
    state = _file_state(conn, path)
    if state == CURRENT or conn.recorded_migrations(MIGRATIONS_TABLE) is not None:
        return state
    legacy = conn.legacy_migrations()
    return CURRENT if legacy is not None and set(legacy[0]) == set(schema.known_migration_names()) else state


# --------------------------------------------------------------------------- PostgreSQL


def _pg_open(url: str) -> dialect.PgConnection:
    """The connection, its schema checked with the first transaction's first round trip (not one of its own):
    across a network each round trip counts."""
    conn = dialect.connect_postgres(url)
    conn.check_at_first_begin(conn.migrations_read(MIGRATIONS_TABLE),
                              lambda conn: _pg_schema_current(conn, dialect.safe_location(url)))
    return conn


def _pg_schema_current(conn, where: str) -> bool:
    """True when the schema is current; else applies the pending migrations (leaving any transaction that
    read the record first) and returns False. Raises for a database this code refuses, and for a login the
    database's rules (sql/pg_security.py) keep out of even the migrations record: it is no user here."""
    try:
        state = schema_state(conn, where)
    except dialect.database_errors() as exc:
        if not dialect.is_refusal(exc):
            raise
        login = conn.raw.info.user
        raise PermissionDenied(_("your database login '{user_name}' is not a user of this database; a key user "
                                 "can add it with 'salesselect user add {user_name}'").format(user_name=login)) from None
    if state == CURRENT:
        return True
    if conn.in_transaction:
        dialect.undo_quietly(conn, "ROLLBACK")
    migrate(conn)
    return False


class _InOneTransaction:
    """A connection whose BEGIN, COMMIT and ROLLBACK belong to one outer transaction (new_postgres): the
    migration runner and a Store work on it as on any connection, and nothing they do is kept alone."""

    in_transaction = True

    def __init__(self, conn):
        self._conn = conn

    def begin(self, write: bool, reads=()) -> None:
        pass

    def execute(self, sql: str, params=()):
        if sql.strip().upper() in ("COMMIT", "ROLLBACK"):
            return None
        return self._conn.execute(sql, params)

    def __getattr__(self, name):  # everything else (ddl_module, run_ddl, executemany...) is the connection's
        return getattr(self._conn, name)

    # the store hands the connection its audit state (PostgreSQL's triggers read the day and who acts from it)
    audit_state = property(lambda self: self._conn.audit_state,
                           lambda self, state: setattr(self._conn, "audit_state", state))


@contextlib.contextmanager
def new_postgres(url: str, committed: Callable[[], None] | None = None) -> Iterator[Any]:
    """An empty PostgreSQL database given its schema and the caller's first rows in ONE transaction under the
    writers' lock. The connection yielded takes BEGIN/COMMIT as no-ops; the one COMMIT comes at the end. Any
    signal before it (SIGKILL included) leaves the database empty: the server rolls back, so a second try
    needs no clean-up."""
    from salesselect_cli.sql import pg_security  # PostgreSQL only: not imported for a file

    conn = dialect.connect_postgres(url)
    try:
        conn.begin(write=True)
        if conn.table_names():
            raise Conflict(
                _("{path} already has tables; refusing to touch them (init needs an empty database: createdb a new one)").format(path=dialect.safe_location(url))
            )
        inside = _InOneTransaction(conn)
        try:
            migrate(inside)
        except pg_security.NeedsAdministrator as needed:  # rolled back with the rest: the database stays empty
            raise PermissionDenied(_("your login may not create the team's roles; an administrator runs this "
                                     "once, then run 'salesselect init' again: {sql}").format(sql=needed.sql)) from None
        yield inside
        conn.execute("COMMIT")
        if committed:
            committed()
    finally:
        conn.close()  # after a failure, Ctrl-C mid-query included, the server rolls the transaction back
