"""The checklist versions shipped as data, and the category rule this city judges by."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files

from shelterwatch.rules import readiness
from shelterwatch.rules.readiness import CategoryRule, Checklist

CURRENT = "2025.1"


@lru_cache
def load(version: str = CURRENT) -> Checklist:
    """One checklist version from `data/checklists/readiness-<version>.toml`."""
    path = files("shelterwatch.data.checklists") / f"readiness-{version}.toml"
    if not path.is_file():
        raise KeyError(version)
    return readiness.parse_checklist(tomllib.loads(path.read_text(encoding="utf-8")))


def rule(version: str) -> CategoryRule:
    return readiness.RULES[version]


def published(rule_version: str) -> dict[str, object]:
    """`GET /v1/checklist`: the current version, its items and the rule in force."""
    checklist = load()
    return {"version": checklist.version, "items": [i.public() for i in checklist.items],
            "rule": rule(rule_version).public(),
            "rules": [r.public() for r in readiness.RULES.values()],
            "tiers": {"quick": [i.id for i in checklist.items if i.quick],
                      "full": [i.id for i in checklist.items]}}
