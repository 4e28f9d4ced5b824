"""Read one figure from a process's Prometheus `/metrics`, as a scraper would."""

from __future__ import annotations

import re

import httpx


def figure(base: str, name: str) -> float | None:
    """The value of the unlabelled sample `name` at `base`/metrics, or None when absent."""
    text = httpx.get(f"{base}/metrics", timeout=5).text
    found = re.search(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None
