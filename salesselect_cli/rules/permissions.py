"""Who may change which deal: its owner, any manager, any key user; workflows act with their own rights.

Pure functions: the store asks them before every change to a deal (edit, move, win, lose, reopen, note,
owner change, follow-ups, trash, restore) and before a new deal is given to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesselect_cli.i18n import _

ROLES = ("recruiter", "manager")
WORKFLOW_PREFIX = "workflow:"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (name, role, key user) or a workflow (name 'workflow:NAME')."""

    name: str
    role: str = "recruiter"
    key_user: bool = False

    @property
    def is_workflow(self) -> bool:
        return self.name.startswith(WORKFLOW_PREFIX)


def check_role(role: str) -> str:
    """The role as stored ('recruiter' or 'manager'), or a ValueError naming the valid ones."""
    from salesselect_cli.rules.words import ROLES as DUTCH_ROLES, english

    value = english(DUTCH_ROLES, role)
    if value not in ROLES:
        raise ValueError(_("role must be recruiter or manager, not '{role}'").format(role=role))
    return value


def may_change(actor: Actor, owner: str) -> bool:
    """May `actor` change a deal owned by `owner`? Its owner, a manager, a key user, or a workflow."""
    return may_change_any(actor) or actor.name.casefold() == owner.casefold()


def may_give_to(actor: Actor, owner: str) -> bool:
    """May `actor` create a deal owned by `owner`? Recruiters only for themselves."""
    return may_change(actor, owner)


def may_change_any(actor: Actor) -> bool:
    """May `actor` change (and create) deals whoever owns them? Managers, key users and workflows."""
    return actor.is_workflow or actor.key_user or actor.role == "manager"


def refusal(actor: Actor, opportunity_id: int, owner: str) -> str:
    """The one line a refused change prints (exit 3)."""
    from salesselect_cli.i18n import _

    return _("#{id} belongs to {owner}: only {owner}, a manager or a key user may change it ('{name}' is a {role})").format(
        id=opportunity_id, owner=owner, name=actor.name, role=_describe(actor))


def create_refusal(actor: Actor, owner: str) -> str:
    from salesselect_cli.i18n import _

    return _("a recruiter may add opportunities only for themselves: '{name}' may not give one to {owner} "
             "(managers and key users may)").format(name=actor.name, owner=owner)


def may_purge(actor: Actor) -> bool:
    """Deleting for good is for key users only."""
    return actor.key_user


def _describe(actor: Actor) -> str:
    from salesselect_cli.i18n import _

    role = {"recruiter": _("recruiter"), "manager": _("manager")}.get(actor.role, actor.role)
    return _("{role} and key user").format(role=role) if actor.key_user else role
