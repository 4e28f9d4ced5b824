"""GeoJSON registries: Point features whose properties use shelterwatch's own field names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from shelterwatch.ingest.mapping import ColumnMapping
from shelterwatch.ingest.records import Rejection, RowError, ShelterRecord
from shelterwatch.ingest.rows import RecordMaker


def read(path: Path, mapping: ColumnMapping) -> Iterator[ShelterRecord | Rejection]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield Rejection("file", f"not readable as GeoJSON: {exc}")
        return
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(features, list):
        yield Rejection("file", "not a GeoJSON FeatureCollection")
        return
    maker = RecordMaker(mapping)
    for n, feature in enumerate(features, start=1):
        location = f"feature {n}"
        try:
            yield _record(feature, maker, location)
        except RowError as exc:
            yield Rejection(location, str(exc))


def _record(feature: object, maker: RecordMaker, location: str) -> ShelterRecord:
    if not isinstance(feature, dict):
        raise RowError("not a GeoJSON Feature")
    geometry = feature.get("geometry") or {}
    if not isinstance(geometry, dict):
        raise RowError(f"geometry must be a GeoJSON object, got {type(geometry).__name__}")
    if geometry.get("type") != "Point":
        raise RowError(f"geometry must be a Point, got {geometry.get('type')!r}")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        raise RowError("Point without coordinates")
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2]):
        raise RowError("Point coordinates must be numbers")
    raw_props = feature.get("properties") or {}
    if not isinstance(raw_props, dict):
        raise RowError("properties must be a JSON object")
    props = dict(raw_props)
    if "id" not in props and feature.get("id") is not None:
        props["id"] = feature["id"]
    return maker.make(props, location=location, lat=coords[1], lon=coords[0])
