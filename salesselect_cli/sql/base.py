"""The floor every room stands on: query helpers, the acting user, history rows, the clock."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from salesselect_cli.errors import Conflict, Invalid, NotFound, PermissionDenied
from salesselect_cli.i18n import N_, _, ngettext
from salesselect_cli.sql.dialect import Connection, Row, fold

if TYPE_CHECKING:  # imported where used: a command that changes no deal never loads them (start-up)
    from salesselect_cli.rules import permissions, transitions


def _label(row: Row) -> str:
    keys = row.keys()
    return row["name"] if "name" in keys else row["text"]


class Floor:
    """What every room of one command stands on, shared by all of them: the connection, today, who acts
    (decided when the command opens; `act_for` / `act_as` in the people room set it), and the two things
    more than one room keeps for the command (the deals already cleared, the setup overview)."""

    def __init__(self, conn: Connection, today: dt.date, user_name: str):
        self.conn = conn
        self.today = today
        self.user_name = user_name
        self.acting_login: str | None = None  # PostgreSQL: the login (a key user) acting for `user_name`
        self.user_row: Row | None = None  # the acting user's row, read once
        self.fixed_time: str | None = None  # 'HH:MM:SS' for deterministic history (demo data, tests)
        self.cleared: set[int] = set()  # deals the acting user may change in this command (checked once)
        self.overview: Any = None  # the setup's counts and colours (setup room), forgotten by every setup log line
        self.name_is_login: bool = getattr(conn, "login_is_user", False)  # PostgreSQL: the name is the login
        self.workflow_actor: str | None = None  # the workflow whose actions are being applied (Store.workflow_acting)
        self.actor_note: str = ""  # said after the actor while a key user's setup change moves deals (' (stage removed)')

    def audit_state(self) -> tuple[str, str, str, str, str]:
        """What the audit triggers need from the client (sql/pg_security.py): the day, a fixed time, the user a
        key user's login acts for, the workflow applying its actions ('' for none), the actor's note."""
        day = self.today.isoformat()
        return (day, f"{day} {self.fixed_time}" if self.fixed_time else "", self.user_name if self.acting_login else "",
                self.workflow_actor or "", self.actor_note)

    def unknown_user(self) -> PermissionDenied:
        """The refusal for an acting name the database does not know: a login (PostgreSQL) says so."""
        if self.name_is_login and not self.acting_login:
            return PermissionDenied(
                _("your database login '{user_name}' is not a user of this database; a key user can add it with 'salesselect user add {user_name}'").format(user_name=self.user_name)
            )
        return PermissionDenied(
            _("user '{name}' is not a user of this database; a key user can add it with "
              "'salesselect user add {name}' (or pass --user NAME)").format(name=self.user_name)
        )


def value_band_sql(column: str) -> str:
    """A CASE giving rules.forecast.VALUE_BANDS' key of `column` (cents): the same bands as value_band(). Here, low,
    for the rooms that group deals by what decides a win chance (forecast, the board's weighted value)."""
    from salesselect_cli.rules.forecast import VALUE_BANDS

    arms = []
    for band in VALUE_BANDS:
        condition = f"{column} >= {band.low_cents}" + (f" AND {column} < {band.high_cents}" if band.high_cents else "")
        arms.append(f"WHEN {condition} THEN '{band.key}'")
    return f"CASE {' '.join(arms)} END"


def first_key_user(conn: Connection, requested: str | None) -> str:
    """Who becomes the first key user of a new database: where the login is the user (PostgreSQL) the
    login, and `requested` (when given) must be that login; elsewhere the name requested."""
    from salesselect_cli.rules.text import clean_name

    if not conn.login_is_user:
        return clean_name(requested, N_("user name"))
    login = clean_name(conn.current_login(), N_("user name"))
    if requested is not None and fold(requested) != fold(login):
        raise PermissionDenied(
            _("on PostgreSQL the first key user is your database login '{login}', not '{user_name}'; connect as '{user_name}' or leave out --user").format(login=login, user_name=requested)
        )
    return login


def named_read(table: str, where: str = "1 = 1") -> str:
    """The read BaseRoom._named folds its match from (small setup tables: every row, in id order)."""
    return f"SELECT * FROM {table} WHERE {where} ORDER BY id"


def on_floor(name: str) -> property:
    """A room attribute that is the floor's: every room of the command sees the same value."""
    return property(lambda self: getattr(self.floor, name), lambda self, value: setattr(self.floor, name, value))


class BaseRoom:
    """The helpers every room uses; a room is built on the command's Floor and the lower rooms it names."""

    def __init__(self, floor: Floor):
        self.floor = floor

    conn = property(lambda self: self.floor.conn)
    today = on_floor("today")
    user_name = on_floor("user_name")
    acting_login = on_floor("acting_login")
    fixed_time = on_floor("fixed_time")
    actor_note = on_floor("actor_note")
    _user = on_floor("user_row")
    _cleared = on_floor("cleared")
    _overview = on_floor("overview")

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

    def _named(self, table: str, value: str, column: str = "name", where: str = "1 = 1",
                params: Any = ()) -> Row | None:
        """The row of a (small) setup table whose `column` equals `value` ignoring case, Unicode included:
        folded in Python, so SQLite and PostgreSQL give the same answer."""
        wanted = fold(value)
        for row in self._all(named_read(table, where), params):
            if fold(row[column]) == wanted:
                return row
        return None

    @property
    def history_actor(self) -> str:
        """Who history rows say acted: the user, or 'kim for bob' when a key user's login acts for bob."""
        if self.acting_login and fold(self.acting_login) != fold(self.user["name"]):
            return f"{self.acting_login} for {self.user['name']}"
        return self.user["name"]

    @property
    def user(self) -> Row:
        """The current user's row; a user the database does not know is refused (exit 3)."""
        if self._user is None:
            row = self._named("users", self.user_name)
            if row is None:
                raise self.floor.unknown_user()
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

    def _opportunity_row(self, opportunity_id: int, trashed: bool = False) -> Row:
        """The opportunity's row (with its type's name and owner's name). A deal in the trash counts as not
        there (NotFound with the restore hint) unless `trashed`: then only a deal in the trash is found."""
        row = self._one(
            """SELECT o.*, bt.name AS business_type, u.name AS owner FROM opportunities o
                 JOIN business_types bt ON bt.id = o.business_type_id
                 JOIN users u ON u.id = o.owner_id WHERE o.id = ?""",
            [opportunity_id],
        )
        return self._found(row, opportunity_id, trashed)

    @staticmethod
    def _found(row: Row | None, opportunity_id: int, trashed: bool = False) -> Row:
        """`row` when it is the deal asked for (see `_opportunity_row`); else NotFound saying why."""
        if row is None:
            raise NotFound(_("no opportunity #{opportunity_id}").format(opportunity_id=opportunity_id))
        if trashed and row["deleted"] is None:
            raise NotFound(_("#{opportunity_id} is not in the trash").format(opportunity_id=opportunity_id))
        if not trashed and row["deleted"] is not None:
            raise NotFound(
                _("#{opportunity_id} is in the trash (deleted by {deleted_by} on {value}); 'salesselect opp restore {opportunity_id}' brings it back").format(opportunity_id=opportunity_id, deleted_by=row['deleted_by'], value=row['deleted'][:10])
            )
        return row

    def actor(self, name: str | None = None) -> permissions.Actor:
        """Who is acting: the current user (role, key user), or the workflow `name` ('workflow:NAME')."""
        from salesselect_cli.rules import permissions

        if name is not None and name.startswith(permissions.WORKFLOW_PREFIX):
            return permissions.Actor(name)
        user = self.user
        return permissions.Actor(user["name"], user["role"], bool(user["key_user"]))

    def _changeable_row(self, opportunity_id: int, actor: str | None = None, trashed: bool = False) -> Row:
        """The opportunity's row, when the acting user (or workflow `actor`) may change it; else exit 3.

        The one check every deal-changing path goes through (rules/permissions.py says who may)."""
        return self._cleared_row(self._opportunity_row(opportunity_id, trashed), actor)

    def _cleared_row(self, row: Row, actor: str | None = None) -> Row:
        """`row`, when the acting user (or workflow `actor`) may change that deal; else exit 3."""
        if row["id"] not in self._cleared:
            self.require_may_change(row, actor)
            if actor is None:  # decided once per command: handing the deal over mid-command keeps the right
                self._cleared.add(row["id"])
        return row

    def require_may_change(self, row: Row, actor: str | None = None) -> None:
        """PermissionDenied (exit 3) naming the owner, unless the actor may change the deal in `row`."""
        from salesselect_cli.rules import permissions

        who = self.actor(actor)
        if not permissions.may_change(who, row["owner"]):
            raise PermissionDenied(permissions.refusal(who, row["id"], row["owner"]))

    def _setup_log(self, what: str, old_value=None, new_value=None, opportunity_id: int | None = None) -> None:
        """One line in the audit log for a change outside a deal's history: setup, users, workflows, trash."""
        self._overview = None  # the setup changed: its overview (setup.SetupRoom._setup_overview) is read again
        if self.conn.audit_by_triggers:  # PostgreSQL: the row change's trigger wrote it (sql/pg_security.py)
            return
        self.conn.execute(
            """INSERT INTO setup_log (at, actor, what, old_value, new_value, opportunity_id, history_mark)
               VALUES (?, ?, ?, ?, ?, ?, (SELECT MAX(id) FROM history))""",
            [self.now(), self.user["name"], what, None if old_value is None else str(old_value),
             None if new_value is None else str(new_value), opportunity_id],
        )

    def _history(
        self, opportunity_id: int, field_name: str, from_value: Any, to_value: Any,
        from_id: int | None = None, to_id: int | None = None, actor: str | None = None,
    ) -> None:
        """One history row; on PostgreSQL the row change's trigger wrote it already (sql/pg_security.py)."""
        if self.conn.audit_by_triggers:
            return
        self.conn.defer(
            """INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [opportunity_id, self.now(), actor or self.history_actor, field_name,
             None if from_value is None else str(from_value), None if to_value is None else str(to_value),
             from_id, to_id],
        )

    def _history_for_all(
        self, where: str, params: list, field_name: str, from_value: str, to_value: str,
        from_id: int | None, to_id: int | None, actor: str | None = None,
    ) -> None:
        """One history row for every opportunity matching `where`, in one statement (PostgreSQL: the triggers')."""
        if self.conn.audit_by_triggers:
            return
        self.conn.execute(
            f"""INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
                SELECT id, ?, ?, ?, ?, ?, ?, ? FROM opportunities WHERE {where}""",
            [self.now(), actor or self.history_actor, field_name, from_value, to_value, from_id, to_id, *params],
        )

    def _state(self, row: Row) -> transitions.State:
        from salesselect_cli.rules import transitions

        return transitions.State(
            row["id"], row["status"], row["stage_id"], row["business_type_id"], row["business_type"],
            row["closed_from_stage_id"],
        )
