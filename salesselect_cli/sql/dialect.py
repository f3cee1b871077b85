"""What is SQLite-specific, in one place: connecting, fold(), and how a transaction begins.

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


def begin(write: bool) -> str:
    """The statement that opens a command's transaction: writes take the single-writer lock at once
    (several writers queue on the busy timeout instead of failing); reads do not lock."""
    return "BEGIN IMMEDIATE" if write else "BEGIN"


def data_version(conn: sqlite3.Connection) -> int:
    """A number that changes whenever another connection commits (SQLite's PRAGMA data_version).

    Cheap enough to poll twice a second on a connection kept open outside any transaction.
    """
    return conn.execute("PRAGMA data_version").fetchone()[0]
