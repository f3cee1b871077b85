"""No English left for a Dutch reader: every line a person reads went through the catalogue.

Two nets:
- a pseudo-language: a stand-in catalogue marks every translated text ⟪like this⟫; commands and error
  paths then run in it, and what is left of each line once the marked parts are taken out must be data
  (names from the agency's setup and deals, numbers, dates, punctuation), never an English word;
- the code itself: a string literal (or f-string) that reaches an error, `stderr_line`, `typer.echo`, a
  console print, a prompt, a table title or a column header without `_()` fails the test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from salesselect_cli import i18n

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "salesselect_cli"

OPEN, CLOSE = "⟪", "⟫"


class Marking:
    """A catalogue that 'translates' every message by marking its words; what fills a placeholder is not
    marked, so an English text put into a translated frame ("Error: {message}") still shows."""

    def gettext(self, message: str) -> str:
        parts = re.split(r"(\{[a-z_]*\})", message)
        return "".join(part if part.startswith("{") or not part.strip() else OPEN + part + CLOSE for part in parts)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.gettext(singular if count == 1 else plural)


@pytest.fixture
def pseudo(monkeypatch):
    monkeypatch.setattr(i18n, "_catalogue", Marking())
    monkeypatch.setenv("SALESSELECT_LANG", "nl")
    yield
    i18n.configure(None)


MARKED = re.compile(OPEN + "[^" + OPEN + CLOSE + "]*" + CLOSE)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")

# Words that are not English to translate: program, command and option names, formats and codes.
NOT_ENGLISH = {
    "salesselect", "csv", "json", "utf-8", "eur", "usd", "gbp", "sqlite", "postgresql", "url", "nl", "en",
    "key-user", "key-users", "ctrl-c", "opp", "list", "init", "config", "followup", "report", "workflow", "import",
    "export", "backup", "user", "board", "log", "copy", "help", "root",  # root: CliRunner's program name
    # Dutch month abbreviations (jan, feb, mrt, ...) as Dutch tables write them
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
}


def leftover(line: str, data: set[str]) -> list[str]:
    """The English words of `line` outside the marked (translated) parts that are not data."""
    line = re.sub("must be one of " + CLOSE + "[^" + OPEN + "]*", " ", line)  # the choices, as typed
    previous = None
    while previous != line:
        previous, line = line, MARKED.sub(" ", line)
    # a marked text that a table or the terminal wrapped: its head or tail on this line
    line = re.sub("^[^" + OPEN + "]*" + CLOSE, " ", line)
    line = re.sub(OPEN + "[^" + CLOSE + "]*$", " ", line)
    line = re.sub(r"'[^']*'", " ", line)  # quoted values are what the user typed or named
    line = re.sub(r"(?<![\w-])--?[a-z][\w-]*", " ", line)  # option names stay as typed
    line = re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", " ", line)  # field names (business_type) stay as --map takes them
    line = re.sub(r"(?<![\w.])/[^\s']+", " ", line)  # file paths
    line = re.sub(r"\b[a-z]+:\S*", " ", line)  # workflow actions as typed (followup:+3d:TEXT, owner:NAME)
    line = re.sub(r"\b[A-Z]{2,}\b", " ", line)  # metavars (NAME, ACTION) and option values in capitals
    return [word for word in WORD.findall(line)
            if word.casefold() not in data and word.casefold() not in NOT_ENGLISH]


# the keys whose values are names the agency chose (not English words of ours, like status or role)
NAMES = {"title", "company", "contact", "vacancy", "name", "stage", "business_type", "business_types", "source",
         "owner", "reason", "text", "actor", "stages", "actions", "users", "sources", "reasons",
         "color"}  # a colour as the key user named it (--color blue)


def data_words(cli) -> set[str]:
    """Every word of the demo agency's own data (names, titles, notes): those are not to translate."""
    words: set[str] = set()

    def collect(value, named=False):
        if isinstance(value, dict):
            # a note's text, and what a setup entry recorded when it was written, are the log's data
            recorded = value.get("kind") == "setup" or value.get("what") in ("note", "notes")
            for key, item in value.items():
                collect(item, key in NAMES or (recorded and key in ("old_value", "new_value")))
        elif isinstance(value, list):
            for item in value:
                collect(item, named)
        elif isinstance(value, str) and named:
            words.update(word.casefold() for word in WORD.findall(value))

    for args in (("export", "--format", "json"), ("config", "show", "--format", "json"), ("user", "list", "--format", "json"),
                 ("workflow", "list", "--format", "json"), ("followup", "list", "--format", "json"),
                 ("followup", "list", "--done", "--format", "json"), ("log", "--format", "json")):
        run = cli(*args)
        if run.exit_code == 0 and run.stdout.strip():
            collect(run.json())
    return words


