"""Per-command context: which database, which user, which day, and the one transaction.

The commands hand in their click context (`ctx`) only for the root options it carries; nothing here
imports typer or click (the shell does: main, entry, commands/).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from salesselect_cli.i18n import _, count


def resolve_db_path(option: str | None) -> Path | str:
    """--db, else $SALESSELECT_DB, else salesselect.db in the app dir. A postgresql:// URL stays a string."""
    from salesselect_cli.sql.dialect import is_postgres

    if option is not None:
        if not option.strip():
            from salesselect_cli.errors import Invalid

            raise Invalid(_("--db needs a file path or a postgresql:// URL"))
        if is_postgres(option.strip()):
            return option.strip()
        return Path(option).expanduser()
    env = os.environ.get("SALESSELECT_DB")
    if env:
        if is_postgres(env.strip()):
            return env.strip()
        return Path(env).expanduser()
    return app_dir() / "salesselect.db"


def app_dir() -> Path:
    """Where salesselect keeps its default database: the platform's folder for an app's data, as click's
    get_app_dir names it (Windows APPDATA, macOS Application Support, else $XDG_CONFIG_HOME or ~/.config)."""
    import sys

    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA") or os.path.expanduser("~")) / "salesselect"
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~/Library/Application Support")) / "salesselect"
    return Path(os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))) / "salesselect"


class Options:
    """The root options (--db, --user) as given on the command line (a plain class: a dataclass costs a
    millisecond to define, on every command)."""

    def __init__(self, db: str | None = None, user: str | None = None):
        self.db, self.user = db, user


def requested_user_name(option: str | None) -> str | None:
    """--user, else $SALESSELECT_USER, else None. `--user ""` is refused, not ignored."""
    if option is not None:
        if not option.strip():
            from salesselect_cli.errors import Invalid

            raise Invalid(_("--user needs a name"))
        return option.strip()
    env = os.environ.get("SALESSELECT_USER")
    if env and env.strip():
        return env.strip()
    return None


def current_user_name(option: str | None) -> str:
    """--user, else $SALESSELECT_USER, else the OS login name."""
    requested = requested_user_name(option)
    if requested:
        return requested
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "user"


def current_today() -> dt.date:
    """$SALESSELECT_TODAY when set (YYYY-MM-DD), else the clock's date."""
    from salesselect_cli.rules.dates import parse_today

    return parse_today(os.environ.get("SALESSELECT_TODAY"), dt.date.today())


class Saving:
    """This command's saving state (session.saving()), by the names the shell calls it."""

    @staticmethod
    def reset() -> None:
        from salesselect_cli.session import start_saving

        start_saving()

    @staticmethod
    def mark_committed() -> None:
        from salesselect_cli.session import saving

        saving().mark_committed()

    @staticmethod
    def interrupted() -> str:
        from salesselect_cli.session import saving

        return saving().interrupted()


def database_path(option: str | None) -> Path | str:
    """The database file the command works on: a regular file or none yet, never a pipe or a device.

    Checked before anything opens it (reading a FIFO's header would wait forever); every output
    is told to keep its hands off it.
    """
    import stat

    from salesselect_cli.errors import DatabaseProblem, Invalid
    from salesselect_cli.render import protect

    try:
        path = resolve_db_path(option)
        if isinstance(path, str):  # a PostgreSQL URL: no file to check or protect
            return path
    except RuntimeError:  # '~nouser/x.db': a home directory that cannot be found
        raise Invalid(_("cannot find the home directory in the database path '{value}'").format(value=option or os.environ.get('SALESSELECT_DB'))) from None
    try:
        mode = path.stat().st_mode
    except OSError:  # missing, or unreachable: opening or creating it says why
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        message = (_("{path} is a directory, not a salesselect database file") if stat.S_ISDIR(mode)
                   else _("{path} is a named pipe, not a salesselect database file") if stat.S_ISFIFO(mode)
                   else _("{path} is a socket, not a salesselect database file") if stat.S_ISSOCK(mode)
                   else _("{path} is a device, not a salesselect database file"))
        raise DatabaseProblem(message.format(path=path))
    protect(path)
    return path


