"""Compile the Dutch catalogue (.po -> .mo) and list the messages the code asks for.

    python tools/catalogue.py            # write salesselect_cli/locale/nl/LC_MESSAGES/salesselect.mo
    python tools/catalogue.py --missing  # print the _("...") messages the .po lacks, as .po entries

A development tool (the package only reads the .mo, with the standard library's gettext);
tests/test_i18n.py checks that the .mo is this script's output of the .po and that every message
in the code has a Dutch translation.
"""

from __future__ import annotations

import ast
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "salesselect_cli"
PO = PACKAGE / "locale" / "nl" / "LC_MESSAGES" / "salesselect.po"
MO = PO.with_suffix(".mo")


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
    pairs = []
    for msgid, msgstr in parse_po(text).items():
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


def main(argv: list[str]) -> int:
    if "--missing" in argv:
        known = parse_po(PO.read_text(encoding="utf-8"))
        for msgid, place in messages_in_code().items():
            if known.get(msgid):
                continue
            print(f"#: {place}")
            if isinstance(msgid, tuple):
                print(f"msgid {_quote(msgid[0])}\nmsgid_plural {_quote(msgid[1])}\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n")
            else:
                print(f"msgid {_quote(msgid)}\nmsgstr \"\"\n")
        return 0
    MO.write_bytes(compile_po(PO.read_text(encoding="utf-8")))
    print(f"wrote {MO.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
