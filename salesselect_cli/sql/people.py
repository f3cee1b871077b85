"""Users, key users, the module switch, and the settings key/values."""

from __future__ import annotations

from salesselect_cli.errors import Conflict, Invalid, PermissionDenied, unknown_name
from salesselect_cli.i18n import N_, _
from salesselect_cli.rules.text import clean_name as _clean_name
from salesselect_cli.sql.base import BaseRoom, Floor, named_read
from salesselect_cli.sql.dialect import Row, fold


# Rows an older version kept for running hooks (their markers live outside the database now): never read
HOOK_RUN_PREFIX = "hook_run:"
SETTINGS_READ = "SELECT key, value FROM settings WHERE substr(key, 1, 9) <> ?"


class PeopleRoom(BaseRoom):
    """Users, key users, the module switch, settings. Uses only the base room."""

    def __init__(self, floor: Floor):
        super().__init__(floor)
        self._settings: dict[str, str] | None = None  # the settings table, read once per command
        self.setting_problems = {}  # bad stored settings this command read: name -> warning

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """A setting as stored (text), unchecked: readers that act on it use `setting`."""
        value = self._settings_snapshot().get(key)
        return default if value is None else value

    def setting(self, name: str, default=None):
        """A setting through its parser (rules/settings.py): a bad stored value reads as `default`, and its
        one-line warning is kept in `setting_problems` for the command to print."""
        from salesselect_cli.rules import settings

        reading = settings.read(name, self.get_setting(name), default)
        if reading.problem:
            self.setting_problems.setdefault(name, reading.problem)
        return reading.value

    def indicator_setting(self) -> tuple[int | None, int | None]:
        """(orange_days, red_days) through their parser; (None, None) while unset or when stored badly."""
        from salesselect_cli.rules import settings

        reading = settings.read_indicator(self.get_setting("orange_days"), self.get_setting("red_days"))
        if reading.problem:
            self.setting_problems.setdefault("indicator", reading.problem)
        return reading.value

    def _settings_snapshot(self) -> dict[str, str]:
        """The agency's settings, read once per command (language, module, currency, indicator days...)."""
        if self._settings is None:
            self._settings = dict(self._all(SETTINGS_READ, [HOOK_RUN_PREFIX]))
        return self._settings

    def opening_reads(self) -> list[tuple[str, list]]:
        """What every command reads as it opens, not read yet: the settings and the users (who acts). A
        server across a network gets them with the transaction's first round trip."""
        reads = []
        if self._settings is None:
            reads.append((SETTINGS_READ, [HOOK_RUN_PREFIX]))
        if self._user is None:
            reads.append((named_read("users"), []))
        return reads

    def set_setting(self, key: str, value: str | None) -> None:
        if self._settings is not None:
            if value is None:
                self._settings.pop(key, None)
            else:
                self._settings[key] = value
        if value is None:
            self.conn.execute("DELETE FROM settings WHERE key = ?", [key])
        else:
            self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    @property
    def currency(self) -> str:
        return self.setting("currency", "EUR")

    def set_currency(self, code: str) -> None:
        code = code.strip().upper()
        if not (len(code) == 3 and code.isalpha()):
            raise Invalid(_("currency must be a three-letter code like EUR, not '{code}'").format(code=code))
        old = self.get_setting("currency", "EUR")  # as stored: fixing a bad value warns of nothing
        self.set_setting("currency", code)
        if old != code:
            self._setup_log("currency", old, code)

    @property
    def language_setting(self) -> str | None:
        """The agency's interface language ('en' or 'nl'), or None when never set."""
        return self.setting("language")

    def set_language(self, code: str) -> str:
        """Set the agency's interface language: en or nl (Dutch and English names and locales too)."""
        from salesselect_cli.i18n import normalise

        language = normalise(code)
        if language is None:
            raise Invalid(_("language must be en or nl, not '{code}'").format(code=code.strip()))
        old = self.get_setting("language")  # as stored: fixing a bad value warns of nothing
        self.set_setting("language", language)
        if old != language:
            self._setup_log("language", old, language)
        return language

    def user_names(self) -> list[str]:
        return [row[0] for row in self._all("SELECT name FROM users ORDER BY name COLLATE NOCASE")]

    def find_user(self, name: str) -> Row:
        """The user called `name` (case-insensitive) or NotFound listing the users."""
        row = self._named("users", name.strip())
        if row is None:
            raise unknown_name("user", name, self.user_names())
        return row

    def require_key_user(self, what: str = "change the setup") -> None:
        if not self.user["key_user"]:
            raise PermissionDenied(_("only key users may {what}; '{name}' is not a key user").format(
                what=_(what), name=self.user['name']))

    def module_enabled_for(self, user: Row) -> bool:
        """The user's own setting wins; 'inherit' (NULL) follows the client setting."""
        if user["module"] is not None:
            return user["module"] == "on"
        return self.setting("module", "off") == "on"

    def require_module(self) -> None:
        if not self.module_enabled_for(self.user):
            name = self.user["name"]
            how = (_("'salesselect config module enable --user {name}' (or 'inherit --user {name}')").format(name=name)
                   if self.user["module"] == "off" else "'salesselect config module enable'")
            raise PermissionDenied(_("the Sales Select module is off for '{name}'; a key user can turn it on with {how}")
                                   .format(name=name, how=how))

    def add_user(self, name: str, key_user: bool = False, role: str = "recruiter", module: str | None = None) -> None:
        """Add a user: a recruiter (default) or a manager, a key user or not; module None follows the client.
        On PostgreSQL an existing login NAME gets its role's rights at once (the users table's trigger)."""
        name = _clean_name(name, N_("user name"))
        role = self._role(role)
        if self._named("users", name):
            raise Conflict(_("user '{name}' already exists").format(name=name))
        self.conn.execute(
            "INSERT INTO users (name, key_user, role, module, created) VALUES (?, ?, ?, ?, ?)",
            [name, int(key_user), role, module, self.today.isoformat()],
        )
        self._setup_log(f"user {name} added", None, role + (", key user" if key_user else ""))

    def member_login(self, name: str) -> str | None:
        """PostgreSQL: the login for user `name`, made (when this login may create roles) with its rights; None
        when it can connect, else the one SQL line an administrator runs. SQLite: nothing (None)."""
        import importlib

        return importlib.import_module(self.conn.ddl_module).member_login(self.conn, name)

    def add_first_key_user(self, name: str) -> None:
        """The new database's first user, a key user (init)."""
        self.conn.execute("INSERT INTO users (name, key_user, created) VALUES (?, 1, ?)", [name, self.today.isoformat()])

    @staticmethod
    def _role(role: str) -> str:
        from salesselect_cli.rules.permissions import check_role

        try:
            return check_role(role)
        except ValueError as exc:
            raise Invalid(str(exc)) from None

    def set_role(self, name: str, role: str) -> str:
        """Make a user a recruiter or a manager; returns the role it had."""
        row = self.find_user(name)
        role = self._role(role)
        if row["role"] != role:
            self.conn.execute("UPDATE users SET role = ? WHERE id = ?", [role, row["id"]])
            self._setup_log(f"user {row['name']} role", row["role"], role)
        return row["role"]

    def set_key_user(self, name: str, key_user: bool) -> None:
        row = self.find_user(name)
        if not key_user and row["key_user"]:
            others = self._scalar("SELECT COUNT(*) FROM users WHERE key_user = 1 AND id != ?", [row["id"]])
            if not others:
                raise Conflict(_("'{name}' is the last key user; make another user a key user first").format(name=row['name']))
        self.conn.execute("UPDATE users SET key_user = ? WHERE id = ?", [int(key_user), row["id"]])
        if bool(row["key_user"]) != key_user:
            self._setup_log(f"user {row['name']} key user", _yes_no(row["key_user"]), _yes_no(key_user))

    def list_users(self) -> list[dict]:
        rows = self._all(
            """SELECT u.name, u.role, u.key_user, u.module, u.created,
                      (SELECT COUNT(*) FROM opportunities o
                        WHERE o.owner_id = u.id AND o.status = 'open' AND o.deleted IS NULL) AS open_opportunities
                 FROM users u ORDER BY u.name COLLATE NOCASE"""
        )
        client = self.setting("module", "off")
        return [
            {
                "name": row["name"],
                "role": row["role"],
                "key_user": bool(row["key_user"]),
                "module": row["module"] or "inherit",
                "module_effective": (row["module"] or client) == "on",
                "open_opportunities": row["open_opportunities"],
                "created": row["created"],
            }
            for row in rows
        ]

    def remove_user(self, name: str, reassign_to: str | None = None) -> int:
        """Remove a user; their opportunities and follow-ups go to `reassign_to`. Returns how many moved."""
        row = self.find_user(name)
        if row["id"] == self.user["id"]:
            raise Conflict(_("you cannot remove yourself"))
        if row["key_user"] and not self._scalar(
            "SELECT COUNT(*) FROM users WHERE key_user = 1 AND id != ?", [row["id"]]
        ):
            raise Conflict(_("'{name}' is the last key user").format(name=row['name']))
        import json

        owner = fold(row["name"])  # workflows are few: their JSON actions are read here
        handing_over = [w["name"] for w in self._all("SELECT name, actions FROM workflows ORDER BY id")
                        if any(isinstance(a, str) and a.startswith("owner:") and fold(a[6:]) == owner
                               for a in json.loads(w["actions"]))]
        if handing_over:
            raise Conflict(
                _("workflow(s) {names} hand opportunities to '{name}'; change or remove them first (salesselect workflow remove NAME)").format(names=', '.join(handing_over), name=row['name'])
            )
        used = self._scalar("SELECT COUNT(*) FROM opportunities WHERE owner_id = ?", [row["id"]])
        used_followups = self._scalar("SELECT COUNT(*) FROM followups WHERE user_id = ?", [row["id"]])
        if used_followups and not used and reassign_to is None:
            raise Conflict(
                _("{used_followups} follow-up(s) belong to user '{name}'; pass --reassign-to OTHER to move them first").format(used_followups=used_followups, name=row['name'])
            )
        target = self._reassign_target("user", row, reassign_to, used, self.find_user)
        if target is None and used_followups:
            target = self.find_user(reassign_to)
        if target is not None:
            self._history_for_all(
                "owner_id = ?", [row["id"]], "owner", row["name"], target["name"], row["id"], target["id"],
                actor=f"{self.history_actor} (user removed)",
            )
            self.conn.execute("UPDATE opportunities SET owner_id = ? WHERE owner_id = ?", [target["id"], row["id"]])
            self.conn.execute("UPDATE followups SET user_id = ? WHERE user_id = ?", [target["id"], row["id"]])
        self.conn.execute("DELETE FROM users WHERE id = ?", [row["id"]])
        self._setup_log(f"user {row['name']} removed", row["role"] + (", key user" if row["key_user"] else ""),
                        f"deals to {target['name']}" if target is not None else None)
        return used

    def set_module(self, state: str, user_name: str | None = None) -> None:
        """state: 'on', 'off' or 'inherit' (users only)."""
        if user_name is None:
            if state == "inherit":
                raise Invalid(_("'inherit' applies to one user: pass --user NAME"))
            old = self.get_setting("module", "off")  # as stored, bad or not: the log shows what it replaced
            self.set_setting("module", state)
            if old != state:
                self._setup_log("module", old, state)
            return
        row = self.find_user(user_name)
        self.conn.execute(
            "UPDATE users SET module = ? WHERE id = ?", [None if state == "inherit" else state, row["id"]]
        )
        if (row["module"] or "inherit") != state:
            self._setup_log(f"user {row['name']} module", row["module"] or "inherit", state)

    def module_report(self) -> dict:
        return {"client": self.setting("module", "off"), "users": self.list_users()}

    def act_for(self, requested: str) -> None:
        """PostgreSQL: the login is the user; naming someone else needs a key user's login, and the history
        then says who acted for whom. (SQLite keeps the named user, as the OS login was never checked.)"""
        if fold(requested) == fold(self.user_name):
            return
        login = self.user  # refused (exit 3, with the 'user add' hint) when the login is nobody here
        if not login["key_user"]:
            raise PermissionDenied(
                _("you are logged in to the database as '{name}'; only a key user may act for another user (--user {requested})").format(name=login['name'], requested=requested)
            )
        self.acting_login = login["name"]
        self.user_name, self._user = requested, None

    def act_as(self, user_name: str) -> None:
        """Make `user_name` the acting user from now on (history's actor); the demo plays its recruiters."""
        if self._user is None or user_name != self.user_name:  # the one acting already: their row, read once (`user`)
            row = self.find_user(user_name)
            self.user_name = user_name
            self._user = row if user_name == user_name.strip() else None  # the row `user` would read again
        self._cleared = set()


def _yes_no(flag) -> str:
    return "yes" if flag else "no"
