"""`import` and `export`: mapping, defaults, dry runs, encodings, all-or-nothing, round trips."""

from __future__ import annotations

import csv
import io
import json

import pytest

from salesselect_cli.rules import importing
from salesselect_cli.store import OPPORTUNITY_KEYS
from tests.conftest import SETUP_JSON, TODAY, add_opp


def write(tmp_path, text: str, name: str = "leads.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def all_opps(ok) -> list[dict]:
    return ok("opp", "list", "--status", "all", "--format", "json").json()


# ---------------------------------------------------------------- mapping and defaults


def test_headers_named_like_fields_map_themselves_case_insensitively(agency, tmp_path):
    ok = agency
    path = write(tmp_path, "TITLE,Company,Business Type,source,Value,Close,Owner,Contact,Vacancy\n"
                           "5 drivers,Acme,Staffing,LinkedIn,\"12,000.50\",15-12-2026,bob,Eva,V-12\n")
    run = ok("import", path)
    assert "Imported 1 opportunity." in run.stderr
    [opp] = all_opps(ok)
    assert (opp["title"], opp["company"], opp["business_type"], opp["source"]) == ("5 drivers", "Acme", "Staffing", "LinkedIn")
    assert (opp["value"], opp["expected_close"], opp["owner"]) == ("12000.50", "2026-12-15", "bob")
    assert (opp["contact"], opp["vacancy"], opp["stage"], opp["status"]) == ("Eva", "V-12", "Lead", "open")
    assert opp["created"] == TODAY.isoformat()


def test_map_options_and_ignored_columns(agency, tmp_path):
    ok = agency
    path = write(tmp_path, "Record ID,Deal Name,Company Name,Amount,Deal Stage,Pipeline\n"
                           "901,Payroll team,Beta BV,8000,Proposal,default\n")
    run = ok("import", path, "--map", "Deal Name=title", "--map", "company name=company",
             "--map", "Deal Stage=stage", "--type", "Agencies", "--source", "HubSpot")
    assert "Ignored columns: Record ID, Pipeline" in run.stderr
    [opp] = all_opps(ok)
    assert (opp["title"], opp["company"], opp["value"], opp["stage"]) == ("Payroll team", "Beta BV", "8000.00", "Proposal")
    assert (opp["business_type"], opp["source"], opp["owner"]) == ("Agencies", "HubSpot", "anna")


def test_defaults_fill_absent_columns_and_empty_cells(agency, tmp_path):
    ok = agency
    path = write(tmp_path, "title,company,type\nA,Acme,\nB,Beta,Staffing\n")
    ok("import", path, "--type", "Agencies", "--source", "Google", "--stage", "Introduction", "--owner", "kim")
    opps = {o["title"]: o for o in all_opps(ok)}
    assert opps["A"]["business_type"] == "Agencies"
    assert opps["B"]["business_type"] == "Staffing"
    assert {o["stage"] for o in opps.values()} == {"Introduction"}
    assert {o["source"] for o in opps.values()} == {"Google"}
    assert {o["owner"] for o in opps.values()} == {"kim"}


def test_missing_required_columns_and_bad_maps_are_refused(agency, cli, tmp_path):
    path = write(tmp_path, "title,type,source\nA,Staffing,Google\n")
    run = cli("import", path)
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: no column for company;")
    path = write(tmp_path, "title,company\nA,Acme\n")
    run = cli("import", path, "--source", "Google")
    assert "no column for business_type" in run.stderr and "--type" in run.stderr
    run = cli("import", path, "--type", "Staffing", "--source", "Google", "--map", "title=colour")
    assert "'colour' is not a field" in run.stderr
    run = cli("import", path, "--type", "Staffing", "--source", "Google", "--map", "Deal=title")
    assert "no column 'deal' in the header" in run.stderr
    run = cli("import", path, "--type", "Staffng", "--source", "Google")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: unknown business type 'Staffng'; valid: Staffing")
    assert all_opps(agency) == []


def test_dry_run_shows_the_summary_and_writes_nothing(agency, tmp_path):
    ok = agency
    path = write(tmp_path, "title,company,type,source,stage,value,status,reason\n"
                           "A,Acme,Staffing,Google,Proposal,1000,,\n"
                           "B,Beta,Staffing,Google,Proposal,2500.50,,\n"
                           "C,Core,Agencies,Google,Proposal,300,lost,Too expensive\n")
    run = ok("import", path, "--dry-run", "--format", "json")
    assert run.json() == [
        {"business_type": "Staffing", "stage": "Proposal", "status": "open", "count": 2, "value": "3500.50"},
        {"business_type": "Agencies", "stage": "Lost", "status": "lost", "count": 1, "value": "300.00"},
    ]
    assert "Dry run: 3 opportunities would be imported; nothing was written." in run.stderr
    assert all_opps(ok) == []
    table = ok("import", path, "--dry-run")
    assert "Would import" in table.stdout and "€3,500.50" in table.stdout
    assert all_opps(ok) == []


# ---------------------------------------------------------------- encodings and separators


def test_utf8_bom_and_semicolon_files_from_dutch_excel(agency, tmp_path):
    ok = agency
    text = "Titel;company;type;source;value;close\r\nZorg één;Ünited;Staffing;Referral;12.000,50;31-12-2026\r\n"
    path = write(tmp_path, "\ufeff" + text.replace("Titel", "title"), "excel.csv")
    ok("import", path)
    [opp] = all_opps(ok)
    assert (opp["title"], opp["company"], opp["value"], opp["expected_close"]) == (
        "Zorg één", "Ünited", "12000.50", "2026-12-31")


def test_stdin_and_non_utf8_files(agency, cli, tmp_path):
    run = agency("import", "-", "--type", "Staffing", "--source", "Google", input="title,company\nA,Acme\n")
    assert "Imported 1 opportunity." in run.stderr
    path = write(tmp_path, "title,company\nB,Café\n", "latin.csv", encoding="latin-1")
    run = cli("import", path, "--type", "Staffing", "--source", "Google")
    assert run.exit_code == 1
    assert "is not UTF-8 (line 2)" in run.stderr
    assert len(all_opps(agency)) == 1


def test_empty_and_header_only_files_are_refused(agency, cli, tmp_path):
    run = cli("import", write(tmp_path, ""), "--type", "Staffing", "--source", "Google")
    assert run.exit_code == 1 and "is empty" in run.stderr
    run = cli("import", write(tmp_path, "title,company\n\n"), "--type", "Staffing", "--source", "Google")
    assert run.exit_code == 1 and "no rows to import" in run.stderr


# ---------------------------------------------------------------- all or nothing


def test_a_bad_row_refuses_the_whole_file_with_its_line_number(agency, cli, tmp_path):
    rows = "".join(f"Deal {n},Acme,Staffing,Google,Proposal\n" for n in range(2, 7))
    path = write(tmp_path, "title,company,type,source,stage\n" + rows + "Deal 7,Acme,Staffing,Google,Proposl\n")
    run = cli("import", path)
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ")
    assert "unknown stage 'Proposl' (1 row, line 7); valid: Proposal, " in run.stderr
    assert "Nothing was imported; add --map-value 'stage:Proposl=Proposal'" in run.stderr
    assert run.stdout == ""
    assert all_opps(agency) == []


def test_line_numbers_count_physical_lines_and_skip_blank_ones(agency, cli, tmp_path):
    path = write(tmp_path, 'title,notes,company,type,source,value\nA,"two\nlines",Acme,Staffing,Google,1\n\nB,,Beta,Staffing,Google,ten\n')
    run = cli("import", path)
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: line 5: value must be a number")


@pytest.mark.parametrize("row, message", [
    ("A,Acme,Staffing,Google,Proposal,lost,,,", "line 2: a lost opportunity needs a lost reason"),
    ("A,Acme,Staffing,Google,Proposal,lost,Good price,,", "line 2: reason 'Good price' is a won reason, not a lost reason"),
    ("A,Acme,Staffing,Google,Proposal,open,Good price,,", "line 2: reason 'Good price' given for an open opportunity"),
    ("A,Acme,Staffing,Google,Lost,won,,,", "line 2: stage 'Lost' marks opportunities lost, but the status is won"),
    ("A,Acme,Staffing,Google,Proposal,done,,,", "unknown status 'done' (1 row, line 2); valid: open, won, lost"),
    ("A,Acme,Staffing,Google,Framework agreement,,,,", "line 2: stage 'Framework agreement' is not a stage of business type 'Staffing'"),
    ("A,Acme,Staffing,Google,Proposal,,,2027-01-01,", "line 2: created date 2027-01-01 is in the future"),
    ("A,Acme,Staffing,Google,Proposal,won,,2026-06-01,2026-05-01", "line 2: closed date 2026-05-01 is before the created date"),
    ("A,Acme,Staffing,Google,Proposal,,,,2026-05-01", "line 2: closed date 2026-05-01 given for an open opportunity"),
    ("A,Acme,Staffing,Gogle,Proposal,,,,", "unknown source 'Gogle' (1 row, line 2); valid: Google"),
    ("A,Acme,Staffing,Google,Proposal,,,,,extra", "line 2: 10 cells, but the header has 9 columns"),
    (",Acme,Staffing,Google,Proposal,,,,", "line 2: title must not be empty"),
])
def test_row_errors_name_the_line_and_the_reason(agency, cli, tmp_path, row, message):
    path = write(tmp_path, "title,company,type,source,stage,status,reason,created,closed\n" + row + "\n")
    run = cli("import", path)
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: ") and message in run.stderr.splitlines()[0], run.stderr
    assert all_opps(agency) == []


def test_closed_deals_import_closed_with_their_history(agency, tmp_path):
    ok = agency
    path = write(tmp_path, "title,company,type,source,stage,status,reason,created,closed\n"
                           "Lost one,Acme,Staffing,Google,Proposal,lost,too expensive,2026-03-01,2026-04-15\n"
                           "Won one,Beta,Agencies,LinkedIn,New client,,Good price,2026-02-01,2026-05-01\n")
    ok("import", path)
    opps = {o["title"]: o for o in all_opps(ok)}
    lost = opps["Lost one"]
    assert (lost["stage"], lost["status"], lost["reason"], lost["closed"]) == ("Lost", "lost", "Too expensive", "2026-04-15")
    won = opps["Won one"]
    assert (won["stage"], won["status"], won["reason"], won["created"]) == ("New client", "won", "Good price", "2026-02-01")
    shown = ok("opp", "show", lost["id"], "--format", "json").json()
    assert [(h["at"][:10], h["field"], h["from_value"], h["to_value"]) for h in shown["history"]] == [
        ("2026-03-01", "created", None, "Proposal"),
        ("2026-04-15", "stage", "Proposal", "Lost"),
        ("2026-04-15", "status", "open", "lost (Too expensive)"),
    ]
    assert ok("opp", "show", lost["id"]).stdout.count("closed from Proposal") == 1


# ---------------------------------------------------------------- export


def test_export_csv_has_every_status_and_the_spec_columns(agency, tmp_path):
    ok = agency
    add_opp(ok, "Open deal", "Acme", "Staffing", "Google", "--value", "1000")
    won = add_opp(ok, "Won deal", "Beta", "Agencies", "LinkedIn")
    ok("opp", "win", won, "--reason", "Good price")
    run = ok("export")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert list(rows[0].keys()) == list(OPPORTUNITY_KEYS) + ["closed_from", "notes", "external_key", "probability",
                                                               "probability_basis"]
    assert {r["title"]: r["status"] for r in rows} == {"Open deal": "open", "Won deal": "won"}
    ok("export", "--output", str(tmp_path / "out.csv"))
    assert (tmp_path / "out.csv").read_bytes().endswith(b",none,,Lead,,,100,stage\r\n")  # RFC 4180 line ends
    assert [r["title"] for r in csv.DictReader(io.StringIO(ok("export", "--status", "won").stdout))] == ["Won deal"]
    assert [r["title"] for r in csv.DictReader(io.StringIO(ok("export", "--type", "Staffing").stdout))] == ["Open deal"]


def test_export_json_to_a_file_and_formula_safe_csv(agency, tmp_path, cli):
    ok = agency
    add_opp(ok, "=HYPERLINK(\"http://x\")", "@Acme", "Staffing", "Google", "--contact", "-Eva")
    out = tmp_path / "out.json"
    run = ok("export", "--format", "json", "--output", str(out))
    assert run.stdout == ""
    assert "Exported 1 opportunity to" in run.stderr
    [record] = json.loads(out.read_text(encoding="utf-8"))
    assert list(record) == list(OPPORTUNITY_KEYS) + ["closed_from", "notes", "external_key", "probability",
                                                     "probability_basis"]
    assert record["title"] == "=HYPERLINK(\"http://x\")"
    [row] = list(csv.DictReader(io.StringIO(ok("export").stdout)))
    assert (row["title"], row["company"], row["contact"]) == ("'=HYPERLINK(\"http://x\")", "'@Acme", "'-Eva")
    bad = cli("export", "--stage", "Proposl")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: unknown stage 'Proposl'")
    assert cli("export", "--format", "xml").exit_code == 2


def test_export_of_an_empty_database_is_a_header(agency):
    assert agency("export").stdout.splitlines() == [",".join(OPPORTUNITY_KEYS + (
        "closed_from", "notes", "external_key", "probability", "probability_basis"))]
    assert agency("export", "--format", "json").json() == []


def comparable(rows: list[dict]) -> list[dict]:
    # the chance is derived from the stage history, which an import does not replay
    derived = ("id", "next_followup", "probability", "probability_basis")
    return [{k: v for k, v in row.items() if k not in derived} for row in rows]


def test_export_reimports_into_a_fresh_database_as_it_was(agency, tmp_path, monkeypatch):
    ok = agency
    a = add_opp(ok, "=SUM(A1)", "Acme, Inc.", "Staffing", "Google", "--value", "12.000,50", "--close", "+3d",
                "--contact", "Eva \"E\" Jansen", "--vacancy", "V-1", "--owner", "bob")
    ok("opp", "move", a, "Proposal")
    b = add_opp(ok, "Lost deal", "Beta", "Agencies", "LinkedIn", "--close", "-5d")
    ok("opp", "move", b, "Proposal")
    ok("opp", "lose", b, "--reason", "Too expensive")
    c = add_opp(ok, "Won deal", "Core", "Agencies", "Referral", "--value", "500")
    ok("opp", "win", c, "--reason", "Good price")
    add_opp(ok, "Plain", "Dé Firma", "Staffing", "Website", "--close", "tomorrow", "--owner", "kim")
    ok("followup", "add", a, "tomorrow", "Call Eva")
    ok("opp", "edit", a, "--notes", "Prefers calls")
    ok("opp", "edit", a, "--probability", "70")  # a chance of its own: it must survive the round trip
    exported = tmp_path / "export.csv"
    ok("export", "--output", str(exported))
    before = ok("export", "--format", "json").json()
    assert [r["closed_from"] for r in before if r["id"] == b] == ["Proposal"]
    winloss_before = ok("report", "winloss", "--period", "this-month", "--format", "json").json()
    assert ("lost", "Proposal") in {(r["status"], r["stage"]) for r in winloss_before}

    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "fresh.db"))
    ok("init")
    ok("config", "import", str(SETUP_JSON))
    ok("user", "add", "bob")
    ok("user", "add", "kim")
    ok("import", str(exported))
    after = ok("export", "--format", "json").json()
    assert comparable(after) == comparable(before)
    assert len(after) == 4
    assert {r["notes"] for r in after} == {"Prefers calls", None}
    chances = {r["title"]: (r["probability"], r["probability_basis"]) for r in after}
    assert chances["=SUM(A1)"] == (70, "set")  # the deal's own chance came back as its own ...
    assert {basis for title, (_, basis) in chances.items() if title != "=SUM(A1)"} == {"stage"}  # ... no other
    # the round trip keeps what the win/loss report answers
    def without_ids(rows):  # a fresh database numbers the deals anew
        return [{k: v for k, v in row.items() if k != "opportunity_ids"} for row in rows]

    assert without_ids(ok("report", "winloss", "--period", "this-month", "--format", "json").json()) == \
        without_ids(winloss_before)


