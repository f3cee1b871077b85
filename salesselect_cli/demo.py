"""`init --demo`: an example agency with 18 months of believable history.

Deterministic: one `random.Random(SEED)` plans every deal relative to today, then time walks
forward through the plan (store.today and store.fixed_time set per event) calling the normal
store methods, so every history row is one the CLI itself would have written. The story the
reports find: LinkedIn and referrals convert best, HubSpot brings many leads that rarely win,
and most deals are lost in Proposal because they are too expensive.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field, replace

SEED = 3573  # the manual's module setting; any fixed number gives the same agency every time
HISTORY_DAYS = 548  # 18 months
DEALS = 292  # plus the handful of ANCHORS: about 300

# The manual's setup; examples/setup.json holds the same (tests check they agree).
SETUP = {
    "currency": "EUR",
    "business_types": [{"name": "Staffing", "color": "blue"}, {"name": "Agencies", "color": "#e07b00"}],
    "stages": [
        {"name": "Lead", "business_types": ["Staffing", "Agencies"], "auto": None},
        {"name": "Introduction", "business_types": ["Staffing", "Agencies"], "auto": None},
        {"name": "Proposal", "business_types": ["Staffing", "Agencies"], "auto": None},
        {"name": "Negotiation", "business_types": ["Staffing"], "auto": None},
        {"name": "Framework agreement", "business_types": ["Agencies"], "auto": None},
        {"name": "New client", "business_types": ["Staffing", "Agencies"], "auto": "won"},
        {"name": "Lost", "business_types": ["Staffing", "Agencies"], "auto": "lost"},
    ],
    "sources": ["HubSpot", "Google", "LinkedIn", "Referral", "Website"],
    "indicator": {"orange_days": 5, "red_days": 2},
    "reasons": [
        {"text": "Good price", "status": "won"},
        {"text": "Strong candidates", "status": "won"},
        {"text": "Existing relationship", "status": "won"},
        {"text": "Too expensive", "status": "lost"},
        {"text": "Chose a competitor", "status": "lost"},
        {"text": "No candidates", "status": "lost"},
        {"text": "Vacancy cancelled", "status": "lost"},
    ],
    "workflows": [],
}
# Added after the history, so generating it fires nothing.
WORKFLOWS = [
    {"name": "Proposal follow-up", "on": "stage", "to_stage": "Proposal", "actions": ["followup:+3d:Call about the proposal"]},
    {"name": "Feedback on lost deals", "on": "status", "to_status": "lost", "actions": ["note:Ask for feedback within a month"]},
]
# Two recruiters and a manager who is also the key user; the init user (a key user) leads.
USERS = [("sanne", False, "recruiter"), ("daan", False, "recruiter"), ("noor", True, "manager")]

PATHS = {
    "Staffing": ["Lead", "Introduction", "Proposal", "Negotiation"],
    "Agencies": ["Lead", "Introduction", "Proposal", "Framework agreement"],
}
# source: (how many leads, chance to win, the usual won reason)
SOURCES = {
    "HubSpot": (30, 0.15, "Good price"),
    "LinkedIn": (22, 0.62, "Strong candidates"),
    "Google": (20, 0.33, "Good price"),
    "Website": (15, 0.18, "Good price"),
    "Referral": (13, 0.55, "Existing relationship"),
}
LOST_AT = {"Lead": 6, "Introduction": 18, "Proposal": 58, "last": 18}
LOST_REASONS = {
    "Lead": {"Vacancy cancelled": 1, "No candidates": 1},
    "Introduction": {"No candidates": 5, "Chose a competitor": 3, "Vacancy cancelled": 2},
    "Proposal": {"Too expensive": 8, "Chose a competitor": 2, "Vacancy cancelled": 1},
    "last": {"Chose a competitor": 6, "Too expensive": 4},
}
DAYS_IN_STAGE = {"Lead": (2, 9), "Introduction": (4, 14), "Proposal": (6, 21), "Negotiation": (4, 14),
                 "Framework agreement": (7, 24)}
FOLLOWUPS = {"Lead": "Call to qualify the lead", "Introduction": "Send candidate profiles",
             "Proposal": "Call about the proposal", "Negotiation": "Check the contract terms",
             "Framework agreement": "Send the framework draft"}
NOTES = {"Proposal": ["Proposal sent by e-mail", "Rates discussed with the hiring manager", "Asked for a second quote"],
         "Introduction": ["Good first meeting on site", "They also hire through two other agencies"]}
COMPANIES = [
    "Van Dijk Logistiek", "Bakkerij De Vries", "Zorggroep Noord", "Hoekstra Bouw", "Meijer Techniek",
    "Jansen Transport", "De Boer Installaties", "Smit Food Group", "Mulder Metaal", "Visser Verpakkingen",
    "Bos & Zonen", "Kok Facilitair", "Peters Engineering", "Hendriks Retail", "Dekker Schoonmaak",
    "Brouwer Zorg", "Van Leeuwen Events", "Willems Elektro", "Koster Chemie", "Prins Horeca",
    "Vos Distributie", "Post Print", "Kuipers Kinderopvang", "Groot Agro", "Van der Berg ICT",
    "Schouten Marine", "Vermeulen Automotive", "Maas Energie", "Verhoeven Farma", "Lammers Logistics",
    "Stichting Welzijn Oost", "Gemeente Zuidwaard", "Hotel De Linde", "Polder Plastics", "Kanaal Koeltechniek",
]
AGENCY_CLIENTS = ["Randgroep Flex", "Uitzendbureau Noord", "TalentBrug", "StaffPoint", "Werkwijs",
                  "ProTemp", "Flexforce Benelux", "JobMatch Partners", "Personeelsplan", "Inzet Groep"]
FIRST_NAMES = ["Eva", "Lucas", "Sophie", "Daan", "Emma", "Milan", "Julia", "Sem", "Tess", "Levi", "Lotte",
               "Finn", "Sara", "Jesse", "Fleur", "Bram", "Iris", "Thijs", "Noa", "Ruben"]
LAST_NAMES = ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer",
              "de Boer", "Mulder", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen"]
STAFFING_ROLES = ["warehouse staff", "order pickers", "forklift drivers", "care assistants", "call centre agents",
                  "production operators", "mechanics", "cleaners", "chefs", "truck drivers", "nurses",
                  "electricians", "welders", "payroll clerks"]
AGENCY_DEALS = ["Preferred supplier contract", "Framework agreement {year}", "Volume deal {year}",
                "Recruitment partnership", "Regional cooperation", "Overflow agreement"]

OPEN_MINUTE, LAST_MINUTE = 8 * 60, 18 * 60 + 30


@dataclass
class Event:
    """One thing that happens to one deal at one moment."""

    day: dt.date
    minute: int
    deal: int
    seq: int
    action: str
    actor: str
    args: dict = field(default_factory=dict)
    second: int = 0

    @property
    def key(self) -> tuple:
        return (self.day, self.minute, self.deal, self.seq)

    @property
    def time(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}:{self.second:02d}"


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Deal:
    """Plans one deal's life as a list of events in order; the walk decides what has happened by today."""

    def __init__(self, rng: random.Random, index: int, created: dt.date, actor: str):
        self.rng, self.index, self.actor = rng, index, actor
        self.events: list[Event] = []
        self.cursor = (created, rng.randint(OPEN_MINUTE, LAST_MINUTE - 120))

    def at(self, day: dt.date, action: str, **args) -> Event:
        """An event on `day` (or later), always after the deal's previous event."""
        last_day, last_minute = self.cursor
        if day < last_day:
            day = last_day
        if day.weekday() >= 5:  # recruiters work on weekdays
            day += dt.timedelta(days=7 - day.weekday())
        minute = self.rng.randint(OPEN_MINUTE, LAST_MINUTE)
        if day == last_day:
            minute = last_minute + self.rng.randint(1, 40)
            if minute > LAST_MINUTE:
                day, minute = day + dt.timedelta(days=1), OPEN_MINUTE + self.rng.randint(0, 60)
        event = Event(day, minute, self.index, len(self.events), action, self.actor, args, self.rng.randint(0, 59))
        self.cursor = (event.day, event.minute)
        self.events.append(event)
        return event


