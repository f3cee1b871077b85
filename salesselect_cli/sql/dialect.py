"""Every difference between SQLite and PostgreSQL, in one place.

The rooms write one SQL text for both backends (SQLite's `?` placeholders). A database is a SQLite
file path or a `postgresql://` URL; `connect` gives a connection with the same small surface either way:
execute/executemany returning cursors whose rows take index and key access (sqlite3.Row or PgRow),
`in_transaction`, `close`, and the few helpers whose SQL differs (`days_between`, `group_concat`,
`like_ci`). On PostgreSQL each statement is translated once (cached): `?` -> `%s`, a literal `%` -> `%%`,
`X COLLATE NOCASE` -> an ASCII-lowered key in byte order (SQLite's NOCASE), the unary `+` SQLite reads as
"do not use an index here" dropped; NUMERIC results (SUM of integers, ROUND) come back as int when whole
and float when not, as SQLite's do. Text columns are `COLLATE "C"` there, so sorting is by code point.

Names compare case-insensitively, Unicode included: `fold(name) = fold(?)` is Python's str.casefold
registered on a SQLite connection. PostgreSQL's lower() gives other answers (ß, ﬁ, ...), so name lookups
fold in Python (`BaseRoom._named`) and both backends answer alike; PostgreSQL's fold() is only a close
stand-in for SQL written elsewhere.

psycopg is imported only when a URL asks for PostgreSQL: opening a SQLite file never loads it.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from salesselect_cli.i18n import N_
from salesselect_cli.rules.text import fold as text_fold

BUSY_TIMEOUT_SECONDS = 30
DatabaseError = sqlite3.Error
Row = sqlite3.Row
Connection = sqlite3.Connection
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
PG_INSTALL_HINT = "pip install 'salesselect[postgres]'"
# The one advisory lock every PostgreSQL write transaction takes first: one writer at a time, as BEGIN IMMEDIATE.
WRITE_LOCK_KEY = 0x5A1E5E1EC7


def is_postgres(location: Any) -> bool:
    return isinstance(location, str) and location.lower().startswith(POSTGRES_SCHEMES)


def login_is_user(location: Any) -> bool:
    """Whether the database at `location` takes its user from the login (PostgreSQL), not from a name."""
    return is_postgres(location)


def safe_location(location: Any) -> str:
    """The database for messages: a URL without its password."""
    text = str(location)
    return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", text, flags=re.IGNORECASE)


def fold(value: Any) -> Any:
    """Names compare stripped, case-folded and NFC: 'Café' typed composed or decomposed is one name."""
    return text_fold(value) if isinstance(value, str) else value


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception classes a database error may have: sqlite3's, and psycopg's when it is loaded."""
    import sys

    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors += (psycopg.Error,)
    return errors


def error_line(exc: BaseException) -> str:
    """What the database said, its first line only (PostgreSQL adds DETAIL and CONTEXT lines)."""
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def is_refusal(exc: BaseException) -> bool:
    """The database's own rules refused the statement (PostgreSQL's insufficient_privilege, 42501)."""
    return getattr(exc, "sqlstate", None) == "42501"


def is_busy_error(exc: BaseException) -> bool:
    text = str(exc)
    return any(word in text for word in ("locked", "busy", "lock timeout", "could not serialize", "deadlock"))


