"""The root Typer app: global options, one place that turns domain errors into one line."""

from __future__ import annotations

import errno
from enum import Enum
from typing import Optional

import typer
from typer.core import TyperCommand, TyperGroup

from salesselect_cli import __version__, tree
from salesselect_cli.argv import ENVIRONMENT, help_wanted, lang_option as _lang_option, undecodable as _undecodable
from salesselect_cli.context import storage_cause
from salesselect_cli.errors import SalesSelectError
from salesselect_cli.i18n import _


def _fail(message: str, code: int = 1) -> None:
    from salesselect_cli.i18n import _
    from salesselect_cli.render import stderr_line

    # one line, whatever the message quotes back (a name with a newline, an escape sequence)
    stderr_line(_("Error: {message}").format(message=message.replace("\n", "\\n").replace("\t", "\\t")))
    raise typer.Exit(code)


def _usage_error(exc) -> None:
    """A usage error (bad option value, missing argument) as our one line, exit 2; help stays help."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # its help is drawn already (helpscreen): only the exit code is left
        raise typer.Exit(2)
    from salesselect_cli.helptext import usage_message

    command = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "salesselect"
    _fail(_("{problem} (see '{command} --help')").format(problem=usage_message(exc), command=command), 2)


_UsageError = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")


def _bad_encoding(args: list[str]) -> str | None:
    """Why the arguments or our environment variables cannot be used as text, or None."""
    import os

    for number, arg in enumerate(args, start=1):
        if _undecodable(arg):
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return _("argument {number} ('{text}') is not valid UTF-8 text").format(number=number, text=shown)
    for name in ENVIRONMENT:
        if _undecodable(os.environ.get(name, "")):
            return _("${variable} is not valid UTF-8 text").format(variable=name)
    return None


_help_spoken = False  # help has been translated in this process: English must be put back
_help_wanted = False  # this run shows help: only then are help texts translated


def i18n_dutch() -> bool:
    from salesselect_cli.i18n import dutch

    return dutch()


HELP_ATTRIBUTES = ("help", "short_help", "epilog", "rich_help_panel")  # what a command or parameter says in --help


def help_items(command):
    """The command, its parameters and its sub-commands' (recursively): every object whose help is translated."""
    yield command
    yield from command.params
    for sub in getattr(command, "commands", {}).values():
        yield from help_items(sub)


def _speak_help(command) -> None:
    """Help texts in the interface language, each translated from its English original (kept aside, so a
    later command in English in the same process shows English again). Untranslated texts stay English.
    tools/catalogue.py collects the paragraphs the same way (help.po)."""
    global _help_spoken
    from salesselect_cli.helptext import reflow
    from salesselect_cli.i18n import _

    _help_spoken = True
    for item in help_items(command):
        for attr in HELP_ATTRIBUTES:  # the original is the text before helptext.tidy reflowed it
            original = item.__dict__.setdefault(f"_english_{attr}", getattr(item, attr, None))
            if original:  # paragraph by paragraph: the first is the summary in command lists
                text = "\n\n".join(_(paragraph) for paragraph in original.split("\n\n"))
                setattr(item, attr, reflow(text) if attr == "help" else text)  # as tidy leaves it


COMMANDS = tree.COMMANDS  # the one registry of the command tree (tree.py)


def load_command(name: str):
    """Import the module of one top-level command and build its click command (a group for a sub-app)."""
    module_name, attribute, _summary = COMMANDS[name]
    # __import__ rather than importlib.import_module: only the former shows in `python -X importtime`
    module = __import__(f"salesselect_cli.commands.{module_name}", fromlist=[attribute])
    target = getattr(module, attribute)
    if isinstance(target, typer.Typer):
        from salesselect_cli.groups import lazy_group

        command = lazy_group(target)  # its commands are built when used (groups.py)
    else:
        from salesselect_cli.groups import Command

        holder = typer.Typer(add_completion=False)
        holder.command(name, cls=Command)(target)
        command = typer.main.get_command(holder)
    command.name = name
    return command


