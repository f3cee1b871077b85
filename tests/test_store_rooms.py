"""Each room of the store, called directly on a fresh file (as sqlite-utils tests its classes on fresh_db)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from salesselect_cli.session import Session
from salesselect_cli.usecases import deals
from salesselect_cli.errors import Conflict, Invalid, NotFound, PermissionDenied
from salesselect_cli.model import OpportunityFilter
from salesselect_cli.rules.importing import ImportRow
from salesselect_cli.store import Store, init_database, open_connection
from tests.conftest import SETUP_JSON, TODAY


@pytest.fixture
def fresh_store(tmp_path):
    """A Store on a new file (anna, the first key user), inside one write transaction."""
    path = tmp_path / "fresh.db"
    init_database(path, "anna", TODAY)
    store = Store(open_connection(path), path, TODAY, "anna")
    store.fixed_time = "09:00:00"
    with store.transaction(write=True):
        yield store
    store.close()


@pytest.fixture
def agency_store(fresh_store):
    """The example agency's setup and users bob (recruiter) and kim (key user)."""
    fresh_store.setup_file.import_setup(json.loads(SETUP_JSON.read_text()))
    fresh_store.people.add_user("bob")
    fresh_store.people.add_user("kim", key_user=True)
    return fresh_store


def add(store, title="Deal", **extra) -> int:
    args = dict(title=title, company="Acme", business_type="Staffing", source="HubSpot")
    return store.deals.add_opportunity(**{**args, **extra})


# ---------------------------------------------------------------- people


def test_people_users_key_users_and_the_module(fresh_store):
    store = fresh_store
    store.people.add_user("bob")
    with pytest.raises(Conflict):
        store.people.add_user("BOB")
    assert store.people.user_names() == ["anna", "bob"]
    assert store.people.find_user(" Bob ")["name"] == "bob"
    with pytest.raises(NotFound, match="bob"):
        store.people.find_user("bop")
    with pytest.raises(Conflict, match="last key user"):
        store.people.set_key_user("anna", False)
    store.people.set_module("off", "bob")
    assert store.people.module_enabled_for(store.people.find_user("bob")) is False
    assert store.people.module_enabled_for(store.people.user) is True  # anna inherits the client setting: on
    store.people.set_module("off")
    assert store.people.module_enabled_for(store.people.user) is False
    assert [u["module"] for u in store.people.module_report()["users"]] == ["inherit", "off"]
    assert store.people.remove_user("bob") == 0
    assert store.people.user_names() == ["anna"]


def test_unknown_acting_user_is_refused(fresh_store):
    fresh_store.people.act_as("anna")
    fresh_store.user_name, fresh_store.floor.user_row = "zed", None
    with pytest.raises(PermissionDenied):
        fresh_store.people.require_known_user()


def test_settings_and_currency(fresh_store):
    fresh_store.people.set_setting("x", "1")
    assert fresh_store.people.get_setting("x") == "1"
    fresh_store.people.set_setting("x", None)
    assert fresh_store.people.get_setting("x", "default") == "default"
    fresh_store.people.set_currency(" usd ")
    assert fresh_store.people.currency == "USD"
    with pytest.raises(Invalid):
        fresh_store.people.set_currency("dollars")


# ---------------------------------------------------------------- setup lists


def test_setup_lists_add_find_list_remove(fresh_store):
    store = fresh_store
    store.setup.add_business_type("Staffing", "Blue")
    store.setup.add_stage("Lead", ["staffing"])
    store.setup.add_stage("Won", ["Staffing"], auto="won")
    store.setup.add_stage("Intro", ["Staffing"], position=2)
    assert store.setup.stage_names() == ["Lead", "Intro", "Won"]
    assert [s.name for s in store.setup.stages_of_type(store.setup.find_business_type("STAFFING")["id"])] == ["Lead", "Intro", "Won"]
    store.setup.add_source("Google")
    store.setup.rename_source("google", "Search")
    assert store.setup.list_sources() == [{"name": "Search", "opportunities": 0}]
    store.setup.add_reason("Price", "won")
    with pytest.raises(Invalid, match="won reason"):
        store.setup.find_reason("Price", "lost")
    store.setup.set_indicator(5, 2)
    assert store.setup.thresholds() == (5, 2)
    assert store.setup.list_business_types() == [
        {"name": "Staffing", "color": "blue", "stages": "Lead, Intro, Won", "opportunities": 0}]
    assert store.setup.config_check() == ["no lost reason (salesselect config add-reason TEXT --status lost)"]
    assert store.setup.remove_stage("Intro") == 0
    assert store.setup.stage_names() == ["Lead", "Won"]
    with pytest.raises(Invalid, match="colour"):
        store.setup.add_business_type("Other", "not-a-colour")


