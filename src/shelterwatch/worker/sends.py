"""The providers' send limits shared by every worker, kept in the database.

A token bucket per process lets N workers send N times a provider's limit (Telegram's ~30
messages a second per bot and ~1 a second per chat, an SMS gateway's contracted rate) and trip
its flood control in the first minute of an alert, exactly when several workers share the surge.
The allowances live in budget rows, one per channel and one per recipient in use
(`budgets.take_each`), moved once per round of sends in three statements, not once per send.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from shelterwatch import db
from shelterwatch.budgets import rule
from shelterwatch.budgets import service as budgets
from shelterwatch.outbox.throttle import Limit, SharedAllowance, SharedPause

SCOPE = "outbox-send"
logger = logging.getLogger(__name__)


def cell_key(key: str) -> str:
    """A bucket's key as the budget table holds it: a channel's name as it is, a recipient's
    address (`channel|address`, a keyholder's chat or phone) as a digest, so no contact is
    copied into operational state and every key fits the column."""
    channel, sep, address = key.partition("|")
    if not sep:
        return key
    return f"{channel}|{hashlib.sha256(address.encode()).hexdigest()[:40]}"


def shared_allowance(database_url: str) -> SharedAllowance:
    """The allowances every worker on `database_url` draws its sends from."""

    def take(asks: Sequence[Sequence[tuple[str, Limit]]], now_s: float) -> list[float]:
        allowances = [[rule.Allowance(SCOPE, cell_key(key), limit.rate_per_s, limit.burst)
                       for key, limit in ask] for ask in asks]
        with db.transaction(database_url) as session:
            return budgets.take_each(session, allowances,
                                     now=datetime.fromtimestamp(now_s, UTC))

    return take


def shared_pause(database_url: str) -> SharedPause:
    """Hold a bucket for every worker on `database_url` until a provider's "retry after" ends.

    Called from a sender as it settles a throttled send: a database that fails here costs only
    the sharing (this worker's own bucket is paused already), never the delivery.
    """

    def pause(key: str, limit: Limit, until_s: float) -> None:
        allowance = rule.Allowance(SCOPE, cell_key(key), limit.rate_per_s, limit.burst)
        try:
            with db.transaction(database_url) as session:
                budgets.postpone(session, allowance, until=until_s)
        except SQLAlchemyError:
            logger.warning("could not share a provider's retry-after; this worker holds it")

    return pause
