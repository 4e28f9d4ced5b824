"""The delivery queue: each message goes out once, failures back off, hopeless ones are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shelterwatch import db
from shelterwatch.notify.base import DeliveryError, Message
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.models import DeadLetter, Delivery

T0 = datetime(2023, 5, 31, 23, 51, 31, tzinfo=UTC)


def outgoing(recipient: str = "keyholder:1:webhook") -> outbox.Outgoing:
    return outbox.Outgoing(subject="incident:1", step="notify_keyholders", recipient=recipient,
                           channel="webhook", address="http://127.0.0.1:9/hook",
                           title="Locked", body="The door is reported locked")


class Recorder:
    name = "webhook"

    def __init__(self, fail_with: DeliveryError | None = None) -> None:
        self.sent: list[Message] = []
        self.fail_with = fail_with

    def send(self, message: Message) -> str | None:
        if self.fail_with:
            raise self.fail_with
        self.sent.append(message)
        return "ref"


def test_the_same_notification_queued_twice_is_one_delivery(settings, session):
    first = outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    again = outbox.enqueue(session, outgoing(), now=T0 + timedelta(seconds=5), actor="worker")
    session.commit()
    assert first.id == again.id
    assert session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_two_workers_never_claim_the_same_delivery(settings, session):
    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    with db.transaction(settings.database_url) as a:
        got_a = outbox.claim(a, now=T0, lease_s=60)
    with db.transaction(settings.database_url) as b:
        got_b = outbox.claim(b, now=T0 + timedelta(seconds=1), lease_s=60)
    assert len(got_a) == 1 and got_b == []


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over_after_the_lease(settings, session):
    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    with db.transaction(settings.database_url) as a:
        outbox.claim(a, now=T0, lease_s=60)
    with db.transaction(settings.database_url) as b:
        assert outbox.claim(b, now=T0 + timedelta(seconds=61), lease_s=60) != []


def test_delivered_once_and_never_again(settings, session):
    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    channel = Recorder()
    clock = iter([T0 + timedelta(seconds=i) for i in range(10)])
    for _ in range(3):
        outbox.deliver_due(settings.database_url, {"webhook": channel}, clock=lambda: next(clock),
                           lease_s=60, max_attempts=3, backoff_base_s=1)
    assert len(channel.sent) == 1
    assert channel.sent[0].delivery_key == "incident:1:notify_keyholders:keyholder:1:webhook"


def test_a_failing_receiver_is_retried_with_back_off_then_dead_lettered(settings, session):
    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    channel = Recorder(fail_with=DeliveryError("webhook answered 503", retryable=True))
    now = [T0]
    attempts_at = []
    for _ in range(40):
        if outbox.deliver_due(settings.database_url, {"webhook": channel}, clock=lambda: now[0],
                              lease_s=60, max_attempts=3, backoff_base_s=2):
            attempts_at.append(now[0])
        now[0] += timedelta(seconds=1)
    assert [(t - T0).total_seconds() for t in attempts_at] == [0, 2, 6]
    session.expire_all()
    row = session.scalars(select(Delivery)).one()
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "webhook answered 503")
    dead = session.scalars(select(DeadLetter)).one()
    assert dead.delivery_id == row.id and dead.attempts == 3


def test_a_refused_recipient_is_dead_lettered_at_once(settings, session):
    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    channel = Recorder(fail_with=DeliveryError("recipient refused", retryable=False))
    outbox.deliver_due(settings.database_url, {"webhook": channel}, clock=lambda: T0,
                       lease_s=60, max_attempts=5, backoff_base_s=1)
    session.expire_all()
    assert session.scalars(select(Delivery)).one().state == "failed"
    assert len(session.scalars(select(DeadLetter)).all()) == 1


def test_queueing_and_sending_are_in_the_log_without_the_address(settings, session):
    from shelterwatch.log import service as log

    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    outbox.deliver_due(settings.database_url, {"webhook": Recorder()}, clock=lambda: T0,
                       lease_s=60, max_attempts=3, backoff_base_s=1)
    facts = [log.public_view(f) for f in log.after(session, 0)]
    kinds = [f["kind"] for f in facts if f["kind"].startswith("notification.")]
    assert kinds == ["notification.queued", "notification.sent"]
    assert "127.0.0.1:9" not in str(facts)


def test_a_send_interrupted_by_a_dead_worker_is_dead_lettered_never_repeated(settings, session):
    outbox.enqueue(session, outgoing(), now=T0, actor="worker")
    session.commit()
    with db.transaction(settings.database_url) as a:
        (row,) = outbox.claim(a, now=T0, lease_s=60)
        token = row.claim_token
    with db.transaction(settings.database_url) as a:
        assert outbox.begin_send(a, delivery_id=row.id, claim_token=token, now=T0)
    # the worker dies here: the message may or may not have left
    channel = Recorder()
    outbox.deliver_due(settings.database_url, {"webhook": channel},
                       clock=lambda: T0 + timedelta(seconds=61), lease_s=60, max_attempts=3,
                       backoff_base_s=1)
    assert channel.sent == []
    session.expire_all()
    assert session.scalars(select(Delivery)).one().state == "failed"
    assert "stopped while sending" in session.scalars(select(DeadLetter)).one().error


def test_a_failed_webhook_is_logged_by_delivery_and_channel_never_by_its_address(
        settings, session, caplog):
    from shelterwatch.notify.webhook import WebhookChannel

    secret_url = "http://127.0.0.1:9/keyholder-ivanna-private-hook"
    outbox.enqueue(session, outbox.Outgoing(
        subject="incident:1", step="notify_keyholders", recipient="keyholder:1:webhook",
        channel="webhook", address=secret_url, title="Locked", body="Open it"),
        now=T0, actor="worker")
    session.commit()
    caplog.set_level("DEBUG")
    attempted = outbox.deliver_due(settings.database_url, {"webhook": WebhookChannel(settings)},
                                   clock=lambda: T0, lease_s=60, max_attempts=3,
                                   backoff_base_s=1)
    assert attempted == 1
    failed = [r for r in caplog.records if r.getMessage().startswith("delivery ")]
    assert failed and getattr(failed[0], "channel", None) == "webhook"
    assert "ivanna" not in caplog.text and "127.0.0.1:9" not in caplog.text
    session.expire_all()
    assert "127.0.0.1:9" in (session.scalars(select(Delivery)).one().last_error or "")
