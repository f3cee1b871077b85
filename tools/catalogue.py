"""Compile the Dutch catalogue (.po files -> one .mo) and list the texts the code asks for.

    python tools/catalogue.py            # write salesselect_cli/locale/nl/LC_MESSAGES/salesselect.mo and messages.mo
    python tools/catalogue.py --missing  # print the messages and help paragraphs no .po has, as .po entries

Two .po files make the one salesselect.mo: salesselect.po (messages, errors, headers, the command list)
and help.po (the help paragraphs of every command and parameter, and Typer's words in the help screen).
A msgid in both is an error (the tool says which and writes nothing).

A development tool (the package only reads the .mo, with the standard library's gettext);
tests/test_i18n.py checks that the .mo is this script's output of the .po files, that every message
in the code and every help paragraph has a Dutch translation.
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "salesselect_cli"
PO = PACKAGE / "locale" / "nl" / "LC_MESSAGES" / "salesselect.po"
HELP_PO = PO.with_name("help.po")
CATALOGUES = (PO, HELP_PO)
MO = PO.with_suffix(".mo")
# Typer's and click's words, in their own gettext domain (helpscreen.DOMAIN): a catalogue of its own
MESSAGES_PO = PO.with_name("messages.po")
MESSAGES_MO = MESSAGES_PO.with_suffix(".mo")


def _unquote(text: str) -> str:
    return ast.literal_eval(text)  # a .po string is a C string; these are Python-compatible


def parse_po(text: str) -> dict:
    """{msgid: msgstr} with plural entries as {(singular, plural): [forms]}; fuzzy entries are left out."""
    entries: dict = {}
    current: dict = {}
    key = None
    fuzzy = False

    def finish() -> None:
        nonlocal current, fuzzy
        if "msgid" in current and not fuzzy:
            if "msgid_plural" in current:
                forms = [current[k] for k in sorted(k for k in current if k.startswith("msgstr["))]
                entries[(current["msgid"], current["msgid_plural"])] = forms
            else:
                entries[current["msgid"]] = current.get("msgstr", "")
        current, fuzzy = {}, False

    for line in text.splitlines():
        line = line.strip()
        if not line:
            finish()
            key = None
            continue
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            current[key] += _unquote(line)
            continue
        word, _, rest = line.partition(" ")
        if word == "msgid" and "msgid" in current:
            finish()
        key = word
        current[key] = _unquote(rest)
    finish()
    return entries


def compile_po(text: str) -> bytes:
    """The GNU .mo bytes of a .po text (the format gettext.GNUTranslations reads)."""
    return compile_entries(parse_po(text))


def duplicates(texts: list[str]) -> list:
    """The msgids (other than the header) that more than one of the .po texts defines."""
    seen: set = set()
    twice = []
    for text in texts:
        for msgid in parse_po(text):
            if msgid and msgid in seen:
                twice.append(msgid)
            seen.add(msgid)
    return twice


def merge(texts: list[str]) -> dict:
    """The entries of several .po texts as one catalogue (the first header wins; see duplicates())."""
    entries: dict = {}
    for text in texts:
        for msgid, msgstr in parse_po(text).items():
            entries.setdefault(msgid, msgstr)
    return entries


def read_catalogues(paths=None) -> list[str]:
    """The texts of the .po files that make the .mo (CATALOGUES unless told)."""
    return [path.read_text(encoding="utf-8") for path in (CATALOGUES if paths is None else paths)]


def known(paths=None) -> dict:
    """Every Dutch entry of the .po files, as one catalogue."""
    return merge(read_catalogues(paths))


def compile_catalogues(texts: list[str]) -> bytes:
    """The one .mo of several .po texts; ValueError when a msgid is in more than one."""
    twice = duplicates(texts)
    if twice:
        raise ValueError("in more than one .po: " + "; ".join(repr(msgid) for msgid in twice))
    return compile_entries(merge(texts))


def compile_entries(entries: dict) -> bytes:
    """The GNU .mo bytes of parsed .po entries."""
    pairs = []
    for msgid, msgstr in entries.items():
        if isinstance(msgid, tuple):
            source, target = "\0".join(msgid), "\0".join(msgstr)
        else:
            source, target = msgid, msgstr
        if msgid and not target:  # untranslated: leave it to the English
            continue
        pairs.append((source.encode("utf-8"), target.encode("utf-8")))
    pairs.sort()
    count = len(pairs)
    ids_start = 7 * 4
    strs_start = ids_start + count * 8
    data_start = strs_start + count * 8
    ids, strs, data = b"", b"", b""
    offset = data_start
    table_ids, table_strs = [], []
    for source, _ in pairs:
        table_ids.append((len(source), offset))
        data += source + b"\0"
        offset += len(source) + 1
    for _, target in pairs:
        table_strs.append((len(target), offset))
        data += target + b"\0"
        offset += len(target) + 1
    ids = b"".join(struct.pack("<II", *entry) for entry in table_ids)
    strs = b"".join(struct.pack("<II", *entry) for entry in table_strs)
    header = struct.pack("<7I", 0x950412DE, 0, count, ids_start, strs_start, 0, data_start)
    return header + ids + strs + data


def messages_in_code(package: Path = PACKAGE) -> dict:
    """Every _("..."), N_("...") and ngettext("...", "...", n) message in the package: {msgid: first place}."""
    found: dict = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            args = node.args
            if name in ("_", "N_", "tr") and args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                found.setdefault(args[0].value, f"{path.relative_to(package.parent)}:{node.lineno}")
            elif name == "ngettext" and len(args) >= 2 and all(
                    isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in args[:2]):
                found.setdefault((args[0].value, args[1].value), f"{path.relative_to(package.parent)}:{node.lineno}")
    return found


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def help_paragraphs() -> dict:
    """Every help paragraph of the whole click tree, as main._speak_help looks them up: {paragraph: place}.

    Builds the root and every command in tree.COMMANDS with its sub-commands (the app is lazy: this loads
    them all), and splits each help, short_help and epilog of a command or parameter on blank lines."""
    import typer

    from salesselect_cli import i18n, main as cli, tree

    i18n.configure("en")  # fresh click objects, in English: the originals
    try:
        root = typer.main.get_command(cli.app)
        tops = [("salesselect", root)] + [(f"salesselect {name}", cli.load_command(name)) for name in tree.COMMANDS]
        places: dict = {}

        def name(command, path: str) -> None:
            places[id(command)] = path
            for param in command.params:
                places[id(param)] = f"{path} {max(param.opts, key=len) if param.opts else param.name}"
            for sub_name, sub in getattr(command, "commands", {}).items():
                name(sub, f"{path} {sub_name}")

        found: dict = {}
        for path, command in tops:
            name(command, path)
            for item in cli.help_items(command):
                for attr in cli.HELP_ATTRIBUTES:
                    text = getattr(item, attr, None)
                    if text:
                        for paragraph in text.split("\n\n"):
                            found.setdefault(paragraph, places[id(item)] + ("" if attr == "help" else f" ({attr})"))
        return found
    finally:
        i18n.configure(None)


def main(argv: list[str]) -> int:
    texts = read_catalogues()
    twice = duplicates(texts)
    if twice:
        for msgid in twice:
            print(f"error: msgid in more than one of {', '.join(path.name for path in CATALOGUES)}: {msgid!r}",
                  file=sys.stderr)
        return 1
    if "--missing" in argv:
        have = merge(texts)
        wanted = [(msgid, place) for msgid, place in messages_in_code().items()]
        wanted += [(paragraph, f"help: {place}") for paragraph, place in help_paragraphs().items()]
        from salesselect_cli.helpscreen import WORDS

        framework = parse_po(MESSAGES_PO.read_text(encoding="utf-8")) if MESSAGES_PO.exists() else {}
        for word in WORDS:  # Typer's and click's words: their own catalogue
            if not framework.get(word):
                print(f"#: {MESSAGES_PO.name} (helpscreen.WORDS)\nmsgid {_quote(word)}\nmsgstr \"\"\n")
        for msgid, place in wanted:
            if have.get(msgid) and not (isinstance(msgid, tuple) and not all(have[msgid])):
                continue
            print(f"#: {place}")
            if isinstance(msgid, tuple):
                print(f"msgid {_quote(msgid[0])}\nmsgid_plural {_quote(msgid[1])}\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n")
            else:
                print(f"msgid {_quote(msgid)}\nmsgstr \"\"\n")
        return 0
    MO.write_bytes(compile_catalogues(texts))
    print(f"wrote {MO.relative_to(ROOT)}")
    MESSAGES_MO.write_bytes(compile_po(MESSAGES_PO.read_text(encoding="utf-8")))
    print(f"wrote {MESSAGES_MO.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
