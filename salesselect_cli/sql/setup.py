"""The five settings lists (business types, stages, sources, indicator, won/lost reasons) and config check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesselect_cli.errors import Conflict, Invalid, unknown_name
from salesselect_cli.i18n import N_, _, ngettext
from salesselect_cli.rules.indicator import validate_thresholds
from salesselect_cli.rules.stages import stage_set_percent
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.sql.base import BaseRoom, Floor
from salesselect_cli.sql.dialect import Row, fold

if TYPE_CHECKING:  # imported where used: a command that reads no stage never loads it (start-up)
    from salesselect_cli.rules import transitions
    from salesselect_cli.sql.people import PeopleRoom


def _shell_quote(name: str) -> str:
    import shlex

    return shlex.quote(name)


def _auto_status(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered not in ("won", "lost"):
        raise Invalid(_("--auto must be won or lost, not '{value}'").format(value=value))
    return lowered


# What each settings list shows, in one place for its own list_... and for setup_lists (all four at once).
def _business_type_columns(conn) -> str:
    return f"""bt.id, bt.name, bt.color,
               (SELECT {conn.group_concat("k.name", ", ", "k.position")} FROM (
                   SELECT s.name, s.position FROM stages s JOIN stage_business_types l ON l.stage_id = s.id
                    WHERE l.business_type_id = bt.id AND s.archived = 0 ORDER BY s.position) k) AS stages,
               (SELECT COUNT(*) FROM opportunities o WHERE o.business_type_id = bt.id) AS opportunities"""


def _stage_columns(conn) -> str:
    return f"""s.name, s.auto_status, s.archived, s.probability,
               (SELECT {conn.group_concat("k.name", ", ", "k.id")} FROM (
                   SELECT bt.name, bt.id FROM business_types bt
                     JOIN stage_business_types l ON l.business_type_id = bt.id
                    WHERE l.stage_id = s.id ORDER BY bt.id) k) AS business_types,
               (SELECT COUNT(*) FROM opportunities o WHERE o.stage_id = s.id) AS opportunities, s.position"""


_SOURCE_COLUMNS = "s.name, (SELECT COUNT(*) FROM opportunities o WHERE o.source_id = s.id) AS opportunities"
_REASON_COLUMNS = "r.text, r.status, (SELECT COUNT(*) FROM opportunities o WHERE o.reason_id = r.id) AS opportunities"


def _business_type_item(r) -> dict:
    return {"name": r["name"], "color": r["color"], "stages": r["stages"] or "", "opportunities": r["opportunities"]}


def _stage_item(r) -> dict:
    return {
        "position": r["position"],
        "name": r["name"],
        "business_types": r["business_types"] or "",
        "auto": r["auto_status"] or "",
        "probability": stage_set_percent(r["auto_status"], r["probability"]),
        "opportunities": r["opportunities"],
        "archived": bool(r["archived"]),
    }


def _source_item(r) -> dict:
    return {"name": r["name"], "opportunities": r["opportunities"]}


def _reason_item(r) -> dict:
    return {"reason": r["text"], "status": r["status"], "opportunities": r["opportunities"]}


_LIST_ITEMS = {"business_type": _business_type_item, "stage": _stage_item, "source": _source_item,
               "reason": _reason_item}


# the setup counts and business types (SetupRoom._setup_overview) and the stages (_stage_snapshot): read once each
OVERVIEW_READ = """SELECT c.*, bt.name, bt.color FROM (
                     SELECT (SELECT COUNT(*) FROM business_types) AS types, (SELECT COUNT(*) FROM stages) AS stages,
                            (SELECT COUNT(*) FROM sources) AS sources,
                            (SELECT COUNT(*) FROM reasons WHERE status = 'won') AS won,
                            (SELECT COUNT(*) FROM reasons WHERE status = 'lost') AS lost,
                            (SELECT COUNT(*) FROM business_types bt WHERE NOT EXISTS (
                               SELECT 1 FROM stage_business_types l JOIN stages s ON s.id = l.stage_id
                                WHERE l.business_type_id = bt.id AND s.auto_status IS NULL AND s.archived = 0)
                            ) AS without_open_stage) c
                   LEFT JOIN business_types bt ON 1 = 1 ORDER BY bt.id"""
REASONS_READ = "SELECT * FROM reasons ORDER BY id"  # find_reason
STAGES_READ = """SELECT s.*, l.business_type_id AS linked_type FROM stages s
                   LEFT JOIN stage_business_types l ON l.stage_id = s.id ORDER BY s.id"""


def _changes_stages(method):
    """A method that changes the stages or their links: the stage snapshot is forgotten before and after it."""
    import functools

    @functools.wraps(method)
    def changing(self, *args, **kwargs):
        self._stages = self._overview = None
        try:
            return method(self, *args, **kwargs)
        finally:
            self._stages = self._overview = None

    return changing


class SetupRoom(BaseRoom):
    """The settings lists. Uses people (settings) and the base room (history rows when reassigning)."""

    def __init__(self, floor: Floor, people: PeopleRoom):
        super().__init__(floor)
        self.people = people
        self._stages = None  # the stages and their links, read once per command (_stage_snapshot)
        self._thresholds: tuple[int | None, int | None] | None = None

    def business_type_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM business_types ORDER BY id")]

    def find_business_type(self, name: str) -> Row:
        row = self._named("business_types", name.strip())
        if row is None:
            raise unknown_name("business type", name, self.business_type_names())
        return row

    def add_business_type(self, name: str, color: str) -> None:
        from salesselect_cli.rules.setup import validate_color

        name = _clean_name(name, N_("business type name"))
        color = validate_color(color)
        if self._named("business_types", name):
            raise Conflict(_("business type '{name}' already exists").format(name=name))
        self.conn.execute("INSERT INTO business_types (name, color) VALUES (?, ?)", [name, color])
        self._setup_log(f"business type {name} added", None, color)

    def edit_business_type(self, name: str, new_name: str | None = None, color: str | None = None) -> None:
        row = self.find_business_type(name)
        if new_name is None and color is None:
            raise Invalid(_("nothing to change: pass --name NEW and/or --color COLOUR"))
        if new_name is not None:
            new_name = _clean_name(new_name, N_("business type name"))
            clash = self._named("business_types", new_name, "name", "id != ?", [row["id"]])
            if clash:
                raise Conflict(_("business type '{new_name}' already exists").format(new_name=new_name))
            self.conn.execute("UPDATE business_types SET name = ? WHERE id = ?", [new_name, row["id"]])
            self._setup_log("business type renamed", row["name"], new_name)
        if color is not None:
            from salesselect_cli.rules.setup import validate_color

            color = validate_color(color)
            self.conn.execute("UPDATE business_types SET color = ? WHERE id = ?", [color, row["id"]])
            if color != row["color"]:
                self._setup_log(f"business type {new_name or row['name']} colour", row["color"], color)

    def list_business_types(self) -> list[dict]:
        rows = self._all(f"SELECT {_business_type_columns(self.conn)} FROM business_types bt ORDER BY bt.id")
        return [_business_type_item(r) for r in rows]

    def setup_lists(self) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        """The business types, the stages (not archived), the sources and the reasons, each as its own
        list_... gives it: one statement for the four (config show), so one round trip on a server."""
        conn = self.conn
        rows = self._all(  # each list's own columns, the others NULL; the first SELECT names and types them
            f"""SELECT 'stage' AS list, s.position AS k1, s.id AS k2, {_stage_columns(conn)},
                       NULL AS color, NULL AS stages, NULL AS text, NULL AS status
                  FROM stages s WHERE s.archived = 0
                UNION ALL
                SELECT 'business_type', id, 0, name, NULL, NULL, NULL, NULL, opportunities, NULL, color, stages,
                       NULL, NULL
                  FROM (SELECT {_business_type_columns(conn)} FROM business_types bt) bt
                UNION ALL
                SELECT 'source', id, 0, name, NULL, NULL, NULL, NULL, opportunities, NULL, NULL, NULL, NULL, NULL
                  FROM (SELECT s.id, {_SOURCE_COLUMNS} FROM sources s) s
                UNION ALL
                SELECT 'reason', CASE status WHEN 'won' THEN 0 ELSE 1 END, id, NULL, NULL, NULL, NULL, NULL,
                       opportunities, NULL, NULL, NULL, text, status
                  FROM (SELECT r.id, {_REASON_COLUMNS} FROM reasons r) r
                ORDER BY 1, 2, 3"""
        )
        lists: dict[str, list[dict]] = {"business_type": [], "stage": [], "source": [], "reason": []}
        for r in rows:
            lists[r["list"]].append(_LIST_ITEMS[r["list"]](r))
        return lists["business_type"], lists["stage"], lists["source"], lists["reason"]

    def remove_business_type(self, name: str, reassign_to: str | None = None) -> int:
        row = self.find_business_type(name)
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE business_type_id = ?", [row["id"]])
        used_workflows = self._scalar("SELECT COUNT(*) FROM workflows WHERE business_type_id = ?", [row["id"]])
        target = self._reassign_target("business type", row, reassign_to, used, self.find_business_type)
        orphans = [r[0] for r in self._all(
            """SELECT s.name FROM stages s JOIN stage_business_types l ON l.stage_id = s.id
                WHERE l.business_type_id = ? AND NOT EXISTS (
                  SELECT 1 FROM stage_business_types o WHERE o.stage_id = s.id AND o.business_type_id != ?)
                ORDER BY s.position""", [row["id"], row["id"]])]
        if orphans:
            raise Conflict(
                _("stage(s) {names} belong only to business type '{name}'; remove them or link them to another type first").format(names=', '.join(orphans), name=row['name'])
            )
        if target is None and used_workflows:
            raise Conflict(_("{used_workflows} workflow(s) apply to business type '{name}'; remove them or pass --reassign-to OTHER").format(used_workflows=used_workflows, name=row['name']))
        if target is not None:
            unlinked = self._all(
                """SELECT DISTINCT s.name, s.position FROM opportunities o JOIN stages s ON s.id = o.stage_id
                    WHERE o.business_type_id = ? AND NOT EXISTS (
                      SELECT 1 FROM stage_business_types l WHERE l.stage_id = o.stage_id AND l.business_type_id = ?)
                    ORDER BY s.position""",
                [row["id"], target["id"]],
            )
            if unlinked:
                names = ", ".join(r[0] for r in unlinked)
                raise Conflict(
                    _("opportunities of '{name}' are in stages not linked to '{name2}' ({names}); link them first with 'salesselect config link-stage'").format(name=row['name'], name2=target['name'], names=names)
                )
            self._history_for_all("business_type_id = ?", [row["id"]], "business_type", row["name"], target["name"],
                                  row["id"], target["id"])
            self.conn.execute(
                "UPDATE opportunities SET business_type_id = ? WHERE business_type_id = ?", [target["id"], row["id"]]
            )
            self.conn.execute(
                "UPDATE workflows SET business_type_id = ? WHERE business_type_id = ?", [target["id"], row["id"]]
            )
        self.conn.execute("DELETE FROM business_types WHERE id = ?", [row["id"]])
        self._setup_log(f"business type {row['name']} removed", row["color"],
                        f"deals to {target['name']}" if target is not None else None)
        return used

    def stage_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM stages ORDER BY position")]

    def forget_stages(self) -> None:
        """The stages or their links were changed outside this room (config import): read them again."""
        self._stages = self._overview = None

    def _stage_snapshot(self) -> tuple[list[Row], dict[int, frozenset[int]]]:
        """The stages (in id order) and each stage's business types, read once per command in one statement
        (every change to them forgets it, see `_changes_stages`)."""
        if self._stages is None:
            rows: dict[int, dict] = {}
            links: dict[int, set[int]] = {}
            for row in self._all(STAGES_READ):
                if row["id"] not in rows:
                    rows[row["id"]] = {key: row[key] for key in row.keys() if key != "linked_type"}
                if row["linked_type"] is not None:
                    links.setdefault(row["id"], set()).add(row["linked_type"])
            self._stages = (list(rows.values()), {stage_id: frozenset(types) for stage_id, types in links.items()})
        return self._stages

    def expect_stages(self) -> None:
        """The stages will be needed: a server across a network sends them with the next statement."""
        if self._stages is None:
            self.conn.prefetch(STAGES_READ)

    def expect_reasons(self) -> None:
        """A reason will be looked up (find_reason): as expect_stages."""
        self.conn.prefetch(REASONS_READ)

    def expect_overview(self) -> None:
        """The setup overview will be needed (the board's legend, config check): as expect_stages."""
        if self._overview is None:
            self.conn.prefetch(OVERVIEW_READ)

    def stage_name_by_id(self) -> dict[int, str]:
        return {row["id"]: row["name"] for row in self._stage_snapshot()[0]}

    def find_stage(self, name: str) -> Row:
        wanted = fold(name.strip())
        for row in self._stage_snapshot()[0]:
            if fold(row["name"]) == wanted:
                return row
        raise unknown_name("stage", name, self.stage_names())

    def stage_rule(self, row: Row) -> transitions.Stage:
        from salesselect_cli.rules import transitions

        type_ids = self._stage_snapshot()[1].get(row["id"], frozenset())
        return transitions.Stage(row["id"], row["name"], row["position"], row["auto_status"], type_ids,
                                 bool(row["archived"]))

    def stages_of_type(self, business_type_id: int) -> list[transitions.Stage]:
        """The stages a deal of this business type can enter, in position order, as rule objects (archived
        stages are left out: nothing new enters them)."""
        rows, links = self._stage_snapshot()
        return [self.stage_rule(row) for row in sorted(rows, key=lambda row: row["position"])
                if not row["archived"] and business_type_id in links.get(row["id"], ())]

    @_changes_stages
    def add_stage(
        self, name: str, business_types: list[str], auto: str | None = None, position: int | None = None
    ) -> None:
        name = _clean_name(name, N_("stage name"))
        if not business_types:
            raise Invalid(_("a stage needs at least one --business-type"))
        types = [self.find_business_type(t) for t in business_types]
        auto = _auto_status(auto)
        if self._named("stages", name):
            raise Conflict(_("stage '{name}' already exists").format(name=name))
        count = self._scalar("SELECT COUNT(*) FROM stages")
        if position is None:
            position = count + 1
        if position < 1 or position > count + 1:
            raise Invalid(_("position must be between 1 and {count}, not {position}").format(count=count + 1, position=position))
        self.conn.execute("UPDATE stages SET position = position + 1 WHERE position >= ?", [position])
        stage_id = self.conn.execute(
            "INSERT INTO stages (name, position, auto_status) VALUES (?, ?, ?) RETURNING id", [name, position, auto]
        ).fetchone()[0]
        for business_type in {t["id"]: t for t in types}.values():
            self.conn.execute(
                "INSERT INTO stage_business_types (stage_id, business_type_id) VALUES (?, ?)",
                [stage_id, business_type["id"]],
            )
        self._setup_log(f"stage {name} added", None, f"position {position}, types "
                        f"{', '.join(t['name'] for t in types)}, auto-select {auto or 'none'}")

    @_changes_stages
    def edit_stage(self, name: str, new_name: str | None = None, auto: str | None = None) -> None:
        """Rename a stage and/or change its auto-select ('won', 'lost' or 'none')."""
        row = self.find_stage(name)
        if new_name is None and auto is None:
            raise Invalid(_("nothing to change: pass --name NEW and/or --auto won|lost|none"))
        if new_name is not None:
            new_name = _clean_name(new_name, N_("stage name"))
            if self._named("stages", new_name, "name", "id != ?", [row["id"]]):
                raise Conflict(_("stage '{new_name}' already exists").format(new_name=new_name))
            self.conn.execute("UPDATE stages SET name = ? WHERE id = ?", [new_name, row["id"]])
            self._setup_log("stage renamed", row["name"], new_name)
        if auto is not None:
            status = _auto_status(None if auto.lower() == "none" else auto)
            if status != row["auto_status"]:
                in_stage = self._scalar(
                    "SELECT COUNT(*) FROM opportunities WHERE stage_id = ? AND status != ?",
                    [row["id"], status or "open"],
                )
                if in_stage:
                    raise Conflict(
                        _("{count} opportunities in stage '{name}' do not have status {status}; move them before changing the auto-select").format(
                            count=in_stage, name=row["name"], status=_status_word(status or "open"))
                    )
            self.conn.execute("UPDATE stages SET auto_status = ? WHERE id = ?", [status, row["id"]])
            if status != row["auto_status"]:
                self._setup_log(f"stage {new_name or row['name']} auto-select", row["auto_status"] or "none",
                                status or "none")

    @_changes_stages
    def move_stage(self, name: str, position: int) -> None:
        row = self.find_stage(name)
        count = self._scalar("SELECT COUNT(*) FROM stages")
        if position < 1 or position > count:
            raise Invalid(_("position must be between 1 and {count}, not {position}").format(count=count, position=position))
        old = row["position"]
        if position == old:
            return
        # park the stage at 0 so positions stay unique while the others shift
        self.conn.execute("UPDATE stages SET position = 0 WHERE id = ?", [row["id"]])
        if position < old:
            self.conn.execute(
                "UPDATE stages SET position = position + 1 WHERE position >= ? AND position < ?", [position, old]
            )
        else:
            self.conn.execute(
                "UPDATE stages SET position = position - 1 WHERE position > ? AND position <= ?", [old, position]
            )
        self.conn.execute("UPDATE stages SET position = ? WHERE id = ?", [position, row["id"]])
        self._setup_log(f"stage {row['name']} position", old, position)

    @_changes_stages
    def link_stage(self, name: str, business_type: str) -> None:
        stage = self.find_stage(name)
        bt = self.find_business_type(business_type)
        cursor = self.conn.execute(
            "INSERT INTO stage_business_types (stage_id, business_type_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [stage["id"], bt["id"]],
        )
        if cursor.rowcount:
            self._setup_log(f"stage {stage['name']} linked", None, bt["name"])

    @_changes_stages
    def unlink_stage(self, name: str, business_type: str) -> None:
        stage = self.find_stage(name)
        bt = self.find_business_type(business_type)
        linked = self._one(
            "SELECT 1 FROM stage_business_types WHERE stage_id = ? AND business_type_id = ?", [stage["id"], bt["id"]]
        )
        if not linked:
            raise Invalid(_("stage '{name}' is not linked to business type '{name2}'").format(name=stage['name'], name2=bt['name']))
        used = self._scalar(
            "SELECT COUNT(*) FROM opportunities WHERE stage_id = ? AND business_type_id = ?", [stage["id"], bt["id"]]
        )
        if used:
            raise Conflict(
                _("{used} {name} opportunities are in stage '{name2}'; move them first").format(used=used, name=bt['name'], name2=stage['name'])
            )
        others = self._scalar("SELECT COUNT(*) FROM stage_business_types WHERE stage_id = ?", [stage["id"]])
        if others <= 1:
            raise Conflict(
                _("stage '{name}' would be linked to no business type; remove the stage instead").format(name=stage['name'])
            )
        self.conn.execute(
            "DELETE FROM stage_business_types WHERE stage_id = ? AND business_type_id = ?", [stage["id"], bt["id"]]
        )
        self._setup_log(f"stage {stage['name']} unlinked", bt["name"], None)

    def list_stages(self, include_archived: bool = False) -> list[dict]:
        """Stages in column order; archived ones only with `include_archived`."""
        rows = self._all(f"SELECT {_stage_columns(self.conn)} FROM stages s WHERE s.archived = 0 OR ? ORDER BY s.position",
                         [include_archived])
        return [_stage_item(r) for r in rows]

    @_changes_stages
    def set_stage_probability(self, name: str, percent: int | None) -> None:
        """A stage's win percentage (None: none set, the stage's history decides). Automatic won and lost
        stages are fixed at 100 and 0: refused."""
        row = self.find_stage(name)
        if row["auto_status"]:
            raise Conflict(_("stage '{name}' closes deals as {status}: its chance is fixed at {percent}%").format(
                name=row["name"], status=_status_word(row["auto_status"]),
                percent=100 if row["auto_status"] == "won" else 0))
        if percent == row["probability"]:
            return
        self.conn.execute("UPDATE stages SET probability = ? WHERE id = ?", [percent, row["id"]])
        self._setup_log(f"stage {row['name']} probability",
                        "none" if row["probability"] is None else f"{row['probability']}%",
                        "none" if percent is None else f"{percent}%")

    def stage_percents(self) -> dict[int, tuple[str | None, int | None]]:
        """Stage id -> (auto_status, probability set): what the stage method starts from."""
        return {r[0]: (r[1], r[2]) for r in self._all("SELECT id, auto_status, probability FROM stages")}

    @_changes_stages
    def archive_stage(self, name: str) -> bool:
        """Hide a stage from the board, moves and setup lists; it stays for the deals closed from it.

        Refused while open deals are in it. False when it already was archived.
        """
        row = self.find_stage(name)
        if row["archived"]:
            return False
        open_deals = self._scalar("SELECT COUNT(*) FROM opportunities WHERE stage_id = ? AND status = 'open'",
                                  [row["id"]])
        if open_deals:
            raise Conflict(
                ngettext("{count} open opportunity is in stage '{name}'; move it to another stage first",
                         "{count} open opportunities are in stage '{name}'; move them to another stage first", open_deals)
                .format(count=open_deals, name=row['name'])
            )
        self.conn.execute("UPDATE stages SET archived = 1 WHERE id = ?", [row["id"]])
        self._setup_log(f"stage {row['name']} archived", "no", "yes")
        return True

    @_changes_stages
    def unarchive_stage(self, name: str) -> bool:
        """Show an archived stage again; False when it was not archived."""
        row = self.find_stage(name)
        if not row["archived"]:
            return False
        self.conn.execute("UPDATE stages SET archived = 0 WHERE id = ?", [row["id"]])
        self._setup_log(f"stage {row['name']} archived", "yes", "no")
        return True

    @_changes_stages
    def remove_stage(self, name: str, reassign_to: str | None = None) -> int:
        """Remove a stage; its open deals move to `reassign_to`. Refused while closed deals came from it or sit
        in it: moving those would rewrite their history and past win/loss reports (archive the stage instead)."""
        row = self.find_stage(name)
        closed = self._scalar(
            """SELECT COUNT(*) FROM opportunities
                WHERE status != 'open' AND (stage_id = ? OR closed_from_stage_id = ?)""", [row["id"], row["id"]]
        )
        if closed:
            quoted = _shell_quote(row["name"])
            raise Conflict(
                ngettext("{count} closed deal was won or lost in stage '{name}'; removing it would rewrite its history "
                         "and the win/loss reports: archive it instead (salesselect config archive-stage {quoted})",
                         "{count} closed deals were won or lost in stage '{name}'; removing it would rewrite their history "
                         "and the win/loss reports: archive it instead (salesselect config archive-stage {quoted})", closed)
                .format(count=closed, name=row['name'], quoted=quoted)
            )
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE stage_id = ?", [row["id"]])
        used_workflows = self._scalar(
            "SELECT COUNT(*) FROM workflows WHERE to_stage_id = ? OR from_stage_id = ?", [row["id"], row["id"]]
        )
        target = self._reassign_target("stage", row, reassign_to, used, self.find_stage)
        if target is not None and target["archived"]:
            raise Invalid(_("stage '{name}' is archived; reassign to a stage in use").format(name=target['name']))
        if target is None and used_workflows:
            raise Conflict(
                _("{used_workflows} workflow(s) use stage '{name}'; remove them or pass --reassign-to OTHER").format(used_workflows=used_workflows, name=row['name'])
            )
        if target is not None:
            unlinked = self._all(
                """SELECT DISTINCT bt.name FROM opportunities o JOIN business_types bt ON bt.id = o.business_type_id
                    WHERE o.stage_id = ? AND NOT EXISTS (
                      SELECT 1 FROM stage_business_types l WHERE l.stage_id = ? AND l.business_type_id = o.business_type_id)""",
                [row["id"], target["id"]],
            )
            if unlinked:
                raise Conflict(
                    _("stage '{name}' is not linked to business type(s) {names} of the opportunities in '{name2}'").format(name=target['name'], names=', '.join(r[0] for r in unlinked), name2=row['name'])
                )
            if (target["auto_status"] or None) != (row["auto_status"] or None):
                moving = self._scalar("SELECT COUNT(*) FROM opportunities WHERE stage_id = ?", [row["id"]])
                if moving:
                    raise Conflict(
                        _("'{name}' and '{other}' mark opportunities differently (auto-select {auto_status} vs {other_auto_status}); reassign to a stage with the same auto-select").format(
                            name=row["name"], other=target["name"], auto_status=_status_word(row["auto_status"] or "none"),
                            other_auto_status=_status_word(target["auto_status"] or "none"))
                    )
            self._history_for_all("stage_id = ?", [row["id"]], "stage", row["name"], target["name"], row["id"],
                                  target["id"], actor=f"{self.history_actor} (stage removed)")
            self.actor_note = " (stage removed)"  # PostgreSQL: the trigger's rows say it too
            self.conn.execute("UPDATE opportunities SET stage_id = ? WHERE stage_id = ?", [target["id"], row["id"]])
            self.actor_note = ""
            self.conn.execute("UPDATE workflows SET to_stage_id = ? WHERE to_stage_id = ?", [target["id"], row["id"]])
            self.conn.execute("UPDATE workflows SET from_stage_id = ? WHERE from_stage_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM stages WHERE id = ?", [row["id"]])
        self.conn.execute("UPDATE stages SET position = position - 1 WHERE position > ?", [row["position"]])
        self._setup_log(f"stage {row['name']} removed", f"position {row['position']}",
                        f"deals to {target['name']}" if target is not None else None)
        return used

    def source_names(self) -> list[str]:
        return [r[0] for r in self._all("SELECT name FROM sources ORDER BY id")]

    def find_source(self, name: str) -> Row:
        row = self._named("sources", name.strip())
        if row is None:
            raise unknown_name("source", name, self.source_names())
        return row

    def add_source(self, name: str) -> None:
        name = _clean_name(name, N_("source name"))
        if self._named("sources", name):
            raise Conflict(_("source '{name}' already exists").format(name=name))
        self.conn.execute("INSERT INTO sources (name) VALUES (?)", [name])
        self._setup_log(f"source {name} added")

    def rename_source(self, name: str, new_name: str) -> None:
        row = self.find_source(name)
        new_name = _clean_name(new_name, N_("source name"))
        if self._named("sources", new_name, "name", "id != ?", [row["id"]]):
            raise Conflict(_("source '{new_name}' already exists").format(new_name=new_name))
        self.conn.execute("UPDATE sources SET name = ? WHERE id = ?", [new_name, row["id"]])
        self._setup_log("source renamed", row["name"], new_name)

    def list_sources(self) -> list[dict]:
        return [_source_item(r) for r in self._all(f"SELECT {_SOURCE_COLUMNS} FROM sources s ORDER BY s.id")]

    def remove_source(self, name: str, reassign_to: str | None = None) -> int:
        row = self.find_source(name)
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE source_id = ?", [row["id"]])
        target = self._reassign_target("source", row, reassign_to, used, self.find_source)
        if target is not None:
            self.conn.execute("UPDATE opportunities SET source_id = ? WHERE source_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM sources WHERE id = ?", [row["id"]])
        self._setup_log(f"source {row['name']} removed", None,
                        f"deals to {target['name']}" if target is not None else None)
        return used

    def thresholds(self) -> tuple[int | None, int | None]:
        """(orange_days, red_days); (None, None) where not configured, or stored badly (then with a warning)."""
        if self._thresholds is None:
            self._thresholds = self.people.indicator_setting()
        return self._thresholds

    def set_indicator(self, orange_days: int, red_days: int) -> None:
        validate_thresholds(orange_days, red_days)
        stored = (self.people.get_setting("orange_days"), self.people.get_setting("red_days"))  # bad or not
        if stored != (str(orange_days), str(red_days)):
            self._setup_log("indicator", None if stored == (None, None) else f"orange {stored[0]}, red {stored[1]}",
                            f"orange {orange_days}, red {red_days}")
        self.people.set_setting("orange_days", str(orange_days))
        self.people.set_setting("red_days", str(red_days))
        self._thresholds = None

    def reason_labels(self, status: str | None = None) -> list[str]:
        if status:
            return [r[0] for r in self._all("SELECT text FROM reasons WHERE status = ? ORDER BY id", [status])]
        return [f"{r[0]} ({r[1]})" for r in self._all("SELECT text, status FROM reasons ORDER BY status DESC, id")]

    def find_reason(self, text: str, status: str | None = None) -> Row:
        """A reason by text; `status` narrows it (and is needed when the text exists for both)."""
        if status is not None and status not in ("won", "lost"):
            raise Invalid(_("status must be won or lost, not '{status}'").format(status=status))
        wanted = fold(text)
        rows = [row for row in self._all(REASONS_READ)
                if fold(row["text"]) == wanted and (status is None or row["status"] == status)]
        if not rows:
            other = None
            if status:
                other = self._named("reasons", text.strip(), "text")
            if other is not None:
                message = (_("reason '{text}' is a won reason, not a lost reason; lost reasons: {valid}")
                           if status == "lost" else
                           _("reason '{text}' is a lost reason, not a won reason; won reasons: {valid}"))
                raise Invalid(message.format(text=text, valid=", ".join(self.reason_labels(status)) or _("none")))
            kind = f"{status} reason" if status else "reason"
            raise unknown_name(kind, text, self.reason_labels(status) if status else
                               [r[0] for r in self._all("SELECT text FROM reasons GROUP BY text ORDER BY MIN(id)")])
        if len(rows) > 1:
            raise Invalid(_("reason '{text}' exists for won and lost; pass --status won|lost").format(text=text))
        return rows[0]

    def add_reason(self, text: str, status: str) -> None:
        text = _clean_name(text, N_("reason"))
        if status not in ("won", "lost"):
            raise Invalid(_("status must be won or lost, not '{status}'").format(status=status))
        if self._named("reasons", text, "text", "status = ?", [status]):
            raise Conflict(_("{status} reason '{text}' already exists").format(status=status, text=text))
        self.conn.execute("INSERT INTO reasons (text, status) VALUES (?, ?)", [text, status])
        self._setup_log(f"{status} reason {text} added")

    def edit_reason(self, text: str, status: str | None, new_text: str | None, new_status: str | None) -> None:
        row = self.find_reason(text, status)
        if new_text is None and new_status is None:
            raise Invalid(_("nothing to change: pass --text NEW and/or --new-status won|lost"))
        final_text = _clean_name(new_text, N_("reason")) if new_text is not None else row["text"]
        final_status = new_status or row["status"]
        if final_status not in ("won", "lost"):
            raise Invalid(_("status must be won or lost, not '{final_status}'").format(final_status=final_status))
        if final_status != row["status"]:
            used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE reason_id = ?", [row["id"]])
            if used:
                raise Conflict(_("{used} {status} opportunities use reason '{text}'; its status cannot change").format(used=used, status=row['status'], text=row['text']))
        if self._named("reasons", final_text, "text", "status = ? AND id != ?", [final_status, row["id"]]):
            raise Conflict(_("{final_status} reason '{final_text}' already exists").format(final_status=final_status, final_text=final_text))
        self.conn.execute("UPDATE reasons SET text = ?, status = ? WHERE id = ?", [final_text, final_status, row["id"]])
        self._setup_log("reason changed", f"{row['text']} ({row['status']})", f"{final_text} ({final_status})")

    def list_reasons(self, status: str | None = None) -> list[dict]:
        rows = self._all(
            f"SELECT {_REASON_COLUMNS} FROM reasons r" + (" WHERE r.status = ?" if status else "")
            + " ORDER BY r.status DESC, r.id",
            [status] if status else [],
        )
        return [_reason_item(r) for r in rows]

    def remove_reason(self, text: str, status: str | None = None, reassign_to: str | None = None) -> int:
        row = self.find_reason(text, status)
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE reason_id = ?", [row["id"]])
        target = self._reassign_target(
            "reason", row, reassign_to, used, lambda other: self.find_reason(other, row["status"])
        )
        if target is not None:
            self._history_for_all("reason_id = ?", [row["id"]], "reason", row["text"], target["text"], row["id"],
                                  target["id"])
            self.conn.execute("UPDATE opportunities SET reason_id = ? WHERE reason_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM reasons WHERE id = ?", [row["id"]])
        self._setup_log(f"{row['status']} reason {row['text']} removed", None,
                        f"deals to {target['text']}" if target is not None else None)
        return used

    def _setup_overview(self) -> tuple[tuple[int, ...], list[dict]]:
        """How many business types, stages, sources, won and lost reasons there are and how many business
        types lack an open stage, and the business types' names and colours in setup order: one statement,
        read once per command (a setup change forgets it, in `_setup_log`)."""
        if self._overview is None:
            rows = self._all(OVERVIEW_READ)
            counts = tuple(rows[0][key] for key in ("types", "stages", "sources", "won", "lost", "without_open_stage"))
            colors = [{"name": row["name"], "color": row["color"]} for row in rows if row["name"] is not None]
            self._overview = (counts, colors)
        return self._overview

    def business_type_colors(self) -> list[dict]:
        """Business types with their colours, in setup order (for the board's legend)."""
        return self._setup_overview()[1]

    def config_check(self, _=lambda text: text) -> list[str]:
        """What a correct setup still misses (SPEC §1 config check); empty when complete.

        `_` translates the sentences for people (the interface language); JSON keeps the English.
        """
        types, stages, sources, won, lost, without_open_stage = self._setup_overview()[0]
        missing = []
        if not types:
            missing.append(_("no business type (salesselect config add-business-type NAME --color COLOUR)"))
        if not stages:
            missing.append(_("no stage (salesselect config add-stage NAME --business-type TYPE)"))
        for row in [] if not stages or not without_open_stage else self._all(
            """SELECT bt.name FROM business_types bt WHERE NOT EXISTS (
                 SELECT 1 FROM stage_business_types l JOIN stages s ON s.id = l.stage_id
                  WHERE l.business_type_id = bt.id AND s.auto_status IS NULL AND s.archived = 0) ORDER BY bt.id"""
        ):
            missing.append(
                _("business type '{name}' has no open stage (salesselect config add-stage NAME --business-type '{name}')")
                .format(name=row[0])
            )
        if not sources:
            missing.append(_("no source (salesselect config add-source NAME)"))
        orange, red = self.thresholds()
        if orange is None or red is None:
            missing.append(_("remaining-days indicator not set (salesselect config set-indicator --orange DAYS --red DAYS)"))
        if not won:
            missing.append(_("no won reason (salesselect config add-reason TEXT --status won)"))
        if not lost:
            missing.append(_("no lost reason (salesselect config add-reason TEXT --status lost)"))
        return missing


def _status_word(status: str) -> str:
    """open / won / lost / none in the interface language, for messages (stored values stay English)."""
    from salesselect_cli.i18n import _

    return {"open": _("open"), "won": _("won"), "lost": _("lost"), "none": _("none")}.get(status, status)
