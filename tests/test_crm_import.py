"""Data as agencies really have it: CRM exports, value maps, re-imports by key, Excel CSV, backups."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from salesselect_cli.errors import Invalid
from salesselect_cli.rules import importing
from tests.conftest import ROOT, TODAY, add_opp


def write(tmp_path, text: str, name: str = "export.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def all_opps(ok) -> dict[str, dict]:
    return {o["title"]: o for o in ok("opp", "list", "--status", "all", "--format", "json").json()}


HUBSPOT = (
    "Record ID,Deal Name,Company Name,Amount,Deal Stage,Close Date,Create Date,Deal owner,Pipeline\n"
    "9001,Warehouse crew,Acme,40000.0,appointmentscheduled,2026-12-01 10:00,2026-11-02T09:30:00Z,Mitchell Admin,Sales\n"
    "9002,Night shift,Beta BV,\"$12,000.50\",qualifiedtobuy,2026-12-15T17:00:00+02:00,2026-10-01 08:00,bob,Sales\n"
    "9003,Drivers,Core,12000 EUR,appointmentscheduled,2027-01-10T00:00:00.000Z,2026-09-30 23:59:59,Mitchell Admin,Sales\n"
)

ODOO = (
    "Opportunity,Customer,Expected Revenue,Stage,Salesperson,Expected Closing,Created on\n"
    "Payroll team,Delta,\"€ 12.500,00\",New,Mitchell Admin,2026-12-20,2026-11-01 14:03:11\n"
    "Interim HR,Echo,40000.0,Qualified,Marc Demo,2027-02-01,2026-11-15 09:00:00\n"
    "Cleaners,Foxtrot,0.0,New,Mitchell Admin,,2026-11-20 10:00:00\n"
)


# ---------------------------------------------------------------- CRM exports


def test_a_hubspot_export_with_date_times_float_money_and_mapped_values(agency, tmp_path):
    ok = agency
    path = write(tmp_path, HUBSPOT)
    run = ok("import", path, "--type", "Staffing", "--source", "HubSpot", "--skip", "Pipeline", "--skip", "Record ID",
             "--map-value", "stage:appointmentscheduled=Introduction", "--map-value", "STAGE:QualifiedToBuy=Proposal",
             "--map-value", "owner:mitchell admin=kim")
    assert "Imported 3 opportunities." in run.stderr
    assert "Ignored columns" not in run.stderr  # the two skipped columns are left out on purpose
    opps = all_opps(ok)
    crew, night, drivers = opps["Warehouse crew"], opps["Night shift"], opps["Drivers"]
    assert (crew["value"], crew["stage"], crew["owner"], crew["expected_close"], crew["created"]) == (
        "40000.00", "Introduction", "kim", "2026-12-01", "2026-11-02")
    assert (night["value"], night["stage"], night["owner"], night["expected_close"], night["created"]) == (
        "12000.50", "Proposal", "bob", "2026-12-15", "2026-10-01")
    assert (drivers["value"], drivers["expected_close"], drivers["created"]) == ("12000.00", "2027-01-10", "2026-09-30")


def test_an_odoo_export_whose_stage_column_maps_itself(agency, cli, tmp_path):
    path = write(tmp_path, ODOO)
    refused = cli("import", path, "--type", "Staffing", "--source", "Website")
    assert refused.exit_code == 1
    mapped = agency("import", path, "--type", "Staffing", "--source", "Website", "--map-value", "stage:New=Lead",
                    "--map-value", "stage:Qualified=Introduction", "--map-value", "owner:Mitchell Admin=bob",
                    "--map-value", "owner:Marc Demo=")  # an empty TO: as if the cell were empty (the default owner)
    assert "Imported 3 opportunities." in mapped.stderr
    opps = all_opps(agency)
    assert (opps["Payroll team"]["value"], opps["Payroll team"]["stage"], opps["Payroll team"]["owner"]) == (
        "12500.00", "Lead", "bob")
    assert (opps["Interim HR"]["stage"], opps["Interim HR"]["owner"], opps["Interim HR"]["created"]) == (
        "Introduction", "anna", "2026-11-15")
    assert opps["Cleaners"]["value"] == "0.00" and opps["Cleaners"]["expected_close"] is None


def test_skip_leaves_a_self_mapping_column_out(agency, tmp_path):
    path = write(tmp_path, ODOO)
    agency("import", path, "--type", "Staffing", "--source", "Website", "--skip", "stage", "--skip", "Salesperson")
    assert {o["stage"] for o in all_opps(agency).values()} == {"Lead"}
    assert {o["owner"] for o in all_opps(agency).values()} == {"anna"}


def test_the_unknown_values_error_lists_every_value_at_once(agency, cli, tmp_path):
    path = write(tmp_path, ODOO + "Agency deal,Golf,1000,Proposl,Marc Demo,,2026-11-21 10:00:00\n")
    run = cli("import", path, "--type", "Staffing", "--source", "Website")
    assert run.exit_code == 1
    [line] = run.stderr.splitlines()
    assert line.startswith(f"Error: {path}: unknown stage 'New' (2 rows, first line 2), 'Qualified' (1 row, line 3), "
                           f"'Proposl' (1 row, line 5); valid: ")
    owners = line.split(" | unknown owner 'Mitchell Admin' (2 rows, first line 2), 'Marc Demo' (2 rows, first line 3); "
                        "valid: ")[1].split(".")[0]
    assert sorted(owners.split(", ")) == ["anna", "bob", "kim"]
    assert line.endswith(
        "Nothing was imported; add --map-value 'stage:New=STAGE' --map-value 'stage:Qualified=STAGE' "
        "--map-value 'stage:Proposl=Proposal' --map-value 'owner:Mitchell Admin=OWNER' "
        "--map-value 'owner:Marc Demo=OWNER'")
    assert all_opps(agency) == {}


def test_value_map_and_skip_mistakes_are_refused_before_any_row(agency, cli, tmp_path):
    path = write(tmp_path, ODOO)
    base = ["import", path, "--type", "Staffing", "--source", "Website"]
    for extra, message in [
        (["--map-value", "colour:New=Lead"], "'colour' is not a field with named values; fields: stage, owner"),
        (["--map-value", "stage=Lead"], "--map-value needs FIELD:FROM=TO"),
        (["--map-value", "stage:New=Leed"], "--map-value: unknown stage 'Leed'; valid: Lead"),
        (["--skip", "Pipeline"], "--skip: no column 'Pipeline' in the header; columns: Opportunity, Customer"),
        (["--key", "Record ID"], "--key: no column 'Record ID' in the header"),
        (["--date-format", "dym"], "--date-format must be dmy, mdy or ymd"),
    ]:
        run = cli(*base, *extra)
        assert run.exit_code == 1, extra
        assert run.stderr.startswith("Error: ") and message in run.stderr, (extra, run.stderr)
    assert all_opps(agency) == {}


# ---------------------------------------------------------------- slash dates, per column


def test_slash_dates_are_read_per_column(agency, cli, tmp_path):
    body = ("title,company,close,created\n"
            "A,Acme,12/25/2026,01/10/2026\n"  # close: month-first (25 is no month); created: ambiguous
            "B,Beta,01/02/2027,25/10/2026\n")  # created: day-first (25 is no month)
    run = agency("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google")
    assert "Warning" not in run.stderr
    opps = all_opps(agency)
    assert (opps["A"]["expected_close"], opps["A"]["created"]) == ("2026-12-25", "2026-10-01")
    assert (opps["B"]["expected_close"], opps["B"]["created"]) == ("2027-01-02", "2026-10-25")


def test_an_all_ambiguous_column_is_read_day_first_with_one_warning(agency, tmp_path):
    body = "title,company,close\nA,Acme,01/12/2026\nB,Beta,02/12/2026 10:00\n"
    run = agency("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google", "--dry-run")
    warnings = [line for line in run.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: dates in column 'close' such as '01/12/2026' could be day-first or month-first; "
                        "they were read day-first. Give --date-format dmy|mdy|ymd to settle it."]
    run = agency("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google", "--date-format", "mdy")
    assert "Warning" not in run.stderr
    assert {o["expected_close"] for o in all_opps(agency).values()} == {"2026-01-12", "2026-02-12"}


def test_a_column_mixing_both_orders_is_refused(agency, cli, tmp_path):
    body = "title,company,close\nA,Acme,25/12/2026\nB,Beta,12/25/2026\n"
    run = cli("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google")
    assert run.exit_code == 1
    assert run.stderr == ("Error: column 'close' mixes day-first dates (line 2: '25/12/2026') and month-first dates "
                          "(line 3: '12/25/2026'); fix the file or give --date-format dmy|mdy\n")
    run = cli("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google", "--date-format", "dmy")
    assert run.exit_code == 1 and "line 3: invalid date '12/25/2026' (read as day-first)" in run.stderr


def test_import_dates_and_money_as_exports_write_them():
    today = TODAY
    for text, order, expected in [
        ("2026-12-01 10:00", "dmy", dt.date(2026, 12, 1)), ("2026-12-01T10:00:00Z", "dmy", dt.date(2026, 12, 1)),
        ("2026-12-01T23:30:00-05:00", "dmy", dt.date(2026, 12, 1)), ("2026-12-01 10:00:00.123+0200", "mdy",
                                                                    dt.date(2026, 12, 1)),
        ("01/12/2026", "dmy", dt.date(2026, 12, 1)), ("01/12/2026", "mdy", dt.date(2026, 1, 12)),
        ("12/1/2026 3:15 PM", "mdy", dt.date(2026, 12, 1)), ("2026/12/01", "dmy", dt.date(2026, 12, 1)),
        ("01-12-2026", "dmy", dt.date(2026, 12, 1)), ("+2w", "mdy", today + dt.timedelta(days=14)),
    ]:
        assert importing.read_date(text, order, today) == expected, text
    with pytest.raises(Invalid, match="four digits"):
        importing.read_date("01/12/26", "dmy", today)
    assert [importing.slash_order(t) for t in ("25/12/2026", "12/25/2026 10:00", "01/12/2026", "2026-12-01", "2026/12/01")] \
        == ["dmy", "mdy", "", None, None]
    from salesselect_cli.rules.money import parse_money

    assert [parse_money(t) for t in ("40000.0", "€ 12.500,00", "$12,000.50", "12000 EUR")] == [
        4000000, 1250000, 1200050, 1200000]


def test_value_maps_parse_to_folded_sources():
    assert importing.parse_value_maps(["stage:New=Lead", "Business Type:Perm=Staffing", "owner:Mitchell Admin="]) == {
        "stage": {"new": "Lead"}, "business_type": {"perm": "Staffing"}, "owner": {"mitchell admin": ""}}


# ---------------------------------------------------------------- re-imports by key


def _keyed(rows: list[tuple[str, str, str, str]]) -> str:
    return "Record ID,Deal Name,Company Name,Deal Stage,Amount\n" + "".join(",".join(row) + "\n" for row in rows)


def test_a_re_import_by_key_updates_instead_of_doubling(agency, tmp_path):
    ok = agency
    rows = [("h1", "Crew", "Acme", "Lead", "1000"), ("h2", "Shift", "Beta", "Proposal", "2000"),
            ("h3", "Drivers", "Core", "Lead", "3000")]
    path = write(tmp_path, _keyed(rows))
    args = ["import", path, "--key", "Record ID", "--type", "Staffing", "--source", "HubSpot"]
    assert "Imported: added 3, updated 0, unchanged 0." in ok(*args).stderr
    assert "Imported: added 0, updated 0, unchanged 3." in ok(*args).stderr
    assert len(all_opps(ok)) == 3
    exported = list(csv.DictReader(io.StringIO(ok("export").stdout)))
    assert sorted(r["external_key"] for r in exported) == ["h1", "h2", "h3"]

    rows[0] = ("h1", "Crew", "Acme", "Proposal", "1000")  # one stage change
    rows[2] = ("h3", "Drivers", "Core BV", "Lead", "3500")  # a new company name and value
    rows.append(("h4", "Cleaners", "Delta", "Lead", "500"))  # one new deal
    path = write(tmp_path, _keyed(rows))
    assert "Imported: added 1, updated 2, unchanged 1." in ok(*args[:1], path, *args[2:]).stderr
    opps = all_opps(ok)
    assert len(opps) == 4 and opps["Crew"]["stage"] == "Proposal"
    moves = [h for h in ok("opp", "show", opps["Crew"]["id"], "--format", "json").json()["history"]
             if h["field"] == "stage"]
    assert [(m["from_value"], m["to_value"]) for m in moves] == [("Lead", "Proposal")]
    history = ok("opp", "show", opps["Drivers"]["id"], "--format", "json").json()["history"]
    # one re-import's two changes, in the same order on both backends (the client on SQLite, triggers on PostgreSQL)
    assert [(h["field"], h["from_value"], h["to_value"]) for h in history][1:] == [
        ("company", "Core", "Core BV"), ("value", "3000.00", "3500.00")]


def test_a_deal_added_after_an_import_takes_the_next_id(agency, tmp_path):
    # the import gives its rows ids itself; on PostgreSQL the identity must move past them
    ok = agency
    ok("import", write(tmp_path, "title,company\nCrew,Acme\nShift,Beta\n"), "--type", "Staffing", "--source", "HubSpot")
    assert add_opp(ok, "By hand", "Core") == 3
    ok("import", write(tmp_path, "title,company\nDrivers,Delta\n"), "--type", "Staffing", "--source", "HubSpot")
    assert add_opp(ok, "By hand again", "Core") == 5
    assert sorted(o["id"] for o in all_opps(ok).values()) == [1, 2, 3, 4, 5]


def test_the_re_import_key_shows_on_the_deal(agency, tmp_path):
    ok = agency
    ok("import", write(tmp_path, _keyed([("crm-123", "Crew", "Acme", "Lead", "1000")])), "--key", "Record ID",
       "--type", "Staffing", "--source", "HubSpot")
    by_hand = add_opp(ok, "By hand", "Beta")
    opps = all_opps(ok)
    assert (opps["Crew"]["external_key"], opps["By hand"]["external_key"]) == ("crm-123", None)
    crew = opps["Crew"]["id"]
    assert ok("opp", "show", crew, "--format", "json").json()["external_key"] == "crm-123"
    assert ok("opp", "show", by_hand, "--format", "json").json()["external_key"] is None
    # in the header block, under the source it is unique within; a deal without a key has no such line
    for lang, source, key in (("en", "Source", "Key"), ("nl", "Bron", "Sleutel")):
        lines = [line.split() for line in ok("--lang", lang, "opp", "show", crew).stdout.splitlines()]
        assert lines[lines.index([source, "HubSpot"]) + 1] == [key, "crm-123"]
        lines = [line.split() for line in ok("--lang", lang, "opp", "show", by_hand).stdout.splitlines()]
        assert lines[lines.index([source, "HubSpot"]) + 1][0] != key
    assert [card["external_key"] for column in ok("board", "--format", "json").json() for card in column["cards"]
            if card["id"] == crew] == ["crm-123"]


def test_a_re_import_closes_as_win_and_lose_do_and_records_changed_values(agency, cli, tmp_path):
    ok = agency
    head = "key,title,company,stage,status,reason,value,close\n"
    path = write(tmp_path, head + "k1,Crew,Acme,Proposal,,,1000,2026-12-20\nk2,Shift,Beta,Lead,,,2000,\n")
    args = ["--key", "key", "--type", "Staffing", "--source", "LinkedIn"]
    ok("import", path, *args)
    path = write(tmp_path, head + "k1,Crew,Acme,Proposal,won,Good price,1500,2026-12-20\nk2,Shift,Beta,Lead,lost,,2000,\n")
    refused = cli("import", path, *args)
    assert refused.exit_code == 1 and "line 3: a lost opportunity needs a lost reason" in refused.stderr
    path = write(tmp_path, head + "k1,Crew,Acme,Proposal,won,Good price,1500,2026-12-20\nk2,Shift,Beta,Lead,,,2000,\n")
    assert "Imported: added 0, updated 1, unchanged 1." in ok("import", path, *args).stderr
    crew = all_opps(ok)["Crew"]
    assert (crew["status"], crew["stage"], crew["reason"], crew["value"], crew["closed"]) == (
        "won", "New client", "Good price", "1500.00", TODAY.isoformat())
    history = ok("opp", "show", crew["id"], "--format", "json").json()["history"]
    assert [(h["field"], h["from_value"], h["to_value"]) for h in history][1:] == [
        ("stage", "Proposal", "New client"), ("status", "open", "won (Good price)"), ("value", "1000.00", "1500.00")]


def test_keys_are_unique_per_source_and_once_per_file(agency, cli, tmp_path):
    body = "key,title,company\nk1,Crew,Acme\n"
    ok = agency
    ok("import", write(tmp_path, body), "--key", "key", "--type", "Staffing", "--source", "LinkedIn")
    run = ok("import", write(tmp_path, body), "--key", "key", "--type", "Staffing", "--source", "Google")
    assert "added 1" in run.stderr  # the same id in another system is another deal
    run = cli("import", write(tmp_path, body + "k1,Crew again,Acme\n"), "--key", "key", "--type", "Staffing",
              "--source", "Website")
    assert run.exit_code == 1 and "line 3: key 'k1' is already on line 2" in run.stderr
    assert len(ok("opp", "list", "--format", "json").json()) == 2


def test_without_a_key_repeated_open_deals_are_refused(agency, cli, tmp_path):
    body = "title,company,value,close\nCrew,Acme,1000,2026-12-20\nShift,Beta,2000,\nNew one,Core,1,\n"
    ok = agency
    ok("import", write(tmp_path, body.rsplit("New one", 1)[0]), "--type", "Staffing", "--source", "Google")
    run = cli("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: 2 rows match open deals already here (same title, company, value and expected "
                                 "close; e.g. 'Crew' at Acme); nothing was imported.")
    assert "--key COLUMN" in run.stderr and "--allow-duplicates" in run.stderr
    assert len(all_opps(ok)) == 2
    run = ok("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google", "--allow-duplicates")
    assert "Imported 3 opportunities." in run.stderr


# ---------------------------------------------------------------- Excel


def test_excel_export_reads_back_with_semicolons_and_re_imports_unchanged(agency, tmp_path, monkeypatch):
    ok = agency
    first = add_opp(ok, "Zorg één", "Ünited", "Staffing", "Google", "--value", "12000.50", "--close", "2026-12-31")
    add_opp(ok, "1.5 FTE", "Acme", "Agencies", "Referral", "--value", "999")
    ok("opp", "win", first, "--reason", "Good price")
    out = tmp_path / "excel.csv"
    ok("export", "--excel", "--output", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid;title;company;") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert {r["title"]: r["value"] for r in rows} == {"Zorg één": "12000,50", "1.5 FTE": "999,00"}
    before = all_opps(ok)

    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "fresh.db"))
    ok("init")
    ok("config", "import", str(ROOT / "examples" / "setup.json"))
    ok("import", str(out))
    after = all_opps(ok)
    keep = ("company", "business_type", "stage", "source", "value", "expected_close", "status", "reason", "created",
            "closed")
    assert {t: [o[k] for k in keep] for t, o in after.items()} == {t: [o[k] for k in keep] for t, o in before.items()}


def test_reports_write_excel_csv(agency, cli):
    ok = agency
    won = add_opp(ok, "Deal", "Acme", "Staffing", "Google", "--value", "1234.5")
    ok("opp", "win", won, "--reason", "Good price")
    run = ok("report", "winloss", "--excel")
    assert run.stdout.startswith("\ufeffstatus;stage;reason;count;value;share")
    [row] = list(csv.DictReader(io.StringIO(run.stdout.lstrip("\ufeff")), delimiter=";"))
    assert (row["value"], row["share"]) == ("1234,50", "100,0")
    assert ok("report", "pipeline", "--excel").stdout.startswith("\ufeffstage;count;value")
    refused = cli("report", "sources", "--excel", "--format", "json")
    assert refused.exit_code == 1 and refused.stderr == "Error: --excel writes CSV; leave out --format json\n"


# ---------------------------------------------------------------- backup


WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
deadline = time.time() + float(sys.argv[2])
print("writing", flush=True)
n = 0
while time.time() < deadline:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO history (opportunity_id, at, actor, field, to_value) VALUES (1, '2026-11-27 10:00:00', 'bot', 'note', ?)", [str(n)])
    conn.execute("INSERT INTO history (opportunity_id, at, actor, field, to_value) VALUES (1, '2026-11-27 10:00:00', 'bot', 'note', ?)", [str(n)])
    conn.execute("COMMIT")
    n += 1
"""


