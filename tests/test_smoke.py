from tests.conftest import add_opp


def test_setup_and_a_deal(agency, ok, cli):
    opp = add_opp(ok, "Warehouse staff", "Acme", "Staffing", "HubSpot", "--value", "12.000,50", "--close", "tomorrow")
    record = ok("opp", "show", opp, "--format", "json").json()
    assert record["value"] == "12000.50"
    assert record["indicator"] == "red"
    run = cli("opp", "lose", opp, "--reason", "Good price")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: reason 'Good price' is a won reason")
