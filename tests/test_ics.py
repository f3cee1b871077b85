"""Follow-ups in the calendar: `followup list --format ics` writes RFC 5545 iCalendar that a calendar
application imports, with a stable UID per follow-up (checked by a strict reader here and by icalendar's)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from salesselect_cli import ics
from tests.conftest import add_opp

# RFC 5545 3.1: contentline = name *(";" param) ":" value CRLF; names are IANA tokens or X-names
NAME = r"(?:[A-Za-z0-9-]+)"
PARAM = rf"{NAME}=(?:\"[^\"\x00-\x1f]*\"|[^\";:,\x00-\x1f]*)(?:,(?:\"[^\"\x00-\x1f]*\"|[^\";:,\x00-\x1f]*))*"
CONTENTLINE = re.compile(rf"^({NAME})((?:;{PARAM})*):([^\x00-\x08\x0a-\x1f\x7f]*)$")
REQUIRED_EVENT = {"UID", "DTSTAMP", "DTSTART"}


def strict_read(data: bytes) -> list[dict]:
    """Check `data` against RFC 5545's grammar and return each VEVENT as {NAME: (params, value)}.

    Every physical line ends in CRLF and holds at most 75 octets; folded lines unfold; every content line
    matches the grammar; BEGIN/END nest; TEXT values hold no bare ',' ';' or newline; dates are DATE or
    DATE-TIME as declared; the calendar has VERSION and PRODID and each event UID, DTSTAMP and DTSTART."""
    assert data.endswith(b"\r\n")
    physical = data.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(physical) and b"\r" not in b"".join(physical), "a bare LF or CR"
    for line in physical:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a UTF-8 character
    unfolded: list[str] = []
    for line in physical:
        text = line.decode("utf-8")
        if text.startswith((" ", "\t")):
            assert unfolded, "a continuation first"
            unfolded[-1] += text[1:]
        else:
            unfolded.append(text)
    stack, events, calendar, current = [], [], {}, None
    for line in unfolded:
        found = CONTENTLINE.match(line)
        assert found, f"not a content line: {line!r}"
        name, params, value = found[1].upper(), found[2], found[3]
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                current = {}
            continue
        if name == "END":
            assert stack and stack.pop() == value, f"END:{value} closes nothing"
            if value == "VEVENT":
                assert REQUIRED_EVENT <= set(current), set(current)
                events.append(current)
                current = None
            continue
        assert stack, f"{name} outside VCALENDAR"
        target = current if current is not None else calendar
        assert name not in target or name in ("DESCRIPTION",), f"{name} twice"
        target[name] = (params, value)
        if name in ("SUMMARY", "DESCRIPTION", "X-WR-CALNAME"):
            assert not re.search(r"(?<!\\)(?:\\\\)*[,;]", value.replace("\\\\", "")), f"unescaped in {value!r}"
        if name in ("DTSTART", "DTEND"):
            assert re.fullmatch(r"\d{8}", value) if "VALUE=DATE" in params else re.fullmatch(r"\d{8}T\d{6}Z?", value)
            dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if name == "DTSTAMP":
            assert re.fullmatch(r"\d{8}T\d{6}Z", value)
    assert stack == [] and {"VERSION", "PRODID"} <= set(calendar)
    assert calendar["VERSION"][1] == "2.0"
    return events


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


@pytest.fixture
def planned(agency, ok):
    first = add_opp(ok, "12 order pickers; nights, weekends", "Van Dijk \\ Zonen, Logistiek", "Staffing", "HubSpot")
    second = add_opp(ok, "Preferred supplier", "Werkwijs", "Agencies", "Referral", "--owner", "bob")
    ok("followup", "add", first, "2026-12-01", "Call Eva; mention the night shift, then mail the offer")
    ok("followup", "add", second, "2026-11-30", "Ünïcödé ✓ text " + "long " * 30)
    ok("followup", "add", first, "2027-02-03", "Next quarter check")
    return first, second


def test_the_file_follows_rfc_5545_and_keeps_its_uids(planned, ok, tmp_path):
    first, second = planned
    target = tmp_path / "followups.ics"
    ok("followup", "list", "--format", "ics", "-o", target)
    data = target.read_bytes()
    events = strict_read(data)
    assert len(events) == 3
    by_uid = {event["UID"][1]: event for event in events}
    assert len(by_uid) == 3
    event = next(e for e in events if "night shift" in e["SUMMARY"][1])
    assert event["DTSTART"] == (";VALUE=DATE", "20261201") and event["DTEND"] == (";VALUE=DATE", "20261202")
    summary = unescape(event["SUMMARY"][1])
    assert summary.startswith("Call Eva; mention the night shift, then mail the offer")
    assert f"#{first}" in summary and "Van Dijk \\ Zonen, Logistiek" in summary
    assert f"salesselect opp show {first}" in unescape(event["DESCRIPTION"][1]).splitlines()
    assert any(len(line) == 75 for line in data.split(b"\r\n"))  # the long text was folded, at 75 octets
    ok("followup", "add", second, "2026-12-02", "A new one")
    again = calendar_of(ok, tmp_path)
    assert {event["UID"][1] for event in again} >= set(by_uid)  # written again: the same UIDs, one more
    assert len(again) == 4


def test_icalendar_reads_it_as_all_day_events(planned, ok, tmp_path):
    icalendar = pytest.importorskip("icalendar")
    first, _second = planned
    target = tmp_path / "followups.ics"
    ok("followup", "list", "--format", "ics", "-o", target)
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 3
    for event in events:
        assert isinstance(event.decoded("DTSTART"), dt.date) and not isinstance(event.decoded("DTSTART"), dt.datetime)
        assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(days=1)
    texts = {str(event["SUMMARY"]) for event in events}
    assert any(text.startswith("Call Eva; mention the night shift, then mail the offer") for text in texts)
    assert any(text.startswith("Ünïcödé ✓ text long long") for text in texts)
    assert any(f"salesselect opp show {first}" in str(event["DESCRIPTION"]) for event in events)


def calendar_of(ok, tmp_path, *args) -> list[dict]:
    """The events `followup list ARGS --format ics` writes (to a file: CliRunner turns CRLF on stdout into LF)."""
    target = tmp_path / "list.ics"
    ok("followup", "list", *args, "--format", "ics", "--output", target)
    return strict_read(target.read_bytes())


def test_the_lists_filters_apply(planned, ok, cli, tmp_path):
    def uids(*args):
        return sorted(event["UID"][1] for event in calendar_of(ok, tmp_path, *args))

    everything = uids()
    assert len(uids("--mine")) == 2 and set(uids("--mine")) < set(everything)  # anna owns the first deal
    assert uids("--period", "this-month") == uids("-p", "2026-11") and len(uids("-p", "2026-11")) == 1
    assert len(uids("-p", "2026-12")) == 1 and uids("-p", "last-month") == []
    assert uids("--status", "done") == []
    assert len(uids("--period", "2027")) == 1
    run = cli("followup", "list", "--week", "--period", "2027", "--format", "ics")
    assert run.exit_code == 1 and "--period" in run.stderr and run.stdout == ""


def test_an_empty_list_is_an_empty_calendar(agency, ok, tmp_path):
    assert calendar_of(ok, tmp_path) == []


@pytest.mark.parametrize("text", ["a" * 74, "a" * 75, "a" * 76, "é" * 40, "€" * 30, "x" + "😀" * 30])
def test_folding_keeps_lines_at_75_octets_and_characters_whole(text):
    folded = ics.fold("SUMMARY:" + text)
    lines = folded.encode().split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert "".join(line.decode()[1:] if number else line.decode() for number, line in enumerate(lines)) == "SUMMARY:" + text


def test_text_escaping():
    assert unescape(ics.escape_text("Call Eva; mention the night shift,\nthen mail")) == "Call Eva; mention the night shift,\nthen mail"
    assert ics.escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    assert ics.escape_text("bell\x07 esc\x1b") == "bell  esc "


def test_uid_is_the_followup_and_its_deal():
    assert ics.uid({"id": 7, "opportunity_id": 3}) == ics.uid({"id": 7, "opportunity_id": 3, "text": "other"})
    assert ics.uid({"id": 7, "opportunity_id": 3}) != ics.uid({"id": 8, "opportunity_id": 3})


def test_the_checker_refuses_what_the_rfc_refuses():
    good = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
    assert strict_read(good) == []
    for bad in (good.replace(b"\r\n", b"\n"), good.replace(b"PRODID:x", b"PRODID:" + b"x" * 80),
                good.replace(b"END:VCALENDAR\r\n", b""), good.replace(b"VERSION:2.0", b"VERSION 2.0"),
                good.replace(b"PRODID:x\r\n", b"PRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n"),
                good.replace(b"PRODID:x\r\n", b"PRODID:x\r\nX-WR-CALNAME:a,b\r\n")):
        with pytest.raises(AssertionError):
            strict_read(bad)
    buffer = io.StringIO()
    ics.write_calendar([], buffer, dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone.utc))
    assert strict_read(buffer.getvalue().encode()) == []
