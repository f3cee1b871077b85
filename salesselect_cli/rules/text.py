"""What a name or a free text may be: one rule for commands, setup files and CSV imports."""

from __future__ import annotations

import re

from salesselect_cli.errors import Invalid

MAX_NAME = 200
MAX_TEXT = 5000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell Excel would run as a formula (SPEC §2)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # line breaks (LF, CRLF) and tabs allowed


def clean_name(value: str | None, what: str) -> str:
    """A name or title: stripped, not empty, at most 200 characters, no control characters."""
    text = (value or "").strip()
    if not text:
        raise Invalid(f"{what} must not be empty")
    if len(text) > MAX_NAME:
        raise Invalid(f"{what} is longer than {MAX_NAME} characters")
    if _CONTROL.search(text):
        raise Invalid(f"{what} must not contain control characters")
    return text


def clean_text(value: str | None, what: str = "text", multiline: bool = False) -> str | None:
    """Free text (contact, vacancy, notes, follow-ups): stripped, None when blank, no escape sequences."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise Invalid(f"{what} is longer than {MAX_TEXT} characters")
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text):
        raise Invalid(f"{what} must not contain control characters")
    return text or None
