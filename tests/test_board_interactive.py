"""`board --interactive`: the Textual board driven headless with its pilot, checked against the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time

import pytest

from salesselect_cli import board_app
from salesselect_cli.board_app import BoardApp
from tests.conftest import ROOT, TODAY, add_opp, from_template


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def deals(agency, template_dir):
    """Open deals in four stages (the most urgent Lead card first), one of them bob's."""
    ok = agency
    return from_template("interactive_deals", template_dir, lambda: {
        "lead": add_opp(ok, "Order pickers", "Acme", "Staffing", "HubSpot", "--value", "1000", "--close", day(3)),
        "lead_later": add_opp(ok, "Forklift drivers", "Bolt", "Staffing", "Google", "--close", day(20)),
        "proposal": add_opp(ok, "Cleaners", "Crane", "Staffing", "LinkedIn", "--stage", "Proposal", "--owner", "bob"),
        "nego": add_opp(ok, "Welders", "Delta", "Staffing", "Referral", "--stage", "Negotiation", "--close", day(-1)),
        "frame": add_opp(ok, "Agency pool", "Echo", "Agencies", "Website", "--stage", "Framework agreement"),
    })


@pytest.fixture
def desk(cli, monkeypatch):
    """desk(*board options) -> the Desk that `salesselect board -i ...` would run the app with."""
    from salesselect_cli.commands import board

    def make(*args: str):
        made = []
        monkeypatch.setattr(board, "run_interactive", made.append)
        run = cli("board", "-i", *args)
        assert run.exit_code == 0, run.stderr
        return made[0]

    return make


class Settling:
    """The pilot, whose pause() also waits for the board's writes (they run in a worker) and their redraw."""

    def __init__(self, pilot):
        self._pilot = pilot

    def __getattr__(self, name):
        return getattr(self._pilot, name)

    async def pause(self, delay=None) -> None:
        await self._pilot.pause(delay)
        await self._pilot.app.workers.wait_for_complete()
        await self._pilot.pause()


def drive(app: BoardApp, steps, size=(120, 40), settle: bool = True) -> None:
    """Run the app headless at `size`, let it draw, then `await steps(pilot)` (settle: pause() waits for writes)."""

    async def go():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(Settling(pilot) if settle else pilot)

    asyncio.run(go())


def screen_text(app: BoardApp) -> str:
    """What the terminal shows, as plain text (the top screen: a dialog when one is open)."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


def shown_ids(app: BoardApp) -> dict[str, list[int]]:
    return {column.stage: [card["id"] for card in column.cards] for column in app.board.columns}


def history(ok, opportunity_id: int) -> list[dict]:
    return ok("opp", "show", opportunity_id, "--format", "json").json()["history"]


def show(ok, opportunity_id: int) -> dict:
    return ok("opp", "show", opportunity_id, "--format", "json").json()


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", "+": "plus", "-": "minus", ",": "comma"}.get(ch, ch) for ch in text])


async def fill_in(pilot, text: str) -> None:
    """Put a longer text in the open dialog's input at once (typing key by key is slow)."""
    from textual.widgets import Input

    pilot.app.screen.query_one(Input).value = text


async def until(pilot, condition, what="", seconds: float = 10) -> None:
    """Wait, a short pause at a time, until condition() holds (a loaded machine is slower; the limit is a safety net)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what() if callable(what) else what or condition
        await pilot.pause(0.01)


def counting(app: BoardApp, *actions: str) -> list[str]:
    """The names of the app's actions as they finish (so a key that changes nothing is known to be handled)."""
    done: list[str] = []
    for name in actions:
        real = getattr(app, f"action_{name}")

        def counted(*args, real=real, name=name):
            real(*args)
            done.append(name)

        setattr(app, f"action_{name}", counted)
    return done


# ---------------------------------------------------------------- what it shows


