"""`salesselect board`: columns, counts that ignore --limit, urgency, widths, formats, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len

from salesselect_cli import kanban
from salesselect_cli.model import RECORD_KEYS
from salesselect_cli.store import OpportunityFilter, Store, open_connection
from tests.conftest import TODAY, add_opp, from_template

ESCAPE = "\x1b"


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def card_text(stdout: str, card_id: int) -> str:
    """The lines of one card on a one-column board: from its id to its last bar line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if f"▌ #{card_id} " in line)
    end = next(i for i in range(start, len(lines)) if "▌" not in lines[i])
    return "\n".join(line.replace("▌", "").strip(" │") for line in lines[start:end])


def columns_of(ok, *args) -> list[dict]:
    return ok("board", "--format", "json", *args).json()


def card_ids(column: dict) -> list[int]:
    return [card["id"] for card in column["cards"]]


@pytest.fixture
def pipeline(agency, template_dir):
    """Open deals in every open stage of both types, one won and one lost deal. Returns ids by name."""
    return from_template("pipeline", template_dir, lambda: _pipeline(agency))


def _pipeline(ok):
    ids = {
        "staff_lead": add_opp(ok, "Staff lead", "Acme", "Staffing", "HubSpot", "--value", "1000", "--close", day(10)),
        "staff_prop": add_opp(ok, "Staff proposal", "Bolt", "Staffing", "Google", "--stage", "Proposal",
                              "--value", "2000", "--owner", "bob"),
        "staff_nego": add_opp(ok, "Staff nego", "Crane", "Staffing", "LinkedIn", "--stage", "Negotiation",
                              "--value", "3000", "--close", day(-2)),
        "agency_lead": add_opp(ok, "Agency lead", "Delta", "Agencies", "HubSpot", "--value", "4000"),
        "agency_frame": add_opp(ok, "Agency frame", "Echo", "Agencies", "Referral", "--stage", "Framework agreement",
                                "--value", "5000", "--close", day(1)),
        "won": add_opp(ok, "Won deal", "Fox", "Staffing", "HubSpot", "--value", "6000"),
        "lost": add_opp(ok, "Lost deal", "Golf", "Agencies", "HubSpot", "--value", "7000"),
    }
    ok("opp", "win", ids["won"], "--reason", "Good price")
    ok("opp", "lose", ids["lost"], "--reason", "Too expensive")
    return ids


# ---------------------------------------------------------------- columns


def test_columns_without_type_are_the_stages_holding_open_cards(pipeline, ok):
    columns = columns_of(ok)
    assert [c["stage"] for c in columns] == ["Lead", "Proposal", "Negotiation", "Framework agreement"]
    assert card_ids(columns[0]) == [pipeline["staff_lead"], pipeline["agency_lead"]]
    everything = [card_id for column in columns for card_id in card_ids(column)]
    assert pipeline["won"] not in everything and pipeline["lost"] not in everything


def test_all_stages_shows_every_stage_in_position_order(pipeline, ok):
    columns = columns_of(ok, "--all-stages")
    assert [c["stage"] for c in columns] == [
        "Lead", "Introduction", "Proposal", "Negotiation", "Framework agreement", "New client", "Lost",
    ]
    assert [c["count"] for c in columns] == [2, 0, 1, 1, 1, 0, 0]


@pytest.mark.parametrize(
    "business_type, stages, cards",
    [
        ("Staffing", ["Lead", "Introduction", "Proposal", "Negotiation"], ["staff_lead", "staff_prop", "staff_nego"]),
        ("agencies", ["Lead", "Introduction", "Proposal", "Framework agreement"], ["agency_lead", "agency_frame"]),
    ],
)
def test_type_columns_are_its_open_stages_with_only_its_cards(pipeline, ok, business_type, stages, cards):
    columns = columns_of(ok, "--type", business_type)
    assert [c["stage"] for c in columns] == stages
    assert [card_id for column in columns for card_id in card_ids(column)] == [pipeline[name] for name in cards]
    with_auto = columns_of(ok, "--type", business_type, "--all-stages")
    assert [c["stage"] for c in with_auto] == stages + ["New client", "Lost"]


