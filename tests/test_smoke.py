from tests.conftest import add_opp


def test_setup_and_a_deal(agency, ok, cli):
    opp = add_opp(ok, "Warehouse staff", "Acme", "Staffing", "HubSpot", "--value", "12.000,50", "--close", "tomorrow")
    record = ok("opp", "show", opp, "--format", "json").json()
    assert record["value"] == "12000.50"
    assert record["indicator"] == "red"
    run = cli("opp", "lose", opp, "--reason", "Good price")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: reason 'Good price' is a won reason")


def test_the_version_is_the_packages():
    """`salesselect --version` says what pyproject.toml ships: one version, in both places."""
    import re
    from pathlib import Path

    from salesselect_cli import __version__

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == __version__ == "0.2.0"
