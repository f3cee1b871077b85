"""Bad invocations of every command, generated with a fixed seed (issue 19).

Every invocation carries at least one bad part: a hostile value (escape sequences, C1 controls,
bidi overrides, invalid UTF-8, 6,000 characters, numbers past 2**63, impossible dates) in an
argument or option, an unknown user, an empty --user, a database that is not one, a bad
SALESSELECT_TODAY, or an output onto the database. Each must end with our own one-line message:
no traceback, no 'unexpected', exit 1, 2 or 3, and the database byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import enum
import typing

import pytest
from typer._click import types as typer_click_types
from typer.main import get_command
from typer.testing import CliRunner

from salesselect_cli.main import app
from tests.conftest import SETUP_JSON, TODAY

SEED = 19
PER_COMMAND = 7

HOSTILE_TEXT = [
    "\x1b[2J", "\u009b2J", "\u009d0;PWNED\u009c", "a\u202eb", "Hub\u200bSpot\x07", "caf\udce9", "x" * 6000 + "\x1b",
    "\u0430nna\x1b", "\r\n\x1b[8m", "\x7f",
]
HOSTILE_INT = ["9223372036854775808", "-9223372036854775809", "99999999999999999999999", "abc", "1e3", "", "0x10"]
HOSTILE_DATE = ["0001-01-01", "31-02-2026", "+99999d", "10000-01-01", "1899-12-31", "-9999y"]
DATE_OPTIONS = {"close", "close_before", "close_after", "when", "start", "end"}
NEVER_HOSTILE = {"search", "output"}  # a search for any text is fine; an output name is tested below


def _commands(group, prefix: tuple[str, ...] = ()):
    for name in sorted(group.list_commands(None)):  # the group API: the root builds its commands lazily
        command = group.get_command(None, name)
        if hasattr(command, "commands"):  # a group (Typer's own click, not the installed one)
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def _annotation(param):
    """The parameter's Python type, Optional[...] and List[...] unwrapped (typer 0.29 keeps it), else None."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:
        return None
    annotation = descriptor.annotation
    while typing.get_args(annotation):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _is_int(param) -> bool:
    annotation = _annotation(param)
    if annotation is None:  # typer 0.26-0.28: the click type says it
        return isinstance(param.type, typer_click_types.IntParamType)
    return annotation is int


def _choices(param) -> list[str] | None:
    annotation = _annotation(param)
    if annotation is None:
        choices = getattr(param.type, "choices", None)
        return [getattr(choice, "value", choice) for choice in choices] if choices else None
    return [member.value for member in annotation] if isinstance(annotation, type) and issubclass(annotation, enum.Enum) else None


def _is_argument(param) -> bool:
    return "Argument" in type(param).__name__


def _valid(param) -> list[str]:
    """A plausible value: the command may still refuse it, which is fine for a bad invocation."""
    if _is_int(param):
        return ["1"]
    if _choices(param):
        return [_choices(param)[0]]
    if param.name in DATE_OPTIONS:
        return ["2027-01-15"]
    return {"name": ["Staffing"], "stage": ["Lead"], "business_type": ["Staffing"], "source": ["HubSpot"],
            "owner": ["bob"], "actions": ["note:x"], "color": ["red"], "status": ["won"], "text": ["Too expensive"],
            "file": [str(SETUP_JSON)], "code": ["EUR"]}.get(param.name, ["Staffing"])


def _hostile(param, rng: random.Random) -> str:
    if _is_int(param) or _choices(param):
        return rng.choice(HOSTILE_INT + ["\x1b"])
    if param.name in DATE_OPTIONS:
        return rng.choice(HOSTILE_DATE + HOSTILE_TEXT[:3])
    return rng.choice(HOSTILE_TEXT)


def _option_args(param, value: str) -> list[str]:
    return [param.opts[0], value]


