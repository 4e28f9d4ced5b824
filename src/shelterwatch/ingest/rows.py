"""Turning one raw row (CSV row or GeoJSON properties) into a record, with the mapping applied."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shelterwatch.ingest import records as r
from shelterwatch.ingest.mapping import CARD_FIELDS, ColumnMapping


def _text(value: Any, limit: int = 300) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "  " in text or "\n" in text or "\t" in text or text[:1].isspace() or text[-1:].isspace():
        text = " ".join(text.split())
    return text[:limit]


def to_record(row: Mapping[str, Any], mapping: ColumnMapping, *, location: str,
              lat: Any = None, lon: Any = None) -> r.ShelterRecord:
    """Raises RowError with the reason when the row cannot be imported."""
    source_id = _text(mapping.value(row, "source_id"), 128)
    if not source_id:
        raise r.RowError("missing id")
    lat_v = r.coordinate(lat if lat is not None else mapping.value(row, "lat"), "lat", -90, 90)
    lon_v = r.coordinate(lon if lon is not None else mapping.value(row, "lon"), "lon", -180, 180)
    address = _text(mapping.value(row, "address"))
    name = _text(mapping.value(row, "name")) or address
    if not name:
        raise r.RowError("missing name and address")
    owner = mapping.value(row, "owner")
    details = {k: _text(row.get(k)) for k in mapping.details if row.get(k) not in (None, "")}
    for extra in CARD_FIELDS:
        raw = mapping.value(row, extra)
        if extra == "pets_allowed":
            pets = r.yes_no(raw, extra)
            value = "" if pets is None else "yes" if pets else "no"
        else:
            value = _text(raw, 80)
        if value:
            details[extra] = value
    return r.ShelterRecord(
        location=location, source_id=source_id, name=name[:1].upper() + name[1:],
        address=address, lat=lat_v, lon=lon_v, kind=mapping.kind(row),
        obligation=r.obligation(mapping.value(row, "obligation")),
        capacity=r.capacity(mapping.value(row, "capacity")),
        step_free=r.yes_no(mapping.value(row, "step_free"), "step_free"),
        facilities=r.facilities(mapping.value(row, "facilities")),
        owner=_text(owner) or None,
        area_hint=_text(mapping.value(row, "area_hint")) or None,
        details=details,
    )
