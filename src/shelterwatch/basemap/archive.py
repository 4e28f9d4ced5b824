"""A built basemap on disk: the PMTiles archive read tile by tile, its style and its gazetteer.

The app serves tiles as plain `z/x/y` URLs rather than HTTP range requests into the archive: a
service worker can keep each tile in its cache like any other GET, which is how the city's map
keeps working offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pmtiles.reader import MmapSource, Reader, all_tiles

ARCHIVE = "city.pmtiles"
STYLE = "style.json"
GAZETTEER = "gazetteer.json"
MANIFEST = "basemap.json"


class Archive:
    """An open basemap folder; tiles come from a memory map, so memory does not grow with it."""

    def __init__(self, directory: Path) -> None:
        path = directory / ARCHIVE
        if not path.is_file():
            raise FileNotFoundError(path)
        self.directory = directory
        self._file = path.open("rb")
        source = MmapSource(self._file)
        self._reader = Reader(source)
        header = self._reader.header()
        self.min_zoom, self.max_zoom = int(header["min_zoom"]), int(header["max_zoom"])
        self.manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text("utf-8"))
        self.style: bytes = (directory / STYLE).read_bytes()
        self.gazetteer: bytes = (directory / GAZETTEER).read_bytes()
        # The build, in the tiles' URLs: a rebuilt map is never mixed with the old one's tiles.
        self.version: str = str(self.manifest.get("extract_sha256", ""))[:12] + "-" + str(
            self.manifest.get("built_at", ""))[:19].replace(":", "")
        # Every tile's address, for the service worker to keep the whole city (a city at z14 is
        # a few thousand tiles; the list is built once, at start).
        self.tile_list: list[list[int]] = sorted(
            [z, x, y] for (z, x, y), _ in all_tiles(source))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The gzipped vector tile, or None where the archive has none (empty there)."""
        if not self.min_zoom <= z <= self.max_zoom:
            return None
        data: bytes | None = self._reader.get(z, x, y)
        return data

    @staticmethod
    def count_tiles(path: Path) -> int:
        with path.open("rb") as f:
            return len(list(all_tiles(MmapSource(f))))

    def close(self) -> None:
        self._file.close()
