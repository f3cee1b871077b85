"""examples/: the scripted setup equals setup.json, the HubSpot file imports, the hook logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SETUP_JSON

EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent  # the venv the tests run in: `salesselect` is installed beside python
HUBSPOT_IMPORT = [
    "import", str(EXAMPLES / "leads-hubspot.csv"), "--source", "HubSpot",
    "--map", "Deal Name=title", "--map", "Associated Company=company", "--map", "Deal Stage=stage",
    "--map", "Amount=value", "--map", "Close Date=expected_close", "--map", "Deal Type=business_type",
]


def run_script(tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("SALESSELECT", None)
    return subprocess.run(["bash", str(EXAMPLES / "setup-agency.sh")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_setup_agency_script_builds_the_setup_of_setup_json(ok, monkeypatch, tmp_path):
    assert (BIN / "salesselect").exists(), "install the project into the test venv (pip install -e .)"
    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "scripted.db"))
    ok("init")
    done = run_script(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr
    assert done.stdout.startswith("The setup is complete")
    scripted = ok("config", "export").json()

    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "imported.db"))
    ok("init")
    ok("config", "import", str(SETUP_JSON))
    assert scripted == ok("config", "export").json()


def test_setup_agency_script_stops_at_the_first_error(ok, monkeypatch, tmp_path):
    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "twice.db"))
    ok("init")
    ok("config", "import", str(SETUP_JSON))
    again = run_script(tmp_path)
    assert again.returncode == 1
    assert again.stderr.splitlines()[-1] == "Error: business type 'Staffing' already exists"
    assert again.stderr.count("Error") == 1


def test_the_hubspot_leads_import_with_the_documented_command(agency):
    ok = agency
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert '--map "Deal Name=title" --map "Associated Company=company" --map "Deal Stage=stage"' in readme
    run = ok(*HUBSPOT_IMPORT)
    assert "Imported 6 opportunities." in run.stderr
    assert "Ignored columns: Record ID, Pipeline" in run.stderr
    opps = {o["title"]: o for o in ok("export", "--format", "json").json()}
    care = opps["Care assistants for the winter"]
    assert (care["company"], care["stage"], care["value"], care["expected_close"], care["contact"]) == (
        "Zorggroep Noord", "Introduction", "42000.00", "2027-01-15", "Lucas Bakker")
    assert {o["source"] for o in opps.values()} == {"HubSpot"}
    assert opps["Volume deal regional offices"]["business_type"] == "Agencies"


def test_the_hook_appends_one_line_per_event(tmp_path):
    log = tmp_path / "events.log"
    env = {**os.environ, "SALESSELECT_HOOK_LOG": str(log)}
    event = {"trigger": "stage", "user": "anna", "time": "2026-11-27 10:00:00",
             "before": {"id": 7, "title": "5 drivers", "company": "Acme", "stage": "Lead", "status": "open"},
             "after": {"id": 7, "title": "5 drivers", "company": "Acme", "stage": "Proposal", "status": "open"}}
    hook = [sys.executable, str(EXAMPLES / "hooks" / "log-event.py")]
    for _ in range(2):
        done = subprocess.run(hook, input=json.dumps(event), env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines == ["2026-11-27 10:00:00\tanna\tstage\t#7 5 drivers (Acme)\tstage Lead -> Proposal"] * 2
    bad = subprocess.run(hook, input="not json", env=env, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "not JSON" in bad.stderr
    assert len(log.read_text(encoding="utf-8").splitlines()) == 2
