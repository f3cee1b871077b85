"""The audit log: who changed which deal, and which part of the setup, and when (everyone may read it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt
    from typing import Iterator

    from salesselect_cli.session import Session


def entries(session: "Session", *, user: str | None = None, opportunity_id: int | None = None,
            since: "dt.date | None" = None, limit: int | None = None) -> "Iterator[dict]":
    """The log's entries, streamed (read them while the session is open), newest first: by `user` (or workflow:NAME), on one deal, from `since` on, at most
    `limit` (None: all). Deals in the trash keep their entries."""
    return session.store.reports.audit_log(user=user, opportunity_id=opportunity_id, since=since, limit=limit)
