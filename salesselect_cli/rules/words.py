"""The words a Dutch interface prints, accepted back as input: each table maps a Dutch word to the English
word the code and the database keep. Pure; English words always work, unknown words pass through unchanged
(so the place that checks a value still names the valid ones)."""

from __future__ import annotations

import re

# opportunity statuses (opp list --status, export --status) and reason statuses (won/lost)
STATUSES = {"open": "open", "gewonnen": "won", "verloren": "lost", "alle": "all", "alles": "all"}
# follow-up statuses (followup list --status)
FOLLOWUP_STATUSES = {"open": "open", "gedaan": "done", "klaar": "done", "geannuleerd": "cancelled",
                     "alle": "all", "alles": "all"}
# --auto of a stage: what entering it does
AUTO = {"gewonnen": "won", "verloren": "lost", "geen": "none"}
# the reports' periods; the next-* ones need the forecast's English words beside them
PERIODS = {
    "deze-maand": "this-month", "vorige-maand": "last-month", "volgende-maand": "next-month",
    "dit-kwartaal": "this-quarter", "vorig-kwartaal": "last-quarter", "volgend-kwartaal": "next-quarter",
    "dit-jaar": "this-year", "vorig-jaar": "last-year", "volgend-jaar": "next-year",
    "alles": "all", "alle": "all", "altijd": "all",
}
# roles and module settings, as the Dutch tables print them
ROLES = {"recruiter": "recruiter", "manager": "manager", "verkoper": "recruiter", "leidinggevende": "manager"}
MODULE = {"aan": "on", "uit": "off", "volgt-klant": "inherit", "overnemen": "inherit"}
# colour names: Dutch ones, and 'orange' (Rich has only orange1..orange4 and dark_orange)
COLOURS = {
    "rood": "red", "oranje": "dark_orange", "orange": "dark_orange", "geel": "yellow", "groen": "green",
    "blauw": "blue", "lichtblauw": "sky_blue1", "donkerblauw": "navy_blue", "paars": "purple", "roze": "hot_pink",
    "grijs": "grey50", "zwart": "black", "wit": "white", "bruin": "dark_goldenrod", "turquoise": "turquoise2",
    "turkoois": "turquoise2", "cyaan": "cyan", "magenta": "magenta", "donkerrood": "dark_red",
    "donkergroen": "dark_green", "lichtgroen": "light_green", "goud": "gold1", "zilver": "grey70",
}
_KWARTAAL = re.compile(r"^(\d{1,4})-k([1-4])$")  # 2026-K3, as a Dutch quarter is written


def _key(text: str) -> str:
    return (text or "").strip().casefold().replace("_", "-").replace(" ", "-")


def english(table: dict[str, str], text: str | None) -> str | None:
    """`text` as the English word the code keeps: a Dutch word from `table` translated, anything else as it is
    (trimmed and lower case); None stays None."""
    if text is None:
        return None
    key = _key(text)
    return table.get(key, text.strip().lower())


def period(text: str) -> str:
    """A period name in Dutch ('vorig-kwartaal', 'deze maand', '2026-K3') as its English name; others unchanged."""
    key = _key(text)
    if key in PERIODS:
        return PERIODS[key]
    found = _KWARTAAL.match(key)
    return f"{found[1]}-q{found[2]}" if found else text


def colour(text: str) -> str:
    """A colour name in Dutch (rood, oranje, ...) or 'orange' as a Rich colour name; others unchanged."""
    key = _key(text).replace("-", "")
    return COLOURS.get(key, text)
