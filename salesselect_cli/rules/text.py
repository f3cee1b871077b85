"""What a name or a free text may be: one rule for commands, setup files and CSV imports."""

from __future__ import annotations

from salesselect_cli.errors import Invalid

MAX_NAME = 200
MAX_TEXT = 5000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell Excel would run as a formula (SPEC §2)


def clean_name(value: str | None, what: str) -> str:
    """A name or title: stripped, not empty, at most 200 characters, no control characters."""
    text = (value or "").strip()
    if not text:
        raise Invalid(f"{what} must not be empty")
    if len(text) > MAX_NAME:
        raise Invalid(f"{what} is longer than {MAX_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise Invalid(f"{what} must not contain control characters")
    return text


def clean_text(value: str | None, what: str = "text", multiline: bool = False) -> str | None:
    """Free text (contact, vacancy, notes, follow-ups): stripped, None when blank, no escape sequences."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise Invalid(f"{what} is longer than {MAX_TEXT} characters")
    allowed = "\n\t" if multiline else ""
    if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in text):
        raise Invalid(f"{what} must not contain control characters")
    return text or None
