"""What is SQLite-specific, in one place: connecting, fold(), date arithmetic, planner statistics,
backups, and how a transaction begins.

Names compare case-insensitively, Unicode included: `fold(name) = fold(?)`, where fold() is Python's
str.casefold registered on the connection (COLLATE NOCASE folds ASCII only). A second backend
(PostgreSQL) gives the same three things its own way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from salesselect_cli.rules.text import fold as text_fold

BUSY_TIMEOUT_SECONDS = 30
DatabaseError = sqlite3.Error
Row = sqlite3.Row
Connection = sqlite3.Connection


def fold(value: Any) -> Any:
    """Names compare stripped, case-folded and NFC: 'Café' typed composed or decomposed is one name."""
    return text_fold(value) if isinstance(value, str) else value


def connect(path: Path, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """A connection; `readonly` opens the file so that nothing can be written to it (reads never write).

    `immutable` is for a read-only folder where SQLite cannot make its -shm file: nobody can write there.
    """
    if readonly:
        from urllib.parse import quote

        uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    return _configure(conn)


def memory_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """The database in memory, copied page by page from `conn` (a read): for dry runs that must write."""
    copy = _configure(sqlite3.connect(":memory:", isolation_level=None))
    conn.backup(copy)
    return copy


def _configure(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.row_factory = sqlite3.Row
    conn.create_function("fold", 1, fold, deterministic=True)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB, used only as needed: big imports and reports
    return conn


def set_cache(conn: sqlite3.Connection, mib: int) -> None:
    """Let this connection keep at most `mib` MiB of pages (and sort in as much) from now on: one-pass
    bulk steps stay small in memory."""
    conn.execute(f"PRAGMA cache_size = {-1024 * int(mib)}")


def days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from date `earlier` to date `later` (two ISO 'YYYY-MM-DD' expressions)."""
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def index_shape(table: str, index: str, stat: str) -> list[str]:
    """Statements telling the query planner an index's shape (sqlite_stat1: rows, then rows per distinct
    prefix). SQLite keeps no statistics unless asked; without them it cannot know that an index's leading
    columns have few values and skip-scan it. `ANALYZE settings` (a tiny table) creates sqlite_stat1."""
    return [
        "ANALYZE settings",
        f"DELETE FROM sqlite_stat1 WHERE tbl = '{table}' AND idx = '{index}'",
        f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('{table}', '{index}', '{stat}')",
    ]


def indexed_by(index: str) -> str:
    """Pin a query's table to one index (SQLite's `INDEXED BY`), where the plan is the point of the query
    and another index could look cheaper to a planner without statistics."""
    return f"INDEXED BY {index}"


def begin(write: bool) -> str:
    """The statement that opens a command's transaction: writes take the single-writer lock at once
    (several writers queue on the busy timeout instead of failing); reads do not lock."""
    return "BEGIN IMMEDIATE" if write else "BEGIN"


def backup(conn: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the open database at `target`, taken while others keep writing: SQLite's
    online backup API in one step reads one snapshot. Written beside `target` and linked into place, so
    an existing file is never overwritten (not even one made meanwhile) and a failure leaves nothing.
    (A PostgreSQL backend answers this with "use pg_dump".)"""
    import os
    import tempfile

    from salesselect_cli.errors import Conflict, DatabaseProblem

    if os.path.lexists(target):
        raise Conflict(f"{target} already exists; refusing to overwrite it (choose another file)")
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise DatabaseProblem(f"cannot write {target}: {exc.strerror}") from None
    try:
        copy = sqlite3.connect(temporary)
        try:
            conn.backup(copy)  # pages=-1: the whole file in one step, so one snapshot
        finally:
            copy.close()
        os.link(temporary, target)
    except FileExistsError:
        raise Conflict(f"{target} already exists; refusing to overwrite it (choose another file)") from None
    except OSError as exc:
        raise DatabaseProblem(f"cannot write {target}: {exc.strerror}") from None
    finally:
        os.unlink(temporary)


def data_version(conn: sqlite3.Connection) -> int:
    """A number that changes whenever another connection commits (SQLite's PRAGMA data_version).

    Cheap enough to poll twice a second on a connection kept open outside any transaction.
    """
    return conn.execute("PRAGMA data_version").fetchone()[0]
