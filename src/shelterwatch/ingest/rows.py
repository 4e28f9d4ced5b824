"""Turning one raw row (CSV row or GeoJSON properties) into a record, with the mapping applied.

A national registry is 65,000 rows, so the mapping is compiled once per file into the columns
each field reads (`RecordMaker`), rather than resolved again for each of 16 fields of every row,
and the few distinct words of a column (kinds, yes/no, obligations) are converted once each.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from shelterwatch.ingest import records as r
from shelterwatch.ingest.mapping import CARD_FIELDS, FIELDS, ColumnMapping
from shelterwatch.vocabulary import Facility, Obligation, ShelterKind


def _text(value: Any, limit: int = 300) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "  " in text or "\n" in text or "\t" in text or text[:1].isspace() or text[-1:].isspace():
        text = " ".join(text.split())
    return text[:limit]


# A registry repeats a handful of words in these columns; each distinct one is checked once.
# Errors are not cached (lru_cache keeps only returns), so each bad row still gets its reason.
_kind = lru_cache(maxsize=1024)(r.shelter_kind)
_obligation = lru_cache(maxsize=1024)(r.obligation)
_yes_no = lru_cache(maxsize=1024)(r.yes_no)
_facilities_text = lru_cache(maxsize=4096)(r.facilities)


def _facilities(raw: object) -> tuple[Facility, ...]:
    return _facilities_text(raw) if type(raw) is str else r.facilities(raw)


def _yes_no_of(raw: object, name: str) -> bool | None:
    return _yes_no(raw, name) if type(raw) is str else r.yes_no(raw, name)


def _obligation_of(raw: object) -> Obligation:
    return _obligation(raw) if raw is None or type(raw) is str else r.obligation(raw)


class RecordMaker:
    """One mapping, compiled for rows with these columns (all columns when unknown)."""

    def __init__(self, mapping: ColumnMapping, columns: Collection[str] | None = None) -> None:
        self.mapping = mapping
        # field -> (column or None for a template, default); a column the file lacks is absent
        # from every row, so its field is always the default and is not looked up at all.
        self.plain: list[tuple[str, str, Any]] = []
        self.fixed: dict[str, Any] = {}
        self.templates: list[str] = []
        for name in FIELDS:
            spec = mapping.columns.get(name, name)
            if "{" in spec:
                self.templates.append(name)
            elif columns is None or spec in columns:
                self.plain.append((name, spec, mapping.defaults.get(name)))
            else:
                self.fixed[name] = mapping.defaults.get(name)
        self.simple_kind = not mapping.kind_rules
        # The card's fields this file can fill: the others are None in every row.
        self.card_fields = [f for f in CARD_FIELDS if self.fixed.get(f, "") is not None]
        # A CSV row's list read by position, when no field needs the row as a dict (templates,
        # kind rules and details name columns): a dict per row cost as much as reading it.
        self.header = list(columns) if isinstance(columns, list) else None
        self.plain_at: list[tuple[str, int, Any]] | None = None
        if self.header is not None and not self.templates and self.simple_kind \
                and not mapping.details:
            last = {column: i for i, column in enumerate(self.header)}  # as a dict keeps it
            self.plain_at = [(name, last[column], default)
                             for name, column, default in self.plain]

    def raw(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Every field's raw value: as `ColumnMapping.value` gives it, field by field."""
        out = dict(self.fixed)
        get = row.get
        for name, column, default in self.plain:
            v = get(column)
            if v is None or v == "" or (type(v) is str and v[0].isspace() and v.isspace()):
                v = default
            out[name] = v
        for name in self.templates:
            out[name] = self.mapping.value(row, name)
        return out

    def kind(self, row: Mapping[str, Any], raw: Any) -> ShelterKind:
        if self.simple_kind and raw is not None:
            return _kind(raw) if type(raw) is str else r.shelter_kind(raw)
        return self.mapping.kind(row)

    def make_fields(self, fields: list[str], *, location: str) -> r.ShelterRecord:
        """`make` of a CSV row given as its fields, in the header's order."""
        if self.plain_at is None:
            assert self.header is not None, "a RecordMaker for lists is made with the header"
            return self.make(dict(zip(self.header, fields, strict=True)), location=location)
        v = dict(self.fixed)
        for name, i, default in self.plain_at:
            x = fields[i]
            if x == "" or (x[0].isspace() and x.isspace()):
                x = default
            v[name] = x
        return self._record(v, {}, location=location)

    def make(self, row: Mapping[str, Any], *, location: str, lat: Any = None,
             lon: Any = None) -> r.ShelterRecord:
        """Raises RowError with the reason when the row cannot be imported."""
        return self._record(self.raw(row), row, location=location, lat=lat, lon=lon)

    def _record(self, v: dict[str, Any], row: Mapping[str, Any], *, location: str,
                lat: Any = None, lon: Any = None) -> r.ShelterRecord:
        source_id = _text(v["source_id"], 128)
        if not source_id:
            raise r.RowError("missing id")
        lat_v = r.coordinate(lat if lat is not None else v["lat"], "lat", -90, 90)
        lon_v = r.coordinate(lon if lon is not None else v["lon"], "lon", -180, 180)
        address = _text(v["address"])
        name = _text(v["name"]) or address
        if not name:
            raise r.RowError("missing name and address")
        details = {k: _text(row.get(k)) for k in self.mapping.details
                   if row.get(k) not in (None, "")}
        for extra in self.card_fields:
            raw = v[extra]
            if raw is None:
                continue
            if extra == "pets_allowed":
                pets = _yes_no_of(raw, extra)
                value = "" if pets is None else "yes" if pets else "no"
            else:
                value = _text(raw, 80)
            if value:
                details[extra] = value
        capacity = v["capacity"]
        return r.ShelterRecord(
            location=location, source_id=source_id, name=name[:1].upper() + name[1:],
            address=address, lat=lat_v, lon=lon_v, kind=self.kind(row, v["kind"]),
            obligation=_obligation_of(v["obligation"]),
            capacity=None if capacity is None else r.capacity(capacity),
            step_free=_yes_no_of(v["step_free"], "step_free"),
            facilities=_facilities(v["facilities"]),
            owner=(owner := v["owner"]) and _text(owner) or None,
            area_hint=(hint := v["area_hint"]) and _text(hint) or None,
            details=details,
        )


def to_record(row: Mapping[str, Any], mapping: ColumnMapping, *, location: str,
              lat: Any = None, lon: Any = None) -> r.ShelterRecord:
    """Raises RowError with the reason when the row cannot be imported."""
    return RecordMaker(mapping).make(row, location=location, lat=lat, lon=lon)