def test_the_four_settings_lists_in_one_statement_are_each_list_as_listed(agency_store):
    """setup_lists (config show's one statement) gives what list_business_types, list_stages, list_sources and
    list_reasons give, in their orders and with their counts of deals; an archived stage is left out."""
    store = agency_store
    add(store, stage="Proposal", source="Google")
    add(store, title="Second", source="Google")
    store.setup.add_stage("Parked", ["Staffing"])
    store.setup.archive_stage("Parked")
    store.setup.add_reason("Aardvark", "lost")
    lists = store.setup.setup_lists()
    assert lists == (store.setup.list_business_types(), store.setup.list_stages(), store.setup.list_sources(),
                     store.setup.list_reasons())
    assert all(lists) and "Parked" not in [stage["name"] for stage in lists[1]]
    assert {"name": "Google", "opportunities": 2} in lists[2]
    assert lists[3][0]["status"] == "won" and lists[3][-1] == {"reason": "Aardvark", "status": "lost", "opportunities": 0}


def test_the_settings_lists_of_an_empty_setup_are_empty(fresh_store):
    assert fresh_store.setup.setup_lists() == ([], [], [], [])


def test_removing_a_used_stage_moves_its_opportunities_and_writes_history(agency_store):
    store = agency_store
    ident = add(store, stage="Proposal")
    with pytest.raises(Conflict, match="--reassign-to"):
        store.setup.remove_stage("Proposal")
    assert store.setup.remove_stage("Proposal", reassign_to="Introduction") == 1
    assert store.deals.get_opportunity(ident)["stage"] == "Introduction"
    assert store.deals.history(ident)[-1]["actor"] == "anna (stage removed)"
    assert store.deals.history(ident)[-1]["to_value"] == "Introduction"


def test_setup_export_imports_into_a_fresh_store_unchanged(agency_store, tmp_path):
    exported = agency_store.setup_file.export_setup()
    assert exported["users"] == [
        {"name": "anna", "role": "recruiter", "key_user": True, "module": "inherit"},
        {"name": "bob", "role": "recruiter", "key_user": False, "module": "inherit"},
        {"name": "kim", "role": "recruiter", "key_user": True, "module": "inherit"},
    ]
    assert {k: v for k, v in exported.items() if k != "users"} == {**json.loads(SETUP_JSON.read_text())}
    assert agency_store.setup_file.import_setup(exported) == []  # idempotent: nothing to change


# ---------------------------------------------------------------- opportunities


def test_add_move_close_reopen_and_history(agency_store):
    store = agency_store
    ident = add(store, value_cents=150000, expected_close=TODAY + dt.timedelta(days=1), note="first call")
    record = store.deals.get_opportunity(ident)
    assert (record["stage"], record["value"], record["indicator"]) == ("Lead", "1500.00", "red")
    change = store.deals.move_opportunity(ident, "Proposal")
    assert (change.from_stage_id, change.from_status, change.to_status) == (
        store.setup.find_stage("Lead")["id"], "open", "open")
    assert change.to_stage_id == store.setup.find_stage("Proposal")["id"] and change.before["stage"] == "Lead"
    change = store.deals.close_opportunity(ident, "won", "Good price")
    assert (change.to_status, store.deals.get_opportunity(ident)["stage"]) == ("won", "New client")
    change = store.deals.reopen_opportunity(ident)
    assert (change.from_status, change.to_status) == ("won", "open")
    assert store.deals.get_opportunity(ident)["stage"] == "Proposal"
    assert [(h["field"], h["to_value"]) for h in store.deals.history(ident)] == [
        ("created", "Lead"), ("note", "first call"), ("stage", "Proposal"), ("stage", "New client"),
        ("status", "won (Good price)"), ("stage", "Proposal"), ("status", "open"),
    ]
    assert {h["at"] for h in store.deals.history(ident)} == {f"{TODAY.isoformat()} 09:00:00"}


