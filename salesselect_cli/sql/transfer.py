"""`db copy`: a whole agency from one database to another (SQLite file <-> PostgreSQL), ids kept.

The target is made new (a file that does not exist yet, or an empty PostgreSQL database) with the current
schema; the rows go in one transaction, table by table in foreign-key order, with the bulk-load flag set so
the stage_visits triggers step aside (stage_visits is copied as it is). PostgreSQL's identity sequences are
moved past the copied ids at the end. Whatever fails or kills us, the target is left as it was found: a file
is built under a temporary name and linked into place, PostgreSQL gets schema and rows in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from salesselect_cli.errors import Conflict
from salesselect_cli.i18n import _
from salesselect_cli.sql import connection, dialect
from salesselect_cli.sql.schema import BULK_LOAD_KEY

# Parents before children; tables other code adds later follow in name order.
TABLE_ORDER = (
    "settings", "users", "business_types", "stages", "stage_business_types", "sources", "reasons",
    "opportunities", "history", "followups", "workflows", "stage_visits",
)
BOOKKEEPING = {"_sqlite_migrations", connection.MIGRATIONS_TABLE}  # the old record too: a never-written old file keeps it
BATCH = 5000


def _tables(conn) -> list[str]:
    names = [name for name in conn.table_names() if name not in BOOKKEEPING]
    return [t for t in TABLE_ORDER if t in names] + sorted(t for t in names if t not in TABLE_ORDER)


def _columns(conn, table: str) -> list[str]:
    cursor = conn.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    return [column[0] for column in cursor.description]


def copy_database(source: Path | str, target: Path | str,
                  progress: Callable[[str, int, int], None] | None = None,
                  committed: Callable[[], None] | None = None) -> dict[str, int]:
    """Copy every table of `source` into a new `target`; returns rows copied per table.

    All or nothing, whatever signal arrives: a file is built under a temporary name beside `target` and
    linked into place when complete; PostgreSQL gets the schema and the rows in one transaction, which
    the server rolls back if we die. A second try after a kill needs no clean-up.
    progress(table, rows_done, rows_total) is called as batches land; committed() once the copy is in place."""
    import os

    if not dialect.is_postgres(target) and os.path.lexists(target):
        raise Conflict(_("{path} already exists; db copy writes a new database only").format(path=target))
    src = connection.open_connection(source, write=False)
    try:
        src.begin(write=False)
        tables = _tables(src)
        counts = {table: src.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}
        if dialect.is_postgres(target):
            _copy_to_postgres(src, target, tables, counts, progress, committed)
        else:
            _copy_to_file(src, Path(target), tables, counts, progress, committed)
        return counts
    finally:
        src.close()


def _copy_to_file(src, target: Path, tables: list[str], counts: dict[str, int], progress, committed) -> None:
    """Build the copy as .NAME.PID.RANDOM.copy beside `target`, then link it into place (never over a file)."""
    import os
    import secrets

    from salesselect_cli.errors import DatabaseProblem, os_problem

    dialect.remove_abandoned(target, ".copy")
    building = target.with_name(f"{dialect.temporary_prefix(target)}{secrets.token_hex(4)}.copy")
    dst = None
    try:
        connection.create_database(building)
        dst = connection.open_connection(building)
        _copy(src, dst, tables, counts, progress)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every row in the main file before it gets its name
        dst.close()
        dst = None
        if os.path.exists(f"{building}-wal"):
            raise DatabaseProblem(_("cannot write {path}: the copy could not be completed").format(path=target))
        try:
            os.link(building, target)
        except FileExistsError:
            raise Conflict(_("{path} already exists; db copy writes a new database only").format(path=target)) from None
        except OSError as exc:
            raise DatabaseProblem(_("cannot write {path}: {problem}").format(path=target, problem=os_problem(exc))) from None
        if committed:
            committed()
    finally:
        if dst is not None:
            dst.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)


def _copy_to_postgres(src, target: str, tables: list[str], counts: dict[str, int], progress, committed) -> None:
    """Schema and rows in one transaction (connection.new_postgres): a kill leaves the database as it was."""
    with connection.new_postgres(target, committed) as dst:
        _copy(src, dst, tables, counts, progress)


def _copy(src, dst, tables: list[str], counts: dict[str, int], progress) -> None:
    total = sum(counts.values())
    done = 0
    target_tables = set(_tables(dst))
    dst.begin(write=True)
    dst.execute("INSERT INTO settings (key, value) VALUES (?, '1')", [BULK_LOAD_KEY])
    for table in tables:
        if table not in target_tables:
            raise Conflict(_("table {table} of the source is unknown to the target's schema").format(table=table))
        wanted = _columns(dst, table)
        columns = [c for c in _columns(src, table) if c in wanted]
        names = ", ".join(columns)
        insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
        if table == "settings":
            insert += " ON CONFLICT (key) DO NOTHING"
        order = " ORDER BY id" if "id" in columns else ""
        cursor = src.execute(f"SELECT {names} FROM {table}{order}")
        while True:
            rows = cursor.fetchmany(BATCH)
            if not rows:
                break
            dst.executemany(insert, [tuple(row) for row in rows])
            done += len(rows)
            if progress:
                progress(table, done, total)
    dst.execute("DELETE FROM settings WHERE key = ?", [BULK_LOAD_KEY])
    dst.continue_ids([table for table in tables if "id" in _columns(dst, table)])
    dst.execute("COMMIT")
