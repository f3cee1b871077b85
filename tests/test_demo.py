"""`init --demo`: the same agency for the same today, a complete setup, and a story the reports can find."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter

from salesselect_cli import demo
from tests.conftest import SETUP_JSON, TODAY


def dump(path) -> list[str]:
    """Every table's rows as SQL, without the record of applied migrations (it records the clock)."""
    conn = sqlite3.connect(path)
    try:
        return [line for line in conn.iterdump() if "salesselect_migrations" not in line]
    finally:
        conn.close()


def build(ok, monkeypatch, path, today: dt.date = TODAY):
    monkeypatch.setenv("SALESSELECT_DB", str(path))
    monkeypatch.setenv("SALESSELECT_TODAY", today.isoformat())
    return ok("init", "--demo")


def test_the_demo_is_the_same_for_the_same_today(ok, monkeypatch, tmp_path):
    build(ok, monkeypatch, tmp_path / "one.db")
    build(ok, monkeypatch, tmp_path / "two.db")
    first, second = dump(tmp_path / "one.db"), dump(tmp_path / "two.db")
    assert first == second
    assert sum(line.startswith('INSERT INTO "history"') for line in first) > 2000


def test_the_demo_tells_a_story_the_reports_can_find(ok, cli, monkeypatch, tmp_path):
    run = build(ok, monkeypatch, tmp_path / "demo.db")
    assert "\nDemo agency: 300 opportunities (" in run.stderr
    assert ok("config", "check").stdout.startswith("The setup is complete")
    setup = ok("config", "export").json()
    assert {k: v for k, v in setup.items() if k not in ("workflows", "users")} == {
        k: v for k, v in json.loads(SETUP_JSON.read_text()).items() if k != "workflows"}
    assert [(u["name"], u["role"], u["key_user"]) for u in setup["users"]] == [
        ("anna", "recruiter", True), ("sanne", "recruiter", False), ("daan", "recruiter", False),
        ("noor", "manager", True)]
    assert [(w["name"], w["on"], w["actions"]) for w in setup["workflows"]] == [
        ("Proposal follow-up", "stage", ["followup:+3d:Call about the proposal"]),
        ("Feedback on lost deals", "status", ["note:Ask for feedback within a month"]),
    ]
    assert {u["name"] for u in ok("user", "list", "--format", "json").json()} == {"anna", "sanne", "daan", "noor"}

    opps = ok("export", "--format", "json").json()
    assert len(opps) == 300
    status = Counter(o["status"] for o in opps)
    assert status["won"] > 60 and status["lost"] > 60 and status["open"] > 25
    open_opps = [o for o in opps if o["status"] == "open"]
    assert len({o["stage"] for o in open_opps}) >= 4
    assert {"red", "orange", "green"} <= {o["indicator"] for o in open_opps}
    assert any(o["days_left"] < 0 for o in open_opps)
    assert all(o["reason"] for o in opps if o["status"] == "lost")
    # closed deals in last quarter (2026-Q3) and this month feed win/loss; 18 months of created deals feed sources
    last_quarter = [o for o in opps if o["closed"] and "2026-07-01" <= o["closed"] <= "2026-09-30"]
    assert Counter(o["status"] for o in last_quarter)["won"] >= 5
    assert Counter(o["status"] for o in last_quarter)["lost"] >= 5
    assert any(o["closed"] >= "2026-11-01" for o in opps if o["closed"])
    assert min(o["created"] for o in opps) <= (TODAY - dt.timedelta(days=500)).isoformat()
    assert max(o["created"] for o in opps) <= TODAY.isoformat()

    def win_rate(source):
        closed = Counter(o["status"] for o in opps if o["source"] == source and o["status"] != "open")
        return closed["won"] / (closed["won"] + closed["lost"])

    assert max(demo.SETUP["sources"], key=win_rate) == "LinkedIn"
    assert ok("followup", "list", "--overdue", "--format", "json").json()

    conn = sqlite3.connect(tmp_path / "demo.db")
    lost_where = conn.execute(
        """SELECT s.name, r.text, COUNT(*) FROM opportunities o JOIN stages s ON s.id = o.closed_from_stage_id
             JOIN reasons r ON r.id = o.reason_id WHERE o.status = 'lost' GROUP BY 1, 2 ORDER BY 3 DESC"""
    ).fetchall()
    moves = conn.execute("SELECT COUNT(*), MIN(at) FROM history WHERE field = 'stage'").fetchone()
    actors = {row[0] for row in conn.execute("SELECT DISTINCT actor FROM history")}
    conn.close()
    assert lost_where[0][:2] == ("Proposal", "Too expensive")
    assert lost_where[0][2] > sum(row[2] for row in lost_where) / 3
    assert moves[0] > 500 and moves[1] < (TODAY - dt.timedelta(days=400)).isoformat()
    assert actors == {"anna", "sanne", "daan", "noor"}