def test_edit_returns_the_stage_change_of_a_type_change(agency_store):
    store = agency_store
    ident = add(store)
    done, change = store.deals.edit_opportunity(ident, {"title": "Renamed", "value_cents": 5})
    assert (done, change) == (["title", "value"], None)
    done, change = store.deals.edit_opportunity(ident, {"business_type": "Agencies", "stage": "Framework agreement"})
    assert done == ["business_type", "stage"]
    assert change.to_stage_id == store.setup.find_stage("Framework agreement")["id"]


def test_list_filters_and_counts(agency_store):
    store = agency_store
    first = add(store, "Alpha")
    add(store, "Beta", owner="bob")
    lost = add(store, "Gamma")
    store.deals.close_opportunity(lost, "lost", "Too expensive")
    assert [r["id"] for r in store.deals.list_opportunities(OpportunityFilter(owner="anna"))] == [first]
    assert [r["title"] for r in store.deals.list_opportunities(OpportunityFilter(status="all", search="a"))] == [
        "Alpha", "Beta", "Gamma"]
    assert store.deals.opportunity_counts() == {"open": 2, "won": 0, "lost": 1}
    with pytest.raises(NotFound):
        store.deals.get_opportunity(999)


def test_changes_are_checked_against_the_owner_in_the_room(agency_store):
    store = agency_store
    store.people.add_user("tom")
    store.people.add_user("mia", role="manager")
    ident = add(store, owner="bob")
    for actor, allowed in (("bob", True), ("tom", False), ("mia", True), ("kim", True)):
        store.people.act_as(actor)
        if allowed:
            store.deals.add_note(ident, f"{actor} was here")
        else:
            with pytest.raises(PermissionDenied, match="#1 belongs to bob"):
                store.deals.add_note(ident, "no")
            with pytest.raises(PermissionDenied):
                store.deals.move_opportunity(ident, "Proposal")
            with pytest.raises(PermissionDenied):
                store.followups.add_followup(ident, TODAY, "no")
            with pytest.raises(PermissionDenied, match="only for themselves"):
                add(store, owner="bob")
    store.people.act_as("tom")
    assert store.deals.change_owner(ident, "tom", actor="workflow:Hand over")  # a workflow's rights
    store.deals.add_note(ident, "mine now")


def test_trash_restore_and_purge_in_the_room(agency_store):
    store = agency_store
    ident = add(store, stage="Proposal")
    store.followups.add_followup(ident, TODAY, "Call")
    before = (store.deals.get_opportunity(ident), store.deals.history(ident))
    assert store.deals.trash_opportunity(ident)["id"] == ident
    assert list(store.deals.list_opportunities(OpportunityFilter(status="all"))) == []
    assert store.followups.list_followups() == [] and store.deals.opportunity_counts()["open"] == 0
    assert store.people._scalar("SELECT COUNT(*) FROM stage_visits WHERE opportunity_id = ?", [ident]) == 0
    with pytest.raises(NotFound, match="in the trash"):
        store.deals.get_opportunity(ident)
    assert [r["id"] for r in store.deals.list_trash()] == [ident]
    store.deals.restore_opportunity(ident)
    assert (store.deals.get_opportunity(ident), store.deals.history(ident)) == before
    assert store.people._scalar("SELECT COUNT(*) FROM stage_visits WHERE opportunity_id = ?", [ident]) == 1
    with pytest.raises(NotFound, match="not in the trash"):
        store.deals.purge_opportunity(ident)
    store.deals.trash_opportunity(ident)
    store.people.act_as("bob")
    with pytest.raises(PermissionDenied, match="only key users"):
        store.deals.purge_opportunity(ident)
    store.people.act_as("kim")
    assert store.deals.purge_opportunity(ident)["title"] == "Deal"
    with pytest.raises(NotFound, match="no opportunity"):
        store.deals.get_opportunity(ident)
    log = list(store.reports.audit_log(opportunity_id=ident))
    assert [(e["actor"], e["what"]) for e in log][:3] == [
        ("kim", "opportunity purged"), ("anna", "opportunity deleted"), ("anna", "opportunity restored")]