def test_type_board_follows_a_moved_stage(pipeline, ok):
    ok("config", "move-stage", "Negotiation", "1")
    assert [c["stage"] for c in columns_of(ok, "--type", "Staffing")][:2] == ["Negotiation", "Lead"]


# ---------------------------------------------------------------- counts and limits


def test_counts_and_totals_cover_every_card_when_limit_cuts(agency, ok):
    values = [1000, 2500, 300, 12000, 99.5, 40000, 7]
    ids = [add_opp(ok, f"Deal {i}", "Acme", "Staffing", "HubSpot", "--value", str(v), "--close", day(i))
           for i, v in enumerate(values)]
    total = sum(Decimal(str(v)) for v in values)
    lead = columns_of(ok, "--limit", "2")[0]
    assert lead["count"] == 7
    assert Decimal(lead["value"]) == total and lead["value"] == f"{total:.2f}"
    assert card_ids(lead) == ids[:2]
    assert card_ids(columns_of(ok, "--limit", "0")[0]) == ids  # 0: every card
    assert columns_of(ok, "--limit", "1")[0]["count"] == 7
    table = ok("board", "--limit", "2").stdout
    assert "+5 more" in table
    assert f"7 deals · €{total:,.2f}" in table
    assert f"#{ids[2]} " not in table


def test_default_limit_is_five(agency, ok):
    for i in range(7):
        add_opp(ok, f"Deal {i}")
    lead = columns_of(ok)[0]
    assert (lead["count"], len(lead["cards"])) == (7, 5)
    assert "+2 more" in ok("board").stdout


def test_filters_change_counts_and_cards(pipeline, ok):
    mine = columns_of(ok, "--mine")
    assert pipeline["staff_prop"] not in [i for c in mine for i in card_ids(c)]
    bob = columns_of(ok, "--owner", "BOB")
    assert [(c["stage"], c["count"], card_ids(c)) for c in bob] == [("Proposal", 1, [pipeline["staff_prop"]])]
    google = columns_of(ok, "--source", "google")
    assert [card_ids(c) for c in google] == [[pipeline["staff_prop"]]]
    overdue = columns_of(ok, "--overdue")
    assert [(c["stage"], card_ids(c)) for c in overdue] == [("Negotiation", [pipeline["staff_nego"]])]
    assert "type Agencies" in ok("board", "--type", "AGENCIES").stdout  # spelled as the setup spells it


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mine", "--owner", "bob"], "Error: use --owner or --mine, not both"),
        (["--type", "Staffng"], "Error: unknown business type 'Staffng'"),
        (["--owner", "zed"], "Error: unknown user 'zed'"),
        (["--source", "Fax"], "Error: unknown source 'Fax'"),
        (["--output", "board.svg", "--format", "json"], "Error: --output board.svg saves the board as drawn"),
    ],
)
def test_bad_options_are_refused_in_one_line(pipeline, cli, args, message):
    run = cli("board", *args)
    assert run.exit_code == 1
    assert run.stderr.startswith(message)
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.stdout == ""


def test_negative_limit_is_a_usage_error(agency, cli):
    assert cli("board", "--limit", "-1").exit_code == 2


# ---------------------------------------------------------------- urgency and the indicator


BOUNDARIES = [  # (days from today, indicator, badge) with orange 5, red 2 (examples/setup.json)
    (-1, "red", "overdue 1d"),
    (0, "red", "!! due today"),
    (2, "red", "!! 2d left"),
    (3, "orange", "! 3d left"),
    (5, "orange", "! 5d left"),
    (6, "green", "6d left"),
    (None, "none", "no close date"),
]


def test_cards_are_sorted_by_urgency_and_badged_at_boundary_dates(agency, ok):
    ids = {}
    for offset, _, _ in reversed(BOUNDARIES):  # added least urgent first
        extra = ["--close", day(offset)] if offset is not None else []
        ids[offset] = add_opp(ok, f"Deal {offset}", "Acme", "Staffing", "HubSpot", *extra)
    lead = columns_of(ok, "--limit", "0")[0]
    assert card_ids(lead) == [ids[offset] for offset, _, _ in BOUNDARIES]
    for card, (offset, shade, _) in zip(lead["cards"], BOUNDARIES):
        assert (card["days_left"], card["indicator"]) == (offset, shade)
    table = ok("board", "--limit", "0").stdout
    for offset, _, badge in BOUNDARIES:
        assert badge in card_text(table, ids[offset]), badge
    assert "1 overdue · 2 red · 2 orange" in table


