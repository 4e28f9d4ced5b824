"""The registry readers by format name: one explicit plug-in table, chosen by `--format`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

from shelterwatch.ingest.mapping import ColumnMapping
from shelterwatch.ingest.records import Rejection, ShelterRecord

Reader = Callable[[Path, ColumnMapping], Iterator[ShelterRecord | Rejection]]

READERS = {
    "csv": "shelterwatch.ingest.registry_csv:read",
    "geojson": "shelterwatch.ingest.registry_geojson:read",
    "osm": "shelterwatch.ingest.registry_osm:read",
}


def reader(fmt: str) -> Reader:
    try:
        module, _, name = READERS[fmt].partition(":")
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(READERS)})") from None
    read: Reader = getattr(importlib.import_module(module), name)
    return read