def test_setup_changes_are_logged_in_the_room(agency_store):
    store = agency_store
    store.people.set_role("bob", "manager")
    store.setup.add_source("Fair")
    entries = [(e["kind"], e["actor"], e["what"], e["old_value"], e["new_value"]) for e in store.reports.audit_log(limit=2)]
    assert entries == [("setup", "anna", "source Fair added", None, None),
                       ("setup", "anna", "user bob role", "recruiter", "manager")]
    with pytest.raises(Invalid, match="recruiter or manager"):
        store.people.set_role("bob", "boss")


# ---------------------------------------------------------------- follow-ups


def test_followups_add_list_complete(agency_store):
    store = agency_store
    ident = add(store, owner="bob")
    first = store.followups.add_followup(ident, TODAY - dt.timedelta(days=1), "Call")
    store.followups.add_followup(ident, TODAY + dt.timedelta(days=3), "Mail", user="kim")
    rows = store.followups.list_followups()
    assert [(r["text"], r["user"], r["overdue"]) for r in rows] == [("Call", "bob", True), ("Mail", "kim", False)]
    assert [r["text"] for r in store.followups.list_followups(user="kim")] == ["Mail"]
    store.followups.complete_followup(first)
    with pytest.raises(Conflict, match="already done"):
        store.followups.complete_followup(first)
    assert [r["text"] for r in store.followups.list_followups()] == ["Mail"]
    assert store.deals.get_opportunity(ident)["next_followup"] == (TODAY + dt.timedelta(days=3)).isoformat()


# ---------------------------------------------------------------- board and reports


def test_board_columns_cards_and_a_report(agency_store):
    store = agency_store
    add(store, "Soon", value_cents=100, expected_close=TODAY)
    add(store, "Later", value_cents=200, expected_close=TODAY + dt.timedelta(days=30))
    won = add(store, "Won", value_cents=400)
    store.deals.close_opportunity(won, "won", "Good price")
    columns = store.reports.board_columns(OpportunityFilter())
    assert [(c["stage"], c["count"], c["value_cents"], c["red"]) for c in columns] == [("Lead", 2, 300, 1)]
    cards = store.reports.board_cards(OpportunityFilter(), [columns[0]["stage_id"]], limit=1)
    assert [card["title"] for card in cards["Lead"]] == ["Soon"]
    rows = store.reports.report_winloss(OpportunityFilter(), TODAY, TODAY)
    assert [(r["status"], r["reason"], r["count"]) for r in rows] == [("won", "Good price", 1)]
    pipeline = store.reports.report_pipeline(OpportunityFilter())
    assert [(r["stage"], r["count"], r["value"]) for r in pipeline][0] == ("Lead", 2, "3.00")


# ---------------------------------------------------------------- workflows


def test_workflow_crud_and_check(agency_store):
    store = agency_store
    ident = store.workflows.add_workflow("Proposal call", "stage", ["followup:+3d:Call"], to_stage="Proposal")
    assert store.workflows.find_workflow(str(ident))["name"] == "Proposal call"
    assert [w["actions"] for w in store.workflows.list_workflows()] == [["followup:+3d:Call"]]
    with pytest.raises(NotFound):
        store.workflows.add_workflow("Hand over", "stage", ["owner:zed"], to_stage="Proposal")
    with pytest.raises(Invalid, match="never hold"):
        store.workflows.add_workflow("Never", "status", ["note:x"], to_stage="Lost", to_status="won")
    assert store.workflows.set_workflow_enabled("proposal call", False) is True
    assert store.workflows.workflow_rules() == []
    store.workflows.set_workflow_enabled("Proposal call", True)
    assert store.workflows.remove_workflow("PROPOSAL CALL") == "Proposal call"
    assert store.workflows.workflow_names() == []


