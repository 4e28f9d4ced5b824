"""A built basemap on disk: the PMTiles archive read tile by tile, its style and its gazetteer.

The app serves tiles as plain `z/x/y` URLs rather than HTTP range requests into the archive: a
service worker can keep each tile in its cache like any other GET, which is how the city's map
keeps working offline. The archive's directories are walked once at start into an index of
(offset, length) per tile, so serving a tile is a dictionary look-up and a slice of the memory
map, whatever the size of the city.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pmtiles.tile import deserialize_directory, deserialize_header, tileid_to_zxy, zxy_to_tileid

ARCHIVE = "city.pmtiles"
STYLE = "style.json"
GAZETTEER = "gazetteer.json"
MANIFEST = "basemap.json"

Span = tuple[int, int]  # offset, length of a tile's bytes in the archive


def _spans(get: Callable[[int, int], bytes], header: Any) -> Iterator[tuple[int, Span]]:
    """Every tile id with where its bytes are, walking the root and leaf directories."""
    stack = [(header["root_offset"], header["root_length"])]
    while stack:
        offset, length = stack.pop()
        for entry in deserialize_directory(get(offset, length)):
            if entry.run_length == 0:
                stack.append((header["leaf_directory_offset"] + entry.offset, entry.length))
                continue
            span = (header["tile_data_offset"] + entry.offset, entry.length)
            for i in range(entry.run_length):  # identical tiles (open water) share their bytes
                yield entry.tile_id + i, span


class Archive:
    """An open basemap folder; tiles come from a memory map, so memory does not grow with it."""

    def __init__(self, directory: Path) -> None:
        path = directory / ARCHIVE
        if not path.is_file():
            raise FileNotFoundError(path)
        self.directory = directory
        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        header = deserialize_header(self._get(0, 127))
        self.min_zoom, self.max_zoom = int(header["min_zoom"]), int(header["max_zoom"])
        self._index: dict[int, Span] = dict(_spans(self._get, header))
        self.manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text("utf-8"))
        self.style: bytes = (directory / STYLE).read_bytes()
        self.gazetteer: bytes = (directory / GAZETTEER).read_bytes()
        # The build, in the tiles' URLs: a rebuilt map is never mixed with the old one's tiles.
        self.version: str = str(self.manifest.get("extract_sha256", ""))[:12] + "-" + str(
            self.manifest.get("built_at", ""))[:19].replace(":", "")
        # Every tile's address, for the service worker to keep the whole city (a city at z14 is
        # a few thousand tiles).
        self.tile_list: list[list[int]] = sorted(list(tileid_to_zxy(t)) for t in self._index)

    def _get(self, offset: int, length: int) -> bytes:
        return self._map[offset:offset + length]

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The gzipped vector tile, or None where the archive has none (empty there)."""
        if not self.min_zoom <= z <= self.max_zoom or not (0 <= x < 1 << z and 0 <= y < 1 << z):
            return None
        span = self._index.get(zxy_to_tileid(z, x, y))
        return None if span is None else self._get(*span)

    @staticmethod
    def count_tiles(path: Path) -> int:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            header = deserialize_header(m[0:127])
            return sum(1 for _ in _spans(lambda o, n: m[o:o + n], header))

    def close(self) -> None:
        self._map.close()