@pytest.fixture
def demo(demo_db, cli):
    """The demo agency (conftest's demo_db); the test runs commands on it through cli."""
    return cli


ADD = ("opp", "add", "X", "--company", "Y", "--type", "Staffing", "--source", "LinkedIn")

# (arguments, stdin): screens, messages and error paths a Dutch user meets
RUNS = [
    # screens
    ("board", "--width", "120"), ("board", "--width", "60", "--mine"), ("report", "winloss", "-p", "this-year"),
    ("report", "sources", "-p", "this-year"), ("report", "pipeline"), ("report", "stages", "-p", "this-year"),
    ("config", "check"), ("config", "show"), ("config", "show-indicator"), ("config", "module", "show"),
    ("user", "list"), ("opp", "list", "--limit", "5"), ("opp", "show", "268"), ("followup", "list"),
    ("workflow", "list"), ("log", "--limit", "5"), ("config", "list-stages"), ("config", "list-sources"),
    ("config", "list-reasons"), ("config", "list-business-types"), ("opp", "trash"),
    # messages
    (*ADD, "--value", "12000", "--close", "+2w"), ("opp", "move", "268", "Proposal"), ("followup", "add", "268", "+3d", "Call back"),
    ("config", "archive-stage", "Intake"), ("config", "unarchive-stage", "Intake"),
    ("config", "module", "enable"), ("config", "add-source", "Events"), ("config", "remove-source", "Events"),
    ("workflow", "show", "1"), ("workflow", "test", "268", "--to-stage", "Proposal"),
    ("workflow", "test", "268", "--to-status", "lost"), ("workflow", "disable", "1"), ("workflow", "timeout"),
    ("opp", "delete", "268", "--yes"), ("opp", "restore", "268"), ("opp", "edit", "268", "--value", "5000"),
    ("opp", "reopen", "1"), ("followup", "done", "1722"), ("user", "add", "piet"), ("export", "-o", "out.csv"),
    ("backup", "copy.db"), ("db", "copy", "nowhere.db", "other.db"), ("config", "remove-reason", "Good price"),
    ("config", "set-currency", "usd"), ("config", "show-indicator"), ("log", "--limit", "40"),
    ("workflow", "add", "X", "--on", "stage", "--action", "bogus"), ("workflow", "add", "X", "--on", "stage"),
    ("opp", "list", "--status", "lost", "--limit", "3"), ("report", "pipeline", "--by", "owner"),
    # errors a new user meets
    ("opp", "lose", "268", "--reason", "too expensiv"), (*ADD[:6], "Staffin", *ADD[7:]),
    (*ADD[:8], "Linkedn"), (*ADD, "--value", "12,5x"), (*ADD, "--close", "31-02-2026"),
    (*ADD, "--close", "volgende week"), ("opp", "lose", "268", "--reason", "Good price"),
    ("--user", "zoe", "board"), ("--user", "sanne", "config", "add-source", "X"), ("opp", "show", "99999"),
    ("--db", "nowhere.db", "board"), ("board", "--nope"), ("bord",), ("opp", "show", "1", "2"),
    ("board", "--limit"), ("board", "--limit", "x"), ("board", "--mine=3"), ("opp", "show"),
    ("report", "winloss", "--period", "zz"), ("opp", "list", "--status", "x"), ("opp", "move", "268", "Nowhere"), ("opp", "move", "268", "Won"),
    ("opp", "win", "268"), ("config", "set-indicator", "--orange", "1", "--red", "3"),
    ("import", "nowhere.csv"), ("db", "copy", "a.db", "a.db"),
]


