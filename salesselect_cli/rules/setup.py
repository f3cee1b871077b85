"""Validation of a setup file (`config import`): every key and value checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from salesselect_cli.errors import Invalid
from salesselect_cli.i18n import _

TOP_KEYS = {"currency", "users", "business_types", "stages", "sources", "indicator", "reasons", "workflows"}
USER_KEYS = {"name", "role", "key_user", "module"}
WORKFLOW_KEYS = {"name", "on", "to_stage", "from_stage", "to_status", "business_type", "actions", "enabled", "env"}


@dataclass
class Setup:
    currency: str | None = None
    business_types: list[dict] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    indicator: tuple[int, int] | None = None
    reasons: list[dict] = field(default_factory=list)
    workflows: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(_("{where} must be a non-empty text").format(where=where))
    return value.strip()


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(_("{where} must be a list").format(where=where))
    return value


def _keys(item: Any, allowed: set[str], required: set[str], where: str) -> dict:
    if not isinstance(item, dict):
        raise Invalid(_("{where} must be an object").format(where=where))
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise Invalid(_("{where}: unknown key(s) {names}; valid: {names2}").format(where=where, names=', '.join(unknown), names2=', '.join(sorted(allowed))))
    missing = sorted(required - set(item))
    if missing:
        raise Invalid(_("{where}: missing key(s) {names}").format(where=where, names=', '.join(missing)))
    return item


def _no_duplicates(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise Invalid(_("{what} '{name}' appears twice").format(what=what, name=name))
        seen.add(name.casefold())


def _check_actions(actions: list[str], where: str) -> None:
    from salesselect_cli.rules.workflows import parse_action

    for action in actions:
        try:
            parse_action(action)
        except Invalid as exc:
            raise Invalid(f"{where}: {exc}") from None


def validate_color(color: str) -> str:
    """A Rich colour name or #rrggbb (or a Dutch colour name, or 'orange'), normalised to lower case; Invalid otherwise."""
    from rich.color import Color, ColorParseError

    from salesselect_cli.rules.words import colour

    text = colour(color or "").strip().lower()
    try:
        Color.parse(text)
    except ColorParseError:
        raise Invalid(
            _("'{color}' is not a colour; use a colour name (red, orange, steel_blue, ...) or #rrggbb").format(color=color)
        ) from None
    return text


