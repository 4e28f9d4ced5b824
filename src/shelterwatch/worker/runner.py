"""`shelterwatch worker`: the process that turns facts into timers and timers into action.

Three loops share nothing but the database: the log follower arms timers for new alerts and
incidents, the timer loop takes due rungs, the outbox loop sends. Killing the process at any
instant loses nothing (timers and deliveries are rows) and repeats nothing (unique keys).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

import orjson
from sqlalchemy.orm import Session

from shelterwatch import db
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.doors.mqtt import StateListener
from shelterwatch.escalation import evidence
from shelterwatch.escalation import service as escalation
from shelterwatch.keyholders import service as keyholders
from shelterwatch.log import service as log
from shelterwatch.log.follower import LogFollower
from shelterwatch.log.models import Fact
from shelterwatch.notify import registry
from shelterwatch.outbox import service as outbox

logger = logging.getLogger(__name__)


class Worker:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.url = settings.database_url
        self.clock = clock
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.channels = registry.load_enabled(settings)
        self.follower: LogFollower | None = None
        self.doors: StateListener | None = None
        self.threads: list[threading.Thread] = []

    def start(self) -> Worker:
        with db.transaction(self.url) as session:
            start_seq = log.last_seq(session)
            # Whatever happened while no worker ran: open incidents and active alerts.
            escalation.sync_open_incidents(session, now=self.clock())
            escalation.sync_active_alerts(session, now=self.clock())
        self.follower = LogFollower(self.url, interval_s=self.settings.follow_interval_s,
                                    start_seq=start_seq)
        self.follower.subscribe(self._on_facts)
        self.follower.start()
        if self.settings.mqtt_url:
            self.doors = StateListener(self.settings.mqtt_url, self._on_door_state)
            self.doors.start()
        for target, name in ((self._timer_loop, "timers"), (self._outbox_loop, "outbox")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        if self.follower:
            self.follower.stop()
        if self.doors:
            self.doors.stop()
        for thread in self.threads:
            thread.join(timeout=10)
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if close:
                close()

    def _on_facts(self, facts: Sequence[Fact]) -> None:
        with db.transaction(self.url) as session:
            now = self.clock()
            armed = escalation.on_facts(session, facts, now=now)
            queued = self._route_to_owners(session, facts, now)
        if armed or queued:
            self.wake.set()

    def _route_to_owners(self, session: Session, facts: Sequence[Fact],
                         now: datetime) -> int:
        """Outside an alert a locked report goes to the shelter's owner (DESIGN §4.6)."""
        queued = 0
        for fact in facts:
            if fact.kind != "observation.recorded":
                continue
            payload = orjson.loads(fact.payload)
            if payload.get("routed_to") != "owner":
                continue
            for person in keyholders.owner_addresses(session, int(payload["shelter_id"])):
                outbox.enqueue(session, outbox.Outgoing(
                    subject=f"observation:{payload['id']}", step="notify_owner",
                    recipient=person.recipient, channel=person.channel, address=person.address,
                    title=f"Shelter reported {payload['kind']} ({payload['id']})",
                    body=(f"A resident reported shelter #{payload['shelter_id']} as "
                          f"{payload['kind']}. It must be open and fit whenever an alert "
                          f"sounds; this report counts against its owner until fixed."),
                    data={"observation": payload["id"], "event": "notify_owner"}),
                    now=now, actor="worker")
                queued += 1
        return queued

    def _on_door_state(self, shelter_id: int, body: dict[str, object]) -> None:
        now = self.clock()
        at = now
        if isinstance(body.get("at"), str):
            try:
                at = datetime.fromisoformat(str(body["at"]))
            except ValueError:
                at = now
        with db.transaction(self.url) as session:
            evidence.door_state(session, shelter_id=shelter_id, state=str(body.get("state")),
                                at=at, settings=self.settings, now=now)

    def _timer_loop(self) -> None:
        last_door_check = 0.0
        while not self.stop_event.is_set():
            try:
                ran = escalation.run_due(self.url, settings=self.settings, clock=self.clock)
                if ran:
                    self.wake.set()  # new deliveries are probably waiting
                tick = self.clock().timestamp()
                if tick - last_door_check > min(10.0, self.settings.door_stale_after_s / 3):
                    last_door_check = tick
                    with db.transaction(self.url) as session:
                        doors.flag_silent(session, now=self.clock(),
                                          stale_after_s=self.settings.door_stale_after_s)
            except Exception:
                logger.exception("timer loop failed; retrying")
            self.stop_event.wait(self.settings.worker_tick_s)

    def _outbox_loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                sent = outbox.deliver_due(
                    self.url, self.channels, clock=self.clock,
                    lease_s=self.settings.outbox_lease_s,
                    max_attempts=self.settings.outbox_max_attempts,
                    backoff_base_s=self.settings.outbox_backoff_s)
            except Exception:
                logger.exception("outbox loop failed; retrying")
                sent = 0
            if not sent:
                self.wake.wait(self.settings.worker_tick_s)
                self.wake.clear()


def run(settings: Settings) -> None:
    """Run until interrupted (SIGINT/SIGTERM)."""
    import signal

    worker = Worker(settings).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    logger.info("worker started on %s", settings.database_url.split("@")[-1])
    done.wait()
    worker.stop()
