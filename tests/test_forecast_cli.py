"""Win chances end to end: stage percentages, a deal's own chance, goals and `report forecast`, through
the CLI (CliRunner) and at store level, on either backend."""

from __future__ import annotations

import json

from tests.conftest import add_opp


def err(run) -> str:
    assert run.stderr.startswith("Error: "), run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def stage_rows(ok) -> dict:
    return {r["name"]: r for r in ok("config", "list-stages", "--format", "json").json()}


def test_set_stage_probability_is_listed_exported_and_imported(agency, ok, cli, tmp_path):
    ok("config", "set-probability", "Proposal", "40%")
    stages = stage_rows(ok)
    assert stages["Proposal"]["probability"] == 40
    assert stages["Lead"]["probability"] is None
    assert stages["New client"]["probability"] == 100 and stages["Lost"]["probability"] == 0
    exported = json.loads(ok("config", "export").stdout)
    proposal = next(s for s in exported["stages"] if s["name"] == "Proposal")
    assert proposal["probability"] == 40
    ok("config", "set-probability", "Proposal", "none")
    assert stage_rows(ok)["Proposal"]["probability"] is None
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(exported))
    ok("config", "import", str(path))
    assert stage_rows(ok)["Proposal"]["probability"] == 40
    log = ok("log", "--format", "json").json()
    assert any("Proposal probability" in str(entry) for entry in log)


def test_set_stage_probability_refusals_change_nothing(agency, ok, cli):
    run = cli("config", "set-probability", "New client", "30")
    assert run.exit_code == 1 and "fixed at 100%" in err(run)
    run = cli("config", "set-probability", "Proposal", "140")
    assert run.exit_code == 1 and "0 to 100" in err(run)
    run = cli("config", "set-probability", "Propsal", "40")
    assert run.exit_code == 1 and "valid: Proposal" in err(run)
    run = cli("config", "set-probability", "Proposal", "40", env={"SALESSELECT_USER": "bob"})
    assert run.exit_code == 3
    assert stage_rows(ok)["Proposal"]["probability"] is None


def test_import_refuses_a_bad_stage_probability(agency, ok, cli, tmp_path):
    exported = json.loads(ok("config", "export").stdout)
    exported["stages"][0]["probability"] = 101
    path = tmp_path / "setup.json"
    path.write_text(json.dumps(exported))
    run = cli("config", "import", str(path))
    assert run.exit_code == 1 and "probability must be a whole number" in err(run)
