"""Typer's help renderer without the parts our help never uses: --help costs about 70 ms less.

typer.rich_utils imports, at its top, rich.markdown (markdown-it-py, Pygments: for rich_markup_mode="markdown")
and rich.traceback (for pretty exceptions): about 170 modules. Our app uses neither: help is plain Rich markup
(Typer's default mode) and pretty exceptions are off (main.app). `load()` imports typer.rich_utils with those
two names as stand-ins, which import the real class the first time anything calls or reads them, so a
future use still works (tests check both). The help it draws is the same (tests compare it with Typer's own).

Called where help is about to be drawn (main.py); anywhere else Typer imports its renderer as usual.
"""

from __future__ import annotations

import sys

STAND_INS = (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback"))


class Deferred(type):
    """The type of a stand-in class: calling it, reading from it or checking against it uses the real class."""

    def real(cls) -> type:
        import importlib

        return getattr(importlib.import_module(cls.module), cls.__name__)

    def __call__(cls, *args, **kwargs):
        return cls.real()(*args, **kwargs)

    def __getattr__(cls, name: str):
        return getattr(cls.real(), name)

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, cls.real())


def load() -> None:
    """Import typer.rich_utils (once) without importing rich.markdown and rich.traceback."""
    if "typer.rich_utils" in sys.modules:
        return
    import types

    placed = {}
    for module, name in STAND_INS:
        if module not in sys.modules:
            stand_in = types.ModuleType(module)
            setattr(stand_in, name, Deferred(name, (), {"module": module}))
            sys.modules[module] = placed[module] = stand_in
    try:
        import typer.rich_utils  # noqa: F401
    finally:  # the real modules load on first use, from then on
        for module, stand_in in placed.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
