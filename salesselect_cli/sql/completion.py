"""The completion room: names and open ids for shell completion, read from a database opened read-only.

Completion runs on every Tab press: it must be fast, never write (no migration, no WAL switch) and never
complain, so it opens the file itself read-only, without a Store (the fast path answers before Typer, the
store and the other rooms are imported), and the caller swallows every error. Not a Room class for that
reason: a plain function over its own connection.
"""

from __future__ import annotations

from pathlib import Path

from salesselect_cli.sql.dialect import connect_read_only

LIMIT = 200  # a shell shows no more than this usefully

QUERIES = {
    "business_types": "SELECT name, NULL FROM business_types WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
    "stages": "SELECT name, NULL FROM stages WHERE name LIKE ? ESCAPE '\\' ORDER BY position",
    "sources": "SELECT name, NULL FROM sources WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
    "reasons": "SELECT DISTINCT text, NULL FROM reasons WHERE text LIKE ? ESCAPE '\\' ORDER BY text",
    "users": "SELECT name, NULL FROM users WHERE name LIKE ? ESCAPE '\\' ORDER BY name",
    "open_ids": ("SELECT CAST(id AS TEXT), title FROM opportunities WHERE status = 'open' "
                 "AND CAST(id AS TEXT) LIKE ? ESCAPE '\\' ORDER BY id"),
}


def completion_values(path: Path, kind: str, prefix: str) -> list[tuple[str, str | None]]:
    """(value, description) pairs of `kind` starting with `prefix` (case-insensitive), at most LIMIT."""
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conn = connect_read_only(Path(path))
    try:
        return conn.execute(f"{QUERIES[kind]} LIMIT {LIMIT}", [pattern]).fetchall()
    finally:
        conn.close()
