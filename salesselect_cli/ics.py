"""Follow-ups as an iCalendar file (RFC 5545) that Outlook, Google Calendar and Apple Calendar subscribe to.

Written by hand (no library): the file needs only a handful of properties, and each rule the RFC sets
is a few lines here: CRLF line ends, lines folded at 75 octets (never inside a UTF-8 character), TEXT
values escaped, and one stable UID per follow-up so a calendar updates an item instead of adding it twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

PRODID = "-//salesselect//follow-ups//EN"
FOLD_AT = 75  # octets per line, the CRLF not counted (RFC 5545 3.1)


def escape_text(value: object) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, ';', ',' and line breaks escaped; other control characters,
    which TEXT may not hold, become spaces."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(" " if (ord(ch) < 32 and ch != "\t") or ord(ch) == 127 else ch for ch in text)


def fold(line: str) -> str:
    """One content line, folded into lines of at most 75 octets (continuations start with a space), CRLF-ended."""
    encoded = line.encode("utf-8")
    if len(encoded) <= FOLD_AT:
        return line + "\r\n"
    parts: list[str] = []
    current, size, limit = [], 0, FOLD_AT
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, FOLD_AT - 1  # a continuation line's leading space counts
        current.append(ch)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts) + "\r\n"


def uid(followup: dict) -> str:
    """The follow-up's UID: the same every time the file is written, so calendars update rather than duplicate."""
    return f"followup-{followup['id']}-opp-{followup['opportunity_id']}@salesselect"


def _date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def event_lines(followup: dict, stamp: str, for_label: str = "For: {user}") -> list[str]:
    """The VEVENT of one follow-up: an all-day item on its due date, the deal and company in its summary."""
    due = _date(followup["due"])
    summary = f"{followup['text']} — #{followup['opportunity_id']} {followup['title']} ({followup['company']})"
    if followup.get("status") == "done":
        summary = "✓ " + summary
    description = "\n".join(line for line in (
        f"{followup['title']} — {followup['company']}",
        for_label.format(user=followup["user"]) if followup.get("user") else "",
        f"salesselect opp show {followup['opportunity_id']}",
    ) if line)
    return [
        "BEGIN:VEVENT",
        f"UID:{uid(followup)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{due.strftime('%Y%m%d')}",
        f"DTEND;VALUE=DATE:{(due + dt.timedelta(days=1)).strftime('%Y%m%d')}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"STATUS:{'CANCELLED' if followup.get('status') == 'cancelled' else 'CONFIRMED'}",
        "TRANSP:TRANSPARENT",  # a reminder, not a meeting: it leaves the day free
        "END:VEVENT",
    ]


def write_calendar(followups: Iterable[dict], handle, now: dt.datetime, name: str = "salesselect follow-ups",
                   for_label: str = "For: {user}") -> int:
    """Write the follow-ups as one VCALENDAR to `handle` (opened with newline=''); returns how many.

    now: the moment of writing, in UTC (DTSTAMP); name and for_label in the interface language."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    handle.write(fold("BEGIN:VCALENDAR"))
    for line in ("VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                 f"X-WR-CALNAME:{escape_text(name)}"):
        handle.write(fold(line))
    count = 0
    for followup in followups:
        for line in event_lines(followup, stamp, for_label):
            handle.write(fold(line))
        count += 1
    handle.write(fold("END:VCALENDAR"))
    return count
