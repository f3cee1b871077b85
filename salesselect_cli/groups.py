"""A sub-app (`opp`, `config`, ...) as a click group that builds a command only when it is used.

typer.main.get_group builds every command of a sub-app (their parameters, from the function signatures) on
every call: `config show` built all 33 of config's commands (about 14 ms) to run one. `lazy_group` builds
the group itself as Typer does (its help, options, no_args_is_help) with its commands as a `Commands`
mapping: every name is there (listings, "No such command ... Did you mean", completion), a command is built
the first time it is looked up. Help lists them all, so help still builds them all.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from functools import partial

import typer
from typer.core import TyperCommand, TyperGroup


class Commands(MutableMapping):
    """A group's commands by name, in the order the sub-app declared them; each built when first looked up."""

    def __init__(self, makers: dict):
        self._makers = dict(makers)
        self._built: dict = {}
        self._hooks: list = []

    def __getitem__(self, name: str):
        if name not in self._built:
            command = self._makers[name]()  # KeyError for a name that is not there, as a dict
            self._built[name] = command
            for hook in self._hooks:
                hook(command)
        return self._built[name]

    def __setitem__(self, name: str, command) -> None:
        self._makers.setdefault(name, None)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._makers[name]
        self._built.pop(name, None)

    def __iter__(self):
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __contains__(self, name) -> bool:
        return name in self._makers

    def when_built(self, hook) -> None:
        """Call `hook(command)` on every command built so far and on each one built later (once per hook)."""
        if hook not in self._hooks:
            self._hooks.append(hook)
        for command in list(self._built.values()):
            hook(command)

    def built(self) -> list:
        return list(self._built.values())

    def built_names(self):
        return self._built.keys()


UsageError = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")


class UnknownCommand(UsageError):
    """A command name the group does not have, with the close ones (as Typer suggests them)."""

    def __init__(self, ctx, name: str, close: list[str]):
        super().__init__(f"No such command {name!r}.", ctx)
        self.name, self.close = name, close


class ExtraArguments(UsageError):
    """Words after a command's last argument."""

    def __init__(self, ctx, arguments: list[str]):
        super().__init__(f"Got unexpected extra argument(s) ({' '.join(arguments)})", ctx)
        self.arguments = arguments


def remember_args(ctx, args: list[str]) -> None:
    """The words a command received, kept in the context (click's ctx.meta is for extensions): a usage error
    then names the value that was refused (helptext.given_value)."""
    ctx.meta[("salesselect.args", id(ctx))] = list(args)


def parsed(command_class, command, ctx, args: list[str]) -> list[str]:
    """`command_class.parse_args` with the words remembered, and the parser's own errors (an option without its
    value, an unknown option) told which command they are about."""
    remember_args(ctx, args)
    try:
        return super(command_class, command).parse_args(ctx, args)
    except UsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx
        raise


def refuse_unknown(group, ctx, args: list[str]) -> None:
    """Raise UnknownCommand when the first word names no command of `group` (options are left to the parser)."""
    if not args or args[0].startswith("-") or ctx.resilient_parsing or group.get_command(ctx, args[0]) is not None:
        return
    from difflib import get_close_matches

    close = get_close_matches(args[0], list(group.list_commands(ctx))) if group.suggest_commands else []
    raise UnknownCommand(ctx, args[0], close)


def root_options_after_the_command(command, ctx, args: list[str]) -> list[str]:
    """--db, --user, --lang and --color after the command act as before it: taken out of the command's words
    and applied to the root (its callback has run with what came before the command)."""
    from salesselect_cli.argv import take_root_options

    own = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    args, given = take_root_options(args, own)
    root = ctx.find_root()
    if given and root is not ctx:
        from salesselect_cli.context import apply_root_options

        missing = next((name for name, value in given if value is None), None)
        if missing is not None:  # said as `salesselect --db` says it
            from typer._click.exceptions import BadOptionUsage  # Typer's own click (the brief: never click's)

            raise BadOptionUsage(missing, missing, ctx=root)

        try:
            apply_root_options(root, given)
        except UsageError as exc:
            if exc.ctx is None:
                exc.ctx = ctx
            raise
    return args