def _plan_deal(rng: random.Random, index: int, today: dt.date, owners: dict[str, list[str]],
               created: dt.date | None = None, stop_at: str | None = None, close: dt.date | None = None) -> list[Event]:
    """One deal from creation to won, lost, or still open; anchors pass created/stop_at/close."""
    business_type = "Staffing" if rng.random() < 0.65 else "Agencies"
    source = _weighted(rng, {name: profile[0] for name, profile in SOURCES.items()})
    owner = rng.choice(owners[business_type])
    if created is None:
        created = today - dt.timedelta(days=int(HISTORY_DAYS * rng.random() ** 1.25))
        while created.weekday() >= 5:
            created -= dt.timedelta(days=1)
    path = PATHS[business_type]
    start = 1 if source == "Referral" and rng.random() < 0.6 else 0
    if stop_at is not None:
        stop_at = stop_at if stop_at in path else path[-1]  # Negotiation <-> Framework agreement
        start = min(start, path.index(stop_at))
    won = rng.random() < SOURCES[source][1]
    lost_at = _weighted(rng, LOST_AT)
    lost_stage = path[-1] if lost_at == "last" else lost_at
    if stop_at is None and rng.random() < 0.06 and (today - created).days < 120:
        stop_at = rng.choice(path[start:])  # a deal nobody moves any more: overdue on the board
    contact = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if business_type == "Staffing":
        title = f"{rng.randint(2, 25)} {rng.choice(STAFFING_ROLES)}"
        company = rng.choice(COMPANIES)
        value = rng.randint(8, 120) * 500
    else:
        title = rng.choice(AGENCY_DEALS).format(year=created.year + (created.month > 9))
        company = rng.choice(AGENCY_CLIENTS + COMPANIES[:8])
        value = rng.randint(40, 300) * 500

    deal = _Deal(rng, index, created, owner)
    create = deal.at(created, "create", title=title, company=company, business_type=business_type, source=source,
                     stage=path[start], value_cents=value * 100, owner=owner, contact=contact,
                     note=f"Referred by {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" if source == "Referral" else None)
    day = created
    for position, stage in enumerate(path[start:], start=start):
        due = day + dt.timedelta(days=rng.randint(2, 6))
        deal.at(day, "followup", due=due, text=FOLLOWUPS[stage])
        low, high = DAYS_IN_STAGE[stage]
        leave = day + dt.timedelta(days=rng.randint(low, high))
        # the recruiter keeps in touch while the deal waits: done on (or just after) the day, next one planned
        horizon = leave if stage != stop_at else today + dt.timedelta(days=7)
        while due < horizon - dt.timedelta(days=2):
            done_on = due + dt.timedelta(days=rng.choice([0, 0, 0, 1, 2, 4]))
            due = done_on + dt.timedelta(days=rng.randint(4, 9))
            deal.at(done_on, "followup", due=due, text=FOLLOWUPS[stage])
        if stage in NOTES and rng.random() < 0.35:
            deal.at(day + dt.timedelta(days=1), "note", text=rng.choice(NOTES[stage]))
        if stage == "Proposal" and rng.random() < 0.3:
            change = rng.choice([-0.15, -0.1, 0.1, 0.2])
            deal.at(day + dt.timedelta(days=2), "edit", changes={"value_cents": int(value * (1 + change)) * 100})
        if rng.random() < 0.04:  # a handover: the new owner acts from then on
            new_owner = rng.choice([name for name in sum(owners.values(), []) if name != deal.actor])
            deal.at(day + dt.timedelta(days=1), "owner", owner=new_owner)
            deal.actor = new_owner
        if stage == stop_at:
            break
        if position == len(path) - 1 and rng.random() < 0.2:
            deal.at(leave - dt.timedelta(days=2), "postpone", days=rng.randint(10, 28))
            leave += dt.timedelta(days=rng.randint(3, 10))
        if not won and (stage == lost_stage or position == len(path) - 1):
            reason = _weighted(rng, LOST_REASONS.get(stage, LOST_REASONS["last"]))
            deal.at(leave, "move" if rng.random() < 0.5 else "lose", stage="Lost", reason=reason)
            break
        if won and position == len(path) - 1:
            reason = SOURCES[source][2] if rng.random() < 0.7 else rng.choice(["Good price", "Strong candidates"])
            win = deal.at(leave, "move" if rng.random() < 0.5 else "win", stage="New client",
                          reason=reason if rng.random() < 0.9 else None)
            if rng.random() < 0.6:
                deal.at(win.day + dt.timedelta(days=1), "edit",
                        changes={"vacancy": f"VAC-{win.day.year}-{rng.randint(100, 999)}"})
            break
        deal.at(leave, "move", stage=path[position + 1])
        day = deal.cursor[0]
    planned_end = deal.cursor[0]
    create.args["expected_close"] = close or planned_end + dt.timedelta(days=rng.randint(-6, 12))
    return deal.events


