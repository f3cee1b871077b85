"""Help in Dutch: every help paragraph of every command and parameter has Dutch (help.po), Typer's own
words in the help screen follow the language, and English help is the same as ever, also after Dutch."""

from __future__ import annotations

import os
import re

import pytest

from tests.test_help import PATHS, PLACEHOLDERS, trimmed
from tests.test_i18n import SNAPSHOTS, catalogue

TYPER_ENGLISH = ("Usage:", "Options", "Arguments", "Commands", "[default:", "[required]", "Show this message and exit.")


@pytest.fixture(scope="module")
def paragraphs() -> dict:
    return catalogue.help_paragraphs()


def test_the_walk_finds_every_kind_of_help_text(paragraphs):
    places = set(paragraphs.values())
    assert len(paragraphs) > 250  # a broken walk would pass the completeness test with nothing to check
    assert paragraphs["Add an opportunity; prints its id."] == "salesselect opp add"  # a command
    assert paragraphs["Lost reason (required)."] == "salesselect opp lose --reason"  # an option
    assert paragraphs["The opportunity's id."].startswith("salesselect opp ")  # an argument
    assert any(place.endswith("(epilog)") for place in places)  # workflow's epilog
    assert any(place.startswith("salesselect config module ") for place in places)  # a group in a group
    assert "Install completion for the current shell." in paragraphs  # Typer's completion options
    assert all("\n\n" not in paragraph for paragraph in paragraphs)  # split into paragraphs


def test_every_help_paragraph_has_a_dutch_translation(paragraphs):
    known = catalogue.known()
    missing = [f"{place}: {paragraph!r}" for paragraph, place in paragraphs.items() if not known.get(paragraph)]
    assert not missing, "no Dutch for (python tools/catalogue.py --missing):\n" + "\n".join(missing)


def test_the_help_translations_keep_what_people_type(paragraphs):
    """Options, `code`, $VARIABLES, metavars (FILE, NAME), action forms (followup:+3d:TEXT) and {placeholders}
    (help.po's paragraphs: the command list's and the global options' lines are in salesselect.po)."""
    known = catalogue.parse_po(catalogue.HELP_PO.read_text(encoding="utf-8"))
    checked = [paragraph for paragraph in paragraphs if paragraph in known]
    assert len(checked) > 250
    for paragraph in checked:
        dutch = known[paragraph]
        for pattern in (r"`[^`]*`", r"--[a-z][a-z-]*", r"\$[A-Z_]+", r"\b[A-Z]{3,}\b", r"\b[a-z]+:[A-Z+][^ ,]*", r"\{\w*\}"):
            kept = set(re.findall(pattern, paragraph)) - {"FROM"}  # 'closed FROM' is emphasis: WAARUIT
            assert kept <= set(re.findall(pattern, dutch)), (paragraph, dutch, kept - set(re.findall(pattern, dutch)))
        assert dutch.count("\n") == paragraph.count("\n"), paragraph  # the same line structure


def test_missing_lists_untranslated_help_paragraphs(monkeypatch, capsys):
    monkeypatch.setattr(catalogue, "CATALOGUES", (catalogue.PO,))  # as if help.po were empty
    monkeypatch.setattr(catalogue, "MESSAGES_PO", catalogue.PO.with_name("nothing.po"))  # and messages.po
    assert catalogue.main(["--missing"]) == 0
    out = capsys.readouterr().out
    assert '#: help: salesselect opp add --company\nmsgid "The client company."\nmsgstr ""\n' in out
    assert '#: help: salesselect board\nmsgid ""\n' not in out  # multi-line paragraphs are one msgid string
    assert 'msgid "Usage: "' in out and 'msgid "[required]"' in out  # Typer's words, from helpscreen.WORDS


def test_typers_words_have_dutch_in_their_own_catalogue():
    """Every word the help screen takes from Typer and click has Dutch in messages.po, and messages.mo is
    what tools/catalogue.py compiles from it."""
    from salesselect_cli.helpscreen import WORDS

    known = catalogue.parse_po(catalogue.MESSAGES_PO.read_text(encoding="utf-8"))
    assert [word for word in WORDS if not known.get(word)] == []
    assert catalogue.MESSAGES_MO.read_bytes() == catalogue.compile_po(catalogue.MESSAGES_PO.read_text(encoding="utf-8"))


def test_opp_add_help_reads_dutch_including_typers_own_words(cli):
    out = cli("--lang", "nl", "opp", "add", "--help", env={"COLUMNS": "100"}).stdout
    for dutch in ("Gebruik: ", "opp add [OPTIONS] TITLE", "Voeg een verkoopkans toe en toon haar id.",
                  "─ Argumenten ─", "─ Opties ─", "[verplicht]", "Beginfase (standaard: de eerste van het bedrijfstype).",
                  "Toon deze hulp en stop.", "Verwachte sluitingsdatum (YYYY-MM-DD, DD-MM-YYYY, +2w,"):
        assert dutch in out, dutch
    for english in TYPER_ENGLISH + ("Add an opportunity", "The client company"):
        assert english not in out, english