class Command(TyperCommand):
    """A command whose help screen the project draws (helpscreen.py); built by Typer (`cls=` of its command)."""

    def format_help(self, ctx, formatter) -> None:
        from salesselect_cli.helpscreen import draw

        draw(self, ctx)

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        args = root_options_after_the_command(self, ctx, args)
        allowed, ctx.allow_extra_args = ctx.allow_extra_args, True  # extra words are refused below, by name
        try:
            rest = parsed(Command, self, ctx, args)
        finally:
            ctx.allow_extra_args = allowed
        if rest and not allowed and not ctx.resilient_parsing:
            raise ExtraArguments(ctx, [str(word) for word in rest])
        return rest


class LazyGroup(TyperGroup):
    """A TyperGroup over `Commands`: it lists every command without building one.

    Its help lists each command by the first paragraph of its help: while the help is drawn, a command not
    built yet is looked up as a stand-in that carries only what that list shows (`listed`), as the root does.
    """

    _listing = False
    listed: dict = {}  # name -> the stand-in's attributes (lazy_group fills it)

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx, cmd_name: str):
        if self._listing and cmd_name in self.listed and cmd_name not in self.commands.built_names():
            from salesselect_cli.helptext import reflow

            name, help_, attributes = self.listed[cmd_name]
            return Command(name=name, help=reflow(help_()), **attributes)  # help as tidy leaves it
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        return parsed(LazyGroup, self, ctx, args)

    def resolve_command(self, ctx, args):
        refuse_unknown(self, ctx, args)
        return super().resolve_command(ctx, args)

    def format_help(self, ctx, formatter) -> None:
        from salesselect_cli.helpscreen import draw

        self._listing = True  # a group run without a command shows its help from here too (NoArgsIsHelpError)
        try:
            draw(self, ctx)
        finally:
            self._listing = False


def lazy_group(app: typer.Typer, info=None, *, settings: dict | None = None) -> LazyGroup:
    """The click group of sub-app `app` (`info`: how a parent added it, add_typer(..., name=...))."""
    from typer.main import get_command_from_info, get_command_name, get_group_from_info, solve_typer_info_defaults
    from typer.models import TyperInfo

    settings = settings or {"pretty_exceptions_short": app.pretty_exceptions_short,
                            "rich_markup_mode": app.rich_markup_mode, "suggest_commands": app.suggest_commands}
    shell = copy.copy(app)  # the group without its commands: Typer builds its help, options and settings
    shell.registered_commands, shell.registered_groups = [], []
    shell_info = copy.copy(info) if info is not None else TyperInfo(shell)
    shell_info.typer_instance, shell_info.cls = shell, LazyGroup
    group = get_group_from_info(shell_info, **settings)
    makers, listed = {}, {}
    command_settings = {key: settings[key] for key in ("pretty_exceptions_short", "rich_markup_mode")}
    for command_info in app.registered_commands:
        name = command_info.name or get_command_name(command_info.callback.__name__)
        drawn_by_us = copy.copy(command_info)  # Typer builds it as our Command unless it names a class of its own
        drawn_by_us.cls = Command if command_info.cls in (None, TyperCommand) else command_info.cls
        makers[name] = partial(get_command_from_info, drawn_by_us, **command_settings)
        listed[name] = (name, partial(_command_help, command_info), {
            "short_help": command_info.short_help, "hidden": command_info.hidden,
            "deprecated": command_info.deprecated, "rich_help_panel": command_info.rich_help_panel})
    for sub_info in app.registered_groups:
        solved = solve_typer_info_defaults(sub_info)
        name = solved.name
        assert name, "every sub-app is added with a name"
        makers[name] = partial(lazy_group, sub_info.typer_instance, sub_info, settings=settings)
        listed[name] = (name, lambda solved=solved: solved.help, {
            "short_help": solved.short_help, "hidden": solved.hidden, "deprecated": solved.deprecated,
            "rich_help_panel": solved.rich_help_panel})
    group.commands = Commands(makers)
    group.listed = listed
    return group


def _command_help(command_info) -> str | None:
    """A command's help as typer.main.get_command_from_info finds it."""
    import inspect

    if command_info.help is None:
        return inspect.getdoc(command_info.callback)
    return inspect.cleandoc(command_info.help)
