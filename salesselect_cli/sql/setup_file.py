"""The whole setup as one document (config export/import): the lists, the indicator, the workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesselect_cli.i18n import N_, _
from salesselect_cli.sql.base import BaseRoom, Floor

if TYPE_CHECKING:
    from salesselect_cli.sql.people import PeopleRoom
    from salesselect_cli.sql.setup import SetupRoom
    from salesselect_cli.sql.workflows import WorkflowRoom


class SetupFileRoom(BaseRoom):
    """config export/import. Uses the setup lists, people and workflows."""

    def __init__(self, floor: Floor, people: PeopleRoom, setup: SetupRoom, workflows: WorkflowRoom):
        super().__init__(floor)
        self.people = people
        self.setup = setup
        self.workflows = workflows

    def export_setup(self) -> dict:
        """The whole setup as one JSON-ready dict; `import_setup` takes it back."""
        orange, red = self.setup.thresholds()
        stages = []
        for row in self._all("SELECT * FROM stages ORDER BY position"):
            types = [r[0] for r in self._all(
                """SELECT bt.name FROM business_types bt JOIN stage_business_types l ON l.business_type_id = bt.id
                    WHERE l.stage_id = ? ORDER BY bt.id""", [row["id"]])]
            stage = {"name": row["name"], "business_types": types, "auto": row["auto_status"]}
            if row["archived"]:
                stage["archived"] = True
            if row["probability"] is not None:
                stage["probability"] = row["probability"]
            stages.append(stage)
        return {
            "currency": self.people.currency,
            "users": [
                {"name": r["name"], "role": r["role"], "key_user": bool(r["key_user"]), "module": r["module"] or "inherit"}
                for r in self._all("SELECT * FROM users ORDER BY id")
            ],
            "business_types": [
                {"name": r["name"], "color": r["color"]} for r in self._all("SELECT * FROM business_types ORDER BY id")
            ],
            "stages": stages,
            "sources": self.setup.source_names(),
            "indicator": {"orange_days": orange, "red_days": red} if orange is not None else None,
            "reasons": [
                {"text": r["text"], "status": r["status"]}
                for r in self._all("SELECT * FROM reasons ORDER BY status DESC, id")
            ],
            "workflows": self.workflows.export_workflows(),
        }

    def import_setup(self, setup: Any) -> list[str]:
        """Merge a setup (as `export_setup` writes it) into this database. Idempotent; never deletes.

        Everything is validated before anything is written; returns what changed.
        """
        from salesselect_cli.rules.setup import validate_setup

        spec = validate_setup(setup)
        changes: list[str] = []
        changes.extend(self._import_users(spec.users))  # first: workflows may name them (owner:NAME)
        if spec.currency and spec.currency != self.people.currency:
            self.people.set_currency(spec.currency)
            changes.append(_("currency {code}").format(code=spec.currency))
        for bt in spec.business_types:
            existing = self._named("business_types", bt["name"])
            if existing is None:
                self.setup.add_business_type(bt["name"], bt["color"])
                changes.append(_("business type {name} added").format(name=bt["name"]))
            elif existing["color"] != bt["color"]:
                self.setup.edit_business_type(existing["name"], color=bt["color"])
                changes.append(_("business type {name} colour {color}").format(name=bt["name"], color=bt["color"]))
        for stage in spec.stages:
            for type_name in stage["business_types"]:
                self.setup.find_business_type(type_name)
        for index, stage in enumerate(spec.stages, start=1):
            existing = self._named("stages", stage["name"])
            if existing is None:
                count = self._scalar("SELECT COUNT(*) FROM stages")
                self.setup.add_stage(stage["name"], stage["business_types"], stage["auto"], min(index, count + 1))
                changes.append(_("stage {name} added").format(name=stage["name"]))
                if stage["probability"] is not None and not stage["auto"]:
                    self.setup.set_stage_probability(stage["name"], stage["probability"])
                continue
            if existing["position"] != index and index <= self._scalar("SELECT COUNT(*) FROM stages"):
                self.setup.move_stage(existing["name"], index)
                changes.append(_("stage {name} moved to {position}").format(name=stage["name"], position=index))
            if stage["probability"] is not None and existing["probability"] != stage["probability"]:
                self.setup.set_stage_probability(existing["name"], stage["probability"])
                changes.append(_("stage {name} probability {percent}%").format(name=stage["name"],
                                                                                percent=stage["probability"]))
            if (existing["auto_status"] or None) != stage["auto"]:
                self.setup.edit_stage(existing["name"], auto=stage["auto"] or "none")
                changes.append(_("stage {name} auto-select {auto_status}").format(
                    name=stage["name"], auto_status=_auto_word(stage["auto"] or "none")))
            for type_name in stage["business_types"]:
                bt = self.setup.find_business_type(type_name)
                cursor = self.conn.execute(
                    "INSERT INTO stage_business_types (stage_id, business_type_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [existing["id"], bt["id"]],
                )
                self.setup.forget_stages()  # the stage snapshot no longer holds
                if cursor.rowcount:
                    changes.append(_("stage {name} linked to {business_type}").format(name=stage["name"], business_type=bt["name"]))
        for stage in spec.stages:  # after the links and moves, so a stage's deals are where the file says
            if stage["archived"] and self.setup.archive_stage(stage["name"]):
                changes.append(_("stage {name} archived").format(name=stage["name"]))
            elif not stage["archived"] and self.setup.unarchive_stage(stage["name"]):
                changes.append(_("stage {name} unarchived").format(name=stage["name"]))
        for source in spec.sources:
            if not self._named("sources", source):
                self.setup.add_source(source)
                changes.append(_("source {name} added").format(name=source))
        if spec.indicator is not None and self.setup.thresholds() != spec.indicator:
            self.setup.set_indicator(*spec.indicator)
            changes.append(_("indicator orange {orange} red {red}").format(orange=spec.indicator[0], red=spec.indicator[1]))
        for reason in spec.reasons:
            if not self._named("reasons", reason["text"], "text", "status = ?", [reason["status"]]):
                self.setup.add_reason(reason["text"], reason["status"])
                changes.append((_("won reason {text} added") if reason["status"] == "won" else _("lost reason {text} added"))
                               .format(text=reason["text"]))
        changes.extend(self.workflows.import_workflows(spec.workflows))
        return changes

    def _import_users(self, users: list[dict]) -> list[str]:
        """Add the file's new users; give named ones the role and key-user flag the file gives them."""
        changes: list[str] = []
        key_user_changes: list[tuple[str, bool]] = []
        for user in users:
            existing = self._named("users", user["name"])
            if existing is None:
                self.people.add_user(user["name"], bool(user["key_user"]), user["role"] or "recruiter", user["module"])
                changes.append(_("user {name} added").format(name=user["name"]))
                continue
            if user["role"] is not None and user["role"] != existing["role"]:
                self.people.set_role(existing["name"], user["role"])
                changes.append(_("user {name} role {old} -> {new}").format(
                    name=existing["name"], old=_word(existing["role"]), new=_word(user["role"])))
            if user["key_user"] is not None and user["key_user"] != bool(existing["key_user"]):
                key_user_changes.append((existing["name"], user["key_user"]))
        # promotions first, so a file that hands the key-user rights to someone else is not refused halfway
        for name, key_user in sorted(key_user_changes, key=lambda change: not change[1]):
            self.people.set_key_user(name, key_user)  # refuses to demote the last key user, as `user set-key-user --off` does
            changes.append(_("user {name} key user {old} -> {new}").format(
                name=name, old=_word("no" if key_user else "yes"), new=_word("yes" if key_user else "no")))
        return changes


_WORDS = {"recruiter": N_("recruiter"), "manager": N_("manager"), "yes": N_("yes"), "no": N_("no")}


def _word(value: str) -> str:
    return _(_WORDS[value])


def _auto_word(status: str) -> str:
    return {"won": _("won"), "lost": _("lost"), "none": _("none")}.get(status, status)
