"""What a name or a free text may be: one rule for commands, setup files and CSV imports."""

from __future__ import annotations

import re
import unicodedata

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import N_, _

MAX_NAME = 200
MAX_TEXT = 5000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell Excel would run as a formula (SPEC §2)
# C0, DEL and C1 controls (C1 \x9b is a CSI on many terminals), line/paragraph separators,
# bidi marks, embeddings, overrides and isolates, and lone surrogates (undecodable bytes)
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]"
_CONTROL_BUT_LINES = f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]"
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_compiled: list = []  # the two patterns above, compiled on first use: every command imports this module


def _controls() -> list:
    """[_CONTROL, _CONTROL_BUT_LINES] compiled (about 1.5 ms, so not at import)."""
    if not _compiled:
        _compiled.extend((re.compile(_CONTROL), re.compile(_CONTROL_BUT_LINES)))
    return _compiled


def clean_name(value: str | None, what: str) -> str:
    """A name or title: stripped, NFC, not empty, at most 200 characters.

    Refused: control characters, format characters (zero-width spaces and joiners, bidi controls,
    soft hyphens), and a word that mixes Latin with Cyrillic or Greek letters ('аnna' with a
    Cyrillic а), so no two names look alike on screen.
    """
    text = unicodedata.normalize("NFC", value or "").strip()
    if not text:
        raise Invalid(_("{what} must not be empty").format(what=_(what)))
    if len(text) > MAX_NAME:
        raise Invalid(_("{what} is longer than {max_name} characters").format(what=_(what), max_name=MAX_NAME))
    refuse_hidden_characters(text, what)
    for word in text.split():
        scripts = {script for script in map(_script, word) if script}
        if "LATIN" in scripts and len(scripts) > 1:
            other = sorted(scripts - {"LATIN"})[0].title()
            raise Invalid(_("{what} mixes Latin and {other} letters in '{word}'; type it in one alphabet").format(what=_(what), other=other, word=word))
    return text


def refuse_hidden_characters(text: str, what: str) -> None:
    """Refuse control characters and invisible format characters (bidi controls, zero-width spaces) in a
    name a user must be able to read and type back: a name, a title, a file name."""
    if _controls()[0].search(text):
        raise Invalid(_("{what} must not contain control characters").format(what=_(what)))
    if not text.isprintable():
        hidden = next(ch for ch in text if not ch.isprintable())  # format characters, odd spaces, unassigned
        raise Invalid(_("{what} must not contain invisible characters ({value})").format(what=_(what), value=ascii(hidden)[1:-1]))


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    if ch.isascii():
        return "LATIN"
    first = unicodedata.name(ch, "").split(" ", 1)[0]
    return first if first in _SCRIPTS else None


def fold(value: str) -> str:
    """The form two names are compared in: NFC, stripped, case-folded (Café composed = decomposed)."""
    folded = value.strip().casefold()
    return folded if folded.isascii() else unicodedata.normalize("NFC", folded)


def clean_text(value: str | None, what: str = N_("text"), multiline: bool = False) -> str | None:
    """Free text (contact, vacancy, notes, follow-ups): stripped, None when blank, no escape sequences.

    Refused like in names: C0/C1 controls (line breaks and tabs allowed when multiline) and bidi controls.
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > MAX_TEXT:
        raise Invalid(_("{what} is longer than {max_text} characters").format(what=_(what), max_text=MAX_TEXT))
    if _controls()[1 if multiline else 0].search(text):
        raise Invalid(_("{what} must not contain control characters").format(what=_(what)))
    return text or None
