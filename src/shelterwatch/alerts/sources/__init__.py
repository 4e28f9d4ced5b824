"""Alert sources, each a plug-in turning its input into the same start/end transitions.

One explicit registry of name -> dotted module path (no entry-point magic). A source that polls a
provider exposes `make_poller(settings)`; the others are driven by the API or the CLI.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SOURCES: dict[str, str] = {
    "operator": "shelterwatch.alerts.sources.operator",
    "alerts-in-ua": "shelterwatch.alerts.sources.alerts_in_ua",
    "ukrainealarm": "shelterwatch.alerts.sources.ukrainealarm",
    "cap": "shelterwatch.alerts.sources.cap",
    "replay": "shelterwatch.alerts.sources.replay",
}


def load(name: str) -> ModuleType:
    """The module of a registered source; ValueError naming the known ones otherwise."""
    try:
        return importlib.import_module(SOURCES[name])
    except KeyError:
        raise ValueError(f"unknown alert source {name!r}; known: {', '.join(SOURCES)}") from None


def pollable() -> list[str]:
    """Sources that can be polled from the command line."""
    return [name for name in SOURCES if hasattr(load(name), "make_poller")]
