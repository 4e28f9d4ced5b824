"""Signed heads of the fact log, driven by the worker and `shelterwatch log head`.

The publisher (`log.publisher`) works inside whatever transaction it is given; here each batch of
the tree gets a short transaction of its own, with `pause` between them, so the alert-time
writers (reports, timers) never wait long behind it for SQLite's one write lock. The witnesses
are told only after the head is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shelterwatch import db
from shelterwatch.log.publisher import Publisher


def tick(publisher: Publisher, *, now: datetime, force: bool = False,
         pause: Callable[[], object] | None = None) -> dict[str, Any] | None:
    """Grow the tree to the log's end, sign a head if due, push it; returns the latest head."""
    url = publisher.settings.database_url
    while True:
        with db.transaction(url) as session:
            grew = publisher.grow(session)
        if not grew:
            break
        if pause is not None:
            pause()
    with db.transaction(url) as session:
        view = publisher.sign(session, now=now, force=force)
    if view is not None:
        publisher.push(view)
    return view