def test_a_move_fires_data_actions_in_the_same_transaction(agency_store):
    store = agency_store
    store.workflows.add_workflow("Proposal call", "stage", ["followup:+3d:Call", "note:Sent", "owner:bob"], to_stage="Proposal")
    ident = add(store)
    preview = store.workflows.preview_workflows(ident, to_stage="Proposal")
    assert [f["action"] for f in preview["fires"]] == ["followup:+3d:Call", "note:Sent", "owner:bob"]
    moved = deals.move(Session.of(store), ident, "Proposal")
    assert moved.fired == ["Proposal call"]
    assert (moved.before["stage"], moved.after["stage"], moved.after["owner"]) == ("Lead", "Proposal", "bob")
    assert store.deals.get_opportunity(ident)["owner"] == "bob"
    assert [r["due"] for r in store.followups.list_followups(opportunity_id=ident)] == [(TODAY + dt.timedelta(days=3)).isoformat()]
    assert store.deals.history(ident)[-1]["actor"] == "workflow:Proposal call"
    assert deals.move(Session.of(store), ident, "Lead", workflows=False).fired == []
    assert store.deals.move_opportunity(ident, "Proposal").to_stage_id == store.setup.find_stage("Proposal")["id"]
    assert len(store.followups.list_followups(opportunity_id=ident)) == 1  # the store alone fires nothing


def test_hook_timeout_takes_the_value_it_is_given(fresh_store):
    assert fresh_store.workflows.hook_timeout() == 10
    fresh_store.workflows.set_hook_timeout("3")
    assert fresh_store.workflows.hook_timeout() == 3
    assert fresh_store.workflows.hook_timeout("0.5") == 0.5


# ---------------------------------------------------------------- import


def test_import_rows_in_batches_with_history_and_visits(agency_store):
    store = agency_store
    names = store.imports.import_names()
    lead, won = names.stages["lead"], names.stages["new client"]
    staffing, hubspot, anna = names.business_types["staffing"][0], names.sources["hubspot"][0], names.users["anna"][0]
    reason_id = names.reasons[("good price", "won")][0]

    def row(title, stage, status="open", reason=None, closed=None, came_from=None):
        return ImportRow(title=title, company="Acme", contact=None, business_type_id=staffing, stage=stage,
                         source_id=hubspot, value_cents=100, expected_close=None, owner_id=anna, status=status,
                         reason_id=reason_id if reason else None, reason=reason, closed_from=came_from,
                         vacancy=None, notes=None, created="2026-01-05", closed=closed)

    rows = [row("One", lead), row("Two", lead),
            row("Three", won, status="won", reason="Good price", closed="2026-02-01", came_from=lead)]
    result = store.imports.import_opportunities(iter(rows), batch_size=2)
    first = result.first_id
    assert (result.added, result.updated, result.unchanged) == (3, 0, 0)
    summary = store.imports.import_summary(first)
    assert [(r["stage"], r["status"], r["count"]) for r in summary] == [("Lead", "open", 2), ("New client", "won", 1)]
    assert [h["field"] for h in store.deals.history(first + 2)] == ["created", "stage", "status"]
    assert store.people.get_setting("bulk_load") is None
    visits = store.reports.report_stages(OpportunityFilter(), dt.date(2026, 1, 1), TODAY)
    assert [(r["stage"], r["entered"]) for r in visits if r["entered"]] == [("Lead", 3)]


def _visits_story(store, ids: list[int]) -> None:
    """Three deals over three days: one moved twice then won, one lost, one handed over and still open."""
    for day, title in ((1, "One"), (1, "Two"), (2, "Three")):
        store.today, store.fixed_time = dt.date(2026, 3, day), f"09:0{len(ids)}:00"
        ids.append(add(store, title))
    store.today = dt.date(2026, 3, 4)
    store.deals.move_opportunity(ids[0], "Introduction")
    store.deals.move_opportunity(ids[1], "Proposal")
    store.today = dt.date(2026, 3, 9)
    store.deals.move_opportunity(ids[0], "Proposal")
    store.deals.close_opportunity(ids[1], "lost", "Too expensive")
    store.deals.change_owner(ids[2], "bob")
    store.today = dt.date(2026, 3, 20)
    store.deals.close_opportunity(ids[0], "won", "Good price")


