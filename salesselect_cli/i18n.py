"""The interface language: English or Dutch, and `_()` for every text a person reads.

Which language: `--lang nl|en`, else `$SALESSELECT_LANG`, else the agency's setting
(`config set-language`), else the LC_ALL / LC_MESSAGES / LANG locale, else English.
English is the source text: `_()` returns it as it is and no catalogue is ever read. Dutch reads
the compiled catalogue in salesselect_cli/locale/nl/LC_MESSAGES/salesselect.mo on first use.

What scripts read (JSON keys and values, plain CSV, exit codes, command and option names)
never goes through `_()`.
"""

from __future__ import annotations

import contextvars
import os

LANGUAGES = ("en", "nl")
DOMAIN = "salesselect"

# (chosen, agency, resolved): --lang, the database's setting once a command has opened it, and the
# language resolved from them (None until asked). A context variable, so that one command's choice ends
# with that command (session.run_command) and never reaches the next one in the same process.
_state: contextvars.ContextVar[tuple[str | None, str | None, str | None]] = contextvars.ContextVar(
    "salesselect_language", default=(None, None, None))
_catalogue = None  # the compiled Dutch catalogue: read-only once loaded, shared by every command


def normalise(code: str | None) -> str | None:
    """'nl', 'NL', 'nl_BE.UTF-8', 'nl-NL', 'dutch' -> 'nl'; 'en_GB' -> 'en'; anything else -> None."""
    if not code:
        return None
    word = code.strip().casefold()
    if word in ("dutch", "nederlands"):
        return "nl"
    if word in ("english", "engels"):
        return "en"
    base = word.split(".")[0].split("@")[0].replace("-", "_").split("_")[0]
    return base if base in LANGUAGES else None


def from_locale(environ=os.environ) -> str | None:
    """The language of the first set locale variable (LC_ALL, LC_MESSAGES, LANG), when it is one we speak."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return normalise(value)
    return None


def resolve(option: str | None, environ=os.environ, agency: str | None = None) -> str:
    """The language by the rules above (pure: the environment and the setting are passed in)."""
    for candidate in (option, environ.get("SALESSELECT_LANG"), agency, from_locale(environ)):
        code = normalise(candidate)
        if code:
            return code
    return "en"


def configure(option: str | None) -> None:
    """At the start of every command: the --lang option (None when not given). Forgets earlier state."""
    _state.set((option, None, None))


def use_agency_setting(code: str | None) -> None:
    """The database's language setting, once the command has opened it (it loses to --lang and the env)."""
    chosen, agency, _resolved = _state.get()
    if code != agency:
        _state.set((chosen, code, None))


def language() -> str:
    """'en' or 'nl': the language this command speaks."""
    chosen, agency, resolved = _state.get()
    if resolved is None:
        resolved = resolve(chosen, os.environ, agency)
        _state.set((chosen, agency, resolved))
    return resolved


def dutch() -> bool:
    return language() == "nl"


def _translations():
    global _catalogue
    if _catalogue is None:
        import gettext
        from pathlib import Path

        folder = Path(__file__).resolve().parent / "locale"
        _catalogue = gettext.translation(DOMAIN, localedir=str(folder), languages=["nl"], fallback=True)
    return _catalogue


def _(message: str) -> str:
    """`message` in the interface language (English is the message itself)."""
    if language() == "en":
        return message
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for `count`, in the interface language."""
    if language() == "en":
        return singular if count == 1 else plural
    return _translations().ngettext(singular, plural, count)


def wants_agency_setting() -> bool:
    """True when neither --lang nor $SALESSELECT_LANG decides: the database's setting is worth reading."""
    return normalise(_state.get()[0]) is None and normalise(os.environ.get("SALESSELECT_LANG")) is None


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; `_()` translates it where it is shown."""
    return message


def count(number: int) -> str:
    """A whole number for people: '100,000' in English, '100.000' in Dutch."""
    text = f"{number:,}"
    return text.replace(",", ".") if language() == "nl" else text