def test_an_imported_chance_is_the_deals_own_only_when_the_file_says_so(agency, tmp_path):
    ok = agency
    header = "title,company,business_type,source,probability,probability_basis\n"
    rows = ("Set,Acme,Staffing,Google,40,set\nLearned,Acme,Staffing,Google,55,learned\n"
            "Stage,Acme,Staffing,Google,10,stage\nOther CRM,Acme,Staffing,Google,25%,\n")
    (tmp_path / "in.csv").write_text(header + rows, encoding="utf-8")
    ok("import", str(tmp_path / "in.csv"))
    got = {r["title"]: (r["probability"], r["probability_basis"]) for r in ok("opp", "list", "--format", "json").json()}
    assert got["Set"] == (40, "set") and got["Other CRM"] == (25, "set")
    assert got["Learned"][1] == got["Stage"][1] == "stage"  # worked out here again, not frozen


def test_a_bad_imported_chance_names_its_line_and_imports_nothing(agency, cli, tmp_path):
    (tmp_path / "in.csv").write_text("title,company,business_type,source,probability\n"
                                     "Fine,Acme,Staffing,Google,30\nBad,Acme,Staffing,Google,130\n", encoding="utf-8")
    run = cli("import", str(tmp_path / "in.csv"))
    assert run.exit_code == 1
    assert run.stderr == "Error: line 3: probability must be a whole percentage from 0 to 100, not '130'\n"
    assert agency("opp", "list", "--format", "json").json() == []


