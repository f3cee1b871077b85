"""Per-command context: which database, which user, which day, and the one transaction."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import typer


def resolve_db_path(option: str | None) -> Path:
    """--db, else $SALESSELECT_DB, else salesselect.db in the app dir."""
    if option is not None:
        if not option.strip():
            from salesselect_cli.errors import Invalid

            raise Invalid("--db needs a file path")
        return Path(option).expanduser()
    env = os.environ.get("SALESSELECT_DB")
    if env:
        return Path(env).expanduser()
    return Path(typer.get_app_dir("salesselect")) / "salesselect.db"


@dataclass
class Options:
    """The root options (--db, --user) as given on the command line."""

    db: str | None = None
    user: str | None = None


def current_user_name(option: str | None) -> str:
    """--user, else $SALESSELECT_USER, else the OS login name."""
    if option and option.strip():
        return option.strip()
    env = os.environ.get("SALESSELECT_USER")
    if env and env.strip():
        return env.strip()
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "user"


def current_today() -> dt.date:
    """$SALESSELECT_TODAY when set (YYYY-MM-DD), else the clock's date."""
    from salesselect_cli.rules.dates import parse_today

    return parse_today(os.environ.get("SALESSELECT_TODAY"), dt.date.today())


def options(ctx: typer.Context) -> Options:
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


@contextlib.contextmanager
def session(
    ctx: typer.Context, write: bool = False, key_user: str | None = None, module_check: bool = True
) -> Iterator:
    """Open the database for one command, check who may do it, and run it in one transaction.

    key_user: when given, only key users may go on (the text says what they may do).
    module_check: False only for `config module`, which key users may use with the module off.
    """
    from salesselect_cli.store import Store, open_connection

    opts = options(ctx)
    path = resolve_db_path(opts.db)
    today = current_today()
    store = Store(open_connection(path), path, today, current_user_name(opts.user))
    try:
        with store.transaction(write):
            store.require_known_user()
            if key_user:
                store.require_key_user(key_user)
            if module_check:
                store.require_module()
            yield store
    finally:
        store.close()
