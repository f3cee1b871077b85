"""The use cases on a Session against a temporary database: each does the whole operation and returns what
the commands and the interactive board render (the commands' own tests check the rendering)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest

from salesselect_cli.errors import NotFound
from salesselect_cli.model import OpportunityFilter
from tests.conftest import TODAY, add_opp


class Root:
    """The command line's root context, as click hands it to a command (no --db or --user: the environment's)."""

    def __init__(self):
        from salesselect_cli.context import Options

        self.obj = Options()

    def find_root(self):
        return self


@contextlib.contextmanager
def session(write: bool = False):
    """One command's Session, opened and closed in a context of its own as run_command gives a command (what
    opening sets, such as the database no output may overwrite, ends with it and reaches no other test)."""
    import contextvars

    from salesselect_cli.context import open_session

    context = contextvars.copy_context()
    opening = open_session(Root(), write=write)
    opened = context.run(opening.__enter__)
    try:
        yield opened
    except BaseException as exc:
        if not context.run(opening.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        context.run(opening.__exit__, None, None, None)


def test_an_added_deal_warns_about_a_close_date_in_the_past(agency):
    from salesselect_cli.usecases import deals

    with session(write=True) as opened:
        added = deals.add(opened, title="Pickers", company="Acme", business_type="Staffing", source="HubSpot",
                          value_cents=120000, expected_close=TODAY - dt.timedelta(days=3))
        on_time = deals.add(opened, title="Drivers", company="Acme", business_type="Staffing", source="HubSpot")
    assert "in the past" in added.warning and on_time.warning is None
    with session() as opened:
        found = deals.sheet(opened, added.opportunity_id)
        assert (found.record["title"], found.record["_value_cents"], found.currency) == ("Pickers", 120000, "EUR")
        assert found.history[0]["field"] == "created" and found.followups == []
        assert "_chance" in found.record and "_chance" not in deals.sheet(opened, on_time.opportunity_id,
                                                                           chances=False).record


def test_a_listing_streams_the_filtered_deals_with_chances_only_when_asked(agency):
    from salesselect_cli.usecases import deals

    first = add_opp(agency, "Pickers", "Acme")
    add_opp(agency, "Drivers", "Other")
    with session() as opened:
        plain = deals.listing(opened, OpportunityFilter(search="acme", status="open"))
        rows = list(plain.rows)
        assert [row["id"] for row in rows] == [first] and "probability" not in rows[0]
        assert plain.currency == "EUR" and len(plain.thresholds) == 2
        chanced = list(deals.listing(opened, OpportunityFilter(status="open"), 1, chances=True).rows)
        assert len(chanced) == 1 and "probability" in chanced[0]


def test_the_purge_plan_names_what_goes_and_only_key_users_get_one(agency, ok, monkeypatch):
    from salesselect_cli.errors import PermissionDenied
    from salesselect_cli.usecases import deals

    ident = add_opp(agency, "Pickers", "Acme")
    with session(write=True) as opened:
        assert deals.trash(opened, ident)["title"] == "Pickers"
        assert [row["id"] for row in deals.trashed(opened)] == [ident]
    monkeypatch.setenv("SALESSELECT_TODAY", (TODAY + dt.timedelta(days=10)).isoformat())
    with session() as opened:
        plan = deals.purge_plan(opened, None, "1w")
        assert plan.cutoff == TODAY + dt.timedelta(days=3) and [row["id"] for row in plan.doomed] == [ident]
        assert deals.purge_plan(opened, None, "30d").doomed == []
        assert deals.purge_plan(opened, ident, None).cutoff is None
    with session(write=True) as opened:
        assert [row["id"] for row in deals.purge(opened, None, plan.cutoff)] == [ident]
    with session() as opened:
        assert deals.trashed(opened) == []
    ok("user", "set-key-user", "anna", "--off")  # kim stays a key user
    with pytest.raises(PermissionDenied), session() as opened:
        deals.purge_plan(opened, None, "1w")


def test_a_followup_edit_says_whether_it_changed_and_warns_only_then(agency):
    from salesselect_cli.usecases import followups

    ident = add_opp(agency)
    with session(write=True) as opened:
        planned = followups.add(opened, ident, TODAY + dt.timedelta(days=3), "Call Eva")
        past = TODAY - dt.timedelta(days=2)
        moved = followups.edit(opened, planned.followup_id, past)
        same = followups.edit(opened, planned.followup_id, past)
    assert moved.changed and "in the past (2 days ago)" in moved.warning
    assert not same.changed and same.warning is None
    with session() as opened:
        assert [row["id"] for row in followups.listing(opened, overdue=True)] == [planned.followup_id]
        assert followups.listing(opened, due_today=True) == []
        assert followups.listing(opened, period="this-month")[0]["text"] == "Call Eva"
    with session(write=True) as opened:
        assert followups.complete(opened, planned.followup_id)["text"] == "Call Eva"
        assert followups.remove(opened, planned.followup_id)["text"] == "Call Eva"


def test_the_board_spells_the_filters_names_and_refuses_an_unknown_one_first(agency):
    from salesselect_cli.usecases.board import overview

    add_opp(agency, "Pickers", "Acme", "Staffing", "HubSpot", "--value", "1000")
    with session() as opened:
        loaded = overview(opened, OpportunityFilter(business_type="staffing", source="hubspot", owner="ANNA",
                                                    status="open"), False, 5, check=lambda text: text)
        assert (loaded.business_type, loaded.source, loaded.owner) == ("Staffing", "HubSpot", "anna")
        assert sum(column["count"] for column in loaded.columns) == 1 and loaded.today == TODAY
        assert [card["title"] for cards in loaded.cards.values() for card in cards] == ["Pickers"]
        assert isinstance(loaded.problems, list)
        assert overview(opened, OpportunityFilter(owner="anna", status="open"), False, 5, mine=True).owner is None
        with pytest.raises(NotFound):
            overview(opened, OpportunityFilter(owner="nobody", status="open"), False, 5)


def test_an_export_carries_what_a_reimport_needs(agency, ok):
    from salesselect_cli.usecases import transfer

    ident = add_opp(agency, "Pickers", "Acme", "Staffing", "HubSpot", "--note", "Warm lead")
    ok("opp", "lose", str(ident), "--reason", "Too expensive")
    with session() as opened:
        records = transfer.export(opened, OpportunityFilter(status="all"), True)
        record = next(records.rows)
        assert (record["closed_from"], record["notes"], record["external_key"]) == ("Lead", "Warm lead", None)
        assert [key for key in record if not key.startswith("_")][-5:] == [
            "closed_from", "notes", "external_key", "probability", "probability_basis"]
        rows = transfer.export(opened, OpportunityFilter(status="all"), False, ",")
        row = dict(zip(rows.columns, next(iter(rows.rows))))
        assert rows.columns[-5:] == ["closed_from", "notes", "external_key", "probability", "probability_basis"]
        assert row["title"] == "Pickers" and row["probability_basis"] == "stage"


def test_an_import_dry_run_counts_and_writes_nothing(agency, tmp_path):
    from salesselect_cli.rules.importing import build_mapping
    from salesselect_cli.usecases import deals, transfer

    headers = ["title", "company", "type", "source"]
    mapping = build_mapping(headers, {}, {"business_type": None, "source": None, "stage": None, "owner": None}, [],
                            None)
    records = [(2, ["Pickers", "Acme", "Staffing", "HubSpot"]), (3, ["Drivers", "Acme", "Staffing", "HubSpot"])]
    with session() as opened:
        tried = transfer.import_records(opened, iter(records), mapping, {"owner": None}, {}, {}, "in.csv",
                                        dry_run=True)
        assert tried.result.added == 2 and tried.currency == "EUR"
        assert list(deals.listing(opened, OpportunityFilter(status="all")).rows) == []
    with session(write=True) as opened:
        done = transfer.import_records(opened, iter(records), mapping, {"owner": None}, {}, {}, "in.csv")
    assert done.result.added == 2
    with session() as opened:
        assert {row["owner"] for row in deals.listing(opened, OpportunityFilter(status="all")).rows} == {"anna"}


def test_the_audit_log_reads_newest_first(agency):
    from salesselect_cli.usecases import audit

    ident = add_opp(agency, "Pickers", "Acme")
    with session() as opened:
        entries = list(audit.entries(opened, opportunity_id=ident))
        assert entries[0]["what"] == "created" and entries[0]["actor"] == "anna"
        assert list(audit.entries(opened, user="nobody")) == []
        assert len(list(audit.entries(opened, limit=1))) == 1
