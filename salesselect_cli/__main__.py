from salesselect_cli.main import run

run()
