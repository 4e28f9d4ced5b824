"""Enqueueing, claiming and settling deliveries. Callers own the transaction; nothing commits.

Sending happens outside any transaction (`deliver_due`), so a slow SMTP server never holds a
database lock: claim in one short transaction, send, settle in another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelterwatch.db import reading, transaction
from shelterwatch.log import service as log
from shelterwatch.notify.base import Channel, DeliveryError, Message
from shelterwatch.outbox import queue
from shelterwatch.outbox.models import DeadLetter, Delivery
from shelterwatch.outbox.throttle import Claimed, OutboxThrottle, split_by_limits
from shelterwatch.vocabulary import FactKind, recipient_role

logger = logging.getLogger(__name__)

SENDING = "sending"  # committed just before the send: a crash now leaves the outcome unknown
SENT = queue.QueueState.SENT
FAILED = queue.QueueState.FAILED
UNKNOWN_OUTCOME = "the worker stopped while sending; not retried, so it cannot arrive twice"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to enqueue; (subject, step, recipient) names it once and for all."""

    subject: str
    step: str
    recipient: str
    channel: str
    address: str
    title: str
    body: str
    link: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0  # higher first (Priority)


class Priority:
    """Who waits least when everything is queued at once (higher first)."""

    DOOR = 110  # a door controller's unlock: people are at that door, or soon will be
    REDIRECT = 100  # heading to a door just reported locked: go elsewhere now
    REPLY = 90  # an answer to a resident who just asked (nearest shelters, a receipt)
    CASE_UPDATE = 80  # the case a resident reported: keyholder reached, patrol, door open
    ESCALATION = 70  # keyholders, patrols, operators (the ladder)
    ALERT_STARTED = 50  # residents told an alert began: go to a shelter
    # A keyholder asked at an alert's start to confirm the door is open: after the ladder, whose
    # keyholders are wanted at a door someone just found locked.
    CHECK_IN = 40
    ALERT_ENDED = 10


def find(session: Session, *, subject: str, step: str, recipient: str) -> Delivery | None:
    return session.execute(
        select(Delivery).where(Delivery.subject == subject, Delivery.step == step,
                               Delivery.recipient == recipient)
    ).scalar_one_or_none()


def enqueue(session: Session, outgoing: Outgoing, *, now: datetime, actor: str) -> Delivery:
    """Queue a delivery unless the same (subject, step, recipient) is already queued or sent."""
    held = find(session, subject=outgoing.subject, step=outgoing.step,
                recipient=outgoing.recipient)
    if held is not None:
        return held
    row = Delivery(subject=outgoing.subject, step=outgoing.step, recipient=outgoing.recipient,
                   channel=outgoing.channel, address=outgoing.address, title=outgoing.title,
                   body=outgoing.body, link=outgoing.link,
                   data=orjson.dumps(dict(outgoing.data)).decode(), state=queue.PENDING,
                   attempts=0, created_at=now, next_attempt_at=now, priority=outgoing.priority)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another process queued it between our look and our insert
        held = find(session, subject=outgoing.subject, step=outgoing.step,
                    recipient=outgoing.recipient)
        assert held is not None
        return held
    # At the commit: a ladder's rung queues several messages and goes on working.
    log.append_later(session, [log.NewFact(
        FactKind.NOTIFICATION_QUEUED, actor,
        {"delivery": row.id, "subject": row.subject, "step": row.step, "channel": row.channel,
         "recipient": recipient_role(row.recipient)},
        {"recipient": row.recipient, "address": row.address})], now=now)
    return row


