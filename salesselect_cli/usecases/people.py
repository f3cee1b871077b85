"""People: who may use this database, their roles, and who the key users are (key users only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesselect_cli.session import Session


def add(session: "Session", name: str, key_user: bool = False, role: str = "recruiter") -> str | None:
    """Add a user: a recruiter or a manager, and a key user too when `key_user`. On PostgreSQL the login gets
    the rights at once; returns the SQL an administrator runs when the login is missing and may not be made."""
    session.store.people.add_user(name, key_user, role)
    return session.store.people.member_login(name)


def listing(session: "Session") -> list[dict]:
    """Every user with their role, key-user flag, module setting and open opportunities."""
    return session.store.people.list_users()


def remove(session: "Session", name: str, reassign_to: str | None = None) -> int:
    """Remove a user; their opportunities (and follow-ups) go to `reassign_to`. Returns how many moved."""
    return session.store.people.remove_user(name, reassign_to)


def set_key_user(session: "Session", name: str, key_user: bool) -> None:
    """Make a user a key user, or take the right away (never from the last key user)."""
    session.store.people.set_key_user(name, key_user)


def set_role(session: "Session", name: str, role: str) -> str:
    """Make a user a recruiter or a manager; returns the role they had."""
    return session.store.people.set_role(name, role)


def set_module(session: "Session", state: str, user_name: str | None = None) -> None:
    """Switch the module 'on', 'off' (or 'inherit', for one user) for the client, or for `user_name`."""
    session.store.people.set_module(state, user_name)


def module_report(session: "Session") -> dict:
    """The client's module setting and each user's own and effective one."""
    return session.store.people.module_report()
