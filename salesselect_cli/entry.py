"""The console script: a Tab press is answered before Typer and the commands are imported, when it can be.

Completion asks the program on every Tab; importing Typer alone takes about 0.2 s, the whole app twice that.
`completion.fast` answers names and ids from the database without either; anything else runs the app.
"""

import os


def run() -> None:
    if os.environ.get("_SALESSELECT_COMPLETE"):
        from salesselect_cli.completion import fast

        if fast():
            return
    from salesselect_cli.main import run as run_app

    run_app()
