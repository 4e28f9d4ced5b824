"""`Idempotency-Key`: a retried write gets the first receipt again (DESIGN §3.7).

The key is remembered in the same transaction as the write it answers, so either both are committed
or neither is; a concurrent duplicate loses on the primary key and then reads the winner's receipt.
These functions take the caller's session and never commit: the views' `receipts.respond_once`
and the reports' writer own the transaction.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from shelterwatch.errors import Conflict, InvalidInput
from shelterwatch.observations.models import IdempotencyKey

MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Receipt:
    status_code: int
    body: dict[str, Any]


def request_hash(body: Any) -> str:
    """A digest of what was asked, so a key reused for a different request is refused."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII "
                           "characters")
    return key


def replay(session: Session, *, scope: str, key: str, digest: str) -> Receipt | None:
    """The first receipt for this key, or None when the key is new."""
    row = session.get(IdempotencyKey, (scope, key))
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict(f"Idempotency-Key {key!r} was already used for a different request")
    return Receipt(row.status_code, orjson.loads(row.response))


def remember(session: Session, *, scope: str, key: str, digest: str, receipt: Receipt,
             now: datetime) -> None:
    session.add(IdempotencyKey(scope=scope, key=key, request_hash=digest,
                               status_code=receipt.status_code,
                               response=orjson.dumps(receipt.body).decode(), created_at=now))
    session.flush()


_writers: dict[str, threading.Lock] = {}
_writers_guard = threading.Lock()


@contextmanager
def one_writer(session: Session) -> Iterator[None]:
    """Queue this process's writers on a lock before they reach the database.

    The log admits one writer at a time anyway (SQLite's write lock, PostgreSQL's row lock on the
    log head). Waiting inside SQLite means sleeping in its busy handler with growing back-off;
    waiting inside PostgreSQL means holding a connection and a transaction open. A Python lock
    hands the turn over at once and keeps the database's queue to one per process.
    """
    bind = session.get_bind()
    url = str(bind.engine.url)
    with _writers_guard:
        lock = _writers.setdefault(url, threading.Lock())
    with lock:
        yield