def test_a_reimport_by_key_sets_and_clears_the_deals_own_chance(agency, tmp_path):
    ok = agency
    path = tmp_path / "in.csv"
    for cell, expected in (("35", (35, "set")), ("", (None, None)), ("60", (60, "set"))):
        path.write_text(f"id_in_crm,title,company,business_type,source,probability\nK1,Deal,Acme,Staffing,Google,{cell}\n",
                        encoding="utf-8")
        ok("import", str(path), "--key", "id_in_crm")
        [record] = ok("opp", "list", "--format", "json").json()
        got = (record["probability"], record["probability_basis"])
        assert got == expected if expected[0] is not None else got[1] == "stage"
    history = [h for h in ok("opp", "show", str(record["id"]), "--format", "json").json()["history"]
               if h["field"] == "probability"]
    assert [(h["from_value"], h["to_value"]) for h in history][-2:] == [("35%", "auto"), ("auto", "60%")]


# ---------------------------------------------------------------- pure rules


def test_own_chance_is_a_set_percentage_only():
    assert importing.own_chance("64", "set") == 64 and importing.own_chance(" 64 % ", "") == 64
    assert importing.own_chance("64", "learned") is None and importing.own_chance("64", "Stage") is None
    assert importing.own_chance("", "set") is None
    with pytest.raises(Exception, match="whole percentage"):
        importing.own_chance("6.5", "set")


