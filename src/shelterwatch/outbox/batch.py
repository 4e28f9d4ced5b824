"""Sending a surge: many deliveries per round, sent side by side, settled together.

`service.deliver_due` spends three commits and a provider round trip, one after another, per
message; when an alert reaches ten thousand chats that is minutes. Here one round claims up to
`limit` deliveries and marks them all "sending" in one transaction, sends them on a thread pool
(each provider's limits still hold through the throttle), and settles them in one transaction
whose facts are appended together. The promise stays "never twice": a worker killed mid-round
leaves its sends "sending", and those are dead-lettered after the lease, not repeated — so a
crash can cost the unsent part of one round, which the operator sees as dead letters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.db import reading, transaction
from shelterwatch.log import service as log
from shelterwatch.notify.base import Channel, DeliveryError, Message
from shelterwatch.outbox import service
from shelterwatch.outbox.models import Delivery
from shelterwatch.outbox.throttle import OutboxThrottle, split_by_limits
from shelterwatch.vocabulary import FactKind

logger = logging.getLogger(__name__)
Outcome = str | None | DeliveryError


def _send(channel: Channel | None, name: str, message: Message) -> Outcome:
    try:
        if channel is None:
            raise DeliveryError(f"channel {name!r} is not enabled", retryable=False)
        return channel.send(message)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a bug in a channel must not lose the message
        logger.exception("a %s send raised", name)
        return DeliveryError(repr(exc))


Prepare = Callable[[Message, datetime], Message]


def deliver_round(database_url: str, channels: Mapping[str, Channel], *,
                  clock: Callable[[], datetime], lease_s: float, max_attempts: int,
                  backoff_base_s: float, pool: ThreadPoolExecutor, limit: int = 200,
                  throttle: OutboxThrottle | None = None, lane: service.Lane | None = None,
                  prepare: Prepare | None = None) -> int:
    """Claim, send side by side and settle one round; returns how many were attempted.

    Three short transactions a round, whatever its size: one claims the round, one puts back
    what the limits hold and marks the rest "sending", one settles what happened. `lane` keeps a
    round to some channels (the doors have a lane of their own); `prepare` finishes a message
    as it leaves (a check-in's link is signed then)."""
    with reading(database_url) as session:
        if not service.anything_due(session, now=clock(), lease_s=lease_s, lane=lane):
            return 0
    with transaction(database_url) as session:
        now = clock()
        rows = service.claim(session, now=now, lease_s=lease_s, limit=limit, lane=lane)
        claimed = [(r.id, r.claim_token or "", r.channel, service.message_of(r)) for r in rows]
    if not claimed:
        return 0
    held: list[tuple[int, str, float]] = []
    if throttle is not None:  # outside any transaction: the shared allowance takes its own
        claimed, held = split_by_limits(claimed, throttle, now)
    with transaction(database_url) as session:
        service.hold(session, held=held, now=now)
        claimed = service.begin_sends(session, claimed, now=clock())
    if not claimed:
        return 0
    now = clock()
    if prepare is not None:
        claimed = [(i, t, c, prepare(m, now)) for i, t, c, m in claimed]
    outcomes = list(pool.map(lambda c: _send(channels.get(c[2]), c[2], c[3]), claimed))
    sent: list[tuple[int, str, str | None]] = []
    with transaction(database_url) as session:
        now = clock()
        for (delivery_id, token, name, message), outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, DeliveryError):
                # The reason stays on the delivery row (operators see it): it can name the
                # address (a webhook's URL, a refused e-mail), which a log line must not.
                logger.warning("delivery %s failed", delivery_id, extra={"channel": name})
                if throttle is not None and outcome.retry_after_s is not None:
                    throttle.retry_after(name, message.address, seconds=outcome.retry_after_s,
                                         now=now.timestamp())
                service.mark_failed(session, delivery_id=delivery_id, claim_token=token,
                                    now=now, error=outcome, max_attempts=max_attempts,
                                    backoff_base_s=backoff_base_s)
            else:
                sent.append((delivery_id, token, outcome))
        settle_sent(session, sent, now=now)
    return len(claimed)


def settle_sent(session: Session, sent: list[tuple[int, str, str | None]], *,
                now: datetime) -> int:
    """`service.mark_sent` for many: rows still ours become sent, their facts appended at once."""
    if not sent:
        return 0
    wanted = {delivery_id: (token, ref) for delivery_id, token, ref in sent}
    rows = session.execute(select(Delivery).where(Delivery.id.in_(list(wanted)))
                           .execution_options(populate_existing=True)).scalars().all()
    facts = []
    for row in sorted(rows, key=lambda r: r.id):
        token, ref = wanted[row.id]
        if row.claim_token != token or row.state != service.SENDING:
            logger.warning("delivery %s was sent but its claim had been taken over", row.id)
            continue
        row.state, row.sent_at, row.provider_ref = service.SENT, now, ref
        row.attempts += 1
        facts.append(log.NewFact(FactKind.NOTIFICATION_SENT, "worker", {
            "delivery": row.id, "subject": row.subject, "step": row.step,
            "channel": row.channel, "attempts": row.attempts}))
    # At the commit, after the rows' own updates: the log's lock is held for the appends alone.
    log.append_later(session, facts, now=now)
    return len(facts)