@pytest.mark.parametrize("orange_days, red_days, red, orange, offsets", [
    (4, 1, 5, 3, None), (1, 0, 4, 1, None), (5, 2, 6, 3, None),
    # the thresholds' farthest reach, ten years ahead: the columns' statement counts days up to it
    (3650, 3649, 5, 1, [-3, -2, -1, 0, 3649, 3650, 3651, None]),
])
def test_column_alarm_counts_match_the_indicator_rule(agency, ok, orange_days, red_days, red, orange, offsets):
    """The counts (overdue, red, orange: SQL's counts per close day, sorted by rules.indicator) agree with the
    indicator of every card at every boundary."""
    ok("config", "set-indicator", "--orange", str(orange_days), "--red", str(red_days))
    offsets = offsets or list(range(-3, 8)) + [None]
    for offset in offsets:
        add_opp(ok, f"Deal {offset}", "Acme", "Staffing", "HubSpot", *(["--close", day(offset)] if offset is not None else []))
    location = agency_db() if agency_db().startswith("postgresql://") else Path(agency_db())
    store = Store(open_connection(location), location, TODAY, "anna")
    try:
        with store.transaction(write=False):
            [column] = store.reports.board_columns(OpportunityFilter())
            cards = store.reports.board_cards(OpportunityFilter(), [column["stage_id"]], None)["Lead"]
    finally:
        store.close()
    shades = [card["indicator"] for card in cards]
    assert column["count"] == len(cards) == len(offsets)
    assert column["overdue"] == sum(1 for card in cards if card["days_left"] is not None and card["days_left"] < 0) == 3
    assert column["red"] == shades.count("red") == red  # overdue included
    assert column["orange"] == shades.count("orange") == orange


def agency_db() -> str:
    import os

    return os.environ["SALESSELECT_DB"]


def test_board_without_thresholds_marks_only_overdue(db, ok):
    ok("config", "add-business-type", "Staffing", "--color", "blue")
    ok("config", "add-stage", "Lead", "--business-type", "Staffing")
    ok("config", "add-source", "HubSpot")
    late = add_opp(ok, "Late", "Acme", "Staffing", "HubSpot", "--close", day(-1))
    soon = add_opp(ok, "Soon", "Acme", "Staffing", "HubSpot", "--close", day(0))
    run = ok("board")
    assert "indicator not set: only overdue is red" in run.stdout
    [alarms] = [line for line in run.stdout.splitlines() if "overdue" in line and "▌" not in line]
    assert "1 overdue" in alarms and "red" not in alarms
    cards = columns_of(ok)[0]["cards"]
    assert [(c["id"], c["indicator"]) for c in cards] == [(late, "red"), (soon, "green")]


def test_card_shows_next_followup_and_marks_a_late_one(agency, ok):
    first = add_opp(ok, "Call me", "Acme", "Staffing", "HubSpot", "--close", day(1))
    second = add_opp(ok, "Mail me", "Acme", "Staffing", "HubSpot", "--close", day(2))
    ok("followup", "add", first, day(3), "call back")
    ok("followup", "add", first, day(9), "later")
    ok("followup", "add", second, day(-2), "forgotten")
    table = ok("board").stdout
    assert f"next {day(3)}" in table and day(9) not in table
    assert f"next {day(-2)} late" in table
    cards = columns_of(ok)[0]["cards"]
    assert [c["next_followup"] for c in cards] == [day(3), day(-2)]


# ---------------------------------------------------------------- rendering


@pytest.fixture
def wide_agency(agency, ok, template_dir):
    """Six open stages with cards (one added), long unbreakable names, and both business types."""
    return from_template("wide_agency", template_dir, lambda: _wide_agency(ok))