@pytest.mark.sqlite_only  # backup is SQLite's online backup; PostgreSQL has pg_dump
def test_a_backup_taken_while_another_process_writes_is_whole(agency, cli, tmp_path):
    ok = agency
    add_opp(ok, "Deal", "Acme")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, os.environ["SALESSELECT_DB"], "3"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout.readline() == "writing\n"
        time.sleep(0.3)
        target = tmp_path / "copy.db"
        run = ok("backup", str(target))
        assert run.stderr.startswith(f"Backed up {os.environ['SALESSELECT_DB']} to {target}")
        refused = cli("backup", str(target))
        assert refused.exit_code == 1 and "already exists; refusing to overwrite it" in refused.stderr
    finally:
        writer.wait(timeout=30)
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        notes = copy.execute("SELECT COUNT(*) FROM history WHERE actor = 'bot'").fetchone()[0]
        assert notes > 0 and notes % 2 == 0  # every writer transaction whole, none half
    finally:
        copy.close()
    run = ok("--db", str(target), "opp", "list", "--format", "json")
    assert [o["title"] for o in run.json()] == ["Deal"]


def test_a_big_file_with_a_date_column_is_read_whole_after_the_slash_scan(agency, tmp_path):
    """The scan for '/' reads the file while the header has been read: the rows must still come whole."""
    rows = "".join(f"Deal {n},Company {n},2027-06-{n % 28 + 1:02d},{n}.00\n" for n in range(30000))
    path = write(tmp_path, "title,company,close,value\n" + rows)
    run = agency("import", path, "--type", "Staffing", "--source", "Google")
    assert "Imported 30,000 opportunities." in run.stderr
    exported = list(csv.DictReader(io.StringIO(agency("export", "--status", "open").stdout)))
    assert {(r["title"], r["expected_close"], r["value"]) for r in exported if r["title"] == "Deal 29999"} == {
        ("Deal 29999", "2027-06-12", "29999.00")}


