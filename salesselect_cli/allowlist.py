"""Which workflows may run programs on this machine: a list kept in the user's config folder, never in the
database (as git never copies hooks with a clone). Pure apart from reading and writing that one file.

An entry names the database (its identity: a file's absolute path, or a URL's host, port and database,
never the login or password), the workflow (folded name) and a hash of what it would run, so a workflow
whose actions or passed-through variables change needs allowing again.
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


def database_identity(location: str) -> str:
    """The database a workflow belongs to: 'postgresql://host:port/name' (no login, no password, no options),
    or a file's absolute path."""
    text = str(location)
    if text.lower().startswith(("postgresql://", "postgres://")):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(text)
        host = (parts.hostname or "localhost").lower()
        port = parts.port or 5432
        name = unquote(parts.path.lstrip("/")) or unquote(parts.username or "")
        return f"postgresql://{host}:{port}/{name}"
    return str(Path(text).expanduser().resolve())


def action_hash(actions: list[str], env_names: list[str] | tuple[str, ...] = ()) -> str:
    """What allowing a workflow agrees to: its actions in order and the variables it passes to programs."""
    payload = json.dumps({"actions": list(actions), "env": sorted(env_names)}, ensure_ascii=False, sort_keys=True)
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
        wanted = (database_identity(location), _key(workflow), action_hash(actions, env_names))
        return any((e["database"], e["workflow"], e["hash"]) == wanted for e in self.entries)

    def allow(self, location: str, workflow: str, actions: list[str], env_names=()) -> None:
        """Allow the workflow as it is now (an older entry for it is replaced) and save."""
        database = database_identity(location)
        self.entries = [e for e in self.entries if (e["database"], e["workflow"]) != (database, _key(workflow))]
        self.entries.append({"database": database, "workflow": _key(workflow),
                             "hash": action_hash(actions, env_names)})
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
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"version": 1, "allowed": self.entries}, handle, ensure_ascii=False, indent=1)
        os.replace(temporary, self.path)
        self.damaged = False
