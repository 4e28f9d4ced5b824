"""Column mappings: how a registry's own columns and words become shelterwatch's fields.

A mapping is a TOML file so a city can describe its export without writing code. The kind rules
are ordered: the first rule whose column value it knows decides the kind, so "metro station" can
outrank "dual-use" for a station that is both.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shelterwatch.ingest.records import RowError, shelter_kind
from shelterwatch.vocabulary import ShelterKind

# What the shelter card shows beside the registry's columns, when the registry publishes it: kept
# in the public details. `sign_phone` is the owner's number printed on the door sign, public by
# law; a keyholder's contact is never imported this way (keyholders are registered apart).
CARD_FIELDS = ("pets_allowed", "entrances", "sign_phone", "registry_date")
FIELDS = ("source_id", "name", "address", "lat", "lon", "kind", "capacity", "step_free",
          "obligation", "facilities", "owner", "area_hint", *CARD_FIELDS)


class MappingError(ValueError):
    """The mapping file itself is unusable."""


@dataclass(frozen=True, slots=True)
class KindRule:
    column: str
    values: Mapping[str, ShelterKind]


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    columns: Mapping[str, str] = field(default_factory=dict)
    kind_rules: tuple[KindRule, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    details: tuple[str, ...] = ()
    source: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8-sig"

    def value(self, row: Mapping[str, Any], name: str) -> Any:
        """A field's raw value: a column, a template of columns, or the default."""
        spec = self.columns.get(name, name)
        if "{" in spec:
            try:
                text = spec.format_map({k: (v or "") for k, v in row.items() if k})
            except KeyError as exc:
                raise RowError(f"template for {name!r} names missing column {exc}") from None
            return text.strip() or self.defaults.get(name)
        raw = row.get(spec)
        if raw is None or raw == "" or (type(raw) is str and raw[0].isspace() and raw.isspace()):
            return self.defaults.get(name)
        return raw

    def kind(self, row: Mapping[str, Any]) -> ShelterKind:
        for rule in self.kind_rules:
            raw = row.get(rule.column)
            if raw is not None and str(raw).strip() in rule.values:
                return rule.values[str(raw).strip()]
        raw = self.value(row, "kind")
        if raw is None:
            seen = ", ".join(f"{r.column}={row.get(r.column)!r}" for r in self.kind_rules)
            raise RowError(f"no kind for this row ({seen or 'no kind column'})")
        return shelter_kind(raw)


# Files in shelterwatch's own vocabulary need no mapping; `id` is the source's own id.
DEFAULT = ColumnMapping(columns={"source_id": "id"})


def load(path: Path) -> ColumnMapping:
    """Read and check a mapping file; errors name the file and the problem."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from None
    columns = data.get("columns", {})
    unknown = set(columns) - set(FIELDS)
    if unknown:
        raise MappingError(f"{path}: unknown field(s) in [columns]: {', '.join(sorted(unknown))}")
    rules: list[KindRule] = []
    for i, rule in enumerate(data.get("kind", []), start=1):
        try:
            values = {str(k): ShelterKind(v) for k, v in rule["values"].items()}
            rules.append(KindRule(column=rule["column"], values=values))
        except (KeyError, ValueError) as exc:
            raise MappingError(f"{path}: kind rule {i} is invalid: {exc}") from None
    return ColumnMapping(columns=columns, kind_rules=tuple(rules),
                         defaults=data.get("defaults", {}),
                         details=tuple(data.get("details", [])), source=data.get("source"),
                         delimiter=data.get("delimiter", ","),
                         encoding=data.get("encoding", "utf-8-sig"))
