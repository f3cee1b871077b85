"""The command tree, registered once: the top-level commands, the root's options and what each named option
takes. Help (metavars, the lazy command list), completion (its fast path), the console script's early
`--version` answer and the lazy groups all read it; tests check it against the click tree Typer builds.

Imports nothing heavy (no Typer): the console script reads it before deciding whether Typer is needed.
"""

from __future__ import annotations

from salesselect_cli.i18n import N_

# Every top-level command: (module in salesselect_cli.commands, its Typer app or command function, the
# line `salesselect --help` shows). Only the invoked one is imported and built; tests check the lines.
COMMANDS = {
    "init": ("config", "init", N_("Create the database; you become its first key user and the module is switched on.")),
    "board": ("board", "board",
              N_("Show the agency's open opportunities as a Kanban board: stages as columns, the most urgent cards on top.")),
    "import": ("io", "import_", N_("Import opportunities from CSV: all rows or none.")),
    "export": ("io", "export",
               N_("Export opportunities (all statuses by default) as CSV or JSON; `import` reads the CSV back.")),
    "backup": ("io", "backup", N_("Copy the whole database to FILE: a consistent snapshot, even while others keep working.")),
    "config": ("config", "app", N_("Set up the agency: the five settings lists and the module switch.")),
    "user": ("user", "app", N_("Manage users and key users (key users only).")),
    "opp": ("opp", "app", N_("Opportunities (sales items): the deals in the pipeline.")),
    "followup": ("followup", "app", N_("Follow-ups: dated to-dos on opportunities.")),
    "report": ("report", "app",
               N_("Reports for managers: why deals are won and lost, which sources pay off, the pipeline, the funnel.")),
    "goal": ("goal", "app", N_("Goals: what each owner is to win in a period (managers and key users set them).")),
    "workflow": ("workflow", "app", N_("Workflows: actions that run when an opportunity's stage or status changes.")),
    "log": ("log", "log",
            N_("Who changed what and when, newest first: deal changes and setup changes (config, users, workflows).")),
    "undo": ("undo", "undo", N_("Take back your last change to a deal; again to go one further back.")),
    "db": ("db", "app", N_("The database itself: copy a whole agency to another database.")),
}

COMPLETE_VAR = "_SALESSELECT_COMPLETE"  # what Typer's completion scripts set for the program `salesselect`

# The root's options (main.root): the ones that take a value, and the flags acted on before any command
ROOT_VALUE_OPTIONS = ("--db", "--user", "--lang", "--color")
ROOT_FLAGS = ("--version",)

# The database lists a value can come from (completion), by the word help shows for an argument
KIND_BY_METAVAR = {"STAGE": "stages", "TYPE": "business_types", "SOURCE": "sources", "REASON": "reasons",
                   "USER": "users", "ID": "open_ids"}

# What an option takes, by its long name without --: the word help shows (unless the option names its own
# metavar), and the database list that completes it in every command (None: not completed)
VALUES = {
    "user": ("NAME", "users"), "owner": ("NAME", "users"), "user-for": ("USER", "users"),
    "name": ("NAME", None), "reassign-to": ("NAME", None),
    "to": ("DATE", None), "from": ("DATE", None), "close": ("DATE", None), "due": ("DATE", None),
    "close-before": ("DATE", None), "close-after": ("DATE", None),
    "type": ("TYPE", "business_types"), "business-type": ("TYPE", "business_types"),
    "link": ("TYPE", "business_types"), "unlink": ("TYPE", "business_types"),
    "stage": ("STAGE", "stages"), "to-stage": ("STAGE", "stages"), "from-stage": ("STAGE", "stages"),
    "closed-from": ("STAGE", "stages"),
    "source": ("SOURCE", "sources"), "reason": ("REASON", "reasons"), "opp": ("ID", "open_ids"),
    "color": ("COLOUR", None), "colour": ("COLOUR", None), "output": ("FILE", None), "db": ("PATH", None),
    "value": ("AMOUNT", None), "period": ("PERIOD", None), "search": ("TEXT", None), "note": ("TEXT", None),
    "text": ("TEXT", None),
}
# short forms that mean the same long option wherever they are used
SHORT = {"-t": "type", "-s": "source", "-r": "reason"}

# Commands whose positionals complete from the database, in order (tests check them against the click tree)
POSITIONALS = {
    ("opp", "show"): ["open_ids"], ("opp", "edit"): ["open_ids"], ("opp", "move"): ["open_ids", "stages"],
    ("opp", "win"): ["open_ids"], ("opp", "lose"): ["open_ids"], ("opp", "delete"): ["open_ids"],
    ("followup", "add"): ["open_ids"], ("workflow", "test"): ["open_ids"],
    ("config", "edit-stage"): ["stages"], ("config", "set-probability"): ["stages"],
    ("config", "remove-stage"): ["stages"],
    ("config", "move-stage"): ["stages"], ("config", "link-stage"): ["stages", "business_types"],
    ("config", "unlink-stage"): ["stages", "business_types"],
    ("config", "edit-business-type"): ["business_types"], ("config", "remove-business-type"): ["business_types"],
    ("config", "rename-source"): ["sources"], ("config", "remove-source"): ["sources"],
    ("config", "edit-reason"): ["reasons"], ("config", "remove-reason"): ["reasons"],
    ("user", "remove"): ["users"], ("user", "set-key-user"): ["users"],
    ("goal", "set"): ["users"], ("goal", "remove"): ["users"],
}
# Commands whose ID is not an open deal's (a closed one to reopen, a deleted one to restore): not completed
NOT_COMPLETED = (("opp", "reopen"), ("opp", "restore"))

# Options whose list depends on the command (--reassign-to takes what is being removed)
COMMAND_OPTIONS = {
    ("config", "remove-business-type"): {"--reassign-to": "business_types"},
    ("config", "remove-stage"): {"--reassign-to": "stages"},
    ("config", "remove-source"): {"--reassign-to": "sources"},
    ("config", "remove-reason"): {"--reassign-to": "reasons"},
    ("user", "remove"): {"--reassign-to": "users"},
}


def metavars() -> dict[str, str]:
    """Option name (without --) -> the word help shows for its value (helptext.metavar_for)."""
    return {name: metavar for name, (metavar, _) in VALUES.items()}


def completed_options() -> dict[str, str]:
    """Option as typed ('--stage', '-t') -> the database list that completes its value (completion's fast path)."""
    found = {f"--{name}": kind for name, (_, kind) in VALUES.items() if kind}
    found.update({short: VALUES[name][1] for short, name in SHORT.items()})
    return found


def user_options() -> tuple[str, ...]:
    """The options that take a user's name (they complete from the users whatever their metavar says)."""
    return tuple(f"--{name}" for name, (_, kind) in VALUES.items() if kind == "users")