def enqueue_many(session: Session, outgoing: Sequence[Outgoing], *, now: datetime,
                 actor: str, subject: str, step: str) -> int:
    """Queue one message to many recipients (an alert to every subscriber) in set-based inserts.

    Rows already queued under the same key are skipped, as `enqueue` would; the log gets one
    fact for the broadcast (how many, on which channels), not one per recipient. Returns how many
    were new.
    """
    if not outgoing:
        return 0
    table = cast(Table, Delivery.__table__)
    dialect = session.get_bind().dialect.name
    insert_ = sqlite_insert if dialect == "sqlite" else postgresql_insert
    queued = 0
    channels: dict[str, int] = {}
    for start in range(0, len(outgoing), 1000):
        chunk = outgoing[start:start + 1000]
        rows = [{"subject": o.subject, "step": o.step, "recipient": o.recipient,
                 "channel": o.channel, "address": o.address, "title": o.title, "body": o.body,
                 "link": o.link, "data": orjson.dumps(dict(o.data)).decode(),
                 "state": queue.PENDING, "attempts": 0, "created_at": now,
                 "next_attempt_at": now, "priority": o.priority} for o in chunk]
        statement = insert_(table).on_conflict_do_nothing(
            index_elements=["subject", "step", "recipient"]).returning(table.c.channel)
        for channel in session.execute(statement, rows).scalars():
            channels[channel] = channels.get(channel, 0) + 1
            queued += 1
    if queued:
        log.append(session, kind=FactKind.NOTIFICATION_BROADCAST_QUEUED, actor=actor, now=now,
                   payload={"subject": subject, "step": step, "count": queued,
                            "channels": dict(sorted(channels.items()))})
    return queued


@dataclass(frozen=True, slots=True)
class Lane:
    """Some channels sent apart from the rest, so a slow provider never delays them: the door
    controllers' unlocks must not wait behind ten thousand webhooks."""

    channels: frozenset[str]
    inside: bool = True  # False: every channel but these

    def clause(self) -> Any:
        wanted = Delivery.channel.in_(sorted(self.channels))
        return wanted if self.inside else ~wanted

    def other(self) -> Lane:
        """Everything this lane leaves out."""
        return Lane(self.channels, inside=not self.inside)


def claim(session: Session, *, now: datetime, lease_s: float, limit: int = 20,
          lane: Lane | None = None) -> list[Delivery]:
    """Claim deliveries due now (pending past their back-off, or claims abandoned unsent)."""
    _give_up_interrupted(session, now=now, lease_s=lease_s)
    return queue.claim_due(session, Delivery, due_column="next_attempt_at", now=now,
                           lease_s=lease_s, limit=limit, first="priority",
                           where=lane.clause() if lane is not None else None)


def anything_due(session: Session, *, now: datetime, lease_s: float,
                 lane: Lane | None = None) -> bool:
    """Whether `claim` has anything to do (a read: idle lanes never take the write lock)."""
    interrupted = session.execute(select(Delivery.id).where(
        Delivery.state == SENDING, Delivery.claimed_at < now - timedelta(seconds=lease_s))
        .limit(1)).first()
    return interrupted is not None or queue.any_due(
        session, Delivery, due_column="next_attempt_at", now=now, lease_s=lease_s,
        where=lane.clause() if lane is not None else None)


def hold(session: Session, *, held: Sequence[tuple[int, str, float]], now: datetime) -> None:
    """Put claimed deliveries back, due after their wait: a rate limit said not yet.

    Not an attempt: nothing was sent, so nothing counts against the delivery.
    """
    for delivery_id, claim_token, wait_s in held:
        session.execute(
            update(Delivery).where(Delivery.id == delivery_id, Delivery.claim_token == claim_token,
                                   Delivery.state == queue.CLAIMED)
            .values(state=queue.PENDING, claim_token=None, claimed_at=None,
                    next_attempt_at=now + timedelta(seconds=wait_s))
            .execution_options(synchronize_session=False))


