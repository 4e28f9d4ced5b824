"""Enqueueing, claiming and settling deliveries. Callers own the transaction; nothing commits.

Sending happens outside any transaction (`deliver_due`, `outbox.lanes`), so a slow SMTP server
never holds a database lock: claim a batch in one short transaction, mark it "sending" in a
second, send, settle the batch in a third. Each of the three is one set-based statement or two,
whatever the batch's size, so an alert's ten thousand check-ins cost a few hundred transactions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.db import transaction
from shelterwatch.log import service as log
from shelterwatch.notify.base import Channel, DeliveryError, Message
from shelterwatch.outbox import priority, queue
from shelterwatch.outbox.models import DeadLetter, Delivery
from shelterwatch.vocabulary import FactKind

logger = logging.getLogger(__name__)

SENDING = "sending"  # committed just before the send: a crash now leaves the outcome unknown
SENT = "sent"
FAILED = "failed"
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
    priority: int | None = None  # lower goes first; None: `outbox.priority.of(step, channel)`

    def rank(self) -> int:
        return self.priority if self.priority is not None else priority.of(self.step,
                                                                           self.channel)


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
                   priority=outgoing.rank(), attempts=0, created_at=now, next_attempt_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another process queued it between our look and our insert
        held = find(session, subject=outgoing.subject, step=outgoing.step,
                    recipient=outgoing.recipient)
        assert held is not None
        return held
    log.append(session, kind="notification.queued", actor=actor, now=now,
               payload={"delivery": row.id, "subject": row.subject, "step": row.step,
                        "channel": row.channel, "recipient": _role_of(row.recipient)},
               private={"recipient": row.recipient, "address": row.address})
    return row


def enqueue_many(session: Session, outgoing: Sequence[Outgoing], *, now: datetime,
                 actor: str) -> int:
    """Queue many deliveries in set-based statements; returns how many were new.

    Those already queued or sent under the same key are skipped by the database itself
    (`ON CONFLICT DO NOTHING`), so a second run after a crash queues only what the first did not.
    Each new delivery gets its `notification.queued` fact, appended together.
    """
    if not outgoing:
        return 0
    table = db.table_of(Delivery)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(
        index_elements=["subject", "step", "recipient"]
    ).returning(table.c.id, table.c.subject, table.c.step, table.c.channel,
                table.c.recipient, table.c.address)
    rows = [{"subject": o.subject, "step": o.step, "recipient": o.recipient,
             "channel": o.channel, "address": o.address, "title": o.title, "body": o.body,
             "link": o.link, "data": orjson.dumps(dict(o.data)).decode(),
             "state": queue.PENDING, "priority": o.rank(), "attempts": 0, "created_at": now,
             "next_attempt_at": now} for o in outgoing]
    new = sorted(session.connection().execute(statement, rows).all(), key=lambda r: r.id)
    log.append_many(session, [
        log.NewFact(FactKind.NOTIFICATION_QUEUED, actor,
                    {"delivery": r.id, "subject": r.subject, "step": r.step,
                     "channel": r.channel, "recipient": _role_of(r.recipient)},
                    {"recipient": r.recipient, "address": r.address})
        for r in new], now=now)
    return len(new)


def _role_of(recipient: str) -> str:
    # "keyholder:4:email" → "keyholder": the public log says who kind of person, not which one.
    return recipient.split(":", 1)[0]


def claim(session: Session, *, now: datetime, lease_s: float, limit: int = 20,
          channels: Collection[str] | None = None,
          except_channels: Collection[str] = ()) -> list[Delivery]:
    """Claim deliveries due now (pending past their back-off, or claims abandoned unsent),
    most urgent first; `channels` keeps to those lanes, `except_channels` leaves those out."""
    _give_up_interrupted(session, now=now, lease_s=lease_s)
    where: ColumnElement[bool] | None = None
    if channels is not None:
        where = Delivery.channel.in_(list(channels))
    elif except_channels:
        where = Delivery.channel.not_in(list(except_channels))
    return queue.claim_due(session, Delivery, due_column="next_attempt_at", now=now,
                           lease_s=lease_s, limit=limit, where=where,
                           first=(Delivery.priority,))


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
        log.append(session, kind="notification.failed", actor="worker", now=now,
                   payload={"delivery": row.id, "subject": row.subject, "step": row.step,
                            "channel": row.channel, "attempts": row.attempts},
                   private={"error": UNKNOWN_OUTCOME})


def begin_send(session: Session, *, delivery_id: int, claim_token: str, now: datetime) -> bool:
    """Commit "sending" before the send; False if the claim is no longer ours."""
    done = session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.claim_token == claim_token,
                               Delivery.state == queue.CLAIMED)
        .values(state=SENDING, claimed_at=now).execution_options(synchronize_session=False))
    return bool(getattr(done, "rowcount", 0))


def begin_sends(session: Session, *, delivery_ids: Sequence[int], claim_token: str,
                now: datetime) -> set[int]:
    """`begin_send` for a whole claimed batch in one statement; returns the ids still ours."""
    if not delivery_ids:
        return set()
    session.execute(
        update(Delivery).where(Delivery.id.in_(list(delivery_ids)),
                               Delivery.claim_token == claim_token,
                               Delivery.state == queue.CLAIMED)
        .values(state=SENDING, claimed_at=now).execution_options(synchronize_session=False))
    return set(session.execute(
        select(Delivery.id).where(Delivery.id.in_(list(delivery_ids)),
                                  Delivery.claim_token == claim_token,
                                  Delivery.state == SENDING)).scalars())


_SETTLE_SENT = update(db.table_of(Delivery)).where(
    db.table_of(Delivery).c.id == bindparam("b_id")).values(
    state=SENT, sent_at=bindparam("b_at"), provider_ref=bindparam("b_ref"),
    attempts=bindparam("b_attempts"))


def settle_sent(session: Session, sent: Sequence[tuple[int, str, str | None]], *,
                now: datetime) -> int:
    """`mark_sent` for many (id, claim token, provider ref) at once; returns how many settled.

    Rows whose claim was taken over meanwhile are left alone, as `mark_sent` leaves them.
    """
    if not sent:
        return 0
    wanted = {delivery_id: (token, ref) for delivery_id, token, ref in sent}
    query = select(Delivery.id, Delivery.claim_token, Delivery.subject, Delivery.step,
                   Delivery.channel, Delivery.attempts).where(
        Delivery.id.in_(list(wanted)), Delivery.state == SENDING).order_by(Delivery.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    ours = [r for r in session.execute(query).all() if r.claim_token == wanted[r.id][0]]
    if not ours:
        return 0
    session.connection().execute(_SETTLE_SENT, [
        {"b_id": r.id, "b_at": now, "b_ref": wanted[r.id][1], "b_attempts": r.attempts + 1}
        for r in ours])
    log.append_many(session, [
        log.NewFact(FactKind.NOTIFICATION_SENT, "worker",
                    {"delivery": r.id, "subject": r.subject, "step": r.step,
                     "channel": r.channel, "attempts": r.attempts + 1})
        for r in ours], now=now)
    return len(ours)


def mark_sent(session: Session, *, delivery_id: int, claim_token: str, now: datetime,
              provider_ref: str | None) -> bool:
    """Settle a claimed delivery as sent; False if our claim was taken over meanwhile."""
    row = session.get(Delivery, delivery_id, populate_existing=True)
    if row is None or row.claim_token != claim_token or row.state != SENDING:
        return False
    row.state, row.sent_at, row.provider_ref = SENT, now, provider_ref
    row.attempts += 1
    log.append(session, kind="notification.sent", actor="worker", now=now,
               payload={"delivery": row.id, "subject": row.subject, "step": row.step,
                        "channel": row.channel, "attempts": row.attempts})
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
    row.attempts += 1
    row.last_error = error.detail[:2000]
    if error.retryable and row.attempts < max_attempts:
        wait = error.retry_after_s or backoff_s(row.attempts, backoff_base_s)
        row.state, row.next_attempt_at = queue.PENDING, now + timedelta(seconds=wait)
        row.claim_token = None
        return True
    row.state = FAILED
    session.add(DeadLetter(delivery_id=row.id, channel=row.channel, recipient=row.recipient,
                           attempts=row.attempts, error=row.last_error, at=now))
    log.append(session, kind="notification.failed", actor="worker", now=now,
               payload={"delivery": row.id, "subject": row.subject, "step": row.step,
                        "channel": row.channel, "attempts": row.attempts},
               private={"error": row.last_error})
    return True


def message_of(row: Delivery) -> Message:
    return Message(address=row.address, subject=row.title, text=row.body, link=row.link,
                   delivery_key=f"{row.subject}:{row.step}:{row.recipient}",
                   data=orjson.loads(row.data))


Outcome = str | None | DeliveryError  # the provider's reference, or why it did not go


def send_one(channel: Channel | None, channel_name: str, message: Message) -> Outcome:
    """Send one message; every failure comes back as a DeliveryError, never raised."""
    try:
        if channel is None:
            raise DeliveryError(f"channel {channel_name!r} is not enabled", retryable=False)
        return channel.send(message)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a bug in a channel must not lose the message
        logger.exception("a %s send raised", channel_name)
        return DeliveryError(repr(exc))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed for sending, detached from any session."""

    id: int
    channel: str
    message: Message