# Open deals placed by hand so the board always shows red, orange and green cards and overdue work:
# (days ago created, stage reached, expected close relative to today)
ANCHORS = [(24, "Proposal", 1), (19, "Negotiation", 2), (30, "Proposal", 4), (12, "Introduction", 5),
           (40, "Framework agreement", -3), (9, "Lead", 16), (21, "Introduction", 30), (15, "Proposal", 45)]


def plan(today: dt.date, me: str) -> list[Event]:
    """Every event of the demo agency, in the order they happen (some after today: those never happen)."""
    rng = random.Random(SEED)
    owners = {"Staffing": ["sanne", "daan", "sanne", "daan", me], "Agencies": [me, "noor", "daan"]}
    events: list[Event] = []
    for index in range(DEALS):
        events += _plan_deal(rng, index, today, owners)
    for offset, (ago, stage, close) in enumerate(ANCHORS, start=DEALS):
        events += _plan_deal(rng, offset, today, owners, created=today - dt.timedelta(days=ago), stop_at=stage,
                             close=today + dt.timedelta(days=close))
    return sorted(events, key=lambda event: event.key)


def _apply(store, event: Event, ids: dict[int, int], followups: dict[int, int]) -> None:
    args = event.args
    if event.action == "create":
        ids[event.deal] = store.deals.add_opportunity(**args)
        return
    ident = ids[event.deal]
    if event.action in ("move", "win", "lose") and event.deal in followups:
        store.followups.complete_followup(followups.pop(event.deal))
    if event.action == "followup":
        if event.deal in followups:  # the previous to-do is done when the next one is planned
            store.followups.complete_followup(followups.pop(event.deal))
        followups[event.deal] = store.followups.add_followup(ident, args["due"], args["text"])
    elif event.action == "move":
        store.deals.move_opportunity(ident, args["stage"], args.get("reason"))
    elif event.action == "win":
        store.deals.close_opportunity(ident, "won", args.get("reason"))
    elif event.action == "lose":
        store.deals.close_opportunity(ident, "lost", args["reason"])
    elif event.action == "note":
        store.deals.add_note(ident, args["text"])
    elif event.action == "edit":
        store.deals.edit_opportunity(ident, args["changes"])
    elif event.action == "owner":
        store.deals.change_owner(ident, args["owner"])
    elif event.action == "postpone":
        current = store.deals.get_opportunity(ident)["expected_close"]
        if current:
            store.deals.edit_opportunity(ident, {"expected_close": dt.date.fromisoformat(current)
                                           + dt.timedelta(days=args["days"])})