def invocations(db: Path, junk: dict[str, Path]) -> list[tuple[list[str], dict[str, str]]]:
    """At least 300 bad invocations across every command, the same ones every run."""
    rng = random.Random(SEED)
    root = get_command(app)
    found = []
    for path, command in _commands(root):
        params = [p for p in command.params if p.name not in ("help",)]
        arguments = [p for p in params if _is_argument(p)]
        options = [p for p in params if not _is_argument(p) and not p.is_flag]
        flags = [p for p in params if not _is_argument(p) and p.is_flag]
        targets = [p for p in arguments + options if p.name not in NEVER_HOSTILE]
        has_output = any(p.name == "output" for p in options)
        for number in range(PER_COMMAND):
            args: list[str] = []
            env: dict[str, str] = {}
            kind = rng.choice(["value"] * 6 + ["user", "empty-user", "db", "today", "option", "output"])
            if kind == "value" and not targets:
                kind = "user"
            if kind == "output" and not has_output:
                kind = "db"
            bad = rng.choice(targets) if kind == "value" else None
            chosen_options = rng.sample(options, k=min(len(options), rng.randint(0, 2)))
            for param in arguments:
                args.append(_hostile(param, rng) if param is bad else rng.choice(_valid(param)))
            for param in chosen_options + ([bad] if bad is not None and not _is_argument(bad) and bad not in chosen_options else []):
                if param.name == "output":
                    continue
                value = _hostile(param, rng) if param is bad or rng.random() < 0.3 else rng.choice(_valid(param))
                args += _option_args(param, value)
            args += [flag.opts[0] for flag in rng.sample(flags, k=min(len(flags), rng.randint(0, 1)))
                     if flag.name not in ("yes", "help")]
            prefix: list[str] = []
            if kind == "user":
                prefix = ["--user", rng.choice(["ghost", "ANNA\u200b", "anna\x1b[8m", "\u0430nna"])]
            elif kind == "empty-user":
                prefix = ["--user", rng.choice(["", "   "])]
            elif kind == "db":
                prefix = ["--db", str(rng.choice(list(junk.values())))]
            elif kind == "today":
                env["SALESSELECT_TODAY"] = rng.choice(["0001-01-01", "9999-12-31", "2026-02-30", "tomorrow", "\x1b"])
            elif kind == "option":
                args.insert(rng.randint(0, len(args)), rng.choice(["--no-such-option", "--limit=\udcff", "-Z"]))
            elif kind == "output":  # onto the database, a name too long for the file system, control characters
                args += ["--output", rng.choice([str(db) + rng.choice(["", "-wal", "-shm", "-journal"]),
                                                 str(db.parent / ("x" * 300 + ".csv")), str(db.parent / "out\x1b[2J.csv")])]
            if path == ("init",) and kind == "value":  # init has no value to spoil: the file exists
                pass
            found.append((list(prefix) + list(path) + args, env))
    return found


@pytest.fixture(scope="module")
def agency_file(tmp_path_factory) -> Path:
    """A small agency: the example setup, three users, two opportunities and a workflow."""
    path = tmp_path_factory.mktemp("fuzz") / "agency.db"
    env = {"SALESSELECT_DB": str(path), "SALESSELECT_TODAY": TODAY.isoformat(), "SALESSELECT_USER": "anna",
           "NO_COLOR": "1"}
    runner = CliRunner()
    for args in (["init"], ["config", "import", str(SETUP_JSON)], ["user", "add", "bob"],
                 ["user", "add", "kim", "--key-user"],
                 ["opp", "add", "Deal", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot"],
                 ["opp", "add", "Other", "--company", "Beta", "--type", "Staffing", "--source", "HubSpot"],
                 ["followup", "add", "1", "+3d", "Call"],
                 ["workflow", "add", "W", "--on", "stage", "--action", "note:moved"]):
        result = runner.invoke(app, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stderr)
    return path


def test_fuzz_bad_invocations_fail_cleanly_and_change_nothing(agency_file, isolated, monkeypatch):
    # files a case writes (backup FILE, db copy FROM TO) land here, not in the checkout; a file already
    # named like the plausible TO ('Staffing') keeps `db copy FILE-AN-EARLIER-CASE-MADE Staffing` a refusal
    monkeypatch.chdir(isolated)
    (isolated / "Staffing").write_text("not a database\n")
    db = isolated / "sales.db"
    shutil.copyfile(agency_file, db)
    junk = {"text": isolated / "junk.db", "folder": isolated / "folder.db", "empty": isolated / "empty.db"}
    junk["text"].write_text("not a database\n")
    junk["folder"].mkdir()
    junk["empty"].write_bytes(b"")
    junk["long"] = isolated / ("x" * 300 + ".db")  # a name too long for the file system
    junk["damaged"] = isolated / "damaged.db"  # schema pages that are not UTF-8 any more
    shutil.copyfile(agency_file, junk["damaged"])
    damaged = bytearray(junk["damaged"].read_bytes())
    damaged[damaged.find(b"CREATE TABLE") + 2] = 0xFF
    junk["damaged"].write_bytes(bytes(damaged))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    runner = CliRunner()
    cases = invocations(db, junk)
    assert len(cases) >= 300
    failures = []
    for args, env in cases:
        result = runner.invoke(app, args, env=env)
        stderr = result.stderr
        problem = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problem = f"raised {result.exception!r}"
        elif result.exit_code not in (1, 2, 3):
            problem = f"exit {result.exit_code}"
        elif "Traceback" in stderr + result.stdout or "Error: unexpected" in stderr:  # our last-resort message
            problem = stderr.strip()[-300:]
        elif any(len(line.encode()) >= 4096 for line in stderr.splitlines()):
            problem = f"an error line of {max(len(line.encode()) for line in stderr.splitlines()):,} bytes"
        elif hashlib.sha256(db.read_bytes()).hexdigest() != before:
            problem = "changed the database"
            shutil.copyfile(agency_file, db)
        if problem:
            failures.append((ascii(args)[:200], problem))
    assert not failures, "\n".join(f"{args}: {problem}" for args, problem in failures[:20])