def ids(run):
    return " ".join(run)


@pytest.mark.parametrize("args", RUNS, ids=ids)
def test_every_line_is_translated_or_data(demo, pseudo, args):
    typed = {word.casefold() for arg in args for word in WORD.findall(arg)}
    run = demo(*args)
    data = data_words(demo) | typed  # names the agency chose, and what was typed, show as they are
    problems = [(line, words) for line in (run.stdout + run.stderr).splitlines() if (words := leftover(line, data))]
    assert not problems, "\n".join(f"{words}: {line}" for line, words in problems)


IMPORT_ERRORS = [
    ("title;company;type;source;stage;status\nA;B;Staffing;LinkedIn;Won;lost\n", ()),
    ("title;company;type;source;stage\nA;B;Staffin;Linkedn;Intake\n", ()),
    ("title;company;type;source;closed\nA;B;Staffing;LinkedIn;01-01-2030\n", ()),
    ("title;company;type;source;status;reason\nA;B;Staffing;LinkedIn;lost;Good price\n", ()),
    ("title;company;type;source\nA;B;Staffing;LinkedIn;extra\n", ()),
    ("title;company;source\nA;B;LinkedIn\n", ()),
    ("title;company;type;source\nA;B;Staffing;LinkedIn\n", ("--map", "nothere=title")),
    ("title;company;type;source;close\nA;B;Staffing;LinkedIn;03/04/2026\nC;D;Staffing;LinkedIn;13/04/2026\n"
     "E;F;Staffing;LinkedIn;04/13/2026\n", ("--map", "close=expected_close")),
]


@pytest.mark.parametrize("text, extra", IMPORT_ERRORS)
def test_import_row_errors_are_translated(demo, pseudo, tmp_path, text, extra):
    path = tmp_path / "in.csv"
    data = data_words(demo) | {word.casefold() for word in WORD.findall(" ".join((str(path), text, *extra)))}
    path.write_text(text, encoding="utf-8")
    run = demo("import", str(path), *extra)
    assert run.exit_code != 0, run.stdout
    problems = [(line, words) for line in run.stderr.splitlines() if (words := leftover(line, data))]
    assert not problems, "\n".join(f"{words}: {line}" for line, words in problems)


# ---------------------------------------------------------------- the code: no English literal reaches a person

# Calls whose text a person reads: errors, stderr lines, echo and console prints, prompts, screens of the
# interactive board, progress bars, table titles and captions.
SINKS = {
    "stderr_line", "echo", "print", "confirm", "prompt", "_fail", "notify", "Static", "Label", "Panel", "secho",
    "SalesSelectError", "NotFound", "Invalid", "Conflict", "InvalidTransition", "PermissionDenied", "DatabaseProblem",
    "BadParameter", "add_task", "build_table", "emit", "Table",
}
SINK_KEYWORDS = {"title", "caption", "description", "empty", "message", "text", "prompt"}
TRANSLATORS = {"_", "ngettext", "N_", "tr"}
WORDS = re.compile(r"[A-Za-z]{2,}")

# Literals that reach a sink on purpose, each with its reason: (file, the literal's start)
ALLOWED = {
    # the dialogs' Escape/q bindings: no Footer draws a binding's description (the keys are in the dialogs' text)
    ("board_app.py", "cancel"), ("board_app.py", "close"),
    # 'opp win' / 'opp lose': a command to type, which stays English
    ("opportunities.py", "win"), ("opportunities.py", "lose"),
}


