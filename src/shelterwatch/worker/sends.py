"""The providers' send limits shared by every worker, kept in the database.

A token bucket per process lets N workers send N times a provider's limit (Telegram's ~30
messages a second per bot, an SMS gateway's contracted rate) and trip its flood control in the
first minute of an alert, exactly when several workers share the surge. The allowance lives in
one budget row per channel (`budgets.take`), moved once per round of sends, not once per send.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shelterwatch import db
from shelterwatch.budgets import service as budgets
from shelterwatch.outbox.throttle import Limit, SharedAllowance

SCOPE = "outbox-send"


def shared_allowance(database_url: str) -> SharedAllowance:
    """The allowance every worker on `database_url` draws its sends from."""

    def take(channel: str, limit: Limit, wanted: int, now_s: float) -> int:
        with db.transaction(database_url) as session:
            return budgets.take(session, scope=SCOPE, key=channel, wanted=wanted,
                                rate_per_s=limit.rate_per_s, burst=limit.burst,
                                now=datetime.fromtimestamp(now_s, UTC))

    return take