def due_exists(session: Session, *, now: datetime, lease_s: float,
               channels: Collection[str] | None = None,
               except_channels: Collection[str] = ()) -> bool:
    """Whether `claim` would find anything (or a dead worker's send to give up on)."""
    stale = now - timedelta(seconds=lease_s)
    query = select(Delivery.id).where(or_(
        and_(Delivery.state == queue.PENDING, Delivery.next_attempt_at <= now),
        and_(Delivery.state.in_((queue.CLAIMED, SENDING)), Delivery.claimed_at < stale)))
    if channels is not None:
        query = query.where(Delivery.channel.in_(list(channels)))
    elif except_channels:
        query = query.where(Delivery.channel.not_in(list(except_channels)))
    return session.execute(query.limit(1)).first() is not None


def claim_batch(database_url: str, *, now: datetime, lease_s: float, limit: int,
                channels: Collection[str] | None = None,
                except_channels: Collection[str] = ()) -> tuple[str, list[Claimed]]:
    """Claim a batch and commit it "sending" (two short transactions); returns (token, batch).

    An idle lane looks first with a read that takes no lock, so on SQLite its polls never queue
    for the write lock residents' reports need.
    """
    with db.reading(database_url) as session:
        if not due_exists(session, now=now, lease_s=lease_s, channels=channels,
                          except_channels=except_channels):
            return "", []
    with transaction(database_url) as session:
        rows = claim(session, now=now, lease_s=lease_s, limit=limit, channels=channels,
                     except_channels=except_channels)
        token = rows[0].claim_token or "" if rows else ""
        batch = [Claimed(r.id, r.channel, message_of(r)) for r in rows]
    if not batch:
        return token, []
    with transaction(database_url) as session:
        ours = begin_sends(session, delivery_ids=[c.id for c in batch], claim_token=token,
                           now=now)
    return token, [c for c in batch if c.id in ours]


