"""Highest priority first: people heading to a door just reported locked, then new alerts."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from shelterwatch.log.models import Fact
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.service import Priority
from tests.outbox.test_outbox import T0, outgoing


def test_a_redirect_queued_after_ten_thousand_alerts_is_claimed_first(settings, session):
    alert = [replace(outgoing(f"resident:{n}:telegram"), subject="alert:1", step="alert_started",
                     channel="telegram", priority=Priority.ALERT_STARTED) for n in range(10_000)]
    assert outbox.enqueue_many(session, alert, now=T0, actor="channels", subject="alert:1",
                               step="alert_started") == 10_000
    redirect = replace(outgoing("push:7"), subject="shelter:1180:locked_reported:9",
                       step="redirect", channel="push", priority=Priority.REDIRECT)
    outbox.enqueue(session, redirect, now=T0, actor="push")
    session.commit()
    first = outbox.claim(session, now=T0, lease_s=60, limit=3)
    assert [d.step for d in first] == ["redirect", "alert_started", "alert_started"]
    # one fact for the broadcast, not ten thousand
    kinds = [f.kind for f in session.execute(select(Fact)).scalars()]
    assert kinds.count("notification.broadcast_queued") == 1
    assert kinds.count("notification.queued") == 1


def test_a_broadcast_queued_twice_is_queued_once(settings, session):
    alert = [replace(outgoing(f"resident:{n}:sms"), subject="alert:2", step="alert_started",
                     channel="sms") for n in range(3)]
    assert outbox.enqueue_many(session, alert, now=T0, actor="channels", subject="alert:2",
                               step="alert_started") == 3
    assert outbox.enqueue_many(session, alert, now=T0, actor="channels", subject="alert:2",
                               step="alert_started") == 0