# `init --demo` in Dutch: the same agency with its setup words, to-dos and notes in Dutch (names stay)
DUTCH = {
    "Staffing": "Uitzenden", "Agencies": "Bureaus",
    "Lead": "Lead", "Introduction": "Kennismaking", "Proposal": "Offerte", "Negotiation": "Onderhandeling",
    "Framework agreement": "Raamovereenkomst", "New client": "Nieuwe klant", "Lost": "Verloren",
    "Referral": "Doorverwijzing",
    "Good price": "Goede prijs", "Strong candidates": "Sterke kandidaten", "Existing relationship": "Bestaande relatie",
    "Too expensive": "Te duur", "Chose a competitor": "Koos een concurrent", "No candidates": "Geen kandidaten",
    "Vacancy cancelled": "Vacature ingetrokken",
    "Call to qualify the lead": "Bellen om de lead te kwalificeren", "Send candidate profiles": "Kandidaatprofielen sturen",
    "Call about the proposal": "Bellen over de offerte", "Check the contract terms": "Contractvoorwaarden nalopen",
    "Send the framework draft": "Concept-raamovereenkomst sturen",
    "Proposal sent by e-mail": "Offerte per e-mail verstuurd",
    "Rates discussed with the hiring manager": "Tarieven besproken met de hiring manager",
    "Asked for a second quote": "Vroegen om een tweede offerte",
    "Good first meeting on site": "Goed eerste gesprek op locatie",
    "They also hire through two other agencies": "Ze werven ook via twee andere bureaus",
    "Proposal follow-up": "Offerte opvolgen", "Feedback on lost deals": "Feedback op verloren deals",
    "followup:+3d:Call about the proposal": "followup:+3d:Bellen over de offerte",
    "note:Ask for feedback within a month": "note:Binnen een maand om feedback vragen",
}


