"""Opening a database file: header and version checks, pending migrations, creating a new one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from salesselect_cli.errors import Conflict, DatabaseProblem
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
        raise DatabaseProblem(_("cannot read {path}: {strerror}").format(path=path, strerror=exc.strerror)) from None
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
    conn.execute(dialect.begin(write=True))
    try:
        migrations.apply(db)  # each migration becomes a savepoint inside our transaction
        conn.execute(f"PRAGMA user_version = {len(schema.MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def create_database(path: Path) -> None:
    """Create a new salesselect database file at `path` with the current schema."""
    if path.exists():
        raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = dialect.connect(path)
    except (OSError, sqlite3.OperationalError) as exc:
        raise DatabaseProblem(_("cannot create {path}: {value}").format(path=path, value=getattr(exc, 'strerror', None) or exc)) from None
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        _migrate(conn)
    finally:
        conn.close()


def open_connection(path: Path, write: bool = True) -> sqlite3.Connection:
    """Open an existing database: header and version checks, then pending migrations.

    A read (`write=False`) opens the file read-only: it never takes the write lock, never switches the
    journal mode, and works on a read-only file or in a read-only folder. Only pending migrations
    (an older file) open it for writing once.
    """
    if not path.exists():
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
        applied = _check_version(conn, path)
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
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