def _wide_agency(ok):
    ok("config", "add-stage", "Contract", "--business-type", "Staffing", "--business-type", "Agencies", "--position", "6")
    ids = []
    for stage in ("Lead", "Introduction", "Proposal", "Negotiation", "Contract"):
        ids.append(add_opp(ok, f"{stage} warehouse staff for the night shift", "Acme Logistics International BV",
                           "Staffing", "HubSpot", "--stage", stage, "--value", "1234567.89", "--close", day(3)))
    ids.append(add_opp(ok, "X" * 70, "Y" * 60, "Agencies", "LinkedIn", "--stage", "Framework agreement",
                       "--value", "50", "--close", day(-40)))
    ids.append(add_opp(ok, "Second lead", "Zed", "Agencies", "Google", "--owner", "kim"))
    return ids


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("how", ["option", "env"])
def test_board_fits_the_width_and_shows_every_card(wide_agency, ok, width, how):
    args = ["board", "--all-stages"] + (["--width", str(width)] if how == "option" else [])
    run = ok(*args, env={"COLUMNS": str(width)} if how == "env" else None)
    lines = run.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert max(cell_len(line) for line in lines) >= width - 10  # and uses it
    for card_id in wide_agency:
        assert re.search(rf"#{card_id}\b", run.stdout), card_id
    for stage in ("Lead", "Introduction", "Proposal", "Negotiation", "Contract", "Framework", "New client", "Lost"):
        assert stage in run.stdout
    assert "S = Staffing" in run.stdout and "A = Agencies" in run.stdout
    assert "today 2026-11-27 (Fri)" in run.stdout
    assert ESCAPE not in run.stdout


def test_eighty_columns_wraps_stages_onto_rows(wide_agency, ok):
    stdout = ok("board", "--all-stages", "--width", "80").stdout
    tops = [line for line in stdout.splitlines() if line.startswith("╭")]
    assert len(tops) == 3  # 8 stages: 3 + 3 + 2
    assert min(len(top.split("┬")) for top in tops) >= 2


def test_card_reads_without_colour(wide_agency, ok):
    wide = ok("board", "--width", "200").stdout
    assert "Agencies · €50 · anna" in wide
    assert "S · €1,234,567.89 · anna" in wide  # too long beside the name: the label from the legend
    assert "overdue 40d" in wide
    assert "Agencies · €0 · kim" in wide
    narrow = ok("board", "--width", "80").stdout  # the type's label when its name does not fit
    assert "S · €1,234,567.89" in narrow
    assert "Agencies · €0 · kim" in narrow and "A = Agencies" in narrow


def test_no_colour_when_not_a_terminal_even_without_no_color(pipeline, ok):
    run = ok("board", env={"NO_COLOR": ""})
    assert ESCAPE not in run.stdout and run.stdout.strip()


def test_export_svg_and_html_keep_colour_and_every_card(pipeline, ok, tmp_path):
    svg = tmp_path / "board.svg"
    run = ok("board", "--output", str(svg), "--width", "120")
    assert run.stdout == ""
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<svg")
    for card_id in (pipeline["staff_lead"], pipeline["agency_frame"]):
        assert f"#{card_id}" in text
    assert "#e07b00" in text  # the Agencies colour
    page = tmp_path / "board.HTML"
    ok("board", "--output", str(page))
    html = page.read_text(encoding="utf-8")
    assert "<html" in html.lower() and f"#{pipeline['staff_nego']}" in html and "#e07b00" in html


def test_other_output_files_get_the_chosen_format(pipeline, ok, tmp_path):
    target = tmp_path / "board.json"
    ok("board", "--format", "json", "--output", str(target))
    import json

    assert [c["stage"] for c in json.loads(target.read_text())][0] == "Lead"
    text_file = tmp_path / "board.txt"
    ok("board", "--output", str(text_file), "--width", "100")
    text = text_file.read_text()
    assert f"#{pipeline['staff_lead']} " in text and ESCAPE not in text
    assert max(cell_len(line) for line in text.splitlines()) <= 100


def test_empty_board(agency, ok):
    run = ok("board")
    assert "No open opportunities match." in run.stdout
    assert columns_of(ok) == []
    assert ok("board", "--format", "csv").stdout.startswith("stage,id,title")


# ---------------------------------------------------------------- JSON and CSV


