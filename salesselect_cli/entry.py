"""The console script: a Tab press and `--version` are answered before Typer and the commands are imported,
when they can be.

Completion asks the program on every Tab; importing Typer alone takes about 0.1 s, the whole app twice that.
`completion.fast` answers names and ids from the database without either; `--version` needs neither (argv.py
says when a line asks for nothing else). Anything else runs the app.
"""

import os
import sys


def run() -> None:
    from salesselect_cli.session import run_command

    run_command(_guarded)  # one command's language and settings, up to its last line


def _guarded() -> None:
    skip_the_collection_at_exit()
    if sys.stdout is None:  # started with stdout closed (`>&-`): its output goes nowhere, as Typer's echo does
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    try:
        try:
            _run()
        finally:  # what is still buffered is written now, where a failure can still be reported
            if sys.stdout is not None:
                sys.stdout.flush()
    except KeyboardInterrupt:  # Ctrl-C while the app is still being imported: nothing has started
        from salesselect_cli import i18n
        from salesselect_cli.argv import lang_option

        i18n.configure(lang_option(sys.argv[1:]))
        sys.stderr.write(i18n._("Interrupted; nothing was changed.") + "\n")
        sys.exit(130)
    except BrokenPipeError:  # `salesselect --help | head -1`: the reader has what it wanted
        _drop_stdout()
    except OSError as exc:  # stdout on a full disk or a broken device (commands report theirs in main)
        from salesselect_cli.errors import output_failed

        _drop_stdout()
        sys.stderr.write(output_failed(exc) + "\n")
        sys.exit(1)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit has nothing to fail on."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def _run() -> None:
    if os.environ.get("_SALESSELECT_COMPLETE"):
        from salesselect_cli.completion import fast

        if fast():
            return
    args = sys.argv[1:]
    from salesselect_cli.argv import only_version

    if only_version(args):
        print_version(args)
        return
    from salesselect_cli.main import run as run_app

    try:
        run_app()
    finally:
        _ignore_ctrl_c()


def _ignore_ctrl_c() -> None:
    """The command has said what it did: a Ctrl-C while the process ends interrupts nothing. Python's own
    handler would be reset to the default late in the interpreter's exit, and that Ctrl-C would kill the
    process by signal instead of letting it end with the command's exit code; an ignored one stays ignored."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread of its interpreter: the host's Ctrl-C is its own
        pass


def print_version(args: list[str]) -> None:
    """What `salesselect --version` prints (main._version), in the language --lang or the environment asks."""
    from salesselect_cli import __version__, i18n
    from salesselect_cli.argv import lang_option

    i18n.configure(lang_option(args))
    if sys.stdout is None:  # stdout closed (`>&-`): nothing to write to, as click.echo does
        return
    sys.stdout.write(i18n._("salesselect {version}").format(version=__version__) + "\n")
    sys.stdout.flush()


def skip_the_collection_at_exit() -> None:
    """At exit Python collects garbage once more, going through every object of the ~300 modules a command
    loaded: 15-25 ms of a 200 ms command. Nothing needs it (the store, outputs and hooks close what they open;
    stdout and stderr are flushed either way), so at exit everything still alive is frozen out of it
    (gc.freeze). While the command runs, garbage is collected as usual."""
    import atexit
    import gc

    atexit.register(gc.freeze)
