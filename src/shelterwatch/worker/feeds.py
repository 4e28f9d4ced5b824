"""The alert feeds' loops: poll a provider, or play a recorded history, owning the transactions.

The feeds' services (`alerts.sources.polling`, `alerts.sources.replay`) take a session and
never commit; this is the shell around them. A poll reads in one short transaction, fetches with
no transaction open (a slow provider holds no database lock), and applies in another, so a fetch
that fails records its reason and the loop carries on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from shelterwatch import db
from shelterwatch.alerts.sources import polling, replay
from shelterwatch.alerts.sources.polling import FeedError, Poller, PollOutcome
from shelterwatch.alerts.sources.replay import ReplayReport
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.worker.leader import Leadership, Singleton


def poll_once(poller: Poller, settings: Settings, *, now: datetime | None = None) -> PollOutcome:
    """One fetch-and-apply; never raises for feed trouble, only reports it."""
    at = now or utcnow()
    with db.transaction(settings.database_url) as session:
        known, cursor = polling.known_state(session, poller.source)
    try:
        snapshot = poller.fetch(known, cursor)
    except FeedError as exc:
        with db.transaction(settings.database_url) as session:
            return polling.failed(session, source=poller.source, error=exc, now=at)
    with db.transaction(settings.database_url) as session:
        return polling.apply(session, source=poller.source, snapshot=snapshot, now=at)


def poll(poller: Poller, settings: Settings, *, once: bool,
         sleep: Callable[[float], None] = time.sleep) -> PollOutcome:
    """Poll until interrupted (or once); returns the last outcome.

    A poller may run on every node for redundancy: only the one leading this provider's feed
    polls (the provider's rate limit is per key), the others wait to take over. `--once` is a
    person's deliberate check and polls regardless."""
    wait = settings.poll_interval_s
    lead = Leadership(settings.database_url, f"{Singleton.FEED}:{poller.source}")
    while True:
        if not once and not lead.held():
            sleep(min(settings.poll_interval_s, 5.0))
            continue
        outcome = poll_once(poller, settings)
        if once:
            return outcome
        wait = polling.next_wait(outcome, settings.poll_interval_s, wait)
        sleep(wait)


def play(settings: Settings, path: Path, *, speed: float = 0.0,
         since: datetime | None = None, until: datetime | None = None,
         sleep: Callable[[float], None] = time.sleep) -> ReplayReport:
    """Read a history CSV and play it into the alert state, one transaction per batch."""
    report = ReplayReport()
    events = replay.read_bounded(path, report, since=since, until=until)
    known: set[str] | None = None
    for batch in replay.batches(events, speed, sleep):
        with db.transaction(settings.database_url) as session:
            if known is None:
                known = replay.known_areas(session)
            replay.apply_batch(session, batch, report, known=known)
    return report
