"""The completion room: names and open ids for shell completion, read from a database opened read-only.

Completion runs on every Tab press: it must be fast, never write (no migration, no WAL switch) and never
complain, so it opens the file itself read-only, without a Store (the fast path answers before Typer, the
store and the other rooms are imported), and the caller swallows every error. Not a Room class for that
reason: a plain function over its own connection.
"""

from __future__ import annotations

from pathlib import Path

from salesselect_cli.sql.dialect import ascii_lower, connect_read_only

LIMIT = 200  # a shell shows no more than this usefully

# {like} is the backend's ASCII case-insensitive LIKE (SQLite's LIKE), with a backslash escaping % and _
QUERIES = {
    "business_types": "SELECT name, NULL FROM business_types WHERE {like} ORDER BY name",
    "stages": "SELECT name, NULL FROM stages WHERE {like} ORDER BY position",
    "sources": "SELECT name, NULL FROM sources WHERE {like} ORDER BY name",
    "reasons": "SELECT DISTINCT text, NULL FROM reasons WHERE {like} ORDER BY text",
    "users": "SELECT name, NULL FROM users WHERE {like} ORDER BY name",
    "open_ids": "SELECT CAST(id AS TEXT), title FROM opportunities WHERE status = 'open' AND {like} ORDER BY id",
}
COLUMN = {"reasons": "text", "open_ids": "CAST(id AS TEXT)"}


def completion_values(path: Path, kind: str, prefix: str) -> list[tuple[str, str | None]]:
    """(value, description) pairs of `kind` starting with `prefix` (case-insensitive), at most LIMIT."""
    pattern = ascii_lower(prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")) + "%"
    conn = connect_read_only(path)
    try:
        like = conn.like_ci(COLUMN.get(kind, "name")) + " ESCAPE '\\'"
        return [tuple(row) for row in conn.execute(f"{QUERIES[kind].format(like=like)} LIMIT {LIMIT}", [pattern])]
    finally:
        conn.close()
