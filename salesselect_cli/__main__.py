from salesselect_cli.entry import run

run()
