"""The pack as static files in a directory (`SHELTERWATCH_PACK_DIR`): published atomically by
the worker or `shelterwatch pack publish DIR`, served by nginx or a CDN, or read by the API.

`pack.json` and its pre-compressed `pack.json.gz` (nginx `gzip_static`) are hard links to
content-addressed files, swapped with `rename`, so a reader sees the old pack or the new one,
never half of either. Nothing is written when the content is unchanged, so the files' mtime (and
nginx's ETag) changes exactly when the content does.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from pathlib import Path

from shelterwatch.pack.service import Pack, etag_of

BODY, GZIPPED = "pack.json", "pack.json.gz"
KEEP = 3  # content-addressed versions kept, for readers still holding an older one


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _point(link: Path, target: Path) -> None:
    tmp = link.with_name(f".{link.name}.{os.getpid()}.{threading.get_ident()}.link")
    tmp.unlink(missing_ok=True)
    os.link(target, tmp)
    os.replace(tmp, link)


def publish(directory: Path, pack: Pack) -> bool:
    """Make `pack` the published one; False when it already is (nothing written)."""
    directory.mkdir(parents=True, exist_ok=True)
    tag = pack.etag.strip('"')
    versioned = directory / f"pack-{tag}.json"
    current = directory / BODY
    if current.exists() and versioned.exists() and os.path.samefile(current, versioned):
        return False
    _write(versioned, pack.body)
    _write(versioned.with_name(versioned.name + ".gz"), pack.gzipped)
    # The compressed one first: a reader of the pair never finds a body newer than its .gz.
    _point(directory / GZIPPED, versioned.with_name(versioned.name + ".gz"))
    _point(current, versioned)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    _prune(directory)
    return True


def _prune(directory: Path) -> None:
    versions = sorted(directory.glob("pack-*.json"), key=lambda p: p.stat().st_mtime)
    for old in versions[:-KEEP]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".gz").unlink(missing_ok=True)


class PublishedPack:
    """The API's view of the published pack: re-read only when the file changed (one `stat`
    per request), never built on a request."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / GZIPPED
        self._seen: tuple[int, int] | None = None
        self._pack: Pack | None = None
        self._lock = threading.Lock()

    def age_s(self) -> float | None:
        """Seconds since the published pack was last written (None: nothing published)."""
        try:
            return max(0.0, time.time() - self.path.stat().st_mtime)
        except FileNotFoundError:
            return None

    def current(self) -> Pack | None:
        """The published pack, or None while nothing is published yet."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._pack
        seen = (stat.st_ino, stat.st_mtime_ns)
        if seen != self._seen:
            with self._lock:
                if seen != self._seen:
                    gzipped = self.path.read_bytes()
                    body = gzip.decompress(gzipped)
                    self._pack = Pack(body=body, gzipped=gzipped, etag=etag_of(body))
                    self._seen = seen
        return self._pack
