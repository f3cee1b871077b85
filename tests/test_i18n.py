"""Dutch and English: which language, the catalogue, Dutch formats and the Dutch screens."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

from salesselect_cli import i18n
from salesselect_cli.rules.dates import format_date, month_name, parse_date, weekday_name
from salesselect_cli.rules.money import format_money, parse_money
from tests.conftest import ON_POSTGRES, TODAY

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _tool():
    spec = importlib.util.spec_from_file_location("catalogue", ROOT / "tools" / "catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogue = _tool()


# ---------------------------------------------------------------- which language


@pytest.mark.parametrize("option, environ, agency, expected", [
    ("nl", {"SALESSELECT_LANG": "en", "LANG": "en_US.UTF-8"}, "en", "nl"),
    (None, {"SALESSELECT_LANG": "nl"}, "en", "nl"),
    (None, {"SALESSELECT_LANG": "en", "LANG": "nl_NL.UTF-8"}, "nl", "en"),
    (None, {"LANG": "en_GB.UTF-8"}, "nl", "nl"),
    (None, {"LANG": "nl_BE.UTF-8"}, None, "nl"),
    (None, {"LC_ALL": "en_US.UTF-8", "LANG": "nl_NL.UTF-8"}, None, "en"),
    (None, {"LC_MESSAGES": "nl_NL", "LANG": "en_US"}, None, "nl"),
    (None, {"LANG": "de_DE.UTF-8"}, None, "en"),
    (None, {"LANG": "C.UTF-8"}, None, "en"),
    (None, {}, None, "en"),
    (None, {"SALESSELECT_LANG": "fr"}, None, "en"),  # a language we do not speak falls through
])
def test_language_resolution_order(option, environ, agency, expected):
    assert i18n.resolve(option, environ, agency) == expected


@pytest.mark.parametrize("code, expected", [
    ("nl", "nl"), ("NL", "nl"), ("nl_NL.UTF-8", "nl"), ("nl-BE", "nl"), ("Dutch", "nl"), ("nederlands", "nl"),
    ("en", "en"), ("en_GB", "en"), ("english", "en"), ("de", None), ("", None), (None, None), ("C", None),
])
def test_normalise(code, expected):
    assert i18n.normalise(code) == expected


def test_english_never_reads_the_catalogue(monkeypatch):
    monkeypatch.setattr(i18n, "_catalogue", None)
    i18n.configure("en")
    assert i18n._("unknown {kind} '{name}'; valid: {valid}") == "unknown {kind} '{name}'; valid: {valid}"
    assert i18n.ngettext("{count} deal", "{count} deals", 2) == "{count} deals"
    assert i18n._catalogue is None
    i18n.configure(None)


def test_dutch_reads_the_catalogue():
    i18n.configure("nl")
    try:
        assert i18n._("language must be en or nl, not '{code}'") == "taal moet en of nl zijn, niet '{code}'"
        assert i18n._("a message nobody translated") == "a message nobody translated"
    finally:
        i18n.configure(None)


# ---------------------------------------------------------------- the catalogue


def test_the_compiled_catalogue_is_the_po_files_compiled():
    assert catalogue.CATALOGUES == (catalogue.PO, catalogue.HELP_PO)
    assert catalogue.MO.read_bytes() == catalogue.compile_catalogues(catalogue.read_catalogues()), \
        "salesselect.mo is out of date: run python tools/catalogue.py"


def test_a_msgid_in_both_po_files_is_an_error(tmp_path, monkeypatch, capsys):
    help_po = tmp_path / "help.po"
    help_po.write_text('msgid "Only this stage."\nmsgstr "Alleen deze fase."\n\n'
                       'msgid "Import opportunities from CSV: all rows or none."\nmsgstr "Importeer."\n', encoding="utf-8")
    texts = catalogue.read_catalogues((catalogue.PO, help_po))
    assert catalogue.duplicates(texts) == ["Import opportunities from CSV: all rows or none."]
    with pytest.raises(ValueError, match="Import opportunities from CSV"):
        catalogue.compile_catalogues(texts)
    monkeypatch.setattr(catalogue, "CATALOGUES", (catalogue.PO, help_po))
    monkeypatch.setattr(catalogue, "MO", tmp_path / "salesselect.mo")
    assert catalogue.main([]) == 1
    assert "Import opportunities from CSV: all rows or none." in capsys.readouterr().err
    assert not (tmp_path / "salesselect.mo").exists()


def test_both_po_files_reach_the_compiled_catalogue():
    i18n.configure("nl")
    try:
        assert i18n._("Import opportunities from CSV: all rows or none.").startswith("Importeer")  # salesselect.po
        assert i18n._("Only this stage.") == "Alleen deze fase."  # help.po
    finally:
        i18n.configure(None)


def test_every_message_in_the_code_has_a_dutch_translation():
    known = catalogue.known()
    code = catalogue.messages_in_code()
    assert len(code) > 50  # the walk finds the messages (a broken walk would pass with none)
    missing = [f"{place}: {msgid!r}" for msgid, place in code.items()
               if not known.get(msgid) or (isinstance(msgid, tuple) and not all(known[msgid]))]
    assert not missing, "no Dutch for (python tools/catalogue.py --missing):\n" + "\n".join(missing)


def test_translations_keep_the_placeholders():
    import re

    for msgid, msgstr in catalogue.known().items():
        if not msgid:
            continue
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        targets = msgstr if isinstance(msgid, tuple) else [msgstr]
        wanted = set(re.findall(r"\{[a-z_]*\}", sources[-1]))
        for target in targets:
            assert set(re.findall(r"\{[a-z_]*\}", target)) <= set().union(*(re.findall(r"\{[a-z_]*\}", s) for s in sources)), msgid
            if len(targets) == 1:
                assert wanted <= set(re.findall(r"\{[a-z_]*\}", target)), (msgid, target)


def test_the_po_reader_reads_plurals_continuations_and_skips_fuzzy():
    entries = catalogue.parse_po('msgid ""\nmsgstr "h"\n\nmsgid "a"\n"b"\nmsgstr "c"\n"d"\n\n'
                                 '#, fuzzy\nmsgid "x"\nmsgstr "y"\n\n'
                                 'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "een"\nmsgstr[1] "veel"\n')
    assert entries == {"": "h", "ab": "cd", ("one", "many"): ["een", "veel"]}


# ---------------------------------------------------------------- Dutch formats


@pytest.mark.parametrize("cents, decimals, dutch, expected", [
    (9_000_000, False, True, "€ 90.000"),
    (1_250_050, False, True, "€ 12.500,50"),
    (1_250_000, True, True, "€ 12.500,00"),
    (99, False, True, "€ 0,99"),
    (0, False, True, "€ 0"),
    (123_456_789_00, False, True, "€ 123.456.789"),
    (9_000_000, False, False, "€90,000"),
    (1_250_050, False, False, "€12,500.50"),
])
def test_money_for_people(cents, decimals, dutch, expected):
    assert format_money(cents, "EUR", decimals, dutch=dutch) == expected


def test_dutch_money_in_other_currencies():
    assert format_money(150_000, "CHF", dutch=True) == "CHF 1.500"
    assert format_money(150_000, "USD", dutch=True) == "$ 1.500"
    assert format_money(150_000, "SEK", dutch=True) == "SEK 1.500"


@pytest.mark.parametrize("text", ["€ 90.000", "€ 12.500,50", "€90,000", "12,500.50"])
def test_what_dutch_shows_reads_back(text):
    assert format_money(parse_money(text), dutch=True) in ("€ 90.000", "€ 12.500,50")


def test_dates_for_people():
    day = dt.date(2026, 11, 27)
    assert format_date(day, dutch=True) == "27-11-2026"
    assert format_date("2026-03-05", dutch=True) == "05-03-2026"
    assert format_date(day, dutch=False) == "2026-11-27"
    assert format_date("2026-11-27", dutch=False) == "2026-11-27"
    assert format_date("later", dutch=True) == "later"
    assert format_date(None, dutch=True) == ""
    assert parse_date(format_date(day, dutch=True), TODAY) == day  # what Dutch shows, Dutch can type


def test_weekday_and_month_names():
    friday = dt.date(2026, 11, 27)
    assert weekday_name(friday, dutch=True) == "vrijdag"
    assert weekday_name(friday, short=True, dutch=True) == "vr"
    assert weekday_name(friday, short=True, dutch=False) == "Fri"
    assert month_name(3, dutch=True) == "maart"
    assert month_name(10, short=True, dutch=True) == "okt"
    assert month_name(3, short=True, dutch=True) == "mrt"
    assert month_name(10, dutch=False) == "October"


@pytest.mark.parametrize("word, offset", [
    ("vandaag", 0), ("morgen", 1), ("overmorgen", 2), ("gisteren", -1), ("eergisteren", -2),
    ("vrijdag", 7), ("Maandag", 3), ("zo", 2), ("today", 0), ("tomorrow", 1),
])
def test_dutch_and_english_date_words_in_either_language(word, offset):
    assert parse_date(word, TODAY) == TODAY + dt.timedelta(days=offset)  # TODAY is a Friday


def test_no_module_that_translates_rebinds_the_underscore():
    """`for _ in ...` or `x, _ = ...` beside `from salesselect_cli.i18n import _` would make `_` a local
    (UnboundLocalError) or a tuple element instead of the translator."""
    import ast

    for path in sorted((ROOT / "salesselect_cli").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_it = any(isinstance(node, ast.ImportFrom) and node.module == "salesselect_cli.i18n"
                         and any(alias.name == "_" and alias.asname is None for alias in node.names)
                         for node in ast.walk(tree))
        if not imports_it:
            continue
        bound = [node.lineno for node in ast.walk(tree)
                 if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)]
        assert not bound, f"{path.name} binds _ at lines {bound}"


# ---------------------------------------------------------------- the Dutch screens


@pytest.fixture
def demo(demo_db, cli):
    """The demo agency (conftest's demo_db); the test runs commands on it through cli."""
    return cli


SCREENS = {
    "board": ("board", "--width", "100"),
    "board-mine": ("board", "--width", "60", "--mine", "--limit", "2"),
    "report-winloss": ("report", "winloss", "--period", "this-year"),
    "report-sources": ("report", "sources", "--period", "this-year"),
    "report-pipeline": ("report", "pipeline"),
    "report-stages": ("report", "stages", "--period", "this-year"),
    "config-check": ("config", "check"),
}


@pytest.mark.parametrize("name", SCREENS)
def test_dutch_screens_match_their_snapshots(demo, name):
    """tests/snapshots/nl-NAME.txt is the screen as a Dutch reader sees it (UPDATE_SNAPSHOTS=1 rewrites them)."""
    import os

    run = demo("--lang", "nl", *SCREENS[name])
    assert run.exit_code == 0, run.stderr
    snapshot = SNAPSHOTS / f"nl-{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(run.stdout, encoding="utf-8")
    assert run.stdout == snapshot.read_text(encoding="utf-8")


def test_the_dutch_board_reads_dutch(demo):
    out = demo("--lang", "nl", "board", "--width", "100").stdout
    assert out.startswith("Bord · iedereen · 42 open verkoopkansen · € 2.269.100")
    for words in ("deals · €", "te laat", "nog ", "volgende ", "!! rood ≤ 2d", "! oranje ≤ 5d", "vandaag 27-11-2026 (vr)"):
        assert words in out
    for english in ("Board", "overdue", "left", "today", "next ", "€2"):
        assert english not in out


@pytest.mark.parametrize("args", [
    ("board", "--format", "json"), ("board", "--format", "csv"), ("report", "winloss", "-p", "all", "--format", "json"),
    ("report", "sources", "-p", "all", "--format", "csv"), ("report", "pipeline", "--format", "json"),
    ("report", "stages", "-p", "all", "--format", "csv"), ("opp", "list", "--format", "json"),
    ("config", "check", "--format", "json"),
])
def test_what_scripts_read_does_not_change_with_the_language(demo, args):
    english, dutch = demo(*args), demo("--lang", "nl", *args)
    assert (english.exit_code, english.stdout) == (dutch.exit_code, dutch.stdout)


def test_english_is_the_default_and_dutch_comes_from_the_option_env_setting_or_locale(demo, monkeypatch):
    assert demo("board").stdout.startswith("Board ·")
    assert demo("--lang", "nl", "board").stdout.startswith("Bord ·")
    assert demo("--lang", "NL", "board").stdout.startswith("Bord ·")
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    assert demo("board").stdout.startswith("Bord ·")  # the locale, when nothing else decides
    monkeypatch.setenv("SALESSELECT_LANG", "en")
    assert demo("board").stdout.startswith("Board ·")  # the environment beats the locale
    monkeypatch.setenv("SALESSELECT_LANG", "nl")
    assert demo("board").stdout.startswith("Bord ·")
    assert demo("--lang", "en", "board").stdout.startswith("Board ·")  # the option beats the environment


def test_the_agency_setting(demo, monkeypatch):
    run = demo("config", "set-language", "nl")
    assert (run.exit_code, run.stderr) == (0, "Taal: Nederlands.\n")
    assert demo("board").stdout.startswith("Bord ·")
    assert demo("--lang", "en", "board").stdout.startswith("Board ·")
    monkeypatch.setenv("SALESSELECT_LANG", "en")
    assert demo("board").stdout.startswith("Board ·")
    monkeypatch.delenv("SALESSELECT_LANG")
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert demo("board").stdout.startswith("Bord ·")  # the agency's setting beats the locale
    assert demo("config", "set-language", "English").stderr == "Language: English.\n"
    assert demo("board").stdout.startswith("Board ·")


def test_set_language_refuses_other_languages_and_recruiters(demo):
    run = demo("config", "set-language", "de")
    assert (run.exit_code, run.stderr) == (1, "Error: language must be en or nl, not 'de'\n")
    run = demo("--lang", "nl", "--user", "sanne", "config", "set-language", "nl")
    assert (run.exit_code, run.stderr) == (3, "Fout: alleen key-users mogen de inrichting wijzigen; 'sanne' is geen key-user\n")
    assert demo("board").stdout.startswith("Board ·")


def test_an_unknown_language_is_a_usage_error(demo):
    run = demo("--lang", "fr", "board")
    assert run.exit_code == 2 and "fr" in run.stderr


@pytest.mark.parametrize("args, code, message", [
    (("opp", "lose", "268", "--reason", "too expensiv"), 1,
     "Fout: onbekende verloren reden 'too expensiv'; geldig: Too expensive, "),
    (("opp", "add", "X", "--company", "Y", "--type", "Staffin", "--source", "LinkedIn"), 1,
     "Fout: onbekend bedrijfstype 'Staffin'; geldig: Staffing, Agencies"),
    (("opp", "add", "X", "--company", "Y", "--type", "Staffing", "--source", "Linkedn"), 1,
     "Fout: onbekende bron 'Linkedn'; geldig: LinkedIn"),
    (("opp", "add", "X", "--company", "Y", "--type", "Staffing", "--source", "LinkedIn", "--value", "12,5x"), 1,
     "Fout: waarde moet een getal zijn zoals 12000 of 12.000,50, niet '12,5x'"),
    (("opp", "add", "X", "--company", "Y", "--type", "Staffing", "--source", "LinkedIn", "--close", "31-02-2026"), 1,
     "Fout: ongeldige datum '31-02-2026': die dag bestaat niet in die maand"),
    (("opp", "add", "X", "--company", "Y", "--type", "Staffing", "--source", "LinkedIn", "--close", "volgende week"), 1,
     "Fout: kan de datum 'volgende week' niet lezen; gebruik JJJJ-MM-DD, DD-MM-JJJJ, vandaag, morgen"),
    (("opp", "lose", "268", "--reason", "Good price"), 1,
     "Fout: reden 'Good price' is een gewonnen reden, geen verloren reden"),
    # on PostgreSQL the user is the database login, and the message says so
    (("--user", "zoe", "board"), 3, "Fout: je databaselogin 'zoe' is geen gebruiker van deze database; een key-user kan"
     if ON_POSTGRES else "Fout: 'zoe' is geen gebruiker van deze database; een key-user kan"),
    (("--user", "sanne", "config", "add-source", "X"), 3,
     "Fout: alleen key-users mogen de inrichting wijzigen; 'sanne' is geen key-user"),
    (("opp", "show", "99999"), 1, "Fout: geen verkoopkans #99999"),
    (("--db", "nowhere.db", "board"), 1, "Fout: geen database op nowhere.db; voer eerst 'salesselect init' uit (of geef --db)"),
    (("--user", "daan", "opp", "move", "268", "Proposal"), 3,
     "Fout: #268 is van sanne: alleen sanne, een manager of een key-user mag hem wijzigen ('daan' is recruiter)"),
    (("opp", "add", "", "--company", "Y", "--type", "Staffing", "--source", "LinkedIn"), 1, "Fout: titel mag niet leeg zijn"),
    # usage errors: click writes these in English; they reach the reader in Dutch
    (("board", "--nope"), 2, "Fout: onbekende optie: --nope (mogelijke opties: "),
    (("bord",), 2, "Fout: onbekend commando 'bord'."),
    (("opp", "show", "268", "269"), 2, "Fout: onverwacht extra argument (269) (zie '"),
    (("board", "--limit"), 2, "Fout: optie '--limit' heeft een waarde nodig."),
    (("board", "--limit", "x"), 2, "Fout: --limit neemt een geheel getal van 0 of meer (niet 'x')"),
    (("board", "--mine=3"), 2, "Fout: optie '--mine' neemt geen waarde."),
    (("report", "winloss", "--period", "zz"), 1, "Fout: onbekende periode 'zz'; gebruik this-month, "),
    (("import", "nowhere.csv"), 1, "Fout: kan nowhere.csv niet lezen: bestand of map bestaat niet"),
    (("opp", "move", "268", "Won"), 1, "Fout: onbekende fase 'Won'; geldig: New client, "),
    (("opp", "list", "--sort", "bogus"), 1, "Fout: onbekend sorteerveld 'bogus'; geldig: close, "),
    (("workflow", "add", "X", "--on", "stage", "--action", "bogus"), 1,
     "Fout: onbekende actie 'bogus'; gebruik followup:+3d:TEXT, note:TEXT, owner:NAME of run:COMMAND"),
])
def test_a_new_users_errors_in_dutch(demo, args, code, message):
    run = demo("--lang", "nl", *args)
    assert run.exit_code == code
    assert run.stderr.startswith(message), run.stderr
    assert run.stderr.count("\n") == 1


def test_dutch_date_words_work_in_english_too(demo):
    run = demo("opp", "add", "X", "--company", "Y", "--type", "Staffing", "--source", "LinkedIn", "--close", "overmorgen",
               "--value", "€ 12.500,50")
    assert run.exit_code == 0, run.stderr
    shown = demo("opp", "show", run.stdout.strip(), "--format", "json").json()
    assert (shown["expected_close"], shown["value"]) == ("2026-11-29", "12500.50")


def test_help_speaks_dutch_where_translated_and_english_again_after(cli):
    dutch = cli("--lang", "nl", "--help")
    assert dutch.exit_code == 0
    assert "Toon de open verkoopkansen van het bureau als" in dutch.stdout
    assert "Taal van de interface, en of nl" in dutch.stdout
    english = cli("--help")  # the same click objects, in the same process
    assert "Show the agency's open opportunities as a" in english.stdout
    assert "Toon" not in english.stdout


def test_config_check_of_a_new_agency_in_dutch(db, cli):
    run = cli("--lang", "nl", "config", "check")
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0] == "ontbreekt: geen bedrijfstype (salesselect config add-business-type NAAM --color KLEUR)"
    assert all(line.startswith("ontbreekt: ") for line in run.stdout.splitlines())
    assert "indicator resterende dagen niet ingesteld" in run.stdout
    assert cli("config", "check", "--format", "json").stdout == cli("--lang", "nl", "config", "check", "--format", "json").stdout