# --------------------------------------------------------------------------- SQLite


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection with the dialect helpers the rooms use."""

    backend = "sqlite"
    login_is_user = False  # SQLite knows no login: the user is the name given (--user, else the OS login)

    @staticmethod
    def days_between(later: str, earlier: str) -> str:
        """Whole days from `earlier` to `later` (ISO 'YYYY-MM-DD' expressions), as an integer expression."""
        return days_between(later, earlier)

    @staticmethod
    def indexed_by(index: str) -> str:
        return indexed_by(index)

    @staticmethod
    def group_concat(expr: str, separator: str, order_by: str) -> str:
        """A comma list aggregate (ordered by `order_by` in a subquery of the caller's)."""
        return f"group_concat({expr}, '{separator}')"

    @staticmethod
    def like_ci(expr: str) -> str:
        """`expr LIKE ?` ignoring ASCII case, SQLite's LIKE (pass the pattern lowered with ascii_lower)."""
        return f"{expr} LIKE ?"

    def begin(self, write: bool, reads: Any = ()) -> None:
        """Writes take the single-writer lock at once (several writers queue on the busy timeout instead
        of failing); reads do not lock. `reads` are for a server across a network (PgConnection.begin): a
        file is read where it lies, when asked."""
        self.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    @staticmethod
    def set_local(values: dict[str, str]) -> None:
        """Transaction-local settings are PostgreSQL's (PgConnection.set_local); SQLite has none."""

    def defer(self, sql: str, params: Any = ()) -> None:
        """A change whose answer nobody reads (PgConnection.defer): a file takes it at once."""
        self.execute(sql, params)

    @staticmethod
    def prefetch(sql: str, params: Any = ()) -> None:
        """A read a command will need (PgConnection.prefetch): a file is read when asked."""

    def read_at_commit(self, sql: str, params: Any = ()):
        """A read wanted once the transaction commits (PgConnection.read_at_commit): a file is read now, inside
        the transaction; the function returned gives its rows."""
        rows = self.execute(sql, params).fetchall()
        return lambda: rows

    # SQLite has no LATERAL join: a top-N in each group is one subquery per group, the groups' ids read first
    lateral_joins = False

    @staticmethod
    def ids_taken(table: str, last_id: int) -> None:
        """After rows went in with ids of their own: SQLite's next id is already MAX(id) + 1."""

    # ------------------------------------------------------------------ schema bookkeeping (connection.py)

    ddl_module = "salesselect_cli.sql.ddl_sqlite"
    # an empty file is not one to init: init makes its own
    awaits_init_text = None
    newer_text = N_("{path} has schema version {user_version}, newer than this salesselect knows ({known}); upgrade salesselect. The file was left untouched")

    def run_ddl(self, sql: str) -> None:
        self.execute(sql)

    # SQLite is one trust domain: the client writes history and setup log itself (PgConnection: triggers)
    audit_by_triggers = False

    def recorded_migrations(self, table: str) -> list[str] | None:
        """The names in the record of applied migrations (one statement), or None when it has none."""
        try:
            return [row[0] for row in self.execute(f"SELECT name FROM {table}")]
        except sqlite3.OperationalError as exc:
            if f"no such table: {table}" in str(exc):
                return None
            raise

    def legacy_migrations(self) -> tuple[list[str], int] | None:
        """The record releases before the shared one kept (sqlite-utils' `_sqlite_migrations` and
        user_version): (names, user_version), or None when the file has no such record."""
        try:
            names = [row[0] for row in self.execute(
                f"SELECT name FROM {LEGACY_RECORD} WHERE migration_set = 'salesselect' ORDER BY id")]
        except sqlite3.OperationalError as exc:
            if f"no such table: {LEGACY_RECORD}" in str(exc):
                return None
            raise
        return names, self.execute("PRAGMA user_version").fetchone()[0]

    def take_legacy_record(self) -> list[tuple[str, str]]:
        """Inside the migration's transaction: the legacy record's (name, applied) rows, and the record
        gone (table dropped, user_version 0), so one record remains."""
        if self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [LEGACY_RECORD]).fetchone() is None:
            return []
        rows = [(row[0], row[1]) for row in self.execute(
            f"SELECT name, applied_at FROM {LEGACY_RECORD} WHERE migration_set = 'salesselect' ORDER BY id")]
        self.execute(f"DROP TABLE {LEGACY_RECORD}")
        self.execute("PRAGMA user_version = 0")
        return rows

    def table_names(self) -> list[str]:
        return [row[0] for row in self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1")]

    @staticmethod
    def continue_ids(tables: list[str]) -> None:
        """Nothing to do: SQLite's next id follows the largest one in the table."""


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


LEGACY_RECORD = "_sqlite_migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
HEADER_LENGTH = 20  # through the read/write version bytes


def is_wal(header: bytes) -> bool:
    """A file whose header says WAL mode (file format versions 2 at offsets 18 and 19): the mode persists in
    the file, so checking it costs no statement."""
    return header[18:20] == b"\x02\x02"


def connect(path: Path, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """A connection; `readonly` opens the file so that nothing can be written to it (reads never write).

    `immutable` is for a read-only folder where SQLite cannot make its -shm file: nobody can write there.
    """
    if readonly:
        from urllib.parse import quote

        uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                               factory=SqliteConnection)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, factory=SqliteConnection)
    return _configure(conn, write=not readonly)