def settle(database_url: str, token: str, outcomes: Sequence[tuple[Claimed, Outcome]], *,
           now: datetime, max_attempts: int, backoff_base_s: float) -> None:
    """Record a batch's outcomes in one transaction: sent ones together, failures one by one."""
    sent = [(c.id, token, o) for c, o in outcomes if not isinstance(o, DeliveryError)]
    with transaction(database_url) as session:
        if settle_sent(session, sent, now=now) < len(sent):
            logger.warning("some deliveries were sent but their claim had been taken over")
        for claimed, outcome in outcomes:
            if isinstance(outcome, DeliveryError):
                logger.warning("delivery %s failed: %s", claimed.id, outcome.detail)
                mark_failed(session, delivery_id=claimed.id, claim_token=token, now=now,
                            error=outcome, max_attempts=max_attempts,
                            backoff_base_s=backoff_base_s)


def deliver_due(database_url: str, channels: Mapping[str, Channel], *,
                clock: Callable[[], datetime], lease_s: float, max_attempts: int,
                backoff_base_s: float, limit: int = 20) -> int:
    """Claim, send (one after another) and settle one batch; returns how many were attempted.

    The worker's lanes (`outbox.lanes`) do the same with a pool of sends in flight per channel.
    """
    token, batch = claim_batch(database_url, now=clock(), lease_s=lease_s, limit=limit)
    if not batch:
        return 0
    outcomes = [(c, send_one(channels.get(c.channel), c.channel, c.message)) for c in batch]
    settle(database_url, token, outcomes, now=clock(), max_attempts=max_attempts,
           backoff_base_s=backoff_base_s)
    return len(batch)