def _name(func) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _english(node) -> list[ast.AST]:
    """The literal parts of an expression that carry English words outside `_()`/`ngettext`/`N_`."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) and WORDS.search(re.sub(r"\[/?[a-z .#0-9]*\]", "", node.value)) else []
    if isinstance(node, ast.JoinedStr):
        found = []
        for value in node.values:
            found += _english(value) if isinstance(value, ast.Constant) else _english(value.value)
        return found
    if isinstance(node, ast.BinOp):
        return _english(node.left) + _english(node.right)
    if isinstance(node, ast.IfExp):
        return _english(node.body) + _english(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [part for value in node.values for part in _english(value)]
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name in TRANSLATORS:
            return []
        if name == "format" and isinstance(node.func, ast.Attribute):  # the frame and what fills it
            return (_english(node.func.value) + [part for arg in node.args for part in _english(arg)]
                    + [part for keyword in node.keywords for part in _english(keyword.value)])
        if name == "join" and isinstance(node.func, ast.Attribute):
            return _english(node.func.value)
        if name in PASSTHROUGH and node.args:  # shown(f"..."), escape("..."): the text itself is shown
            return _english(node.args[0])
    return []


PASSTHROUGH = {"shown", "escape", "Text", "str", "rich_escape"}


def untranslated_literals(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            texts: list = []
            if name in SINKS:
                positional = node.args[:1] if name in ("emit", "build_table", "Table", "add_task") else node.args
                if name in ("emit", "build_table", "Table", "add_task"):
                    positional = [arg for arg in positional if not isinstance(arg, (ast.Name, ast.List, ast.Call))][:0]
                texts = list(positional) + [k.value for k in node.keywords if k.arg in SINK_KEYWORDS]
            elif name == "Binding":  # the interactive board's key legend: the description is read
                texts = node.args[2:3] + [k.value for k in node.keywords if k.arg == "description"]
            elif name == "Column" and len(node.args) >= 2:  # headers are translated where drawn: in HEADERS?
                header = node.args[1]
                if isinstance(header, ast.Constant) and isinstance(header.value, str) and WORDS.search(header.value):
                    from salesselect_cli.render import HEADERS

                    if header.value not in HEADERS:
                        found.append(f"{path.relative_to(package)}:{node.lineno}: header {header.value!r} not in render.HEADERS")
                continue
            from salesselect_cli.render import EMPTY

            for text in texts:
                for literal in _english(text):
                    if name == "emit" and literal.value in EMPTY:  # emit translates its empty line itself
                        continue
                    start = literal.value[:20] if isinstance(literal, ast.Constant) else ""
                    if (path.name, start[:len(start)]) in ALLOWED or any(
                            path.name == file and start.startswith(prefix) for file, prefix in ALLOWED):
                        continue
                    found.append(f"{path.relative_to(package)}:{literal.lineno}: {name}({literal.value!r})")
    return found


def test_no_english_literal_reaches_a_person_untranslated():
    found = untranslated_literals()
    assert not found, "wrap these in _() (or ngettext), or allow them in ALLOWED with a reason:\n" + "\n".join(found)


def test_the_literal_check_catches_what_it_should(tmp_path):
    """The walk is not blind: each kind of untranslated text in a sample module is found."""
    (tmp_path / "sample.py").write_text(
        "def f(x):\n"
        "    raise Invalid(f'no such thing {x}')\n"
        "def g(x):\n"
        "    stderr_line('Saved.' if x else _('Kept.'))\n"
        "def h(x):\n"
        "    typer.echo(_('{a} of {b}').format(a=x, b='all of them'))\n"
        "def k(console):\n"
        "    console.print(_('fine'))\n"
        "    Column('x', 'Nowhere header')\n"
        "    typer.confirm(shown(f'Delete {x}?'))\n", encoding="utf-8")
    found = untranslated_literals(tmp_path)
    assert [line.split(":")[1] for line in found] == ["2", "4", "6", "9", "10"], found


def test_the_pseudo_language_check_sees_english_outside_the_marks():
    marking = Marking()
    frame = marking.gettext("Error: {message}")
    assert frame == "⟪Error: ⟫{message}"
    assert leftover(frame.format(message="the same database"), set()) == ["the", "same", "database"]
    assert leftover(frame.format(message=marking.gettext("no opportunity #{id}").format(id=7)), set()) == []
    assert leftover(frame.format(message="unknown stage 'Lead'"), {"unknown", "stage"}) == []  # data and quotes
