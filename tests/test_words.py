"""The words a Dutch interface prints are accepted back as input (English always works): statuses, periods,
--auto, roles, module settings and colour names; the deadline badges never look like a type's colour."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from salesselect_cli.errors import Invalid
from salesselect_cli.rules import words
from salesselect_cli.rules.periods import named_period
from salesselect_cli.rules.permissions import check_role
from salesselect_cli.rules.setup import validate_color, validate_setup
from tests.conftest import add_opp

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def english_afterwards():
    """A `--lang nl` command leaves the language chosen in the process: the next test starts in English again."""
    from salesselect_cli import i18n

    yield
    i18n.configure(None)


@pytest.mark.parametrize("dutch, english", [
    ("deze-maand", "this-month"), ("vorige-maand", "last-month"), ("dit-kwartaal", "this-quarter"),
    ("vorig-kwartaal", "last-quarter"), ("Vorig kwartaal", "last-quarter"), ("dit-jaar", "this-year"),
    ("vorig-jaar", "last-year"), ("alles", "all"), ("2026-K3", "2026-Q3"), ("2026-k1", "2026-Q1"),
])
def test_dutch_periods_are_the_english_ones(dutch, english):
    found, wanted = named_period(dutch, TODAY), named_period(english, TODAY)
    assert (found.start, found.end) == (wanted.start, wanted.end)


def test_the_next_periods_are_translated_for_the_forecast():
    assert [words.period(w) for w in ("volgende-maand", "volgend-kwartaal", "volgend-jaar")] == [
        "next-month", "next-quarter", "next-year"]


def test_unknown_period_words_are_still_refused_with_the_hint():
    with pytest.raises(Invalid, match="unknown period 'vorige-week'"):
        named_period("vorige-week", TODAY)
    assert words.period("2026-K5") == "2026-K5"


def test_statuses_roles_and_auto():
    assert [words.english(words.STATUSES, w) for w in ("gewonnen", "Verloren", "alle", "open", "won", "LOST")] == [
        "won", "lost", "all", "open", "won", "lost"]
    assert words.english(words.FOLLOWUP_STATUSES, "geannuleerd") == "cancelled"
    assert words.english(words.FOLLOWUP_STATUSES, "gedaan") == "done"
    assert words.english(words.AUTO, "gewonnen") == "won" and words.english(words.AUTO, "geen") == "none"
    assert words.english(words.STATUSES, None) is None
    assert words.english(words.STATUSES, " nope ") == "nope"  # the checker names the valid ones
    assert check_role("Verkoper") == "recruiter" and check_role("manager") == "manager"
    with pytest.raises(ValueError, match="recruiter or manager"):
        check_role("baas")


@pytest.mark.parametrize("name, rich", [("rood", "red"), ("oranje", "dark_orange"), ("orange", "dark_orange"),
                                         ("Blauw", "blue"), ("groen", "green"), ("geel", "yellow"),
                                         ("paars", "purple"), ("grijs", "grey50"), ("steel_blue", "steel_blue"),
                                         ("#E07B00", "#e07b00")])
def test_colour_names(name, rich):
    assert validate_color(name) == rich


def test_an_unknown_colour_is_refused():
    with pytest.raises(Invalid, match="is not a colour"):
        validate_color("roze2")


def test_a_setup_file_takes_dutch_module_and_role_words():
    setup = validate_setup({"users": [{"name": "piet", "role": "verkoper", "module": "aan"},
                                      {"name": "kees", "module": "volgt klant"}],
                            "business_types": [{"name": "Werving", "color": "oranje"}]})
    assert [(u["role"], u["module"]) for u in setup.users] == [("recruiter", "on"), (None, None)]  # no role in the file: the user keeps theirs


def dutch(cli, *args):
    run = cli("--lang", "nl", *args)
    assert run.exit_code == 0, run.stderr
    return run


def test_in_dutch_the_printed_words_work_as_input(agency, ok, cli):
    first = add_opp(ok, "Lost one", "Acme", "Staffing", "HubSpot")
    add_opp(ok, "Open one", "Acme", "Staffing", "HubSpot")
    ok("opp", "lose", first, "--reason", "Too expensive")

    def ids(*args):
        return [row["id"] for row in json.loads(dutch(cli, "opp", "list", *args, "--format", "json").stdout)]

    assert ids("--status", "verloren") == ids("--status", "lost") == [first]
    assert ids("--status", "alle") == ids("--status", "all") and len(ids("--status", "alle")) == 2
    assert ids("--status", "verloren", "--closed-in", "deze-maand") == ids("--status", "lost", "--closed-in", "this-month")
    assert ids("--closed-in", "vorig-kwartaal") == ids("--closed-in", "last-quarter")
    winloss = dutch(cli, "report", "winloss", "-p", "deze-maand", "--format", "json").json()
    assert winloss == dutch(cli, "report", "winloss", "-p", "this-month", "--format", "json").json() and winloss
    dutch(cli, "config", "add-business-type", "Detachering", "--color", "oranje")
    dutch(cli, "config", "add-stage", "Binnen", "--type", "Detachering", "--auto", "gewonnen")
    dutch(cli, "config", "add-reason", "Goede match", "--status", "gewonnen")
    stages = {row["name"]: row for row in ok("config", "list-stages", "--format", "json").json()}
    assert stages["Binnen"]["auto"] == "won"
    types = {row["name"]: row["color"] for row in ok("config", "list-business-types", "--format", "json").json()}
    assert types["Detachering"] == "dark_orange"
    assert any(row["reason"] == "Goede match" and row["status"] == "won"
               for row in ok("config", "list-reasons", "--format", "json").json())
    assert ok("followup", "list", "--status", "geannuleerd", "--format", "json").json() == \
        ok("followup", "list", "--status", "cancelled", "--format", "json").json()


def test_orange_works_in_english_too(agency, ok):
    ok("config", "add-business-type", "Werving", "--color", "orange")
    types = {row["name"]: row["color"] for row in ok("config", "list-business-types", "--format", "json").json()}
    assert types["Werving"] == "dark_orange"


def test_a_refused_dutch_word_still_names_the_valid_ones(agency, cli):
    run = cli("--lang", "nl", "opp", "list", "--status", "gesloten")
    assert run.exit_code == 1 and "gesloten" in run.stderr and "Fout:" in run.stderr


@pytest.mark.parametrize("system", ["standard", "256", "truecolor"])
@pytest.mark.parametrize("colour", ["red", "dark_orange", "yellow", "orange1", "#e07b00", "bright_red"])
def test_badges_never_look_like_a_type_colour(system, colour):
    """A type's square is drawn in its colour on the default background; a red or orange badge is reversed."""
    import io

    from rich.console import Console

    from salesselect_cli.render import themed

    console = themed(Console(file=io.StringIO(), color_system=system, force_terminal=True))
    for badge in ("indicator.red", "indicator.orange"):
        style = console.get_style(badge)
        square = console.get_style(colour)
        assert style.reverse and not square.reverse
        assert (style.color, style.bgcolor, style.reverse) != (square.color, square.bgcolor, square.reverse)


def test_on_the_demo_agency_last_quarter_in_dutch_is_last_quarter(demo_db, cli):
    """Done-when of issue 26: `-p vorig-kwartaal` equals `-p last-quarter`, on data that has a last quarter."""
    for command in (("report", "winloss"), ("report", "sources")):
        dutch_answer = dutch(cli, *command, "-p", "vorig-kwartaal", "--format", "json").json()
        assert dutch_answer == dutch(cli, *command, "-p", "last-quarter", "--format", "json").json()
        assert dutch_answer  # the demo closed deals last quarter: the comparison is not of two empty answers