def _give_up_interrupted(session: Session, *, now: datetime, lease_s: float) -> None:
    """Dead-letter sends a dead worker had begun: they may have arrived, so never resend them.

    At most one delivery per key is the promise; the operator sees the dead letter and can
    follow up by hand.
    """
    stale = now - timedelta(seconds=lease_s)
    query = select(Delivery).where(Delivery.state == SENDING, Delivery.claimed_at < stale)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for row in session.execute(query).scalars():
        row.state, row.last_error = FAILED, UNKNOWN_OUTCOME
        row.attempts += 1
        session.add(DeadLetter(delivery_id=row.id, channel=row.channel, recipient=row.recipient,
                               attempts=row.attempts, error=UNKNOWN_OUTCOME, at=now))
        log.append_later(session, [log.NewFact(
            FactKind.NOTIFICATION_FAILED, "worker",
            {"delivery": row.id, "subject": row.subject, "step": row.step,
             "channel": row.channel, "attempts": row.attempts},
            {"error": UNKNOWN_OUTCOME})], now=now)


def begin_send(session: Session, *, delivery_id: int, claim_token: str, now: datetime) -> bool:
    """Commit "sending" before the send; False if the claim is no longer ours."""
    done = session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.claim_token == claim_token,
                               Delivery.state == queue.CLAIMED)
        .values(state=SENDING, claimed_at=now).execution_options(synchronize_session=False))
    return bool(getattr(done, "rowcount", 0))


def begin_sends(session: Session, claimed: list[Claimed], *, now: datetime) -> list[Claimed]:
    """`begin_send` for a whole round in one statement; the claims still ours, in order."""
    if not claimed:
        return []
    tokens = {token for _, token, _, _ in claimed}
    ours = set(session.execute(
        update(Delivery).where(Delivery.id.in_([c[0] for c in claimed]),
                               Delivery.claim_token.in_(sorted(tokens)),
                               Delivery.state == queue.CLAIMED)
        .values(state=SENDING, claimed_at=now).returning(Delivery.id)
        .execution_options(synchronize_session=False)).scalars())
    return [c for c in claimed if c[0] in ours]


def mark_sent(session: Session, *, delivery_id: int, claim_token: str, now: datetime,
              provider_ref: str | None) -> bool:
    """Settle a claimed delivery as sent; False if our claim was taken over meanwhile."""
    row = session.get(Delivery, delivery_id, populate_existing=True)
    if row is None or row.claim_token != claim_token or row.state != SENDING:
        return False
    row.state, row.sent_at, row.provider_ref = SENT, now, provider_ref
    row.attempts += 1
    log.append_later(session, [log.NewFact(
        FactKind.NOTIFICATION_SENT, "worker",
        {"delivery": row.id, "subject": row.subject, "step": row.step, "channel": row.channel,
         "attempts": row.attempts})], now=now)
    return True


def backoff_s(attempts: int, base_s: float, cap_s: float = 900.0) -> float:
    """Seconds to wait after the n-th failed attempt: base, 2×base, 4×base … up to a cap."""
    return float(min(cap_s, base_s * 2 ** max(0, attempts - 1)))


def mark_failed(session: Session, *, delivery_id: int, claim_token: str, now: datetime,
                error: DeliveryError, max_attempts: int, backoff_base_s: float) -> bool:
    """Record a failed attempt: back to pending with back-off, or dead-lettered when hopeless."""
    row = session.get(Delivery, delivery_id, populate_existing=True)
    if row is None or row.claim_token != claim_token or row.state != SENDING:
        return False
    throttled = error.retry_after_s is not None  # the provider's pacing, not a failure
    if not throttled:
        row.attempts += 1
    row.last_error = error.detail[:2000]
    if error.retryable and (throttled or row.attempts < max_attempts):
        wait = error.retry_after_s or backoff_s(row.attempts, backoff_base_s)
        row.state, row.next_attempt_at = queue.PENDING, now + timedelta(seconds=wait)
        row.claim_token = None
        return True
    row.state = FAILED
    session.add(DeadLetter(delivery_id=row.id, channel=row.channel, recipient=row.recipient,
                           attempts=row.attempts, error=row.last_error, at=now))
    log.append_later(session, [log.NewFact(
        FactKind.NOTIFICATION_FAILED, "worker",
        {"delivery": row.id, "subject": row.subject, "step": row.step, "channel": row.channel,
         "attempts": row.attempts},
        {"error": row.last_error})], now=now)
    return True


