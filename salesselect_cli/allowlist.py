"""Which workflows may run programs on this machine: a list kept in the user's config folder, never in the
database (as git never copies hooks with a clone). Pure apart from reading and writing that one file.

An entry names the database (its identity: a file's absolute path, or a URL's host, port and database,
never the login or password), the workflow (folded name) and a fingerprint of what it would run (its
run: actions, exactly, and the variables it passes them), so a workflow whose command someone changes in
the database needs allowing again. The same folder keeps the markers of hooks running now (`runs_dir`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Mapping

FILE_NAME = "allowed-workflows.json"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/salesselect, else ~/.config/salesselect (XDG: a relative value is ignored)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    if not base or not os.path.isabs(base):
        base = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "salesselect"


def runs_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the markers of run: hooks running now are kept (hooks.open_run_marker)."""
    return config_dir(env) / "hook-runs"


def database_identity(location: str) -> str:
    """The database a workflow belongs to: 'postgresql://host:port/name' (no login, no password, no options),
    or a file's absolute path."""
    text = str(location)
    if text.lower().startswith(("postgresql://", "postgres://")):
        from urllib.parse import parse_qs, unquote, urlsplit

        parts = urlsplit(text)
        query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            port = parts.port
        except ValueError:  # not a number: the connection refuses it; the identity only needs to be stable
            port = None
        host = (query.get("host") or parts.hostname or "localhost").lower()
        port = query.get("port") or port or 5432
        name = query.get("dbname") or unquote(parts.path.lstrip("/")) or unquote(parts.username or "")
        return f"postgresql://{host}:{port}/{name}"
    return str(Path(text).expanduser().resolve())


def run_actions(actions: list[str] | tuple[str, ...]) -> list[str]:
    """The run: actions among `actions`, exactly as stored (what allowing a workflow agrees to run)."""
    return [action for action in actions
            if isinstance(action, str) and action.strip().partition(":")[0].strip().lower() == "run"]


def action_hash(actions: list[str], env_names: list[str] | tuple[str, ...] = ()) -> str:
    """What allowing a workflow agrees to: its run: actions in order and the variables it passes to them."""
    payload = json.dumps({"run": run_actions(actions), "env": sorted(env_names)}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _key(name: str) -> str:
    from salesselect_cli.rules.text import fold

    return fold(name)


class Allowlist:
    """The machine's allowed workflows. load() never fails on a missing or damaged file: it allows nothing."""

    def __init__(self, path: Path, entries: list[dict] | None = None, damaged: bool = False):
        self.path = path
        self.entries = entries or []
        self.damaged = damaged  # the file was unreadable; saving replaces it

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Allowlist:
        path = config_dir(env) / FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError):
            return cls(path, damaged=True)
        entries = data.get("allowed") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return cls(path, damaged=True)
        good = [e for e in entries if isinstance(e, dict)
                and all(isinstance(e.get(k), str) for k in ("database", "workflow", "hash"))]
        return cls(path, good, damaged=len(good) != len(entries))

    def is_allowed(self, location: str, workflow: str, actions: list[str], env_names=()) -> bool:
        """Whether this machine's user allowed the workflow as it is now (its run: actions and variables)."""
        wanted = (database_identity(location), _key(workflow), action_hash(actions, env_names))
        return any((e["database"], e["workflow"], e["hash"]) == wanted for e in self.entries)

    def allow(self, location: str, workflow: str, actions: list[str], env_names=(), save: bool = True) -> None:
        """Allow the workflow as it is now (an older entry for it is replaced) and save."""
        database = database_identity(location)
        self.entries = [e for e in self.entries if (e["database"], e["workflow"]) != (database, _key(workflow))]
        self.entries.append({"database": database, "workflow": _key(workflow),
                             "hash": action_hash(actions, env_names)})
        if save:
            self.save()

    def disallow(self, location: str, workflow: str) -> bool:
        """Forget the workflow on this machine; True when it was allowed (in any version)."""
        database = database_identity(location)
        kept = [e for e in self.entries if (e["database"], e["workflow"]) != (database, _key(workflow))]
        removed = len(kept) != len(self.entries)
        self.entries = kept
        if removed or self.damaged:
            self.save()
        return removed

    def save(self) -> None:
        """Write the file whole (a temporary file renamed over it), readable by this user only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "allowed": self.entries}, handle, ensure_ascii=False, indent=1)
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self.damaged = False