def memory_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """The database in memory, copied page by page from `conn` (a read): for dry runs that must write."""
    copy = _configure(sqlite3.connect(":memory:", isolation_level=None, factory=SqliteConnection), write=True)
    conn.backup(copy)
    return copy


@contextlib.contextmanager
def scratch(conn, location: Any) -> Iterator:
    """A connection in a write transaction that is always thrown away, for a dry run that has to write to
    find out; `conn` (in the command's read transaction) is never locked or changed. SQLite: an in-memory
    copy taken inside that read transaction; PostgreSQL: a second connection, rolled back (no lock taken)."""
    if getattr(conn, "backend", "sqlite") == "postgresql":
        copy = connect_postgres(str(location))
        begin = "BEGIN"
    else:
        copy = memory_copy(conn)
        begin = "BEGIN IMMEDIATE"
    try:
        copy.execute(begin)
        yield copy
    finally:
        if copy.in_transaction:
            copy.execute("ROLLBACK")
        copy.close()


def _configure(conn: sqlite3.Connection, write: bool) -> sqlite3.Connection:
    """Per-connection settings, each a statement: connect()'s timeout already sets the busy timeout, and
    only a connection that writes needs foreign keys enforced (cascades on delete)."""
    conn.row_factory = sqlite3.Row
    conn.create_function("fold", 1, fold, deterministic=True)
    if write:
        conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB, used only as needed: big imports and reports
    return conn


def set_cache(conn: sqlite3.Connection, mib: int) -> None:
    """Let this connection keep at most `mib` MiB of pages (and sort in as much) from now on: one-pass
    bulk steps stay small in memory."""
    if getattr(conn, "backend", "sqlite") == "sqlite":  # PostgreSQL's server manages its own memory
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
    """SQLite's statement that opens a command's transaction (see SqliteConnection.begin)."""
    return "BEGIN IMMEDIATE" if write else "BEGIN"


def connect_read_only(location: Any, timeout: float = 0.1):
    """A connection that cannot write (shell completion): no pragmas, no migration, a short busy wait.
    A PostgreSQL URL gets a connection whose transaction is never committed."""
    if is_postgres(location):
        return connect_postgres(str(location))
    return sqlite3.connect(f"{Path(location).resolve().as_uri()}?mode=ro", uri=True, timeout=timeout,
                           factory=SqliteConnection)