def storage_cause(exc: Exception) -> str:
    """Why the storage failed, when SQLite only says 'disk I/O error' or 'disk is full': ''
    when it is not a storage failure or nothing more can be found out."""
    text = str(exc)
    if "disk I/O error" not in text and "disk is full" not in text:
        return ""
    from salesselect_cli.render import protected_database

    path = protected_database()
    if path is None:
        return ""
    import resource
    import shutil

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:  # writes past it fail with EFBIG, which SQLite calls an I/O error
        return _(" (file too large: the file-size limit, ulimit -f, is {limit} bytes); nothing was changed").format(
            limit=count(limit))
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return ""
    if free < 1024 * 1024:
        return _(" (the disk is full: {free} bytes free at {folder}); nothing was changed").format(
            free=count(free), folder=path.parent)
    return _("; nothing was changed")


def options(ctx) -> Options:
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


@contextlib.contextmanager
def open_session(
    ctx, write: bool = False, key_user: str | None = None, module_check: bool = True, warn: bool = True,
    expect: Callable[[Any], None] | None = None,
) -> Iterator:
    """Open the database for one command, decide who acts, check they may, and run it in one transaction:
    yields the command's `Session` (session.py), fixed from here on.

    key_user: when given, only key users may go on (the text says what they may do).
    module_check: False only for `config module`, which key users may use with the module off.
    warn: print a line on stderr for each bad stored setting the command read (False on a full screen).
    expect: the use case's `expecting_...(...)`: the reads it will need, named to the store before the
        checks read anything, so that a server across a network sends them in the same round trip.
    """
    from salesselect_cli import i18n
    from salesselect_cli.session import Session, opening_names, saving
    from salesselect_cli.store import Store, open_connection

    opts = options(ctx)
    path = database_path(opts.db)
    today = current_today()
    conn = open_connection(path, write=write)
    user_name, requested = opening_names(conn, requested_user_name(opts.user), lambda: current_user_name(opts.user))
    store = Store(conn, path, today, user_name)
    if write:  # the first thing after the commit, before any run: hook: a Ctrl-C from here on says it was saved
        store.after_commit.append(saving().mark_committed)
    try:
        with store.transaction(write):
            if expect is not None:
                expect(store)
            if i18n.wants_agency_setting():
                i18n.use_agency_setting(store.people.language_setting)
            if requested is not None:
                store.people.act_for(requested)
            store.people.require_known_user()
            if key_user:
                store.people.require_key_user(key_user)
            if module_check:
                store.people.require_module()
            yield Session.of(store, write)
    finally:
        store.close()
        if warn:
            _warn_of_settings(store.people.setting_problems)


def _warn_of_settings(problems: dict[str, str]) -> None:
    """One line per bad stored setting: it was read as its default, and the line names the fix."""
    from salesselect_cli.render import stderr_line

    for problem in problems.values():
        stderr_line(_("Warning: {warning}").format(warning=problem))


def watcher(ctx):
    """A store kept open outside any transaction, for a live view to poll `data_version()` on.

    It reads no data: every read and change still goes through `open_session`.
    """
    from salesselect_cli.store import Store, open_connection

    opts = options(ctx)
    path = resolve_db_path(opts.db)
    return Store(open_connection(path), path, current_today(), current_user_name(opts.user))


def apply_root(ctx, db: str | None, user: str | None, lang: str | None, color: str) -> None:
    """What the root's options decide for the command: its language, colour, database and user."""
    from salesselect_cli import i18n

    i18n.configure(lang)

    from salesselect_cli import render

    render.use_color_mode(color)
    opts = options(ctx)
    opts.db, opts.user = db, user


def apply_root_options(root_ctx, given: list[tuple[str, str]]) -> None:
    """Root options given after the command (groups.root_options_after_the_command): checked by the root's own
    parameters (a bad value is the same usage error), then applied over what the root callback set."""
    values = {name: root_ctx.params.get(name) for name in ("db", "user", "lang", "color")}
    by_option = {option: param for param in root_ctx.command.params for option in param.opts}
    for option, text in given:
        param = by_option[option]
        value = param.type_cast_value(root_ctx, text)
        values[param.name] = getattr(value, "value", value)
        root_ctx.params[param.name] = value
    lang, color = values["lang"], values["color"]
    apply_root(root_ctx, values["db"], values["user"], getattr(lang, "value", lang),
               getattr(color, "value", color) or "auto")
