"""The board: the open deals by stage, the most urgent first (`board`, and the interactive board's reads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import datetime as dt

    from salesselect_cli.model import OpportunityFilter
    from salesselect_cli.session import Session


class BoardLoaded:
    """What a board shows, as the store returned it (kanban.Board is drawn from it).

    columns          one row per stage column: stage_id, stage, count, value_cents, overdue, red, orange,
                     auto_status; the counts and values cover every card in scope
    cards            the shown cards by stage name (at most `limit` a stage)
    weighted         each stage column's weighted value in cents by stage id; None until win chances are in use
    thresholds       the indicator's (orange, red) days; (None, None) while it is not set
    currency         the agency's currency
    business_types   {name, color} of each business type, in setup order
    today            the session's day
    owner            the filter's owner as the setup spells it (None: everyone's, or the acting user's own)
    business_type    the filter's business type, likewise spelled (None: every type)
    source           the filter's source, likewise spelled (None: every source)
    problems         what the setup still misses, one line each (only when asked for)
    """

    __slots__ = ("columns", "cards", "weighted", "thresholds", "currency", "business_types", "today", "owner",
                 "business_type", "source", "problems")

    def __init__(self, columns: list[dict], cards: dict[str, list[dict]], weighted: dict[int, int] | None,
                 thresholds: tuple[int | None, int | None],
                 currency: str, business_types: list[dict], today: "dt.date", owner: str | None,
                 business_type: str | None, source: str | None, problems: list[str]):
        self.columns, self.cards, self.weighted = columns, cards, weighted
        self.thresholds, self.currency = thresholds, currency
        self.business_types, self.today = business_types, today
        self.owner, self.business_type, self.source, self.problems = owner, business_type, source, problems


def expecting_board(flt: "OpportunityFilter | None", all_stages: bool, limit: int):
    """For open_session(expect=...): the board's reads (`overview` of `flt`, built ahead; None: not known before
    the session opens), sent with the session's first round trip when the filter needs no name looked up; the
    learning counts of the weighted values always."""

    def expect(store) -> None:
        if flt is not None:
            store.reports.expect_board(flt, all_stages, limit or None)
        store.forecast.expect_weighted()  # counts nothing while win chances are out of use

    return expect


def overview(session: "Session", flt: "OpportunityFilter", all_stages: bool, limit: int, *, mine: bool = False,
             check: Callable[[str], str] | None = None) -> BoardLoaded:
    """The board of the deals `flt` matches: its stage columns (every stage with `all_stages`, else those with
    cards and the open ones) and up to `limit` cards a column (0: every card). The filter's names are looked
    up first, so an unknown one is refused before the board's queries; `mine`: the owner is the acting user
    (no look-up). `check`: also what the setup misses, in the words `check` translates them to."""
    store = session.store
    owner = store.people.find_user(flt.owner)["name"] if flt.owner and not mine else None
    business_type = store.setup.find_business_type(flt.business_type)["name"] if flt.business_type else None
    source = store.setup.find_source(flt.source)["name"] if flt.source else None
    store.reports.expect_board_cards(flt, limit or None)  # with the columns, where the backend can
    columns = store.reports.board_columns(flt, all_stages)
    cards = store.reports.board_cards(flt, [row["stage_id"] for row in columns if row["count"]], limit or None)
    weighted = store.forecast.weighted_by_stage(columns)  # None until win chances are in use
    thresholds = store.setup.thresholds()
    currency, business_types = store.people.currency, store.setup.business_type_colors()
    problems = store.setup.config_check(check) if check is not None else []
    return BoardLoaded(columns, cards, weighted, thresholds, currency, business_types, session.today, owner,
                       business_type, source, problems)
