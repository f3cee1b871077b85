"""One command's session: the open store, today, who acts, the language and the output settings.

A `Session` is decided once when the command opens its database and never changes after. What a
command decides before it opens one (the --lang and --color options, the database file that no output
may overwrite, whether the work was already saved) lives in context variables: `run_command` runs the
whole command in a copy of the context, so nothing set during one command is seen by the next one in the
same process (the test suite runs hundreds of commands in one process).
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from salesselect_cli.store import Store


_in_command: contextvars.ContextVar[bool] = contextvars.ContextVar("salesselect_in_command", default=False)


def run_command(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one command in its own context: the language, colour mode, protected path and saving state it
    sets are gone when it returns (or exits). Nested calls (the console script, then the app) share the
    outer one, so the script's last words after the app returned still speak the command's language."""
    if _in_command.get():
        return function(*args, **kwargs)
    return contextvars.copy_context().run(_scoped, function, args, kwargs)


def _scoped(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    _in_command.set(True)
    _saving.set(None)  # a copied context still shares the outer Saving object: the command starts its own
    return function(*args, **kwargs)


def opening_names(conn: Any, requested: str | None, os_login: Callable[[], str]) -> tuple[str, str | None]:
    """Who a command opens as, and whom it then asks to act for (decided once, when the session opens):
    where the login is the user (PostgreSQL) the login, acting for `requested` (--user); elsewhere
    (SQLite, which never checked a login) `requested`, else the OS login."""
    if conn.login_is_user:
        return conn.current_login(), requested
    return requested or os_login(), None


def first_user_name(location: Any, requested: str | None, os_login: Callable[[], str]) -> str | None:
    """The name `init` makes the first key user: on PostgreSQL the login (`requested` is only checked
    against it; None: the login), elsewhere `requested`, else the OS login."""
    from salesselect_cli.sql.dialect import login_is_user

    return requested if login_is_user(location) else requested or os_login()


class Identity:
    """Who acts, decided once at open: `name` is the user the changes are made as; `login` is the
    PostgreSQL login when a key user acts for someone else ('kim for bob'), else None."""

    __slots__ = ("name", "login")

    def __init__(self, name: str, login: str | None = None):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "login", login)

    def __setattr__(self, key, value):
        raise AttributeError("an Identity does not change once the session is open")

    @property
    def actor(self) -> str:
        """What history says acted: 'bob', or 'kim for bob'."""
        return f"{self.login} for {self.name}" if self.login else self.name

    def __repr__(self) -> str:
        return f"Identity({self.actor!r})"


class Session:
    """One open database for one command (immutable once open; a plain class with __slots__: a dataclass
    costs a millisecond to define, on every command).

    store     the open store (its rooms speak SQL), inside the command's one transaction
    today     the day the command works on ($SALESSELECT_TODAY or the clock)
    identity  who acts (see Identity)
    language  'en' or 'nl', as resolved once the agency's setting was read
    color     the --color mode: 'auto', 'always' or 'never'
    write     True when the command took the writers' lock
    path      the database file (a Path) or PostgreSQL URL
    """

    __slots__ = ("store", "today", "identity", "language", "color", "write", "path")

    def __init__(self, store: "Store", today: dt.date, identity: Identity, language: str, color: str,
                 write: bool, path: "Path | str"):
        for key, value in (("store", store), ("today", today), ("identity", identity), ("language", language),
                           ("color", color), ("write", write), ("path", path)):
            object.__setattr__(self, key, value)

    def __setattr__(self, key, value):
        raise AttributeError("a Session does not change once open")

    @classmethod
    def of(cls, store: "Store", write: bool = True) -> "Session":
        """A session around a store that is already open and in its transaction (tests, the demo filler)."""
        from salesselect_cli import i18n, render

        login = store.acting_login if store.people.history_actor != store.people.user["name"] else None
        return cls(store, store.today, Identity(store.people.user["name"], login), i18n.language(), render.color_mode(),
                   write, store.path)

    @property
    def warnings(self) -> list[str]:
        """Lines the command prints after its work (failed run: actions of workflows, after the commit)."""
        return self.store.workflow_warnings

    @property
    def setting_problems(self) -> list[str]:
        """One line per bad stored setting read so far (read as its default), each naming the command that fixes it."""
        return list(self.store.people.setting_problems.values())


class Saving:
    """What this command has saved so far, for a Ctrl-C that lands after the commit (one per command)."""

    __slots__ = ("committed", "saved", "told")

    def __init__(self) -> None:
        self.committed = False
        self.saved: str | None = None  # e.g. 'Imported 100,000 opportunities'
        self.told = False  # the interrupted line was printed (once per command, see main.say_interrupted)

    def mark_committed(self) -> None:
        self.committed = True

    def interrupted(self) -> str:
        """The line to print when the command is interrupted."""
        from salesselect_cli.i18n import _

        if not self.committed:
            return _("Interrupted; nothing was changed.")
        return _("{saved} (interrupted after saving).").format(saved=self.saved or _("The change was saved"))


_saving: contextvars.ContextVar[Saving | None] = contextvars.ContextVar("salesselect_saving", default=None)


def saving() -> Saving:
    """This command's saving state (a fresh one for each command, see `run_command`)."""
    state = _saving.get()
    if state is None:
        state = Saving()
        _saving.set(state)
    return state


def start_saving() -> Saving:
    """A fresh saving state for the command that starts now."""
    state = Saving()
    _saving.set(state)
    return state
