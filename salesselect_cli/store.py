"""The store: the one entry point commands use to read and write the database.

`Store` is one open database for one command: the current user, today, one transaction. It is composed
of rooms, one per noun, in `salesselect_cli/sql/` (the only other place that speaks SQL):

    people         users, key users, the module switch, settings      sql/people.py
    setup          business types, stages, sources, indicator, reasons sql/setup.py
    opportunities  filters, records, lifecycle, notes, history        sql/opportunities.py
    followups      follow-ups                                        sql/followups.py
    workflows      stored workflows, their checks and preview data    sql/workflows.py
    reports        the board and the four reports                    sql/reports.py
    imports        the CSV bulk load                                 sql/imports.py
    setup_file     config export/import                              sql/setup_file.py

Opening, checking and migrating a file (or a PostgreSQL database) is sql/connection.py; the schema and
its numbered migrations sql/schema.py; every SQLite/PostgreSQL difference sql/dialect.py; db copy
sql/transfer.py. Every command runs in one transaction: writes take the single-writer lock at their
start (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory lock), reads do not lock. Money is integer cents. Workflows fire above the store, in automation.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any, Iterator

from salesselect_cli.errors import Conflict, DatabaseProblem, os_problem
from salesselect_cli.model import OPPORTUNITY_KEYS, STATUSES, OpportunityFilter  # noqa: F401 - re-exported
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.sql import dialect
from salesselect_cli.sql.connection import create_database, open_connection  # noqa: F401 - re-exported
from salesselect_cli.sql.followups import FollowupRoom
from salesselect_cli.sql.forecast import ForecastRoom
from salesselect_cli.sql.imports import ImportRoom
from salesselect_cli.sql.reports import ReportRoom
from salesselect_cli.sql.schema import MIGRATIONS, known_migration_names  # noqa: F401 - re-exported
from salesselect_cli.sql.setup_file import SetupFileRoom
from salesselect_cli.sql.transfer import copy_database  # noqa: F401 - re-exported
from salesselect_cli.i18n import N_, _

_known_migration_names = known_migration_names



class Store(ForecastRoom, ReportRoom, SetupFileRoom, FollowupRoom, ImportRoom):
    """One open database for one command: the current user, today, one transaction."""

    def __init__(self, conn: dialect.Connection, path: Path, today: dt.date, user_name: str):
        self.conn = conn
        self.path = path
        self.today = today
        self.user_name = user_name
        self._user: dialect.Row | None = None
        self._thresholds: tuple[int | None, int | None] | None = None
        self._settings: dict[str, str] | None = None
        self._stages = None
        self._overview = None
        self._cleared: set[int] = set()  # deals the acting user may change in this command (checked once)
        self.after_commit: list = []  # callables run once the command's transaction has committed
        self.fixed_time: str | None = None  # 'HH:MM:SS' for deterministic history (demo data, tests)
        self.workflow_warnings: list[str] = []  # one line per failed run: action, for the command to print

    @contextlib.contextmanager
    def transaction(self, write: bool) -> Iterator["Store"]:
        """One transaction: writes take the writers' lock (wait for other writers), reads do not lock."""
        self.conn.begin(write)
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                dialect.undo_quietly(self.conn, "ROLLBACK")
            raise
        else:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
            if write:
                dialect.keep_wal(self.conn)  # only now: a refused write leaves a rollback-journal file as it was
            callbacks, self.after_commit = self.after_commit, []
            for callback in callbacks:
                callback()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested all-or-nothing step inside the command's transaction."""
        self.conn.execute("SAVEPOINT step")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:  # a storage failure (disk full, file too large) ended it already
                dialect.undo_quietly(self.conn, "ROLLBACK TO step", "RELEASE step")
            raise
        else:
            self.conn.execute("RELEASE step")

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole database at `target` (refused if it exists), while others write."""
        if getattr(self.conn, "backend", "sqlite") == "postgresql":
            raise DatabaseProblem(_("on PostgreSQL, back up with pg_dump, or copy the agency into a file with 'salesselect db copy URL FILE'"))
        dialect.backup(self.conn, target)

    def close(self) -> None:
        self.conn.close()

    def _pg_scratch(self) -> Iterator["Store"]:
        """PostgreSQL: a second connection whose transaction is always rolled back (no lock taken)."""
        copy = Store(dialect.connect_postgres(self.path), self.path, self.today, self.user_name)
        copy.acting_login = self.acting_login
        try:
            copy.conn.execute("BEGIN")
            yield copy
        finally:
            if copy.conn.in_transaction:
                copy.conn.execute("ROLLBACK")
            copy.close()

    def data_version(self) -> int:
        """Changes when another connection commits: the interactive board polls it to stay live."""
        return dialect.data_version(self.conn)

    @contextlib.contextmanager
    def scratch(self) -> Iterator["Store"]:
        """This store over an in-memory copy of the database, for a dry run that has to write to find out.

        The copy is taken inside the command's read transaction: the file is never locked or changed.
        """
        if getattr(self.conn, "backend", "sqlite") == "postgresql":
            yield from self._pg_scratch()
            return
        copy = Store(dialect.memory_copy(self.conn), self.path, self.today, self.user_name)
        try:
            with copy.transaction(write=True):
                yield copy
        finally:
            copy.close()


def init_database(path: Path | str, user_name: str, today: dt.date, fill=None, committed=None) -> Any:
    """Create the file, make `user_name` the first key user, switch the module on.

    `fill(store)` (e.g. the demo agency) runs in the same transaction; its result is returned.
    The new database is built in a temporary file beside `path` and linked into place only when
    complete, so an interruption at any moment (kill -9 included) leaves no file or a whole one.
    On PostgreSQL the first key user is the database login (`user_name` must be that login or None),
    and a failed init leaves the database empty again.
    """
    import os

    if dialect.is_postgres(path):
        return _init_postgres(path, user_name, today, fill, committed)
    user_name = _clean_name(user_name, N_("user name"))
    if os.path.lexists(path):
        raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseProblem(_("cannot create {path}: {problem}").format(path=path, problem=os_problem(exc))) from None
    _remove_abandoned_builds(path)
    building = path.with_name(f".{path.name}.{os.getpid()}.init")
    store = None
    try:
        create_database(building)
        store = Store(open_connection(building), path, today, user_name)
        with store.transaction(write=True):
            store.add_first_key_user(user_name)
            store.set_setting("module", "on")
            store.set_setting("currency", "EUR")
            result = fill(store) if fill else None
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before it moves
        store.close()
        store = None
        if os.path.exists(str(building) + "-wal"):
            raise DatabaseProblem(_("cannot create {path}: the new database could not be completed").format(path=path))
        _sync(building)
        _link_into_place(building, path)
        if committed:  # e.g. so that a Ctrl-C from now on says the database was made
            committed()
        return result
    finally:
        if store is not None:
            store.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(building) + suffix).unlink(missing_ok=True)


def _link_into_place(building: Path, path: Path) -> None:
    """Give the finished file its name; never over a file that appeared meanwhile (another init)."""
    import os

    try:
        os.link(building, path)
    except FileExistsError:
        raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path)) from None
    except OSError:  # a file system without hard links: a rename is atomic too
        if os.path.lexists(path):
            raise Conflict(_("{path} already exists; refusing to overwrite it (choose another --db)").format(path=path)) from None
        os.rename(building, path)
    _sync_folder(path.parent)


def _remove_abandoned_builds(path: Path) -> None:
    """Temporary files of an init that was killed (its process is gone) are removed."""
    import os

    for leftover in path.parent.glob(f".{glob_escape(path.name)}.*.init*"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def _process_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sync(path: Path) -> None:
    import os

    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    import os

    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _init_postgres(url: str, user_name: str | None, today: dt.date, fill=None, committed=None) -> Any:
    """Schema, first key user and `fill` in one transaction (connection.new_postgres): all or nothing."""
    from salesselect_cli.errors import PermissionDenied
    from salesselect_cli.sql.connection import new_postgres

    with new_postgres(url, committed) as conn:
        store = Store(conn, url, today, "")
        login = _clean_name(store.conn.current_login(), N_("user name"))
        if user_name is not None and dialect.fold(user_name) != dialect.fold(login):
            raise PermissionDenied(
                _("on PostgreSQL the first key user is your database login '{login}', not '{user_name}'; connect as '{user_name}' or leave out --user").format(login=login, user_name=user_name)
            )
        store.user_name = login
        with store.transaction(write=True):
            store.add_first_key_user(login)
            store.set_setting("module", "on")
            store.set_setting("currency", "EUR")
            return fill(store) if fill else None