def in_dutch(value):
    """A copy of `value` (setup, event arguments, workflows) with every string that is a DUTCH key in Dutch."""
    if isinstance(value, str):
        return DUTCH.get(value, value)
    if isinstance(value, dict):
        return {key: in_dutch(item) for key, item in value.items()}
    if isinstance(value, list):
        return [in_dutch(item) for item in value]
    return value


def build_demo(store) -> str:
    """Fill a fresh database with the example agency; returns a one-line summary. Runs in the caller's transaction."""
    today, fixed_time, me = store.today, store.fixed_time, store.people.user["name"]
    store.today = today - dt.timedelta(days=HISTORY_DAYS + 14)
    store.fixed_time = "08:00:00"  # the agency is set up before its history starts (the audit log's times)
    from salesselect_cli.i18n import dutch

    words = in_dutch if dutch() else (lambda value: value)
    store.setup_file.import_setup(json.loads(json.dumps(words(SETUP))))  # a copy: the module's SETUP stays as written
    store.fixed_time = "08:30:00"
    for name, key_user, role in USERS:
        if name.casefold() != me.casefold():
            store.people.add_user(name, key_user=key_user, role=role)
    ids: dict[int, int] = {}
    followups: dict[int, int] = {}
    try:
        with store.imports.new_deals_visits_at_the_end():  # a third of the time went to the visits' triggers
            for event in plan(today, me):
                if event.day > today:
                    continue
                store.today, store.fixed_time = event.day, event.time
                store.people.act_as(event.actor)
                _apply(store, event if words(event.args) == event.args else replace(event, args=words(event.args)),
                       ids, followups)
    finally:
        store.today, store.fixed_time = today, "07:00:00"
        store.people.act_as(me)
    try:
        for workflow in words(WORKFLOWS):
            store.workflows.add_workflow(workflow["name"], workflow["on"], workflow["actions"], to_stage=workflow.get("to_stage"),
                               to_status=workflow.get("to_status"))
    finally:
        store.fixed_time = fixed_time
    counts = store.deals.opportunity_counts()
    from salesselect_cli.i18n import _

    return _("Demo agency: {count} opportunities ({open} open, {won} won, {lost} lost) over 18 months, "
             "{users} users, {workflows} workflows. Try: salesselect board").format(
        count=sum(counts.values()), open=counts['open'], won=counts['won'], lost=counts['lost'],
        users=len(store.people.user_names()), workflows=len(WORKFLOWS))
