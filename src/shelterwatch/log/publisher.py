"""Keeps the Merkle tree up with the log and publishes signed heads to the witnesses.

Run by the worker (and by `shelterwatch log head` on demand). Each tick grows the tree in
batches, signs a head when one is due, and pushes the latest head to every witness that has not
got it yet: a witness that holds an older head catches a deleted tail however the database is
rewound. A witness that fails is retried on the next tick; a later head supersedes an earlier
one, so nothing queues up.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from shelterwatch import db
from shelterwatch.config import Settings
from shelterwatch.log import signing, tree

logger = logging.getLogger(__name__)
BATCH = 1000  # facts per transaction


def push(witness: str, head: dict[str, Any], *, timeout_s: float = 10.0) -> None:
    """Hand one signed head to one witness; raises on failure."""
    body = orjson.dumps(head)
    if witness.startswith("dir:"):
        folder = Path(witness[4:])
        folder.mkdir(parents=True, exist_ok=True)
        for name in (f"sth-{head['tree_size']:012d}.json", "latest.json"):
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sth-")
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, folder / name)
        return
    response = httpx.post(witness, content=body, timeout=timeout_s,
                          headers={"Content-Type": "application/json"})
    response.raise_for_status()


@dataclass
class Publisher:
    settings: Settings
    pushed: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = self.settings.database_url
        self.key = signing.load_or_create(self.settings.log_key_path)
        self.targets = list(self.settings.log_witnesses)  # checked when settings were read

    def tick(self, *, now: datetime, force: bool = False,
             pause: Callable[[], object] | None = None) -> dict[str, Any] | None:
        """Grow the tree to the log's end, sign a head if due; returns the latest head.

        The tree grows in short transactions with `pause` between them, so the alert-time
        writers (reports, timers) never wait long behind it for SQLite's one write lock.
        """
        while True:
            with db.transaction(self.url) as session:
                before = tree.size(session)
                after = tree.extend(session, batch=BATCH)
            if after == before:
                break
            if pause is not None:
                pause()
        with db.transaction(self.url) as session:
            if force:
                tree.publish(session, self.key, now=now)
            else:
                tree.publish(session, self.key, now=now,
                             every_facts=self.settings.log_head_every_facts,
                             every_s=self.settings.log_head_every_s)
            latest = tree.latest_head(session)
            view = tree.head_view(latest) if latest else None
        if view is not None:
            self._push(view)
        return view

    def _push(self, head: dict[str, Any]) -> None:
        for witness in self.targets:
            if self.pushed.get(witness, 0) >= head["tree_size"]:
                continue
            try:
                push(witness, head)
            except (OSError, httpx.HTTPError) as exc:
                logger.warning("witness %s did not take head %s: %s", witness,
                               head["tree_size"], exc)
                continue
            self.pushed[witness] = head["tree_size"]