def test_the_csv_export_formats_in_sql_what_the_records_say(demo_db, cli, ok, tmp_path):
    """The export's fast path (money, days_left, indicator, next follow-up, formula guard computed in SQL)
    gives every cell the JSON record of the same deal gives, over the demo agency's 300 deals."""
    from salesselect_cli.render import csv_safe

    add_opp(ok, "=SUM(A1)", "-Acme", "Staffing", "Google", "--value", "0.05", "--close", "2026-11-28")
    records = {r["id"]: r for r in ok("export", "--format", "json").json()}
    rows = list(csv.DictReader(io.StringIO(ok("export").stdout)))
    assert len(rows) == len(records) == 301
    for row in rows:
        record = records[int(row["id"])]
        expected = {key: "" if value is None else str(csv_safe(value)) for key, value in record.items()}
        assert row == expected
    assert {r["indicator"] for r in rows} >= {"red", "orange", "green", "none"}
    assert any(r["next_followup"] for r in rows) and any(r["days_left"].startswith("-") for r in rows)
    [guarded] = [r for r in rows if r["company"] == "'-Acme"]
    assert (guarded["title"], guarded["value"], guarded["days_left"]) == ("'=SUM(A1)", "0.05", "1")


def test_a_backup_name_with_control_characters_is_refused(agency, cli, tmp_path):
    run = cli("backup", str(tmp_path / "copy\x1b[8m.db"))
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: the backup's file name must not contain control characters")
    assert list(tmp_path.glob("copy*")) == []


def test_opp_list_writes_excel_csv(agency):
    add_opp(agency, "Deal", "Acme", "Staffing", "Google", "--value", "1234.5")
    run = agency("opp", "list", "--excel")
    assert run.stdout.startswith("\ufeffid;title;company;")
    [row] = list(csv.DictReader(io.StringIO(run.stdout.lstrip("\ufeff")), delimiter=";"))
    assert (row["title"], row["value"]) == ("Deal", "1234,50")


def test_an_archived_stage_takes_closed_deals_but_no_open_ones(agency, cli, tmp_path):
    ok = agency
    ok("config", "archive-stage", "Negotiation")
    body = ("title,company,stage,status,reason,closed_from\n"
            "Old,Acme,,lost,Too expensive,Negotiation\n")
    ok("import", write(tmp_path, body), "--type", "Staffing", "--source", "Google")
    old = all_opps(ok)["Old"]
    assert (old["stage"], old["status"]) == ("Lost", "lost")
    run = cli("import", write(tmp_path, "title,company,stage\nNew,Beta,Negotiation\n"), "--type", "Staffing",
              "--source", "Google")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: line 2: stage 'Negotiation' is archived: no open deal can be in it; valid: Lead")