def test_new_deals_get_the_visits_and_counts_the_triggers_would_give(agency_store, tmp_path):
    """Deals made inside new_deals_visits_at_the_end (init --demo) get the same stage_visits rows, ids included,
    and funnel_counts as the per-row triggers give them."""
    by_trigger = agency_store
    other = tmp_path / "other.db"
    init_database(other, "anna", TODAY)
    at_the_end = Store(open_connection(other), other, TODAY, "anna")
    with at_the_end.transaction(write=True):
        at_the_end.setup_file.import_setup(json.loads(SETUP_JSON.read_text()))
        at_the_end.people.add_user("bob")
        first_ids: list[int] = []
        _visits_story(by_trigger, first_ids)
        with at_the_end.imports.new_deals_visits_at_the_end():
            second_ids: list[int] = []
            _visits_story(at_the_end, second_ids)
            assert at_the_end.conn.execute("SELECT COUNT(*) FROM stage_visits").fetchone()[0] == 0  # not yet
        assert at_the_end.people.get_setting("bulk_load") is None

    def rows(store, table):
        return [tuple(row) for row in store.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3")]

    with at_the_end.transaction(write=False):
        for table in ("stage_visits", "funnel_counts"):
            assert rows(at_the_end, table) == rows(by_trigger, table) != []
    story = [tuple(row) for row in by_trigger.conn.execute("SELECT opportunity_id, outcome FROM stage_visits ORDER BY id")]
    assert story == [(1, "moved"), (2, "moved"), (3, None), (1, "moved"), (2, "moved"), (1, "moved"), (2, "lost"),
                     (1, "won")]  # ids in the order of the events, across the deals
    at_the_end.close()


# ---------------------------------------------------------------- follow-ups follow the deal (issue 13)


def test_what_a_workflow_writes_lands_on_the_deal_without_reading_it(agency_store):
    """A workflow's follow-up (for the deal's owner unless it names one) and note are written without a read of
    the deal first; its open texts are found again, history names the workflow, blank text is refused."""
    store = agency_store
    ident = add(store, owner="bob")
    store.followups.add_workflow_followup(ident, TODAY, "Call", "Call back", "workflow:Call back")
    store.followups.add_workflow_followup(ident, TODAY, "Mail", "Call back", "workflow:Call back", user="kim")
    store.deals.add_workflow_note(ident, "Ask for feedback", "workflow:Feedback")
    assert store.followups.open_workflow_followups(ident, "Call back") == ["Call", "Mail"]
    assert store.followups.open_workflow_followups(ident, "Feedback") == []
    assert [(f["text"], f["user"], f["workflow"]) for f in store.followups.list_followups(opportunity_id=ident)] == [
        ("Call", "bob", "Call back"), ("Mail", "kim", "Call back")]
    history = [(h["actor"], h["field"], h["to_value"]) for h in store.deals.history(ident)]
    assert ("workflow:Call back", "followup", "2026-11-27 Call") in history
    assert ("workflow:Feedback", "note", "Ask for feedback") in history
    with pytest.raises(Invalid, match="needs text"):
        store.followups.add_workflow_followup(ident, TODAY, "  ", "Call back", "workflow:Call back")
    with pytest.raises(Invalid, match="needs text"):
        store.deals.add_workflow_note(ident, " ", "workflow:Feedback")


def test_followups_edit_remove_cancel_and_workflow_texts(agency_store):
    store = agency_store
    ident = add(store)
    first = store.followups.add_followup(ident, TODAY, "Call")
    second = store.followups.add_followup(ident, TODAY, "Mail", workflow="Call back")
    before, after = store.followups.edit_followup(first, due=TODAY + dt.timedelta(days=2))
    assert (before["due"], after["due"], after["text"]) == ("2026-11-27", "2026-11-29", "Call")
    assert store.followups.open_workflow_followups(ident, "Call back") == ["Mail"]
    assert store.followups.open_workflow_followups(ident, "Other") == []
    assert store.followups.cancel_followups(ident) == 2
    assert store.followups.cancel_followups(ident) == 0
    assert store.followups.open_workflow_followups(ident, "Call back") == []
    assert {r["status"] for r in store.followups.list_followups(status="all")} == {"cancelled"}
    with pytest.raises(Conflict, match="only open follow-ups can be edited"):
        store.followups.edit_followup(second, text="x")
    store.followups.remove_followup(second)
    with pytest.raises(NotFound):
        store.followups.remove_followup(second)
    fields = [h["field"] for h in store.deals.history(ident)]
    assert fields.count("followup cancelled") == 2 and fields[-1] == "followup removed"


def test_archived_stage_leaves_moves_but_stays_for_filters(agency_store):
    store = agency_store
    ident = add(store, stage="Negotiation")
    store.deals.close_opportunity(ident, "lost", "Too expensive")
    with pytest.raises(Conflict, match="archive it instead"):
        store.setup.remove_stage("Negotiation", "Proposal")
    assert store.setup.archive_stage("Negotiation") is True
    assert store.setup.archive_stage("Negotiation") is False
    staffing = store.setup.find_business_type("Staffing")["id"]
    assert "Negotiation" not in [s.name for s in store.setup.stages_of_type(staffing)]
    assert "Negotiation" in [s["name"] for s in store.setup.list_stages(include_archived=True)]
    assert "Negotiation" not in [s["name"] for s in store.setup.list_stages()]
    flt = OpportunityFilter(status="lost", closed_from="negotiation", reason="too expensive",
                            closed_after=TODAY, closed_before=TODAY)
    assert [r["id"] for r in store.deals.list_opportunities(flt)] == [ident]
    assert [r["closed_from"] for r in store.deals.list_opportunities(flt)] == ["Negotiation"]
    other = add(store)
    with pytest.raises(Invalid, match="archived"):
        store.deals.move_opportunity(other, "Negotiation")
    assert store.setup.unarchive_stage("Negotiation") is True
    store.deals.move_opportunity(other, "Negotiation")
    with pytest.raises(Conflict, match="1 open opportunity"):
        store.setup.archive_stage("Negotiation")


def test_list_sort_and_winloss_ids(agency_store):
    store = agency_store
    cheap, dear = add(store, value_cents=100), add(store, value_cents=900)
    assert [r["id"] for r in store.deals.list_opportunities(OpportunityFilter(sort="value", descending=True))] == [dear, cheap]
    with pytest.raises(NotFound, match="unknown sort field 'cost'"):
        list(store.deals.list_opportunities(OpportunityFilter(sort="cost")))
    store.deals.close_opportunity(cheap, "lost", "Too expensive")
    store.deals.close_opportunity(dear, "lost", "Too expensive")
    [row] = store.reports.report_winloss(OpportunityFilter(status=None), TODAY, TODAY, with_ids=True)
    assert row["opportunity_ids"] == [cheap, dear]
    [row] = store.reports.report_winloss(OpportunityFilter(status=None), TODAY, TODAY)
    assert "opportunity_ids" not in row


# ---------------------------------------------------------------- composed, not inherited (issue 23)


def test_a_room_stands_on_its_floor_and_the_rooms_it_is_given(fresh_store):
    from salesselect_cli.sql.base import Floor
    from salesselect_cli.sql.people import PeopleRoom
    from salesselect_cli.sql.setup import SetupRoom

    floor = Floor(fresh_store.conn, TODAY, "anna")
    people = PeopleRoom(floor)
    setup = SetupRoom(floor, people)
    setup.add_source("Fair")  # on the store's connection: the same transaction
    assert fresh_store.setup.list_sources() == [{"name": "Fair", "opportunities": 0}]
    assert not hasattr(people, "find_stage") and not hasattr(setup, "add_user")  # each room answers for its noun
    assert setup.user["name"] == "anna"  # read once, kept on the floor the rooms share
    assert floor.user_row is people.user and fresh_store.floor.user_row is not floor.user_row


def test_the_rooms_of_one_store_share_who_acts(agency_store):
    store = agency_store
    ident = add(store, owner="bob")
    store.people.act_as("bob")
    store.deals.add_note(ident, "from bob")
    store.followups.add_followup(ident, TODAY, "Call")
    assert store.deals.history(ident)[-1]["actor"] == "bob"
    assert store.followups.list_followups(user="bob")[0]["text"] == "Call"