def test_json_is_the_spec_shape(pipeline, ok):
    columns = columns_of(ok, "--all-stages")
    for column in columns:
        assert list(column) == ["stage", "count", "value", "cards"]
        assert re.fullmatch(r"\d+\.\d\d", column["value"])
        for card in column["cards"]:
            assert list(card) == list(RECORD_KEYS)
            assert card["stage"] == column["stage"] and card["status"] == "open"
    proposal = next(c for c in columns if c["stage"] == "Proposal")
    assert proposal["value"] == "2000.00"
    assert proposal["cards"][0]["owner"] == "bob"


def test_csv_is_one_row_per_shown_card_stage_first(pipeline, ok):
    ok("opp", "edit", pipeline["staff_lead"], "--title", "=HYPERLINK(1)")
    run = ok("board", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert run.stdout.split("\r\n")[0].startswith("stage,id,title,company")
    assert [(r["stage"], int(r["id"])) for r in rows] == [
        ("Lead", pipeline["staff_lead"]), ("Lead", pipeline["agency_lead"]), ("Proposal", pipeline["staff_prop"]),
        ("Negotiation", pipeline["staff_nego"]), ("Framework agreement", pipeline["agency_frame"]),
    ]
    assert rows[0]["title"] == "'=HYPERLINK(1)"
    assert len(list(csv.DictReader(io.StringIO(ok("board", "--format", "csv", "--limit", "1").stdout)))) == 4


# ---------------------------------------------------------------- setup warning


def test_incomplete_setup_warns_once_and_still_renders(db, ok):
    ok("config", "add-business-type", "Staffing", "--color", "blue")
    ok("config", "add-stage", "Lead", "--business-type", "Staffing")
    ok("config", "add-source", "HubSpot")
    deal = add_opp(ok, "Deal")
    run = ok("board")
    assert run.stderr.startswith("Warning: the setup is incomplete (")
    assert len(run.stderr.strip().splitlines()) == 1
    assert f"#{deal} " in run.stdout
    assert ok("board", "--format", "json").json()[0]["count"] == 1


def test_complete_setup_does_not_warn(pipeline, ok):
    assert ok("board").stderr == ""


def test_board_has_help(ok):
    assert "Kanban" in ok("board", "--help").stdout


# ---------------------------------------------------------------- pure layout


def test_type_labels_are_shortest_unique_prefixes():
    assert kanban.type_labels(["Staffing", "Agencies"]) == {"Staffing": "S", "Agencies": "A"}
    assert kanban.type_labels(["Staffing", "Sales", "Agencies"]) == {"Staffing": "St", "Sales": "Sa", "Agencies": "A"}
    assert kanban.type_labels(["Temp", "Temporary"]) == {"Temp": "Temp", "Temporary": "Tempo"}


@pytest.mark.parametrize(
    "stages, width, sizes",
    [(7, 80, [3, 2, 2]), (6, 80, [3, 3]), (4, 80, [2, 2]), (5, 120, [3, 2]), (4, 120, [4]), (7, 200, [7]),
     (1, 200, [1]), (3, 30, [1, 1, 1]), (0, 80, [])],
)
def test_stage_rows(stages, width, sizes):
    got_sizes, column_width = kanban.stage_rows(stages, width)
    assert got_sizes == sizes
    assert max(sizes or [1]) * (column_width + 1) + 1 <= width
    assert column_width <= kanban.MAX_COLUMN_WIDTH


def test_days_text():
    assert kanban.days_text({"days_left": -3, "indicator": "red"}) == ("overdue 3d", "indicator.red")
    assert kanban.days_text({"days_left": 0, "indicator": "red"})[0] == "!! due today"
    assert kanban.days_text({"days_left": 4, "indicator": "orange"})[0] == "! 4d left"
    assert kanban.days_text({"days_left": None, "indicator": "none"}) == ("no close date", "dim")


def test_machine_formats_say_when_limit_leaves_cards_out(agency, ok):
    from tests.conftest import add_opp

    for n in range(4):
        add_opp(ok, f"Deal {n}", "Acme", "Staffing", "HubSpot")
    run = ok("board", "--limit", "2", "--format", "csv")
    assert "Note: 2 cards beyond --limit 2" in run.stderr
    assert len(run.stdout.strip().splitlines()) == 1 + 2
    run = ok("board", "--limit", "0", "--format", "json")
    assert "Note" not in run.stderr
    assert sum(len(column["cards"]) for column in run.json()) == 4


# ---------------------------------------------------------------- scope and header


def test_board_shows_everyone_by_default_and_says_so(pipeline, ok):
    everyone = ok("board", "--limit", "0").stdout
    assert everyone.splitlines()[0].startswith("Board · everyone · 5 open opportunities · €15,000")
    assert f"#{pipeline['staff_prop']} " in everyone  # bob's card, shown to anna
    mine = ok("board", "--mine").stdout
    assert mine.splitlines()[0].startswith("Board · mine · 4 open opportunities")
    assert f"#{pipeline['staff_prop']} " not in mine
    assert ok("board", "--owner", "BOB").stdout.splitlines()[0].startswith("Board · owner bob · 1 open opportunity")
    assert "default: everyone's" in " ".join(ok("board", "--help").stdout.split())


@pytest.mark.parametrize("width", ["80", "200"])
def test_legend_and_title_keep_their_separators(pipeline, ok, width):
    lines = ok("board", "--width", width).stdout.splitlines()
    assert lines[0].startswith("Board · everyone · ")
    legend = " ".join(lines[-3:])
    assert "green later · today" in legend or re.search(r"green later\s*$", lines[-2]), legend
    assert "latertoday" not in legend


def test_html_board_keeps_spaces_and_line_ends_without_its_pre(pipeline, ok, tmp_path):
    page = tmp_path / "board.html"
    ok("board", "--output", str(page), "--width", "200")
    html = page.read_text(encoding="utf-8")
    body = html[html.index("<code"):html.index("</code>")]
    text = re.sub(r"<br>", "\n", body)
    text = re.sub(r"<[^>]+>", "", text).replace("&#160;", " ")
    assert "Board · everyone · 5 open" in text
    assert "green later · today 2026-11-27" in text
    assert re.search(r">[^<]* [^<]*<", body) is None  # no bare space left for a mail client to collapse


# ---------------------------------------------------------------- colour


def escapes(text: str) -> set[str]:
    return set(re.findall(r"\x1b\[([0-9;]*)m", text))


@pytest.mark.parametrize("args, env, coloured", [
    (["--color", "always"], {"NO_COLOR": "1"}, True),  # the option beats the environment
    (["--color", "never"], {"NO_COLOR": "", "FORCE_COLOR": "1"}, False),
    ([], {"NO_COLOR": "", "FORCE_COLOR": "1"}, True),  # `FORCE_COLOR=1 salesselect board | cat`
    ([], {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ([], {"NO_COLOR": ""}, False),  # auto, and not a terminal
    (["--color", "AUTO"], {"NO_COLOR": "", "FORCE_COLOR": "0"}, False),
])
def test_color_option_and_environment(pipeline, ok, args, env, coloured):
    run = ok(*args, "board", env={"TERM": "xterm-256color", "COLORTERM": "", **env})
    assert (ESCAPE in run.stdout) is coloured
    report = ok(*args, "report", "pipeline", env={"TERM": "xterm-256color", "COLORTERM": "", **env})
    assert (ESCAPE in report.stdout) is coloured


def test_orange_is_yellow_on_a_sixteen_colour_terminal(agency, ok):
    """In a process of its own: Rich caches a style's escape codes for the first colour system it meets."""
    import os
    import subprocess
    import sys

    add_opp(ok, "Soon", "Acme", "Staffing", "HubSpot", "--close", day(4))  # orange at 5/2
    add_opp(ok, "Sooner", "Acme", "Staffing", "HubSpot", "--close", day(1))  # red

    def board(term: str) -> str:
        env = {**os.environ, "TERM": term, "COLORTERM": "", "NO_COLOR": ""}
        done = subprocess.run([sys.executable, "-m", "salesselect_cli", "--color", "always", "board"], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert any("38;5;208" in code for code in escapes(board("xterm-256color")))  # dark_orange with 256 colours
    basic = board("xterm")
    assert all("38;5" not in code and "38;2" not in code for code in escapes(basic))
    orange_code = re.search(r"\x1b\[([0-9;]*)m! 4d left", basic).group(1)
    red_code = re.search(r"\x1b\[([0-9;]*)m!! 1d left", basic).group(1)
    assert "33" in orange_code.split(";") and "31" in red_code.split(";")
