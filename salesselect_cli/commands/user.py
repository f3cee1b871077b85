"""`user`: who may use this database, and who the key users are."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from salesselect_cli.commands.options import Format, english_role, format_option, output_option
from salesselect_cli.context import open_session
from salesselect_cli.i18n import N_, _
from salesselect_cli.render import Column, emit, stderr_line, word

app = typer.Typer(no_args_is_help=True, help="Manage users and key users (key users only).")

USERS = N_("manage users")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user's name (their login name, or what they pass as --user)."),
    key_user: bool = typer.Option(False, "--key-user", help="Make them a key user (may change the setup)."),
    role: str = typer.Option("recruiter", "--role", help="recruiter (changes own deals) or manager (changes every deal).",
                             callback=english_role),
) -> None:
    """Add a user (key users): a recruiter (default) or a manager, and with --key-user a key user too."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=USERS) as session:
        missing_login = people.add(session, name, key_user, role)
    role_word = {"recruiter": _("recruiter"), "manager": _("manager")}.get(role.strip().lower(), role.strip().lower())
    stderr_line((_("Added {role} {name} (key user).") if key_user else _("Added {role} {name}.")).format(
        role=role_word, name=name.strip()))
    if missing_login:
        stderr_line(_("The database has no login '{name}' and yours may not create one; an administrator runs: "
                      "{sql}").format(name=name.strip(), sql=missing_login))


@app.command("list")
def list_(ctx: typer.Context, fmt: Format = format_option(), output: Optional[Path] = output_option()) -> None:
    """List users, their module setting and their open opportunities (key users)."""
    from salesselect_cli.usecases import people

    with open_session(ctx, key_user=USERS) as session:
        rows = people.listing(session)
    emit(rows, fmt.value, output, [
        Column("name", "User"), Column("role", "Role", cell=lambda r: word(r["role"])),
        Column("key_user", "Key user", cell=lambda r: word("yes") if r["key_user"] else ""),
        Column("module", "Module", cell=lambda r: word(r["module"])),
        Column("open_opportunities", "Open opps", justify="right")])


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user to remove.", metavar="USER"),
    reassign_to: Optional[str] = typer.Option(None, "--reassign-to", help="Give their opportunities and follow-ups to this user.", metavar="USER"),
) -> None:
    """Remove a user (key users); refused while they own opportunities, unless --reassign-to."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=USERS) as session:
        moved = people.remove(session, name, reassign_to)
    stderr_line(_("Removed user {name}; {count} opportunities now belong to {other}.").format(name=name, count=moved, other=reassign_to)
                if moved else _("Removed user {name}.").format(name=name))


@app.command("set-key-user")
def set_key_user(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user.", metavar="USER"),
    off: bool = typer.Option(False, "--off", help="Take key-user rights away instead."),
) -> None:
    """Make a user a key user (or, with --off, a plain user); key users only."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=USERS) as session:
        people.set_key_user(session, name, not off)
    stderr_line((_("{name} is no longer a key user.") if off else _("{name} is now a key user.")).format(name=name))


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user."),
    role: str = typer.Argument(..., metavar="ROLE", help="recruiter or manager.", callback=english_role),
) -> None:
    """Make a user a recruiter (changes own deals) or a manager (changes every deal)."""
    from salesselect_cli.usecases import people

    with open_session(ctx, write=True, key_user=USERS) as session:
        old = people.set_role(session, name, role)
    role = role.strip().lower()
    role_word = {"recruiter": _("recruiter"), "manager": _("manager")}.get(role, role)
    stderr_line((_("{name} is already a {role}.") if old == role else _("{name} is now a {role}.")).format(
        name=name, role=role_word))
