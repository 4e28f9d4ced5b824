"""What audit tests share: real PNG photos and answer sheets from the published checklist."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any


def png(seed: int = 0, size: int = 8) -> bytes:
    """A real PNG (a small square of one colour); different seeds give different bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixel = bytes([seed % 256, (seed * 7) % 256, (seed * 13) % 256])
    rows = b"".join(b"\x00" + pixel * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def all_pass(checklist: dict[str, Any], kind: str, tier: str = "full") -> dict[str, Any]:
    """Every item a shelter of `kind` is asked about in `tier`, answered passing."""
    out: dict[str, Any] = {}
    for item in checklist["items"]:
        if tier == "quick" and not item["quick"]:
            continue
        if "*" not in item["kinds"] and kind not in item["kinds"]:
            continue
        out[item["id"]] = 100_000 if item["answer_type"] == "number" else "pass"
    return out