def test_delimiter_detection_and_header_normalising():
    assert importing.detect_delimiter("title;company;value") == ";"
    assert importing.detect_delimiter("title,company;x,value") == ","
    assert importing.detect_delimiter('title;"Company, Inc, BV";value') == ";"
    assert importing.normalise_header("  Business  Type ") == "business_type"
    assert importing.normalise_header("expected-close") == "expected_close"


def test_unquote_formula_only_undoes_the_export_guard():
    assert importing.unquote_formula("'=SUM(1)") == "=SUM(1)"
    assert importing.unquote_formula("'-5") == "-5"
    assert importing.unquote_formula("'quoted'") == "'quoted'"
    assert importing.unquote_formula("'") == "'"
    assert importing.unquote_formula("") == ""


def test_build_mapping_prefers_explicit_maps():
    mapping = importing.build_mapping(
        ["Title", "Deal Name", "company", "id", "indicator", "Extra"],
        importing.parse_maps(["Deal Name=title"]), {"business_type": "X", "source": "Y"},
    )
    assert mapping.columns == {"title": 1, "company": 2}
    assert mapping.ignored == ["Title", "Extra"]
    with pytest.raises(Exception, match="twice"):
        importing.build_mapping(["title", "Title"], {}, {"business_type": "X", "source": "Y"})
    with pytest.raises(Exception, match="needs CSV_COLUMN=field"):
        importing.parse_maps(["title"])