class SalesSelectGroup(TyperGroup):
    """Runs every command; domain and database errors become `Error: ...` and an exit code.

    Lazy: `--help` lists every command from COMMANDS without importing one; running a command
    imports and builds that one only (start-up time is a feature).

    Commands are tidied for people as they are resolved (helptext.tidy: metavars, wrapped help).
    """

    _listing = False

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(name=cmd_name, short_help=_(COMMANDS[cmd_name][2]))
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        if _help_wanted and (_help_spoken or i18n_dutch()):
            _speak_help(self.commands[cmd_name])
        return self.commands[cmd_name]

    def format_help(self, ctx, formatter) -> None:
        from salesselect_cli.helpscreen import draw

        self._listing = True
        try:
            draw(self, ctx)
        finally:
            self._listing = False

    def make_context(self, info_name, args, parent=None, **extra):
        from salesselect_cli.helptext import tidy

        tidy(self, recursive=False)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _UsageError as exc:
            _usage_error(exc)

    def parse_args(self, ctx, args):
        from salesselect_cli.groups import parsed

        return parsed(SalesSelectGroup, self, ctx, args)

    def resolve_command(self, ctx, args):
        from salesselect_cli.groups import refuse_unknown
        from salesselect_cli.helptext import tidy

        refuse_unknown(self, ctx, args)
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            tidy(command)
        return name, command, rest

    def main(self, args=None, *rest, **options):
        from salesselect_cli.session import run_command

        return run_command(self._main, args, *rest, **options)  # nothing one command sets reaches the next

    def _main(self, args=None, *rest, **options):
        try:
            return self._parse_and_run(args, *rest, **options)
        except KeyboardInterrupt:  # Ctrl-C before the command starts or after it returned: Typer's exit 130 is silent
            say_interrupted()
            raise SystemExit(130) from None
        except SystemExit as exc:
            if exc.code == 130:
                say_interrupted()
            raise

    def _parse_and_run(self, args=None, *rest, **options):
        import os
        import sys

        from salesselect_cli.tree import COMPLETE_VAR

        args = list(sys.argv[1:] if args is None else args)
        from salesselect_cli import i18n

        i18n.configure(_lang_option(args))  # before parsing: a usage error speaks the language too
        global _help_wanted
        _help_wanted = help_wanted(args)
        if _help_wanted and (i18n.dutch() or _help_spoken):
            _speak_help(self)
        if os.environ.get(COMPLETE_VAR):  # a Tab press the console script's fast path left to Typer
            from salesselect_cli.completion import shell_classes

            shell_classes()
        problem = _bad_encoding(args)
        if problem:
            from salesselect_cli.render import stderr_line

            stderr_line(_("Error: {problem}").format(problem=problem))
            sys.exit(2)
        return super().main(args, *rest, **options)

    def invoke(self, ctx):
        from salesselect_cli.context import Saving

        Saving.reset()
        try:
            try:
                return super().invoke(ctx)
            except Exception as exc:
                if _during_ctrl_c(exc):  # e.g. psycopg's "another command is already in progress" after Ctrl-C
                    raise KeyboardInterrupt from exc
                raise
        except _UsageError as exc:
            _usage_error(exc)
        except KeyboardInterrupt:  # Ctrl-C: say whether the work had already been saved
            say_interrupted()
            raise typer.Exit(130)
        except SalesSelectError as exc:
            _fail(str(exc), exc.exit_code)
        except (typer.Exit, typer.Abort):  # before the database errors: naming them imports the dialect
            raise
        except _database_errors() as exc:
            _database_failed(exc)
        except OverflowError:  # a number no option bound caught, on its way to SQLite or the calendar
            _fail(_("a number is out of range"))
        except BrokenPipeError:  # `salesselect opp list | head`
            raise typer.Exit(0)
        except OSError as exc:
            if exc.filename is not None or exc.errno not in _OUTPUT_ERRNOS:
                raise_unexpected(exc)
            from salesselect_cli.errors import output_failed
            from salesselect_cli.render import stderr_line

            stderr_line(output_failed(exc))  # stdout on a full disk: the work itself was done or refused
            raise typer.Exit(1)
        except Exception as exc:  # last resort: never a traceback for a user
            raise_unexpected(exc)