@pytest.mark.parametrize("args, dutch", [
    ((), ("─ Commando's ─", "[standaard: auto]", "Toon de versie en stop.", "Installeer aanvulling")),
    (("opp",), ("─ Commando's ─", "Markeer een verkoopkans als verloren, met een reden voor verloren.")),
    (("config", "module"), ("Zet de module aan voor de klant, of voor één gebruiker.",)),
    (("workflow",), ("Acties: followup:+3d:TEXT, note:TEXT",)),  # the epilog
    (("report", "winloss"), ("per fase WAARUIT ze gesloten werden", "`opp list`-commando")),
    (("import",), ("Eén foute rij weigert het hele bestand",)),
])
def test_group_and_command_help_in_dutch(cli, args, dutch):
    run = cli("--lang", "nl", *args, "--help", env={"COLUMNS": "200"})
    assert run.exit_code == 0
    for words in dutch:
        assert words in run.stdout, words
    for english in TYPER_ENGLISH:
        assert english not in run.stdout, english


@pytest.mark.parametrize("args, dutch, english", [
    (("--lang", "nl", "opp"), "Voeg een verkoopkans toe en toon haar id.", "Add an opportunity"),
    (("--db", "x.db", "--lang", "nl", "config"), "Richt het bureau in", "Set up the agency"),
    (("--lang=nl", "--color", "never", "report"), "Rapporten voor managers", "Reports for managers"),
])
def test_a_group_without_its_command_shows_dutch_help_after_root_options(cli, args, dutch, english):
    """`salesselect --lang nl opp` shows the group's help as `opp --help` does: all of it in Dutch."""
    run = cli(*args, env={"COLUMNS": "200"})
    shown = run.stdout + run.stderr
    assert "Gebruik: " in shown and "─ Commando's ─" in shown and dutch in shown, shown[:400]
    assert english not in shown and "Usage:" not in shown
    assert english in (cli(args[-1], "--help", env={"COLUMNS": "200"}).stdout)  # and English again after


def test_every_dutch_help_reads_without_placeholders_and_fits(cli):
    width = "80"
    for path in PATHS:
        run = cli("--lang", "nl", *path, "--help", env={"COLUMNS": width})
        assert run.exit_code == 0, (path, run.stderr)
        for placeholder in PLACEHOLDERS:
            assert placeholder not in run.stdout, f"salesselect {' '.join(path)} --help shows {placeholder}"
        assert run.stdout.count("Gebruik: ") == 1 and "Usage:" not in run.stdout
        assert max(len(line) for line in run.stdout.splitlines()) <= int(width)


def test_english_help_after_dutch_is_english_again(cli):
    english_first = cli("opp", "add", "--help").stdout
    cli("--lang", "nl", "opp", "add", "--help")
    cli("--lang", "nl", "--help")
    again = cli("opp", "add", "--help").stdout
    assert again == english_first
    for english in ("Usage:", "Options", "Arguments", "[required]", "Show this message and exit.", "The client company."):
        assert english in again
    assert "Gebruik" not in cli("--help").stdout


def test_dutch_help_snapshot():
    """tests/snapshots/nl-help-opp-add.txt is `--lang nl opp add --help` at 100 columns (UPDATE_SNAPSHOTS=1 rewrites)."""
    from typer.testing import CliRunner

    from salesselect_cli.main import app

    run = CliRunner().invoke(app, ["--lang", "nl", "opp", "add", "--help"], env={"COLUMNS": "100"}, prog_name="salesselect")
    assert run.exit_code == 0
    snapshot = SNAPSHOTS / "nl-help-opp-add.txt"
    shown = trimmed(run.stdout)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(shown, encoding="utf-8")
    assert shown == snapshot.read_text(encoding="utf-8")


def test_languages_alternate_in_a_long_lived_process(cli):
    """The tests reuse the click objects (conftest.built_once), as a long-lived process would: help already
    reflowed for English still finds its Dutch, and English after Dutch is reflowed as before."""
    def line_with(args, words):
        out = cli(*args, "--help", env={"COLUMNS": "200"}).stdout
        return next(line for line in out.splitlines() if words in line)

    for _ in range(2):
        assert "largest share first" in line_with(("report", "winloss"), "A deal moved from Proposal")
        assert "grootste aandeel eerst" in line_with(("--lang", "nl", "report", "winloss"), "Een deal die van Proposal")
        assert "nothing is written. UTF-8" in line_with(("import",), "Any bad row")
        assert "er wordt niets geschreven. UTF-8" in line_with(("--lang", "nl", "import"), "Eén foute rij")


def test_speak_help_translates_every_kind_of_help_text_and_puts_english_back(monkeypatch):
    """A command's help and epilog, a parameter's help, a rich_help_panel name: each through `_()`, each back
    to its English original when help is shown in English again."""
    import typer

    from salesselect_cli import i18n, main

    demo = typer.Typer()

    @demo.command(epilog="Closing words.")
    def go(stage: str = typer.Option("x", help="Only this stage.", rich_help_panel="Filters")) -> None:
        """First paragraph.

        Second paragraph."""

    command = typer.main.get_command(demo)
    option = next(param for param in command.params if param.name == "stage")
    english = (command.help, command.epilog, option.help, option.rich_help_panel)
    monkeypatch.setattr(i18n, "_", lambda text: f"<{text}>")
    main._speak_help(command)
    assert (command.help, command.epilog, option.help, option.rich_help_panel) == (
        "<First paragraph.>\n\n<Second paragraph.>", "<Closing words.>", "<Only this stage.>", "<Filters>")
    monkeypatch.undo()
    i18n.configure("en")
    main._speak_help(command)
    assert (command.help, command.epilog, option.help, option.rich_help_panel) == english
    i18n.configure(None)