def _names() -> importing.Names:
    stage = importing.StageInfo
    lead, proposal = stage(1, "Lead", None, frozenset({1})), stage(2, "Proposal", None, frozenset({1}))
    won, lost = stage(3, "Won", "won", frozenset({1})), stage(4, "Lost", "lost", frozenset({1}))
    stages = [lead, proposal, won, lost]
    return importing.Names(
        business_types={"staffing": (1, "Staffing")}, stages={s.name.casefold(): s for s in stages},
        type_stages={1: stages}, sources={"google": (1, "Google")}, users={"anna": (1, "anna")},
        reasons={("too expensive", "lost"): (9, "Too expensive"), ("good price", "won"): (8, "Good price")},
        stage_names=[s.name for s in stages],
    )


def test_row_parser_closes_deals_like_win_and_lose_do():
    headers = ["title", "company", "stage", "status", "reason", "close", "value"]
    defaults = {"business_type": "staffing", "source": "GOOGLE", "owner": "anna", "stage": None}
    parser = importing.RowParser(_names(), importing.build_mapping(headers, {}, defaults), defaults, TODAY)
    row = parser.parse(2, ["A", "Acme", "proposal", "LOST", "too expensive", "+2w", "1.250,5"])
    assert (row.stage.name, row.closed_from.name, row.status, row.reason_id) == ("Lost", "Proposal", "lost", 9)
    assert (row.expected_close, row.value_cents, row.closed, row.created) == (
        "2026-12-11", 125050, TODAY.isoformat(), TODAY.isoformat())
    row = parser.parse(3, ["B", "Beta", "", "won", "", "", ""])
    assert (row.stage.name, row.closed_from, row.reason_id, row.value_cents) == ("Won", None, None, 0)
    row = parser.parse(4, ["C", "Core", "", "", "", "", ""])
    assert (row.stage.name, row.status, row.source_id, row.owner_id) == ("Lead", "open", 1, 1)
    assert parser.parse(9, ["D", "Dim", "Proposl", "", "", "", ""]) is None
    assert parser.parse(11, ["E", "Eon", "proposl", "", "", "", ""]) is None
    error = str(parser.unknown_error("deals.csv"))
    assert error.startswith("deals.csv: unknown stage 'Proposl' (2 rows, first line 9); valid: Proposal, ")
    assert error.endswith("Nothing was imported; add --map-value 'stage:Proposl=Proposal'")


def test_import_refuses_what_opp_add_refuses(agency, cli, tmp_path):
    for body, message in [("title,company,contact\nA,B,x\x00y\n", "line 2: contact must not contain control characters"),
                          ("title,company,notes\nA,B," + "n" * 5001 + "\n", "line 2: notes is longer than 5000"),
                          ("title,company\n\x1b[2JA,B\n", "line 2: title must not contain control characters")]:
        run = cli("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google", "--no-workflows")
        assert run.exit_code == 1, body[:40]
        assert message in run.stderr
    assert all_opps(agency) == []
