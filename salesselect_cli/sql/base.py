"""The floor every room stands on: query helpers, the acting user, history rows, the clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from salesselect_cli.errors import Conflict, Invalid, NotFound, PermissionDenied
from salesselect_cli.i18n import N_, _, ngettext
from salesselect_cli.rules import transitions
from salesselect_cli.sql.dialect import Connection, Row


def _label(row: Row) -> str:
    keys = row.keys()
    return row["name"] if "name" in keys else row["text"]


class BaseRoom:
    """Attributes the composed Store sets in its __init__, and the helpers every room uses."""

    conn: Connection
    today: dt.date
    user_name: str
    _user: Row | None
    _thresholds: tuple[int | None, int | None] | None
    fixed_time: str | None

    def _one(self, sql: str, params: Any = ()) -> Row | None:
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Any = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def _scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def now(self) -> str:
        """A history timestamp: today's date (which may be fixed) with the clock's time."""
        clock = self.fixed_time or dt.datetime.now().strftime("%H:%M:%S")
        return f"{self.today.isoformat()} {clock}"

    @property
    def user(self) -> Row:
        """The current user's row; a user the database does not know is refused (exit 3)."""
        if self._user is None:
            row = self._one("SELECT * FROM users WHERE fold(name) = fold(?)", [self.user_name])
            if row is None:
                raise PermissionDenied(
                    _("user '{name}' is not a user of this database; a key user can add it with "
                      "'salesselect user add {name}' (or pass --user NAME)").format(name=self.user_name)
                )
            self._user = row
        return self._user

    def require_known_user(self) -> None:
        self.user  # noqa: B018 - raises when unknown

    KINDS = (N_("user"), N_("business type"), N_("stage"), N_("source"), N_("reason"))  # `kind` below, for the catalogue

    def _reassign_target(self, kind: str, row, reassign_to: str | None, used: int, finder):
        if used and reassign_to is None:
            raise Conflict(
                ngettext("{used} opportunity uses {kind} '{row}'; pass --reassign-to OTHER to move it first",
                         "{used} opportunities use {kind} '{row}'; pass --reassign-to OTHER to move them first", used)
                .format(used=used, kind=_(kind), row=_label(row))
            )
        if reassign_to is None:
            return None
        target = finder(reassign_to)
        if target["id"] == row["id"]:
            raise Invalid(_("--reassign-to must name another {kind} than '{row}'").format(kind=_(kind), row=_label(row)))
        return target

    def _opportunity_row(self, opportunity_id: int) -> Row:
        row = self._one(
            """SELECT o.*, bt.name AS business_type FROM opportunities o
                 JOIN business_types bt ON bt.id = o.business_type_id WHERE o.id = ?""",
            [opportunity_id],
        )
        if row is None:
            raise NotFound(_("no opportunity #{id}").format(id=opportunity_id))
        return row

    def _history(
        self, opportunity_id: int, field_name: str, from_value: Any, to_value: Any,
        from_id: int | None = None, to_id: int | None = None, actor: str | None = None,
    ) -> None:
        self.conn.execute(
            """INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [opportunity_id, self.now(), actor or self.user["name"], field_name,
             None if from_value is None else str(from_value), None if to_value is None else str(to_value),
             from_id, to_id],
        )

    def _history_for_all(
        self, where: str, params: list, field_name: str, from_value: str, to_value: str,
        from_id: int | None, to_id: int | None, actor: str | None = None,
    ) -> None:
        """One history row for every opportunity matching `where`, in one statement."""
        self.conn.execute(
            f"""INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                SELECT id, ?, ?, ?, ?, ?, ?, ? FROM opportunities WHERE {where}""",
            [self.now(), actor or self.user["name"], field_name, from_value, to_value, from_id, to_id, *params],
        )

    def _state(self, row: Row) -> transitions.State:
        return transitions.State(
            row["id"], row["status"], row["stage_id"], row["business_type_id"], row["business_type"],
            row["closed_from_stage_id"],
        )
