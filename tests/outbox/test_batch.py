"""A surge round: many deliveries sent side by side, each still sent once and settled."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sqlalchemy import select

from shelterwatch import db
from shelterwatch.log.models import Fact
from shelterwatch.notify.base import DeliveryError, Message
from shelterwatch.outbox import batch
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.models import Delivery
from tests.outbox.test_outbox import T0, outgoing


class Flaky:
    name = "webhook"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: Message) -> str | None:
        if message.address.endswith("/down"):
            raise DeliveryError("receiver answered 503")
        self.sent.append(message.delivery_key)
        return "ref"


def test_a_round_sends_each_once_settles_together_and_backs_off_the_failures(settings, session):
    rows = [replace(outgoing(f"resident:{n}:webhook"),
                    address="http://127.0.0.1:9/down" if n == 3 else "http://127.0.0.1:9/ok")
            for n in range(50)]
    outbox.enqueue_many(session, rows, now=T0, actor="test", subject="incident:1",
                        step="notify_keyholders")
    session.commit()
    channel = Flaky()
    with ThreadPoolExecutor(8) as pool:
        n = batch.deliver_round(settings.database_url, {"webhook": channel}, clock=lambda: T0,
                                lease_s=60, max_attempts=6, backoff_base_s=5, pool=pool)
        again = batch.deliver_round(settings.database_url, {"webhook": channel},
                                    clock=lambda: T0, lease_s=60, max_attempts=6,
                                    backoff_base_s=5, pool=pool)
    assert (n, again) == (50, 0)  # the failure waits its back-off
    assert len(set(channel.sent)) == len(channel.sent) == 49  # each once
    with db.reading(settings.database_url) as s:
        states = {r.recipient: r.state for r in s.execute(select(Delivery)).scalars()}
        sent_facts = s.execute(select(Fact).where(Fact.kind == "notification.sent")).all()
    assert states.pop("resident:3:webhook") == "pending"
    assert set(states.values()) == {"sent"}
    assert len(sent_facts) == 49