def message_of(row: Delivery) -> Message:
    return Message(address=row.address, subject=row.title, text=row.body, link=row.link,
                   delivery_key=f"{row.subject}:{row.step}:{row.recipient}",
                   data=orjson.loads(row.data))


def deliver_due(database_url: str, channels: Mapping[str, Channel], *,
                clock: Callable[[], datetime], lease_s: float, max_attempts: int,
                backoff_base_s: float, limit: int = 20,
                throttle: OutboxThrottle | None = None, lane: Lane | None = None,
                prepare: Callable[[Message, datetime], Message] | None = None) -> int:
    """Claim, send and settle one batch; returns how many deliveries were attempted.

    With a `throttle`, a delivery over its channel's or recipient's limit goes back to wait its
    turn (highest priority first when it is due again), and a provider's "retry after" holds
    that recipient.
    """
    def claimed(session: Session) -> list[Claimed]:
        return [(r.id, r.claim_token or "", r.channel, message_of(r))
                for r in claim(session, now=clock(), lease_s=lease_s, limit=limit, lane=lane)]

    def send(item: Claimed) -> None:
        delivery_id, token, channel_name, message = item
        with transaction(database_url) as session:
            if not begin_send(session, delivery_id=delivery_id, claim_token=token, now=clock()):
                return
        channel = channels.get(channel_name)
        if prepare is not None:
            message = prepare(message, clock())
        try:
            if channel is None:
                raise DeliveryError(f"channel {channel_name!r} is not enabled", retryable=False)
            ref = channel.send(message)
        except DeliveryError as exc:
            # The reason stays on the delivery row (operators see it): it can name the
            # address (a webhook's URL, a refused e-mail), which a log line must not.
            logger.warning("delivery %s failed", delivery_id, extra={"channel": channel_name})
            if throttle is not None and exc.retry_after_s is not None:
                throttle.retry_after(channel_name, message.address, seconds=exc.retry_after_s,
                                     now=clock().timestamp())
            settle_failed(delivery_id, token, exc)
            return
        except Exception as exc:  # a bug in a channel must not lose the message
            logger.exception("delivery %s raised", delivery_id)
            settle_failed(delivery_id, token, DeliveryError(repr(exc)))
            return
        with transaction(database_url) as session:
            if not mark_sent(session, delivery_id=delivery_id, claim_token=token, now=clock(),
                             provider_ref=ref):
                logger.warning("delivery %s was sent but its claim had been taken over",
                               delivery_id)

    def settle_failed(delivery_id: int, token: str, error: DeliveryError) -> None:
        with transaction(database_url) as session:
            mark_failed(session, delivery_id=delivery_id, claim_token=token, now=clock(),
                        error=error, max_attempts=max_attempts, backoff_base_s=backoff_base_s)

    def lost(item: Claimed, exc: Exception) -> None:
        # The database failed around a send: whether it went out is unknown, so it is never
        # sent again from here; its lease dead-letters it (`_give_up_interrupted`).
        logger.error("delivery %s: %r; left to its lease", item[0], exc)

    ready: list[Claimed] = []  # what the limits let through: the deliveries attempted

    def limited(claimed: list[Claimed]) -> list[Claimed]:
        ready.extend(within_limits(database_url, claimed, throttle, clock) if throttle
                     else claimed)
        return ready

    with reading(database_url) as session:
        if not anything_due(session, now=clock(), lease_s=lease_s, lane=lane):
            return 0
    queue.drain(database_url, claim=claimed, handle=send, failed=lost, triage=limited)
    return len(ready)


def within_limits(database_url: str, claimed: list[Claimed], throttle: OutboxThrottle,
                  clock: Callable[[], datetime]) -> list[Claimed]:
    """The claimed deliveries the limits let through now; the rest are put back to wait."""
    now = clock()
    ready, held = split_by_limits(claimed, throttle, now)
    if held:
        with transaction(database_url) as session:
            hold(session, held=held, now=now)
    return ready