def validate_setup(setup: Any) -> Setup:
    """Check a setup document's shape and values; returns it normalised. Raises Invalid."""
    if not isinstance(setup, dict):
        raise Invalid(_("a setup file must be a JSON object"))
    unknown = sorted(set(setup) - TOP_KEYS)
    if unknown:
        raise Invalid(_("unknown key(s) {names}; valid: {names2}").format(names=', '.join(unknown), names2=', '.join(sorted(TOP_KEYS))))
    result = Setup()
    if setup.get("currency") is not None:
        currency = _text(setup["currency"], "currency").upper()
        if not (len(currency) == 3 and currency.isalpha()):
            raise Invalid(_("currency must be a three-letter code like EUR, not '{currency}'").format(currency=currency))
        result.currency = currency
    for index, item in enumerate(_list(setup.get("users"), "users"), start=1):
        result.users.append(_user(item, f"users[{index}]"))
    _no_duplicates([u["name"] for u in result.users], "user")
    for index, item in enumerate(_list(setup.get("business_types"), "business_types"), start=1):
        where = f"business_types[{index}]"
        _keys(item, {"name", "color"}, {"name", "color"}, where)
        result.business_types.append({"name": _text(item["name"], f"{where}.name"), "color": validate_color(_text(item["color"], f"{where}.color"))})
    _no_duplicates([bt["name"] for bt in result.business_types], "business type")
    for index, item in enumerate(_list(setup.get("stages"), "stages"), start=1):
        where = f"stages[{index}]"
        _keys(item, {"name", "business_types", "auto", "archived", "probability"}, {"name", "business_types"}, where)
        types = [_text(t, f"{where}.business_types") for t in _list(item["business_types"], f"{where}.business_types")]
        if not types:
            raise Invalid(_("{where}: a stage needs at least one business type").format(where=where))
        auto = item.get("auto")
        if auto is not None and auto not in ("won", "lost"):
            raise Invalid(_("{where}.auto must be won, lost or null, not {auto}").format(where=where, auto=f"{auto!r}"))
        archived = item.get("archived", False)
        if not isinstance(archived, bool):
            raise Invalid(_("{where}.archived must be true or false, not {archived}").format(where=where, archived=f"{archived!r}"))
        probability = item.get("probability")
        if probability is not None and (isinstance(probability, bool) or not isinstance(probability, int)
                                        or not 0 <= probability <= 100):
            raise Invalid(_("{where}.probability must be a whole number from 0 to 100 or null, not {probability}").format(
                where=where, probability=f"{probability!r}"))
        if probability is not None and auto is not None:
            probability = None  # a won or lost stage's chance is fixed (100 or 0), never stored
        result.stages.append({"name": _text(item["name"], f"{where}.name"), "business_types": types, "auto": auto,
                              "archived": archived, "probability": probability})
    _no_duplicates([s["name"] for s in result.stages], "stage")
    result.sources = [_text(s, "sources[]") for s in _list(setup.get("sources"), "sources")]
    _no_duplicates(result.sources, "source")
    indicator = setup.get("indicator")
    if indicator is not None:
        _keys(indicator, {"orange_days", "red_days"}, {"orange_days", "red_days"}, "indicator")
        orange, red = indicator["orange_days"], indicator["red_days"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (orange, red)):
            raise Invalid(_("indicator.orange_days and indicator.red_days must be whole numbers"))
        from salesselect_cli.rules.indicator import validate_thresholds

        validate_thresholds(orange, red)
        result.indicator = (orange, red)
    for index, item in enumerate(_list(setup.get("reasons"), "reasons"), start=1):
        where = f"reasons[{index}]"
        _keys(item, {"text", "status"}, {"text", "status"}, where)
        if item["status"] not in ("won", "lost"):
            raise Invalid(_("{where}.status must be won or lost, not {status}").format(where=where, status=f"{item['status']!r}"))
        result.reasons.append({"text": _text(item["text"], f"{where}.text"), "status": item["status"]})
    for index, item in enumerate(_list(setup.get("workflows"), "workflows"), start=1):
        where = f"workflows[{index}]"
        _keys(item, WORKFLOW_KEYS, {"name", "on", "actions"}, where)
        if item["on"] not in ("stage", "status"):
            raise Invalid(_("{where}.on must be stage or status, not {on}").format(where=where, on=f"{item['on']!r}"))
        actions = [_text(a, f"{where}.actions[]") for a in _list(item["actions"], f"{where}.actions")]
        if not actions:
            raise Invalid(_("{where}: a workflow needs at least one action").format(where=where))
        _check_actions(actions, where)
        if "env" in item:
            from salesselect_cli.rules.workflows import parse_env_names

            item = dict(item, env=parse_env_names(_list(item["env"], f"{where}.env")))
        result.workflows.append({key: item[key] for key in item})
    return result


def _user(item: Any, where: str) -> dict:
    """One user of a setup file: name, role (recruiter/manager or None), key_user (true/false or None), module (on/off/inherit)."""
    from salesselect_cli.rules.permissions import check_role

    _keys(item, USER_KEYS, {"name"}, where)
    # role and key_user stay None when the file leaves them out: an existing user then keeps theirs
    role = item.get("role")
    if "role" in item:
        try:
            role = check_role(role if isinstance(role, str) else "?")
        except ValueError as exc:
            raise Invalid(f"{where}.{exc}") from None
    key_user = item.get("key_user")
    if "key_user" in item and not isinstance(key_user, bool):
        raise Invalid(_("{where}.key_user must be true or false").format(where=where))
    module = item.get("module", "inherit")
    if isinstance(module, str):  # aan, uit, volgt klant: as the Dutch tables print them
        from salesselect_cli.rules.words import MODULE, english

        module = english(MODULE, module)
    if module not in ("on", "off", "inherit"):
        raise Invalid(_("{where}.module must be on, off or inherit, not {module}").format(where=where, module=f"{module!r}"))
    return {"name": _text(item["name"], f"{where}.name"), "role": role, "key_user": key_user,
            "module": None if module == "inherit" else module}