def backup(conn: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the open database at `target`, taken while others keep writing: SQLite's
    online backup API in one step reads one snapshot. Written beside `target` and linked into place, so
    an existing file is never overwritten (not even one made meanwhile) and a failure leaves nothing.
    PostgreSQL is refused: pg_dump, or db copy into a file, does that."""
    import os
    import tempfile

    from salesselect_cli.errors import Conflict, DatabaseProblem, os_problem
    from salesselect_cli.i18n import _

    if getattr(conn, "backend", "sqlite") == "postgresql":
        raise DatabaseProblem(_("on PostgreSQL, back up with pg_dump, or copy the agency into a file with 'salesselect db copy URL FILE'"))

    exists = _("{path} already exists; refusing to overwrite it (choose another file)")
    if os.path.lexists(target):
        raise Conflict(exists.format(path=target))
    folder = target.parent if str(target.parent) else Path(".")
    remove_abandoned(target, ".tmp")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=temporary_prefix(target), suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise DatabaseProblem(_("cannot write {path}: {problem}").format(path=target, problem=os_problem(exc))) from None
    try:
        copy = sqlite3.connect(temporary)
        try:
            conn.backup(copy)  # pages=-1: the whole file in one step, so one snapshot
        finally:
            copy.close()
        os.link(temporary, target)
    except FileExistsError:
        raise Conflict(exists.format(path=target)) from None
    except OSError as exc:
        raise DatabaseProblem(_("cannot write {path}: {problem}").format(path=target, problem=os_problem(exc))) from None
    finally:
        os.unlink(temporary)


def keep_wal(conn) -> None:
    """After a committed write: a file in rollback-journal mode (copied back, or set by another tool) becomes
    WAL, so readers never wait for writers. Never before a write is done: a refused one changes no byte."""
    if getattr(conn, "backend", "sqlite") != "sqlite" or conn.in_transaction or getattr(conn, "wal_known", False):
        return
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        conn.execute("PRAGMA journal_mode = WAL")
    try:
        conn.wal_known = True  # once per connection: a statement fewer for each later write
    except AttributeError:  # a plain sqlite3.Connection takes no attributes
        pass


def temporary_prefix(target: Path) -> str:
    """How a temporary file beside `target` begins: the name and this process's id, so a later run can tell
    a killed writer's leftovers (owner gone) from a live one's (see remove_abandoned)."""
    import os

    return f".{target.name}.{os.getpid()}."


def remove_abandoned(target: Path, suffix: str) -> None:
    """Remove the temporary files beside `target` (`.NAME.PID.*SUFFIX`, with -wal/-shm/-journal) whose
    writer was killed: its process is gone. Another live process's files are never touched."""
    import glob
    import os

    folder = target.parent if str(target.parent) else Path(".")
    try:
        leftovers = list(folder.glob(f".{glob.escape(target.name)}.*{glob.escape(suffix)}*"))
    except OSError:
        return
    for leftover in leftovers:
        owner = leftover.name[len(target.name) + 2:].split(".", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not _process_alive(int(owner)):
            try:
                leftover.unlink()
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process, or no pid at all: keep its files
        return True
    return True


def data_version(conn) -> int | str:
    """A value that changes whenever another connection commits (SQLite's PRAGMA data_version; on
    PostgreSQL the server's WAL position, which also moves for other databases: a refresh too many).

    Cheap enough to poll twice a second on a connection kept open outside any transaction.
    """
    if getattr(conn, "backend", "sqlite") == "postgresql":
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    return conn.execute("PRAGMA data_version").fetchone()[0]


# --------------------------------------------------------------------------- PostgreSQL

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^'\"]+")
_NOCASE = re.compile(r"([\w.]+(?:\([^()]*\))?)\s+COLLATE\s+NOCASE", re.IGNORECASE)
_UNARY_PLUS = re.compile(r"(?<=[\s(])\+(?=[a-z_]\w*\.)")
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
_WRITTEN = re.compile(r"\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
_READ_TABLES = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)", re.IGNORECASE)


_CHANGES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE\s+\w+(?:\s+\w+)?\s+SET|DELETE\s+FROM|CREATE|DROP|ALTER|TRUNCATE)\b",
                      re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def _is_read(sql: str) -> bool:
    """A SELECT or WITH that changes nothing (none of the words of a change occurs in it)."""
    start = sql.lstrip()[:6].upper()
    return (start == "SELECT" or start[:4] == "WITH") and not _CHANGES.search(sql)


@functools.lru_cache(maxsize=128)
def _read_tables(sql: str) -> frozenset[str]:
    """The tables a read names after FROM or JOIN (lower case): a change to one of them makes it stale."""
    return frozenset(name.lower() for name in _READ_TABLES.findall(sql))


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """SQLite-flavoured SQL as PostgreSQL reads it (placeholders, NOCASE ordering, unary plus)."""
    sql = _NOCASE.sub(lambda m: f"translate({m.group(1)}, '{_UPPER}', '{_LOWER}') COLLATE \"C\"", sql)
    sql = _UNARY_PLUS.sub("", sql)
    out = []
    for token in _TOKENS.findall(sql):
        if token[0] in "'\"":
            out.append(token.replace("%", "%%"))
        else:
            out.append(token.replace("%", "%%").replace("?", "%s"))
    return "".join(out)


class PgRow:
    """A result row like sqlite3.Row: row[0], row['name'], keys(), dict(row), iteration, len."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: tuple, index: dict[str, int]):
        self._values = values
        self._index = index

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"PgRow{self._values!r}"


NUMERIC_OID = 1700


def _number(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)


def _row_factory(cursor):
    description = cursor.description or []
    index: dict[str, int] = {}
    for position, column in enumerate(description):
        index.setdefault(column.name, position)
    numeric = [position for position, column in enumerate(description) if column.type_code == NUMERIC_OID]
    if not numeric:
        return lambda values: PgRow(values, index)

    def make(values):
        values = list(values)
        for position in numeric:
            values[position] = _number(values[position])
        return PgRow(tuple(values), index)

    return make


# Statements the audit triggers (or the definer functions, SELECT salesselect_...) act on
_AUDITED = ("INSERT", "UPDATE", "DELETE", "SELECT SALESSELECT_")
_AUDIT_SETTINGS = ("SELECT set_config('salesselect.today', %s, true), set_config('salesselect.now', %s, true), "
                   "set_config('salesselect.act_for', %s, true), set_config('salesselect.workflow', %s, true), "
                   "set_config('salesselect.actor_note', %s, true)")


class PgConnection:
    """A psycopg connection in autocommit mode (BEGIN/COMMIT are explicit, as with SQLite's
    isolation_level=None), translating each statement once.

    Across a network every statement is a round trip, so what needs no answer of its own waits in a queue and
    goes, in the order given, with the next statement that needs one: one pipeline (psycopg's pipeline mode,
    one Sync), one round trip. That is BEGIN, the writers' lock and `set_local` settings; `defer`red changes
    (their error, if any, comes with that round trip, inside the same transaction); a read transaction's COMMIT
    (a read keeps nothing: it goes with the next statement, or unanswered at close); `prefetch`ed reads, whose
    answers wait for the identical execute() (`read_at_commit`: even past the COMMIT they went with); and the
    record of applied migrations, read in the first transaction's first round trip (`check_at_first_begin`).
    """

    backend = "postgresql"
    lateral_joins = True  # a top-N in each group in one statement, without reading the groups first
    login_is_user = True  # PostgreSQL: the user is the login (a key user may act for another, "kim for bob")
    # sql/pg_security.py's triggers write history and setup log from the row change; the client does not
    audit_by_triggers = True

    def __init__(self, raw):
        self.raw = raw
        self._login: str | None = None
        self._queue: list[tuple[str, list, tuple | None]] = []  # (sql, params, key of a prefetched read)
        self._answers: dict[tuple, Any] = {}  # prefetched reads' cursors by (sql, params), each taken once
        self._opened = False  # a BEGIN waits in the queue
        self._begun_at = 0  # where in the queue the transaction's BEGIN is
        self._settings_at = 0  # where in the queue set_local puts its statement (after BEGIN and lock)
        self._reading = False  # the transaction is a read
        self._committed = False  # a read's COMMIT waits in the queue
        self._first_check: Any = None  # see check_at_first_begin
        self._checking: Any = None  # ((record, check), write, reads) once the record read is queued
        self.audit_state = None  # the store's callable: (day, fixed time, acting for, workflow, note) for the triggers
        self._audit_sent: tuple | None = None  # what this transaction's session settings say
        self._at_commit: set[tuple] = set()  # keys of the reads that go with the COMMIT (read_at_commit)

    # ------------------------------------------------------------------ sending

    def execute(self, sql: str, params: Any = ()):
        if self._first_check is not None:
            self._check_now()
        if self._checking is not None:
            self._settle()
        text, values = to_postgres(sql), list(params)
        if (text == "ROLLBACK" and self._opened) or (text == "COMMIT" and self._reading):
            return self._end(text)
        if text == "ROLLBACK":
            self._reading = False
        self._audit(text)
        if not self._answers and not self._queue:
            return self._one(text, values)
        key = (text, tuple(values))
        if key not in self._answers and any(queued[2] == key for queued in self._queue):
            self.flush()  # asked for before its round trip went: it goes now, with the rest
        if key in self._answers:
            return self._answers.pop(key)
        self._forget(text)
        return self._send([(text, values, None)])[-1]

    def defer(self, sql: str, params: Any = ()) -> None:
        """A change whose answer nobody reads: it goes with the next statement that needs one (at the latest
        COMMIT), its error raised there."""
        text = to_postgres(sql)
        self._forget(text)
        self._audit(text)
        self._queue.append((text, list(params), None))

    def prefetch(self, sql: str, params: Any = ()) -> None:
        """Read `sql` with the next round trip; the identical execute() later takes its answer without one.
        An answer is dropped when a change to a table it reads is sent or queued (UPDATE, INSERT INTO or
        DELETE FROM that table), and at anything else that is no plain read: for reads a command's own
        changes (triggers included) leave alone, such as the setup, the users, the workflows."""
        text = to_postgres(sql)
        key = (text, tuple(params))
        if key not in self._answers and all(queued[2] != key for queued in self._queue):
            self._queue.append((text, list(params), key))

    def read_at_commit(self, sql: str, params: Any = ()):
        """A read wanted once the transaction commits (the record a change shows after it): it goes with the
        COMMIT, in the same round trip, and the function returned gives its rows (without a round trip once the
        COMMIT is answered). It reads inside the transaction, so it sees what the COMMIT kept."""
        self.prefetch(sql, params)
        key = (to_postgres(sql), tuple(params))
        self._at_commit.add(key)
        return lambda: self.execute(sql, params).fetchall()

    def _forget(self, text: str) -> None:
        """Drop the answers `text` may make stale, read or still to be read before it (see prefetch). A COMMIT
        changes no row: the reads asked for at commit (read_at_commit) stay, and go with it."""
        if _is_read(text):
            return
        if text == "COMMIT" and self._at_commit:
            keep = self._at_commit
            self._answers = {key: cursor for key, cursor in self._answers.items() if key in keep}
            self._queue = [queued for queued in self._queue if queued[2] is None or queued[2] in keep]
            return
        written = _WRITTEN.match(text)
        stale = (lambda key: True) if written is None else (lambda key: written.group(1).lower() in _read_tables(key[0]))
        for key in [key for key in self._answers if stale(key)]:
            del self._answers[key]
        self._queue = [queued for queued in self._queue if queued[2] is None or not stale(queued[2])]

    def _end(self, text: str):
        """COMMIT or ROLLBACK that need not wait: a ROLLBACK of a transaction never sent, or a read's COMMIT,
        drop it whole; a read's COMMIT otherwise goes with the next round trip (or at close)."""
        self._answers.clear()
        if self._opened:
            del self._queue[self._begun_at:]
            self._opened = False
            if self._checking is not None:  # its record was never read: the next transaction reads it
                self._first_check, self._checking = self._checking[0], None
        else:
            self._queue = [queued for queued in self._queue if queued[2] is None] + [(text, [], None)]
            self._committed = True
        self._reading = False
        return self.raw.cursor()

    def executemany(self, sql: str, rows):
        if self._checking is not None:
            self._settle()
        self._audit(to_postgres(sql))
        self.flush()
        self._answers.clear()
        cursor = self.raw.cursor(row_factory=_row_factory)
        cursor.executemany(to_postgres(sql), [list(row) for row in rows])
        return cursor

    def _audit(self, text: str) -> None:
        """Queue the audit settings before `text` when it writes and they changed since last sent: they go in
        the same round trip, ahead of the change the triggers record."""
        state = self._audit_pending(text)
        if state is not None:
            self._queue.append((_AUDIT_SETTINGS, list(state), None))

    def _audit_pending(self, sql: str) -> tuple | None:
        """The audit settings to send before `sql`, when it writes and they changed since last sent."""
        if self.audit_state is None or not sql.lstrip()[:19].upper().startswith(_AUDITED):
            return None
        state = self.audit_state()
        if state == self._audit_sent:
            return None
        self._audit_sent = state
        return state

    def _one(self, text: str, values: list):
        cursor = self.raw.cursor(row_factory=_row_factory)
        cursor.execute(text, values)
        return cursor

    def _send(self, statements: list[tuple[str, list, Any]]) -> list:
        """The queue and `statements` in ONE round trip (a pipeline with one Sync); the cursors of
        `statements`. The first error is raised once the whole pipeline is read."""
        batch = self._queue + statements
        self._queue, self._opened, self._committed = [], False, False
        if len(batch) == 1:
            return [self._one(*batch[0][:2])]
        cursors = []
        with self.raw.pipeline():
            for text, values, _key in batch:
                cursor = self.raw.cursor(row_factory=_row_factory)
                cursor.execute(text, values)
                cursors.append(cursor)
        for (_text, _values, key), cursor in zip(batch, cursors):
            if key is not None:
                self._answers[key] = cursor
        return cursors[len(batch) - len(statements):]

    def flush(self) -> None:
        """Send what waits (one round trip), when anything does."""
        if self._checking is not None:
            self._settle()
        if self._queue:
            self._send([])

    def set_local(self, values: dict[str, str]) -> None:
        """Transaction-local settings (set_config(name, value, true): SET LOCAL with parameters) for the
        transaction just begun, such as {'salesselect.act_for': 'bob'}: one statement for all of them, sent
        with the transaction's first round trip, right after its BEGIN, so every read (prefetched ones
        included) sees them."""
        if values:
            calls = ", ".join(["set_config(%s, %s, true)"] * len(values))
            statement = (f"SELECT {calls}", [part for item in values.items() for part in item], None)
            if self._opened:
                self._queue.insert(self._settings_at, statement)
                self._settings_at += 1
            else:
                self._queue.append(statement)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._opened:
            return True
        return self.raw.info.transaction_status != TransactionStatus.IDLE and not self._committed

    def close(self) -> None:
        """Close; a read's pending COMMIT is sent without waiting for its answer (the server rolls back a
        transaction the client left, and a read kept nothing either way)."""
        if self._committed and not self.raw.closed:
            try:
                self.raw.pgconn.send_query(b"COMMIT")
                self.raw.pgconn.flush()
            except Exception:
                pass
        self._queue.clear()
        self.raw.close()

    def begin(self, write: bool, reads: Any = ()) -> None:
        """Writes: BEGIN and the one advisory lock (released at COMMIT/ROLLBACK), so writers queue as with
        BEGIN IMMEDIATE. Reads: one snapshot for the whole command, never blocked by a writer. Neither is sent
        alone: they go with the first statement, as do `reads` (prefetched: (sql, params) pairs the command
        reads whatever it does)."""
        self._answers.clear()
        self._at_commit.clear()
        self._audit_sent = None  # set_config(..., true) lasts one transaction
        self._begun_at = len(self._queue)  # after a read's waiting COMMIT, if any
        self._reading = not write
        if write:
            self._queue += [("BEGIN", [], None), ("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK_KEY], None)]
        else:  # not READ ONLY: a dry run may use a TEMP table
            self._queue.append(("BEGIN ISOLATION LEVEL REPEATABLE READ", [], None))
        self._settings_at = len(self._queue)
        self._opened = True
        for sql, params in reads:
            self.prefetch(sql, params)
        first, self._first_check = self._first_check, None
        if first is not None:  # the record of applied migrations goes with the first round trip, checked then
            self.prefetch(*first[0])
            self._checking = (first, write, reads)

    def _settle(self) -> None:
        """The first round trip, with the record of applied migrations, and its check. If anything in that trip
        failed (an empty database has no tables) the transaction is rolled back and the check asks alone; if
        the check migrated, the transaction begins afresh (what was read ahead is read again when asked)."""
        (_record, check), write, reads = self._checking
        self._checking = None
        try:
            self.flush()
        except database_errors():
            self._answers.clear()
            undo_quietly(self, "ROLLBACK")
        if not check(self) or not self.in_transaction:
            if self.in_transaction:
                undo_quietly(self, "ROLLBACK")
            self.begin(write, reads)

    def check_at_first_begin(self, record: tuple[str, tuple], check) -> None:
        """Read `record` (the schema's (sql, params)) with the first transaction's first round trip, then call
        `check(conn)`: it reads the record through execute() (answered without a round trip), raises for a
        database it refuses, and returns False when it changed the schema (migrations applied) so the
        transaction begins again. A statement sent before any begin() runs the check alone first."""
        self._first_check = (record, check)

    def _check_now(self) -> None:
        (sql, params), check = self._first_check
        self._first_check = None
        check(self)

    @staticmethod
    def days_between(later: str, earlier: str) -> str:
        return f"(CAST(substr({later}, 1, 10) AS date) - CAST(substr({earlier}, 1, 10) AS date))"

    @staticmethod
    def indexed_by(index: str) -> str:
        return ""  # PostgreSQL keeps statistics (ANALYZE) and has no index hints

    @staticmethod
    def group_concat(expr: str, separator: str, order_by: str) -> str:
        return f"string_agg({expr}, '{separator}' ORDER BY {order_by})"

    @staticmethod
    def like_ci(expr: str) -> str:
        return f"translate({expr}, '{_UPPER}', '{_LOWER}') LIKE ?"

    def ids_taken(self, table: str, last_id: int) -> None:
        """After rows went in with ids of their own: move the identity past them, or the next plain
        INSERT would take one of their ids (never back: ids of purged rows are not handed out again); through
        the database's definer function, as members hold no right to set a sequence (sql/pg_security.py)."""
        self.execute("SELECT salesselect_ids_taken(?, ?)", [table, last_id])  # members may not setval (pg_security)

    def current_login(self) -> str:
        """The login: the session's authorization, which the server reports at connection (no round trip)."""
        if self._login is None:
            self._login = self.raw.info.parameter_status("session_authorization")
        if self._login is None:  # a server or pooler that does not report it
            self._login = self.execute("SELECT session_user").fetchone()[0]
        return self._login

    # ------------------------------------------------------------------ schema bookkeeping (connection.py)

    ddl_module = "salesselect_cli.sql.ddl_postgres"
    # an empty PostgreSQL database is the one `init` fills
    awaits_init_text = N_("{where} is an empty database; run 'salesselect --db URL init' first")
    newer_text = N_("{where} has schema version {applied}, newer than this salesselect knows ({known}); upgrade salesselect. The database was left untouched")

    def run_ddl(self, sql: str) -> None:
        self.flush()
        self._answers.clear()
        self.raw.execute(sql)  # DDL as written: no placeholders, so no translation

    @staticmethod
    def migrations_read(table: str) -> tuple[str, tuple]:
        """The statement that reads the record of applied migrations (see check_at_first_begin)."""
        return f"SELECT name FROM {table}", ()

    def recorded_migrations(self, table: str) -> list[str] | None:
        """The names in the record of applied migrations, or None when it has none: one round trip, or none
        when it went with the first transaction's first one (check_at_first_begin)."""
        import psycopg

        try:
            rows = self.execute(*self.migrations_read(table)).fetchall()
        except psycopg.errors.UndefinedTable:
            undo_quietly(self, "ROLLBACK") if self.in_transaction else None
            return None
        return [row[0] for row in rows]

    @staticmethod
    def legacy_migrations() -> None:
        return None  # PostgreSQL has kept salesselect_migrations from the start

    @staticmethod
    def take_legacy_record() -> list[tuple[str, str]]:
        return []

    def table_names(self) -> list[str]:
        return [row[0] for row in self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1")]

    def continue_ids(self, tables: list[str]) -> None:
        """After rows were inserted with their ids (db copy): each identity sequence moves past the largest."""
        for table in tables:
            if self.execute("SELECT pg_get_serial_sequence(?, 'id')", [table]).fetchone()[0]:
                self.execute(f"SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                             f"FROM {table}", [table])


def connect_postgres(url: str) -> PgConnection:
    """Connect to a PostgreSQL URL (libpq's PG* variables and ~/.pgpass apply); DatabaseProblem if not."""
    from salesselect_cli.errors import DatabaseProblem
    from salesselect_cli.i18n import _

    try:
        import psycopg
    except ImportError:
        raise DatabaseProblem(_("PostgreSQL needs the psycopg driver: {hint}").format(hint=PG_INSTALL_HINT)) from None
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="salesselect",
                              options=f"-c lock_timeout={BUSY_TIMEOUT_SECONDS}s")
    except psycopg.Error as exc:
        detail = " ".join(str(exc).split()) or exc.__class__.__name__
        raise DatabaseProblem(_("cannot connect to {location}: {problem}").format(location=safe_location(url),
                                                                              problem=detail)) from None
    return PgConnection(raw)


def undo_quietly(conn, *statements: str) -> None:
    """Roll back after a failure. A connection that cannot take it (Ctrl-C in the middle of a PostgreSQL query
    leaves it busy: "another command is already in progress") is closed unused by the caller, and the server
    rolls back: the first error, not this one, is what the user must see."""
    try:
        for statement in statements:
            conn.execute(statement)
    except Exception:
        pass
