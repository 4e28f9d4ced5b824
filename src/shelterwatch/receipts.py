"""A view's write answered once per `Idempotency-Key`, committed together with its receipt.

The view owns the transaction (DESIGN §6): the write and the remembered receipt commit together
before the answer leaves (DESIGN §3.1), and a retry gets the first receipt again (§3.7). The
remembering itself is `observations.idempotency`, which never commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelterwatch.observations import idempotency
from shelterwatch.observations.idempotency import Receipt


def respond_once(session: Session, *, scope: str, key: str | None, body: Any,
                 write: Callable[[], Receipt], now: datetime) -> Receipt:
    """Run the write once per key and commit it with its receipt; retries get that receipt."""
    with idempotency.one_writer(session):
        return _respond_once(session, scope=scope, key=key, body=body, write=write, now=now)


def _respond_once(session: Session, *, scope: str, key: str | None, body: Any,
                  write: Callable[[], Receipt], now: datetime) -> Receipt:
    if key is None:
        receipt = write()
        session.commit()
        return receipt
    digest = idempotency.request_hash(body)
    first = idempotency.replay(session, scope=scope, key=key, digest=digest)
    if first is not None:
        session.rollback()
        return first
    receipt = write()
    idempotency.remember(session, scope=scope, key=key, digest=digest, receipt=receipt, now=now)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry with the same key committed first
        session.rollback()
        first = idempotency.replay(session, scope=scope, key=key, digest=digest)
        if first is None:
            raise
        session.rollback()
        return first
    return receipt
