"""SQLite's part of each migration (sql/schema.py has the shared text; ddl_postgres.py the same names).

Triggers here are SQLite's (WHEN clauses, bodies of plain statements); the shared DDL is SQLite's own
dialect already, so `adapt` leaves it as it is.
"""

from __future__ import annotations

from salesselect_cli.sql import dialect
from salesselect_cli.sql.schema import (NOT_BULK, STAGE_VISIT_EVENT, STAGE_VISITS_FROM_HISTORY, funnel_add,
                                        funnel_changed, funnel_take)


def adapt(script: str) -> str:
    """The shared DDL as this backend writes it: SQLite's is the shared text."""
    return script


# m001: names fold in Python (dialect.fold, registered on each connection), no function in the file
FOLD_FUNCTION: tuple[str, ...] = ()

# m003: the stage_visits triggers as first released; m004 makes them step aside during a bulk load
STAGE_VISITS_TRIGGERS = (f"""
CREATE TRIGGER stage_visits_next_event AFTER INSERT ON history
WHEN {STAGE_VISIT_EVENT.format(h="new.")}
 AND NOT EXISTS (SELECT 1 FROM history h WHERE h.opportunity_id = new.opportunity_id AND h.at > new.at)
BEGIN
  UPDATE stage_visits
     SET ended = substr(new.at, 1, 10),
         outcome = CASE WHEN new.field != 'status' THEN 'moved'
                        WHEN new.to_value LIKE 'won%' THEN 'won' ELSE 'lost' END,
         next_stage_id = CASE WHEN new.field != 'status' THEN new.to_id END
   WHERE opportunity_id = new.opportunity_id AND outcome IS NULL;
  INSERT INTO stage_visits (opportunity_id, stage_id, entered, status, business_type_id, owner_id, source_id)
  SELECT o.id, new.to_id, substr(new.at, 1, 10), o.status, o.business_type_id, o.owner_id, o.source_id
    FROM opportunities o WHERE o.id = new.opportunity_id AND new.field != 'status';
END""", f"""
CREATE TRIGGER stage_visits_earlier_event AFTER INSERT ON history
WHEN {STAGE_VISIT_EVENT.format(h="new.")}
 AND EXISTS (SELECT 1 FROM history h WHERE h.opportunity_id = new.opportunity_id AND h.at > new.at)
BEGIN
  DELETE FROM stage_visits WHERE opportunity_id = new.opportunity_id;
  {STAGE_VISITS_FROM_HISTORY.format(event=STAGE_VISIT_EVENT.format(h=""), which="opportunity_id = new.opportunity_id")};
END""", """
CREATE TRIGGER stage_visits_opportunity AFTER UPDATE OF status, business_type_id, owner_id, source_id ON opportunities
WHEN old.status IS NOT new.status OR old.business_type_id IS NOT new.business_type_id
  OR old.owner_id IS NOT new.owner_id OR old.source_id IS NOT new.source_id
BEGIN
  UPDATE stage_visits SET status = new.status, business_type_id = new.business_type_id, owner_id = new.owner_id,
         source_id = new.source_id
   WHERE opportunity_id = new.id;
END""")


def _bulk_aware(trigger: str) -> str:
    head, _, body = trigger.partition("\nWHEN ")
    condition, _, rest = body.partition("\nBEGIN")
    return f"{head}\nWHEN {NOT_BULK} AND ({condition})\nBEGIN{rest}"  # the cheap test first


# m004
BULK_AWARE_STAGE_VISITS_TRIGGERS = (
    *(f"DROP TRIGGER IF EXISTS {name}" for name in (
        "stage_visits_next_event", "stage_visits_earlier_event", "stage_visits_opportunity")),
    *(_bulk_aware(trigger) for trigger in STAGE_VISITS_TRIGGERS),
)

# m016: a visit's length in whole days from {ended} and {entered}
VISIT_DAYS = dialect.days_between("{ended}", "{entered}")

# The m003/m004 triggers end visits (UPDATE ... SET ended) and rebuild them (INSERT with ended); these follow.
STAGE_VISIT_DAYS_TRIGGERS = (f"""
CREATE TRIGGER stage_visits_days_ended AFTER UPDATE OF ended ON stage_visits
WHEN new.ended IS NOT NULL
BEGIN
  UPDATE stage_visits SET days = {VISIT_DAYS.format(ended="new.ended", entered="new.entered")} WHERE id = new.id;
END""", f"""
CREATE TRIGGER stage_visits_days_inserted AFTER INSERT ON stage_visits
WHEN new.ended IS NOT NULL AND new.days IS NULL
BEGIN
  UPDATE stage_visits SET days = {VISIT_DAYS.format(ended="new.ended", entered="new.entered")} WHERE id = new.id;
END""")


def index_shape(table: str, index: str, stat: str) -> list[str]:
    return dialect.index_shape(table, index, stat)


# m017: the rows live in the key's order, one range per period
def funnel_counts_table(script: str) -> str:
    return script + " WITHOUT ROWID"


# Keyed by the days worked out from `ended` (VISIT_DAYS), not read from `days`: `days` is set by another
# AFTER trigger (m016), and SQLite promises no order between triggers.
FUNNEL_COUNTS_TRIGGERS = (f"""
CREATE TRIGGER funnel_counts_visit_added AFTER INSERT ON stage_visits
WHEN {NOT_BULK}
BEGIN
  {funnel_add(VISIT_DAYS)};
END""", f"""
CREATE TRIGGER funnel_counts_visit_removed AFTER DELETE ON stage_visits
WHEN {NOT_BULK}
BEGIN
  {funnel_take(VISIT_DAYS)};
END""", f"""
CREATE TRIGGER funnel_counts_visit_changed AFTER UPDATE OF entered, stage_id, ended, outcome, next_stage_id, status
ON stage_visits
WHEN {NOT_BULK} AND ({funnel_changed("ended")})
BEGIN
  {funnel_take(VISIT_DAYS)};
  {funnel_add(VISIT_DAYS)};
END""")


def secure(conn) -> None:
    """Nothing to enforce in a file: whoever can write it can act as anyone (ddl_postgres.secure)."""


def member_login(conn, name: str) -> str | None:
    """Nothing to grant in a file: a user is a name in it (ddl_postgres.member_login)."""
    return None
