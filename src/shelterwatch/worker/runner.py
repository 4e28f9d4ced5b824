"""`shelterwatch worker`: the process that turns facts into timers and timers into action.

Three loops share nothing but the database: the log follower arms timers for new alerts and
incidents, routes reports to owners and closes what an ended alert leaves open; the timer loop
takes due rungs and, every `status_refresh_s`, lets statuses fade and sweeps ended alerts again;
the outbox loop sends. Several workers may run on one database: timers and deliveries are claimed
rows, and the few singleton jobs (signed heads and rollups, the published pack) are done by the
worker that leads them (worker.leader), another taking over when it dies. Killing the process
at any instant loses nothing (timers and deliveries are rows, the sweeps read state, not a
cursor) and repeats nothing (unique keys, and each sweep re-reads under the log's lock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import orjson

from shelterwatch import clock, db
from shelterwatch.alerts import service as alerts
from shelterwatch.channels import service as channels
from shelterwatch.channels.push import service as push
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.doors import service as doors
from shelterwatch.doors.mqtt import StateListener
from shelterwatch.escalation import alert_end, evidence, notices, owners
from shelterwatch.escalation import service as escalation
from shelterwatch.log import service as log
from shelterwatch.log.follower import LogFollower
from shelterwatch.log.models import Fact
from shelterwatch.log.publisher import Publisher
from shelterwatch.notify import registry
from shelterwatch.notify.base import Message
from shelterwatch.observations import fading
from shelterwatch.outbox import batch
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.throttle import OutboxThrottle
from shelterwatch.rules.ranking import WalkingModel
from shelterwatch.shelters.index import ShelterIndex
from shelterwatch.stats import service as stats
from shelterwatch.vocabulary import FactKind
from shelterwatch.worker import heads
from shelterwatch.worker.leader import Leadership, Singleton
from shelterwatch.worker.pack import PackPublisher
from shelterwatch.worker.sends import shared_allowance, shared_pause

logger = logging.getLogger(__name__)
# The derived loops (rollups, Merkle tree) write in short batches and step aside between them.
STATS_BATCH = 300
YIELD_S = 0.02
# ... and wait while a surge is being sent (up to a limit): a resident's report and a door's
# unlock need the write lock more than the rollups do.
SURGE_QUIET_S = 2.0
SURGE_DEFER_MAX_S = 60.0
DOORS = outbox.Lane(frozenset({"door"}))
DOORS_FIRST_MAX_S = 10.0


class Worker:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.url = settings.database_url
        self.clock = clock
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        # Completed passes of letting time pass over statuses: how a watcher knows one happened.
        self.refresh_passes = 0
        self.channels = registry.load_enabled(settings)
        # a provider's published limits, overall and per recipient, hold across every worker
        # (budgets.take_each)
        self.throttle = OutboxThrottle(registry.limits(settings),
                                       shared=shared_allowance(self.url),
                                       shared_pause=shared_pause(self.url))
        self.places: channels.Places | None = None
        self.follower: LogFollower | None = None
        self.doors: StateListener | None = None
        self.threads: list[threading.Thread] = []
        self.timers_due = threading.Event()  # a new fact armed a timer: look now, not next tick
        self.pack: PackPublisher | None = None
        self.doors_due = threading.Event()  # door unlocks were queued: their lane looks now
        self.doors_idle = threading.Event()  # the door lane's last round found nothing
        self.doors_idle.set()
        self.busy_at = 0.0  # monotonic time the senders last had work
        self.leads = {job: Leadership(self.url, job)
                      for job in (Singleton.SIGNED_HEADS, Singleton.PACK)}

    def start(self) -> Worker:
        with db.transaction(self.url) as session:
            start_seq = log.last_seq(session)
            # Whatever happened while no worker ran: open incidents and active alerts.
            escalation.sync_open_incidents(session, now=self.clock())
            escalation.sync_active_alerts(session, now=self.clock())
            owners.catch_up(session, now=self.clock())
        self.sweep_ended_alerts()
        self.follower = LogFollower(self.url, interval_s=self.settings.follow_interval_s,
                                    start_seq=start_seq)
        if {"push", "telegram"} & set(self.channels):
            # a redirect names the other shelter: keep the registry
            with db.reading(self.url) as session:
                index, seq = ShelterIndex.load(session)
            self.places = channels.Places(index, WalkingModel(
                speed_mps=self.settings.walking_speed_mps,
                reduced_mobility_speed_mps=self.settings.reduced_mobility_speed_mps,
                detour_factor=self.settings.detour_factor), self.settings.push_shown_window_s)
            self.follower.subscribe(lambda facts: index.apply([f for f in facts if f.seq > seq]))
        self.follower.subscribe(self._on_facts)
        if self.settings.pack_dir:  # the offline pack, published off every request path
            self.pack = PackPublisher(self.url, Path(self.settings.pack_dir),
                                      config=alerts.warning_config(self.settings),
                                      may_publish=self.leads[Singleton.PACK].held,
                                      load_url=self.settings.stale_read_url).start()
            self.follower.subscribe(self.pack.on_facts)
        self.follower.start()
        if self.settings.mqtt_url:
            self.doors = StateListener(self.settings.mqtt_url, self._on_door_state)
            self.doors.start()
        self.publisher = Publisher(self.settings)
        for target, name in ((self._timer_loop, "timers"), (self._outbox_loop, "outbox"),
                             (self._door_loop, "doors"), (self._tree_loop, "log-tree")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        self.doors_due.set()
        self.doors_idle.set()
        self.timers_due.set()
        if self.follower:
            self.follower.stop()
        if self.pack:
            self.pack.stop()
        if self.doors:
            self.doors.stop()
        for thread in self.threads:
            thread.join(timeout=10)
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if close:
                close()
        for lead in self.leads.values():
            lead.release()

    def queued(self) -> None:
        """Deliveries were committed: both lanes look now."""
        if "door" in self.channels:
            self.doors_idle.clear()  # until the door lane has looked
        self.doors_due.set()
        self.wake.set()

    def _acts_on(self, fact: Fact) -> bool:
        """Whether the fact calls for a write here: most of a surge's facts are the sends'
        own, and a write transaction per batch of them would take turns at the write lock
        with residents' reports for nothing."""
        return (escalation.acts_on(fact) or fact.kind == FactKind.OBSERVATION_RECORDED
                or channels.acts_on(fact, places=self.places is not None))

    def _on_facts(self, facts: Sequence[Fact]) -> None:
        sweep = any(f.kind in alert_end.TRIGGERS for f in facts)
        facts = [f for f in facts if self._acts_on(f)]
        armed = queued = 0
        if any(escalation.acts_on(f) for f in facts):
            # Timers first, committed on their own: an alert's doors wait for nothing else.
            with db.transaction(self.url) as session:
                armed = escalation.on_facts(session, facts, now=self.clock())
            if armed:
                self.busy_at = time.monotonic()  # an alert or a case: the rollups can wait
                self.timers_due.set()
        rest = [f for f in facts if not escalation.acts_on(f) or channels.acts_on(
            f, places=self.places is not None)]
        if rest:
            with db.transaction(self.url) as session:
                now = self.clock()
                queued = sum(owners.route(session, orjson.loads(f.payload), now=now)
                             for f in rest if f.kind == FactKind.OBSERVATION_RECORDED)
                # residents' channels: a case's news to its reporters, alerts to an area's
                # followers
                queued += channels.on_facts(session, rest, now=now,
                                            secret=self.settings.secret_key, places=self.places)
        if sweep:
            self.sweep_ended_alerts()
        if armed or queued:
            self.wake.set()

    def sweep_ended_alerts(self) -> alert_end.Swept:
        """Resolve what ended alerts left open (exactly once, whoever else sweeps too)."""
        with db.reading(self.url) as session:
            if not alert_end.anything_to_sweep(session):  # no lock taken for nothing
                return alert_end.Swept()
        with db.transaction(self.url) as session:
            swept = alert_end.close_ended(session, now=self.clock())
        if swept:
            logger.info("alert ended: resolved incidents %s, cancelled tasks %s",
                        swept.incidents, swept.tasks)
        return swept

    def let_time_pass(self) -> list[int]:
        """Re-derive the statuses that fade with time; returns the shelters that changed."""
        now = self.clock()
        with db.reading(self.url) as session:
            stale = fading.stale(session, now=now)
        if not stale:
            return []
        with db.transaction(self.url) as session:
            return fading.refresh(session, shelter_ids=stale, now=now)

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
        last_door_check = last_refresh = 0.0
        while not self.stop_event.is_set():
            ran = 0
            try:
                # An alert's door unlocks go out while its check-ins are still being queued.
                ran = escalation.run_due(self.url, settings=self.settings, clock=self.clock,
                                         on_queued=self.queued)
                if ran:
                    self.busy_at = time.monotonic()
                    self.queued()  # new deliveries are probably waiting
                tick = self.clock().timestamp()
                if tick - last_refresh >= self.settings.status_refresh_s:
                    last_refresh = tick
                    self.let_time_pass()
                    with db.transaction(self.url) as session:
                        push.forget_expired(session, now=self.clock(),
                                            shown_window_s=self.settings.push_shown_window_s)
                        channels.forget_expired(session, now=self.clock())
                    self.refresh_passes += 1
                    if self.sweep_ended_alerts():
                        self.wake.set()
                if tick - last_door_check > min(10.0, self.settings.door_stale_after_s / 3):
                    last_door_check = tick
                    with db.transaction(self.url) as session:
                        doors.flag_silent(session, now=self.clock(),
                                          stale_after_s=self.settings.door_stale_after_s)
            except Exception:
                logger.exception("timer loop failed; retrying")
            if ran < escalation.CLAIM_LIMIT:  # a full batch: more are due, take them at once
                self.timers_due.wait(self.settings.worker_tick_s)
            self.timers_due.clear()

    def _tree_loop(self) -> None:
        """Keep what is derived from the whole log: the accountability rollups, and the Merkle
        tree with its signed heads (handed to the witnesses): by the one worker leading them."""
        while not self.stop_event.is_set():
            if not self.leads[Singleton.SIGNED_HEADS].held():
                self.stop_event.wait(max(1.0, self.settings.worker_tick_s))
                continue
            self._wait_out_surge()
            try:
                self.catch_up_stats()
            except Exception:
                logger.exception("updating the statistics failed; retrying")
            try:
                heads.tick(self.publisher, now=self.clock(), pause=self._yield_writer)
            except Exception:
                logger.exception("signing the log's tree failed; retrying")
            self.stop_event.wait(max(1.0, self.settings.worker_tick_s))

    def catch_up_stats(self) -> int:
        """Apply every fact the rollups have not seen, a few hundred per transaction; returns
        how many."""
        total = 0
        while not self.stop_event.is_set():
            with db.transaction(self.url) as session:
                applied = stats.catch_up(session, limit=STATS_BATCH)
            if not applied:
                break
            total += applied
            self._yield_writer()
        return total

    def _yield_writer(self) -> None:
        """Let the alert-time writers have the write lock between two derived batches, and
        wait out a surge."""
        self.stop_event.wait(YIELD_S)
        self._wait_out_surge()

    def _wait_out_surge(self) -> None:
        """While timers fire and the senders are busy, wait (up to `SURGE_DEFER_MAX_S`)."""
        waited = 0.0
        while (time.monotonic() - self.busy_at < SURGE_QUIET_S and waited < SURGE_DEFER_MAX_S
               and not self.stop_event.is_set()):
            self.stop_event.wait(0.5)
            waited += 0.5

    def _sign(self, message: Message, now: datetime) -> Message:
        return notices.sign_check_in(self.settings, message, now=now)

    def _deliver(self, pool: ThreadPoolExecutor | None, lane: outbox.Lane | None,
                 limit: int) -> int:
        """One round of a lane: side by side on `pool`, or one by one without one."""
        s = self.settings
        if pool is not None:
            sent = batch.deliver_round(
                self.url, self.channels, clock=self.clock, lease_s=s.outbox_lease_s,
                max_attempts=s.outbox_max_attempts, backoff_base_s=s.outbox_backoff_s,
                pool=pool, limit=limit, throttle=self.throttle, lane=lane, prepare=self._sign)
        else:
            sent = outbox.deliver_due(
                self.url, self.channels, clock=self.clock, lease_s=s.outbox_lease_s,
                max_attempts=s.outbox_max_attempts, backoff_base_s=s.outbox_backoff_s,
                throttle=self.throttle, lane=lane, prepare=self._sign)
        if sent:
            self.busy_at = time.monotonic()
        return sent

    def _door_loop(self) -> None:
        """Door commands in a lane of their own, with their own senders: an alert's unlocks
        go out while the check-ins' round is still with the webhooks."""
        if "door" not in self.channels:
            return
        senders = self.settings.outbox_door_senders
        pool = ThreadPoolExecutor(senders, thread_name_prefix="door") if senders > 1 else None
        while not self.stop_event.is_set():
            try:
                sent = self._deliver(pool, DOORS, self.settings.outbox_round)
            except Exception:
                logger.exception("door lane failed; retrying")
                sent = 0
            if sent:
                self.doors_idle.clear()
            else:
                self.doors_idle.set()
                self.doors_due.wait(self.settings.worker_tick_s)
                self.doors_due.clear()
        if pool is not None:
            pool.shutdown(wait=True)

    def _outbox_loop(self) -> None:
        senders = self.settings.outbox_senders
        pool = ThreadPoolExecutor(senders, thread_name_prefix="send") if senders > 1 else None
        while not self.stop_event.is_set():
            # Doors first, always: while unlocks are going out, the rest waits its turn for
            # the CPU (at most DOORS_FIRST_MAX_S, so a failing controller holds nothing up).
            self.doors_idle.wait(DOORS_FIRST_MAX_S)
            try:
                lane = DOORS.other() if "door" in self.channels else None
                sent = self._deliver(pool, lane, self.settings.outbox_round)
            except Exception:
                logger.exception("outbox loop failed; retrying")
                sent = 0
            if not sent:
                self.wake.wait(self.settings.worker_tick_s)
                self.wake.clear()
        if pool is not None:
            pool.shutdown(wait=True)


def run(settings: Settings) -> None:
    """Run until interrupted (SIGINT/SIGTERM)."""
    import signal

    clock.compress(settings.clock_speed, settings.clock_anchor)
    worker = Worker(settings).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    logger.info("worker started on %s", settings.database_url.split("@")[-1])
    done.wait()
    worker.stop()
