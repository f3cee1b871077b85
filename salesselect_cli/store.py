"""The store: the one entry point commands use to read and write the database.

`Store` is one open database for one command: the current user, today, one transaction. It inherits
nothing; it hands out rooms, one per noun, in `salesselect_cli/sql/` (the only other place that speaks SQL):

    store.people      users, key users, the module switch, settings       sql/people.py
    store.setup       business types, stages, sources, indicator, reasons  sql/setup.py
    store.deals       filters, records, lifecycle, notes, history, trash   sql/opportunities.py
    store.followups   follow-ups                                          sql/followups.py
    store.workflows   stored workflows, their checks and preview data      sql/workflows.py
    store.reports     the board, the audit log and the four reports        sql/reports.py
    store.imports     the CSV bulk load                                    sql/imports.py
    store.setup_file  config export/import                                sql/setup_file.py

Every room receives the command's `Floor` (the connection, today, who acts) and the lower rooms it uses,
by name; a room never reaches a sibling through `self`. Opening, checking and migrating a file (or a
PostgreSQL database) is sql/connection.py; the schema and its numbered migrations sql/schema.py; every
SQLite/PostgreSQL difference sql/dialect.py; db copy sql/transfer.py. Every command runs in one
transaction: writes take the single-writer lock at their start (SQLite `BEGIN IMMEDIATE`, PostgreSQL an
advisory lock), reads do not lock. Money is integer cents. Workflows fire above the store, in the use cases.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any, Iterator

from salesselect_cli.model import OPPORTUNITY_KEYS, STATUSES, OpportunityFilter  # noqa: F401 - re-exported
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.sql import dialect
from salesselect_cli.sql.connection import create_database, new_database, open_connection  # noqa: F401 - re-exported
from salesselect_cli.sql.base import Floor, first_key_user, on_floor
from salesselect_cli.sql.followups import FollowupRoom
from salesselect_cli.sql.forecast import ForecastRoom
from salesselect_cli.sql.imports import ImportRoom
from salesselect_cli.sql.opportunities import OpportunityRoom
from salesselect_cli.sql.people import PeopleRoom
from salesselect_cli.sql.reports import ReportRoom
from salesselect_cli.sql.schema import MIGRATIONS, known_migration_names  # noqa: F401 - re-exported
from salesselect_cli.sql.setup import SetupRoom
from salesselect_cli.sql.setup_file import SetupFileRoom
from salesselect_cli.sql.transfer import copy_database  # noqa: F401 - re-exported
from salesselect_cli.sql.workflows import WorkflowRoom
from salesselect_cli.i18n import N_

_known_migration_names = known_migration_names


class Store:
    """One open database for one command: the current user, today, one transaction; its rooms hand out the rest.

    Each room receives the command's Floor (connection, today, who acts) and the lower rooms it uses:
    people <- setup <- deals | followups | workflows <- reports | imports | setup_file | forecast.
    """

    def __init__(self, conn: dialect.Connection, path: Path, today: dt.date, user_name: str):
        self.floor = floor = Floor(conn, today, user_name)
        self.path = path
        self.people = PeopleRoom(floor)
        self.setup = SetupRoom(floor, self.people)
        self.deals = OpportunityRoom(floor, self.people, self.setup)
        self.followups = FollowupRoom(floor, self.people)
        self.workflows = WorkflowRoom(floor, self.people, self.setup)
        self.reports = ReportRoom(floor, self.people, self.setup, self.deals)
        self.imports = ImportRoom(floor, self.people, self.deals)
        self.setup_file = SetupFileRoom(floor, self.people, self.setup, self.workflows)
        self.forecast = ForecastRoom(floor, self.people, self.deals)
        self.after_commit: list = []  # callables run once the command's transaction has committed
        self.workflow_warnings: list[str] = []  # one line per failed run: action, for the command to print
        if conn.audit_by_triggers:  # PostgreSQL: the triggers ask the command's floor who acts, and when
            conn.audit_state = floor.audit_state

    @contextlib.contextmanager
    def workflow_acting(self, name: str) -> Iterator[None]:
        """Changes made inside are the workflow `name`'s (its actions): the history names 'workflow:NAME'."""
        self.floor.workflow_actor = name
        try:
            yield
        finally:
            self.floor.workflow_actor = None

    conn = property(lambda self: self.floor.conn)
    today = on_floor("today")
    user_name = on_floor("user_name")
    acting_login = on_floor("acting_login")  # PostgreSQL: the login (a key user) acting for `user_name`
    fixed_time = on_floor("fixed_time")  # 'HH:MM:SS' for deterministic history (demo data, tests)

    @contextlib.contextmanager
    def transaction(self, write: bool) -> Iterator["Store"]:
        """One transaction: writes take the writers' lock (wait for other writers), reads do not lock."""
        self.conn.begin(write, self.people.opening_reads())
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
        dialect.backup(self.conn, target)

    def close(self) -> None:
        self.conn.close()

    def data_version(self) -> int:
        """Changes when another connection commits: the interactive board polls it to stay live."""
        return dialect.data_version(self.conn)

    @contextlib.contextmanager
    def scratch(self) -> Iterator["Store"]:
        """This store over a throw-away copy of the database, for a dry run that has to write to find out.

        The copy is taken inside the command's read transaction: the database is never locked or changed.
        """
        with dialect.scratch(self.conn, self.path) as conn:
            copy = Store(conn, self.path, self.today, self.user_name)
            copy.acting_login = self.acting_login
            yield copy


def init_database(path: Path | str, user_name: str | None, today: dt.date, fill=None, committed=None) -> Any:
    """Create the database, make `user_name` the first key user, switch the module on.

    `fill(store)` (e.g. the demo agency) runs in the same transaction; its result is returned. A new
    database is whole or absent (sql/connection.new_database); `committed()` runs once it is (e.g. so
    that a Ctrl-C from then on says the database was made). Where the login is the user (PostgreSQL)
    the first key user is the login (`user_name` must be that login or None).
    """
    if not dialect.login_is_user(path):
        user_name = _clean_name(user_name, N_("user name"))  # refused before anything is created
    with new_database(path, committed) as conn:
        store = Store(conn, path, today, first_key_user(conn, user_name))
        with store.transaction(write=True):
            store.people.add_first_key_user(store.user_name)
            store.people.set_setting("module", "on")
            store.people.set_setting("currency", "EUR")
            return fill(store) if fill else None
