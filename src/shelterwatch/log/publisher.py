"""Keeps the Merkle tree up with the log and publishes signed heads to the witnesses.

The worker (and `shelterwatch log head`, on demand) drives it and owns its transactions
(`worker.heads.tick`): it grows the tree in batches, signs a head when one is due, and pushes the
latest head to every witness that has not got it yet: a witness that holds an older head
catches a deleted tail however the database is rewound. A witness that fails is retried on the
next tick; a later head supersedes an earlier one, so nothing queues up.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import Session

from shelterwatch.config import Settings
from shelterwatch.log import signing, tree

logger = logging.getLogger(__name__)
BATCH = 1000  # facts per transaction


def push_to(witness: str, head: dict[str, Any], *, timeout_s: float = 10.0) -> None:
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
        self.key = signing.load_or_create(self.settings.log_key_path)
        self.targets = list(self.settings.log_witnesses)  # checked when settings were read

    def grow(self, session: Session) -> bool:
        """Add one batch of facts to the tree, in the caller's transaction; False at the end."""
        before = tree.size(session)
        return tree.extend(session, batch=BATCH) != before

    def sign(self, session: Session, *, now: datetime, force: bool = False,
             ) -> dict[str, Any] | None:
        """Sign a head if one is due (or `force`), in the caller's transaction; returns the
        latest head as published, None while the log is empty."""
        if force:
            tree.publish(session, self.key, now=now)
        else:
            tree.publish(session, self.key, now=now,
                         every_facts=self.settings.log_head_every_facts,
                         every_s=self.settings.log_head_every_s)
        latest = tree.latest_head(session)
        return tree.head_view(latest) if latest else None

    def push(self, head: dict[str, Any]) -> None:
        """Hand the head to each witness that lacks it (no database: after the commit)."""
        for witness in self.targets:
            if self.pushed.get(witness, 0) >= head["tree_size"]:
                continue
            try:
                push_to(witness, head)
            except (OSError, httpx.HTTPError) as exc:
                logger.warning("witness %s did not take head %s: %s", witness,
                               head["tree_size"], exc)
                continue
            self.pushed[witness] = head["tree_size"]
