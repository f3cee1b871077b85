"""A stage's own win chance. Pure, and light: `config show` lists stages without loading the forecast's rules."""

from __future__ import annotations


def stage_set_percent(auto_status: str | None, set_percent: int | None) -> int | None:
    """A stage's own percentage: 100 for an automatic won stage, 0 for a lost one, else the one set (or None)."""
    if auto_status == "won":
        return 100
    if auto_status == "lost":
        return 0
    return set_percent