def test_the_demo_moves_with_today_and_keeps_an_init_user_named_like_a_recruiter(ok, monkeypatch, tmp_path):
    later = dt.date(2027, 6, 15)
    monkeypatch.setenv("SALESSELECT_USER", "sanne")
    run = build(ok, monkeypatch, tmp_path / "later.db", later)
    assert "3 users" in run.stderr
    opps = ok("export", "--format", "json").json()
    assert max(o["created"] for o in opps) <= later.isoformat()
    assert min(o["created"] for o in opps) >= (later - dt.timedelta(days=demo.HISTORY_DAYS + 7)).isoformat()
    assert any(o["indicator"] == "red" for o in opps)
    assert ok("config", "check").exit_code == 0


def test_the_demo_setup_is_examples_setup_json():
    assert demo.SETUP == json.loads(SETUP_JSON.read_text(encoding="utf-8"))


def test_init_demo_refuses_an_existing_database(ok, cli, monkeypatch, tmp_path):
    build(ok, monkeypatch, tmp_path / "demo.db")
    run = cli("init", "--demo")
    assert run.exit_code == 1
    assert "already exists" in run.stderr


def test_every_report_has_something_to_say_about_the_demo(demo_db, ok):
    winloss = ok("report", "winloss", "--period", "last-quarter", "--format", "json").json()
    assert {row["status"] for row in winloss} == {"won", "lost"}
    lost = [row for row in winloss if row["status"] == "lost"]
    assert lost[0]["stage"] == "Proposal" and lost[0]["reason"] == "Too expensive"
    assert abs(sum(row["share"] for row in lost) - 100.0) < 0.5
    headline = ok("report", "winloss", "--period", "last-quarter").stdout.splitlines()[0]
    assert "lost in Proposal with reason Too expensive" in headline
    sources = ok("report", "sources", "--period", "this-year", "--format", "json").json()
    assert len(sources) >= 5 and all(row["created"] > 0 for row in sources)
    best = max((row for row in sources if row["source"] != "Total" and row.get("total") is not True),
               key=lambda row: float(row["win_rate"]))
    assert float(best["win_rate"]) > 40
    pipeline = ok("report", "pipeline", "--format", "json").json()
    assert sum(row["count"] for row in pipeline) == len(ok("opp", "list", "--format", "json").json())
    stages = ok("report", "stages", "--period", "this-year", "--format", "json").json()
    assert [row["stage"] for row in stages][:3] == ["Lead", "Introduction", "Proposal"]
    assert all(row["entered"] > 0 for row in stages)
    board = ok("board", "--format", "json").json()
    assert sum(column["count"] for column in board) == len(ok("opp", "list", "--format", "json").json())


def test_the_demo_in_dutch_has_dutch_stages_reasons_and_sources(ok, cli, monkeypatch, tmp_path):
    from salesselect_cli import i18n

    monkeypatch.setenv("SALESSELECT_DB", str(tmp_path / "demo.db"))
    try:
        run = cli("--lang", "nl", "init", "--demo")
        assert run.exit_code == 0, run.stderr
    finally:
        i18n.configure(None)
    stages = [row["name"] for row in ok("config", "list-stages", "--format", "json").json()]
    assert stages == ["Lead", "Kennismaking", "Offerte", "Onderhandeling", "Raamovereenkomst", "Nieuwe klant",
                      "Verloren"]
    sources = {row["name"] for row in ok("config", "list-sources", "--format", "json").json()}
    assert sources == {"HubSpot", "Google", "LinkedIn", "Doorverwijzing", "Website"}
    reasons = {row["reason"] for row in ok("config", "list-reasons", "--format", "json").json()}
    assert reasons == {demo.DUTCH[row["text"]] for row in demo.SETUP["reasons"]}
    assert not set(demo.DUTCH) & (reasons | set(stages[1:]) | sources)  # no English setup word left
    lost = ok("opp", "list", "--status", "lost", "--format", "json").json()
    assert len(lost) > 100 and {deal["reason"] for deal in lost} <= reasons
    assert Counter(deal["closed_from"] for deal in lost).most_common(1)[0][0] == "Offerte"  # the same story
    texts = {row["text"] for row in ok("followup", "list", "--status", "all", "--format", "json").json()}
    assert "Bellen over de offerte" in texts and "Call about the proposal" not in texts
    names = [row["name"] for row in ok("workflow", "list", "--format", "json").json()]
    assert names == ["Offerte opvolgen", "Feedback op verloren deals"]