def test_focus_starts_on_the_first_card_of_the_first_column_like_board_json(deals, desk, ok):
    first = next(column for column in ok("board", "--format", "json").json() if column["cards"])
    app = BoardApp(desk())

    async def steps(pilot):
        assert app.selected_id == first["cards"][0]["id"] == deals["lead"]
        assert [column.stage for column in app.board.columns] == ["Lead", "Proposal", "Negotiation", "Framework agreement"]

    drive(app, steps)


def test_screen_at_120x40_shows_columns_totals_badges_legend_and_keys(deals, desk):
    app = BoardApp(desk())

    async def steps(pilot):
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) == 40 and all(len(line) <= 120 for line in lines)
        assert lines[0].startswith(" Board · everyone · 5 open opportunities · €1,000")
        for words in ("Lead", "2 deals · €1,000", "1 orange", "Proposal", "Negotiation", "1 overdue",
                      "#1 Order pickers", "Staffing · €1,000 · anna", "! 3d left", "no close date", "overdue 1d", "#3 Cleaners",
                      "S = Staffing", "A = Agencies", "!! red ≤ 2d", "! orange ≤ 5d", "today 2026-11-27 (Fri)",
                      "] next stage", "w win", "L lose", "q quit"):
            assert words in text, words
        assert app.query_one("#columns").max_scroll_x == 0  # 4 columns fit in 120

    drive(app, steps, size=(120, 40))


def test_screen_at_80x24_scrolls_the_columns_sideways(deals, desk):
    app = BoardApp(desk())

    async def steps(pilot):
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert "Lead" in lines[1] and "Framework agreement" not in "\n".join(lines)
        holder = app.query_one("#columns")
        assert holder.max_scroll_x > 0
        for _ in range(3):
            await pilot.press("l")
        await pilot.pause()
        assert app.selected_id == deals["frame"]
        assert holder.scroll_x > 0 and "#5 Agency pool" in screen_text(app)
        assert "n note" in lines[-1]  # the key bar wraps onto a second line at 80 columns

    drive(app, steps, size=(80, 24))


def test_arrows_and_hjkl_move_the_focus_between_cards_and_columns(deals, desk):
    app = BoardApp(desk())

    done = counting(app, "card", "column")

    async def steps(pilot):
        await pilot.press("down")
        await until(pilot, lambda: done == ["card"])
        assert app.selected_id == deals["lead_later"]
        await pilot.press("j")  # the last card stays focused
        await until(pilot, lambda: len(done) == 2)
        assert app.selected_id == deals["lead_later"]
        await pilot.press("right")
        await until(pilot, lambda: len(done) == 3)
        assert app.selected_id == deals["proposal"]
        await pilot.press("h", "k")
        await until(pilot, lambda: len(done) == 5)
        assert done == ["card", "card", "column", "column", "card"] and app.selected_id == deals["lead"]
        # a click that lands while the live update redraws the board (it swaps every card widget) hits no card:
        # the card is found again and clicked again; a click that never focuses it fails at the limit
        deadline = time.monotonic() + 10
        while app.selected_id != deals["nego"]:
            assert time.monotonic() < deadline, "a click focuses the card"
            card = next(card for column in app.columns for card in column.cards if card.record["id"] == deals["nego"])
            await pilot.click(card)
            await until(pilot, lambda: app.selected_id == deals["nego"] or not card.is_attached)

    drive(app, steps)


# ---------------------------------------------------------------- changes