def _during_ctrl_c(exc: BaseException) -> bool:
    """An error raised while a Ctrl-C was being handled (a database connection left busy by it): the Ctrl-C is
    what happened, and what the user is told."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _database_errors() -> tuple[type[BaseException], ...]:
    """The database's exception classes (SQLite's, PostgreSQL's once loaded), from the dialect layer."""
    from salesselect_cli.sql.dialect import database_errors

    return database_errors()


def _database_failed(exc: BaseException) -> None:
    """One line for a database error: busy (another writer holds the lock), or the first line of what the
    database said."""
    import os

    from salesselect_cli.sql.dialect import error_line, is_busy_error, is_refusal

    if is_busy_error(exc):
        _fail(_("the database is busy with another salesselect command; try again in a moment"))
    if os.environ.get("SALESSELECT_DEBUG"):
        raise exc
    problem = error_line(exc)
    if is_refusal(exc):  # the database's own rules refused it (sql/pg_security.py)
        _fail(_("the database refused this to your login ({problem}); if your login is no salesselect user "
                "yet, a key user runs 'salesselect user add LOGIN'").format(problem=problem), 3)
    _fail(_("database error: {problem}").format(problem=" ".join(f"{problem}{storage_cause(exc)}".split())))


def raise_unexpected(exc: Exception) -> None:
    """The last resort for an exception no handler above knew: one line, never a traceback for a user."""
    import os

    if os.environ.get("SALESSELECT_DEBUG") or exc.__class__.__module__.startswith(("typer", "click")):
        raise exc
    from salesselect_cli.errors import explain
    from salesselect_cli.render import protected_database

    known = explain(exc, protected_database())  # a long name, a read-only disk, a damaged file: errors.py says it
    if known is not None:
        _fail(str(known), known.exit_code)
    if isinstance(exc, _database_errors()):
        _database_failed(exc)
    _fail(_("unexpected {error}: {problem} (set SALESSELECT_DEBUG=1 for details)").format(
        error=exc.__class__.__name__, problem=exc))


# errno values of output that cannot be written: a full disk or quota, a broken device, a file too large
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})


app = typer.Typer(
    cls=SalesSelectGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="A sales pipeline for recruitment agencies, in one file or a team's PostgreSQL database.",
)


class Language(str, Enum):
    en = "en"
    nl = "nl"


class ColorMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


def _version(value: bool) -> None:
    if value:
        typer.echo(_("salesselect {version}").format(version=__version__))
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Optional[str] = typer.Option(None, "--db", help="A file or a PostgreSQL URL (default: $SALESSELECT_DB, then a file in the app dir).",
        metavar="PATH|URL"),
    user: Optional[str] = typer.Option(None, "--user", help="Act as this user (default: $SALESSELECT_USER, then your login).", metavar="NAME"),
    lang: Optional[Language] = typer.Option(None, "--lang", case_sensitive=False, help="Interface language, en or nl (default: $SALESSELECT_LANG, then the agency's setting, then the locale)."),
    color: ColorMode = typer.Option(
        ColorMode.auto, "--color", help="Colour: auto (a terminal without NO_COLOR, or FORCE_COLOR set), always or never.",
        case_sensitive=False,
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """A sales pipeline for recruitment agencies, in one file or a team's PostgreSQL database.

    Start with `salesselect init` (or `init --demo`), then `salesselect board`.
    """
    from salesselect_cli.context import apply_root

    apply_root(ctx, db, user, lang.value if lang else None, color.value)


def say_interrupted() -> None:
    """The one line for Ctrl-C, once per command: whether the work had already been saved."""
    from salesselect_cli.render import stderr_line
    from salesselect_cli.session import saving

    state = saving()
    if not state.told:
        state.told = True
        stderr_line(state.interrupted())


def run() -> None:
    """Console-script entry point."""
    app(prog_name="salesselect")