def test_next_stage_key_moves_the_deal_and_records_history_as_opp_move_does(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "#1 Order pickers: Introduction, open" in screen_text(app)
        assert shown_ids(app)["Introduction"] == [deals["lead"]]
        assert app.selected_id == deals["lead"]  # the focus follows the deal

    drive(app, steps)
    assert show(ok, deals["lead"])["stage"] == "Introduction"
    ok("opp", "move", deals["lead_later"], "Introduction")
    by_key, by_command = history(ok, deals["lead"])[-1], history(ok, deals["lead_later"])[-1]
    assert {**by_key, "at": None} == {**by_command, "at": None}
    assert (by_key["actor"], by_key["field"], by_key["from_value"], by_key["to_value"]) == ("anna", "stage", "Lead", "Introduction")


def test_previous_stage_key_and_nothing_before_the_first_stage(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert "Error: 'Lead' is the first stage of business type 'Staffing'" in screen_text(app)
        await pilot.press("l", "left_square_bracket")
        await pilot.pause()
        assert shown_ids(app)["Introduction"] == [deals["proposal"]]

    drive(app, steps)
    assert show(ok, deals["lead"])["stage"] == "Lead" and len(history(ok, deals["lead"])) == 1
    assert show(ok, deals["proposal"])["stage"] == "Introduction"


def test_w_with_a_reason_wins_the_deal(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("w")
        await pilot.pause()
        assert "Win #1 Order pickers — won reason?" in screen_text(app)
        await pilot.press("down", "enter")  # Good price, Strong candidates, ...
        await pilot.pause()
        assert "#1 Order pickers: New client, won (Strong candidates)" in screen_text(app)
        assert deals["lead"] not in shown_ids(app)["Lead"]
        assert app.selected_id == deals["lead_later"]  # the focus stays in the column

    drive(app, steps)
    record = show(ok, deals["lead"])
    assert (record["status"], record["reason"], record["stage"]) == ("won", "Strong candidates", "New client")
    assert [row["field"] for row in history(ok, deals["lead"])][-2:] == ["stage", "status"]


def test_lose_needs_a_reason_and_escape_changes_nothing(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("L")
        await pilot.pause()
        assert "Lose #1 Order pickers — lost reason?" in screen_text(app)
        assert "(no reason)" not in screen_text(app)
        await pilot.press("w", "right_square_bracket", "m", "q")  # the board's keys sleep while a dialog is open
        await pilot.pause()
        assert len(app.screen_stack) == 2 and app.is_running
        await pilot.press("escape")
        await pilot.pause()
        assert "Nothing changed." in screen_text(app)
        await pilot.press("L", "enter")
        await pilot.pause()
        assert "#1 Order pickers: Lost, lost (Too expensive)" in screen_text(app)

    drive(app, steps)
    record = show(ok, deals["lead"])
    assert (record["status"], record["reason"]) == ("lost", "Too expensive")


def test_next_stage_into_the_won_stage_asks_for_the_reason(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("l", "l")
        assert app.selected_id == deals["nego"]
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "Move #4 to New client (won) — won reason?" in screen_text(app)
        await pilot.press("end", "enter")  # (no reason): a won reason is optional
        await pilot.pause()
        assert "#4 Welders: New client, won" in screen_text(app)

    drive(app, steps)
    record = show(ok, deals["nego"])
    assert (record["status"], record["reason"], record["stage"]) == ("won", None, "New client")


def test_o_reopens_the_deal_just_closed_and_focuses_it(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("L", "enter")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert "Reopen which won or lost deal? #" in screen_text(app)
        await pilot.press("enter")  # offers the one just closed
        await pilot.pause()
        assert "#1 Order pickers: Lead, open" in screen_text(app)
        assert app.selected_id == deals["lead"]
        await pilot.press("o", "enter")  # an open deal: the store's refusal, on screen
        await pilot.pause()
        assert f"Error: opportunity #{deals['lead']} is already open" in screen_text(app)

    drive(app, steps)
    assert show(ok, deals["lead"])["status"] == "open"


def test_a_refused_move_changes_nothing_and_shows_the_error(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        ok("--user", "kim", "config", "module", "disable", "--user", "anna")  # meanwhile, a key user
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "Error: the Sales Select module is off for 'anna'" in screen_text(app)
        assert ok("--user", "kim", "opp", "show", deals["lead"], "--format", "json").json()["stage"] == "Lead"
        ok("--user", "kim", "config", "module", "inherit", "--user", "anna")
        await pilot.press("r")
        await pilot.pause()
        assert "Error" not in screen_text(app)  # the board reads again; the stale error goes

    drive(app, steps)
    assert show(ok, deals["lead"])["stage"] == "Lead"
    assert len(history(ok, deals["lead"])) == 1


def test_a_change_refused_because_the_deal_closed_meanwhile_changes_nothing(deals, desk, ok, monkeypatch):
    monkeypatch.setattr(board_app, "POLL_SECONDS", 3600)  # the board has not seen it yet
    app = BoardApp(desk())

    won = []

    async def steps(pilot):
        ok("--user", "kim", "opp", "win", deals["lead"], "--reason", "Good price")
        won.append(history(ok, deals["lead"]))
        await pilot.press("L", "enter")  # lose it, with a reason: the store refuses
        await pilot.pause()
        assert f"Error: opportunity #{deals['lead']} is won; reopen it before you win or lose it" in screen_text(app)
        assert deals["lead"] not in shown_ids(app)["Lead"]  # and the board read again
        await pilot.press("right_square_bracket")  # the focus moved on to an open deal
        await pilot.pause()
        assert f"#{deals['lead_later']} Forklift drivers: Introduction, open" in screen_text(app)

    drive(app, steps)
    record = show(ok, deals["lead"])
    assert (record["status"], record["reason"]) == ("won", "Good price")
    assert history(ok, deals["lead"]) == won[0]


def test_f_adds_a_follow_up_and_a_bad_date_keeps_the_dialog_open(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("f")
        await type_text(pilot, "someday")
        await pilot.press("enter")
        await pilot.pause()
        assert "Error: cannot read date 'someday'" in screen_text(app)
        await pilot.press("ctrl+u")
        await type_text(pilot, "+3d")
        await pilot.press("enter")
        await pilot.pause()
        assert "Follow-up for #1 on 2026-11-30 (Mon): what?" in screen_text(app)
        await fill_in(pilot, "Call about the start")
        await pilot.press("enter")
        await pilot.pause()
        assert "#1: follow-up #1 planned for 2026-11-30" in screen_text(app)

    drive(app, steps)
    followups = ok("followup", "list", "--format", "json").json()
    assert [(f["opportunity_id"], f["due"], f["text"]) for f in followups] == [(deals["lead"], "2026-11-30", "Call about the start")]


def test_n_adds_a_note_to_the_timeline(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("n")
        await type_text(pilot, "quote sent to Eva, will call")  # q, w, l, n: typed, not keys
        await pilot.press("enter")
        await pilot.pause()
        assert "#1: note added" in screen_text(app)

    drive(app, steps)
    assert history(ok, deals["lead"])[-1]["to_value"] == "quote sent to Eva, will call"


def test_enter_opens_the_deal_with_history_and_escape_closes_it(deals, desk, ok):
    ok("followup", "add", deals["lead"], "monday", "Call Eva")
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        for words in ("#1 Order pickers", "Company         Acme", "Stage           Lead", "History",
                      "anna: created in Lead", "Follow-ups", "2026-11-30  Call Eva  (anna, open)"):
            assert words in text, words
        await pilot.press("escape")
        await pilot.pause()
        assert "S = Staffing" in screen_text(app)

    drive(app, steps)


# ---------------------------------------------------------------- filters


def test_slash_filters_by_text_and_m_toggles_my_deals(deals, desk):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("slash")
        await type_text(pilot, "crane")
        await pilot.press("enter")
        await pilot.pause()
        assert shown_ids(app) == {"Proposal": [deals["proposal"]]}
        assert "matching 'crane'" in screen_text(app)
        await pilot.press("slash", "ctrl+u", "enter")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert deals["proposal"] not in sum(shown_ids(app).values(), [])  # bob's
        assert "mine" in screen_text(app).splitlines()[0]
        await pilot.press("m")
        await pilot.pause()
        assert deals["proposal"] in sum(shown_ids(app).values(), [])

    drive(app, steps)


def test_command_line_filters_apply(deals, desk):
    app = BoardApp(desk("--type", "Agencies"))

    async def steps(pilot):
        assert [column.stage for column in app.board.columns] == ["Lead", "Introduction", "Proposal", "Framework agreement"]
        assert app.selected_id == deals["frame"]
        assert "type Agencies" in screen_text(app).splitlines()[0]

    drive(app, steps)
    app = BoardApp(desk("--owner", "bob"))
    drive(app, lambda pilot: _assert_only(app, [deals["proposal"]]))


def test_a_limit_shows_what_it_leaves_out(deals, desk):
    app = BoardApp(desk("--limit", "1"))

    async def steps(pilot):
        text = screen_text(app)
        assert "up to 1 per stage" in text.splitlines()[0]
        assert "+1 more · / narrows" in text and "#2 Forklift drivers" not in text
        assert "2 deals · €1,000" in text  # the totals cover every card

    drive(app, steps)


async def _assert_only(app, ids):
    assert sum(shown_ids(app).values(), []) == ids


# ---------------------------------------------------------------- live


def test_a_bad_stored_setting_is_named_on_the_message_line_until_it_is_fixed(deals, desk, ok, monkeypatch):
    """The printed board warns on stderr; the full screen has no stderr, so its message line names the fix."""
    from tests.conftest import raw_connect

    monkeypatch.setattr(board_app, "POLL_SECONDS", 3600)
    conn = raw_connect()
    conn.execute("DELETE FROM settings WHERE key = 'red_days'")
    conn.execute("INSERT INTO settings (key, value) VALUES ('red_days', 'abc')")
    conn.commit()
    conn.close()
    app = BoardApp(desk())

    async def steps(pilot):
        text = " ".join(screen_text(app).split())
        assert "Warning: the red_days setting holds 'abc'" in text, text
        assert "'salesselect config set-indicator --orange DAYS --red DAYS'" in text, text
        assert len(shown_ids(app)["Lead"]) == 2  # the board itself is drawn, as if the indicator were unset
        await pilot.press("r")
        await pilot.pause()
        assert "Refreshed." in screen_text(app) and "Warning" not in screen_text(app)  # said once, not at each redraw
        assert app.desk.problems  # still read as bad
        ok("config", "set-indicator", "--orange", "10", "--red", "3")
        await pilot.press("r")
        await pilot.pause()
        assert app.desk.problems == [] and "Warning" not in screen_text(app)

    drive(app, steps)


def test_a_change_by_another_process_appears_after_refresh(deals, desk, ok, monkeypatch):
    monkeypatch.setattr(board_app, "POLL_SECONDS", 3600)
    app = BoardApp(desk())

    async def steps(pilot):
        ok("opp", "move", deals["lead_later"], "Proposal")
        await pilot.pause()
        assert deals["lead_later"] in shown_ids(app)["Lead"]
        await pilot.press("r")
        await pilot.pause()
        assert shown_ids(app)["Proposal"] == [deals["proposal"], deals["lead_later"]] or \
            shown_ids(app)["Proposal"] == [deals["lead_later"], deals["proposal"]]
        assert deals["lead_later"] not in shown_ids(app)["Lead"]

    drive(app, steps)


def test_a_change_by_another_process_appears_within_two_seconds_by_itself(deals, desk):
    app = BoardApp(desk())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    async def steps(pilot):
        subprocess.run([sys.executable, "-m", "salesselect_cli", "opp", "move", str(deals["lead"]), "Introduction"],
                       env=env, check=True, capture_output=True)
        moved = time.monotonic()
        while deals["lead"] not in shown_ids(app).get("Introduction", []) and time.monotonic() - moved < 2:
            await pilot.pause(0.05)
        assert shown_ids(app)["Introduction"] == [deals["lead"]]
        assert app.selected_id == deals["lead"]  # the focus followed it

    drive(app, steps)


# ---------------------------------------------------------------- the command


def test_interactive_refuses_format_output_and_width(deals, cli):
    run = cli("board", "-i", "--format", "json")
    assert run.exit_code == 1
    assert run.stderr == "Error: --interactive draws the board on the screen; drop --format, --output and --width\n"


def test_interactive_needs_a_terminal(deals, cli):
    run = cli("board", "--interactive")
    assert (run.exit_code, run.stderr) == (1, "Error: board --interactive needs a terminal; without -i the board is printed\n")


def test_interactive_checks_filters_before_the_screen_opens(deals, cli):
    run = cli("board", "-i", "--type", "Staffng")
    assert run.exit_code == 1 and run.stderr.startswith("Error: unknown business type 'Staffng'; valid: Staffing")


def test_without_textual_one_line_names_the_extra(deals, cli, monkeypatch):
    for name in [name for name in sys.modules if name == "textual" or name.startswith("textual.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "textual", None)
    monkeypatch.delitem(sys.modules, "salesselect_cli.board_app")
    run = cli("board", "-i")
    assert (run.exit_code, run.stderr) == (1, "Error: board --interactive needs Textual: pip install 'salesselect[board]'\n")


def test_the_printed_board_and_other_commands_never_import_textual(deals):
    code = (
        "import sys; from typer.testing import CliRunner; from salesselect_cli.main import app; "
        "runner = CliRunner(); "
        "[runner.invoke(app, args) for args in (['board'], ['board', '--format', 'json'], ['opp', 'list'], ['--help'])]; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_empty_board_says_so_and_keys_do_nothing(deals, desk):
    app = BoardApp(desk("--owner", "kim"))

    async def steps(pilot):
        assert "No open opportunities match." in screen_text(app)
        await pilot.press("right", "w", "right_square_bracket")
        await pilot.pause()
        assert len(app.screen_stack) == 1 and app.selected_id is None
        assert "No card to act on: no open deals match." in screen_text(app)

    drive(app, steps, size=(80, 24))


def test_a_recruiter_cannot_move_a_colleague_s_card_on_the_interactive_board(deals, desk, ok, monkeypatch):
    monkeypatch.setenv("SALESSELECT_USER", "bob")  # a recruiter; the focused Lead card is anna's
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert f"Error: #{deals['lead']} belongs to anna" in screen_text(app)

    drive(app, steps)
    monkeypatch.setenv("SALESSELECT_USER", "anna")
    assert show(ok, deals["lead"])["stage"] == "Lead"
    assert len(history(ok, deals["lead"])) == 1


def test_u_takes_back_a_lose_and_its_follow_up_comes_back(deals, desk, ok):
    ok("followup", "add", str(deals["lead"]), "+2d", "Call Acme")
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("L", "enter")
        await pilot.pause()
        assert deals["lead"] not in shown_ids(app)["Lead"]
        await pilot.press("u")
        await until(pilot, lambda: "Undone: lose of #1 Order pickers" in screen_text(app))  # the write runs off the loop
        assert deals["lead"] in shown_ids(app)["Lead"] and app.selected_id == deals["lead"]

    drive(app, steps)
    record = show(ok, deals["lead"])
    assert (record["status"], record["stage"]) == ("open", "Lead")
    assert [f["text"] for f in ok("followup", "list", "--opp", str(deals["lead"]), "--format", "json").json()] == ["Call Acme"]


def test_at_80_columns_every_card_keeps_its_owner_and_value(deals, desk, ok):
    ok("user", "add", "Sanne de Vries-Bakker")
    ok("opp", "edit", str(deals["lead"]), "--owner", "Sanne de Vries-Bakker", "--value", "18500")
    app = BoardApp(desk())

    async def steps(pilot):
        text = screen_text(app)
        assert "€18,500 · SdV" in text  # a long name shortens to its initials; the value stays whole
        assert "€0 · anna" in text

    drive(app, steps, size=(80, 24))


def test_the_follow_up_dialog_warns_about_a_weekend_date(deals, desk, ok):
    app = BoardApp(desk())

    async def steps(pilot):
        await pilot.press("f")
        await type_text(pilot, "+1d")  # TODAY is a Friday: tomorrow is a Saturday
        await pilot.press("enter")
        await pilot.pause()
        assert "Warning: the follow-up date 2026-11-28 is a Saturday" in screen_text(app)
        await fill_in(pilot, "Call")
        await pilot.press("enter")
        await until(pilot, lambda: "planned for" in screen_text(app))
        assert "Warning: the follow-up date 2026-11-28 is a Saturday" in screen_text(app)

    drive(app, steps)


def test_a_write_waits_off_the_screen_and_the_screen_stays_live(deals, desk, ok):
    import threading

    board = desk()
    release = threading.Event()
    real_move = board.move

    def slow_move(*args, **kwargs):
        release.wait(10)  # another writer's lock, a slow workflow
        return real_move(*args, **kwargs)

    board.move = slow_move
    app = BoardApp(board)

    async def steps(pilot):
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: "Saving…" in screen_text(app))
        await pilot.press("down")  # the screen still answers keys while the write waits
        await until(pilot, lambda: app.selected_id == deals["lead_later"], "the key moved the focus meanwhile")
        assert not release.is_set()
        release.set()
        await until(pilot, lambda: "Introduction, open" in screen_text(app))
        assert "#1 Order pickers: Introduction, open" in screen_text(app)

    drive(app, steps, settle=False)  # the write is held back on purpose: pause() must not wait for it
    assert show(ok, deals["lead"])["stage"] == "Introduction"


ENGLISH_WORDS = ("reason?", "(no reason)", "Win ", "Lose ", "esc: cancel", "Follow-up for", "what?",
                 "Warning:", "note added", "Saving", "Undone")


def test_dutch_dialogs_and_lines_have_no_english(deals, desk, ok, monkeypatch):
    from salesselect_cli import i18n

    board = desk()
    seen: list[str] = []
    app = BoardApp(board)

    async def steps(pilot):
        async def look(*keys, shows: str, dialogs: int = 2):
            """Press, wait until the screen shows its Dutch words and the dialog count is right, keep the screen."""
            await pilot.press(*keys)
            await until(pilot, lambda: shows in screen_text(app) and len(app.screen_stack) == dialogs,
                        lambda: f"{shows!r} not on the screen:\n{screen_text(app)}")
            await pilot.pause()  # and the writes the keys started are done
            seen.append(screen_text(app))

        await look("w", shows="reden van winst?")
        await look("escape", shows="Niets gewijzigd.", dialogs=1)
        await look("L", shows="reden van verlies?")
        await look("escape", shows="Niets gewijzigd.", dialogs=1)
        await look("f", shows="wanneer?")
        await type_text(pilot, "+1d")
        await look("enter", shows="wat?")
        await fill_in(pilot, "Bellen")
        await look("enter", shows="gepland op", dialogs=1)
        await look("n", shows="Notitie bij")
        await fill_in(pilot, "Gebeld")
        await look("enter", shows="notitie toegevoegd", dialogs=1)
        await look("u", shows="Ongedaan gemaakt", dialogs=1)
        await look("o", shows="heropenen?")
        await look("escape", shows="", dialogs=1)  # the dialog goes; no line of its own

    i18n.configure("nl")
    try:
        drive(app, steps)
    finally:
        i18n.configure("en")
    text = "\n".join(seen)
    assert "winnen" in text and "reden van" in text and "(geen reden)" in text and "Waarschuwing" in text
    assert "Ongedaan gemaakt" in text and "notitie toegevoegd" in text
    for word in ENGLISH_WORDS:
        assert word not in text, word
