"""One simulated night, end to end: stage it, play it over HTTP, play the baseline, summarise."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from shelterwatch import clock, db
from shelterwatch.outbox.models import Delivery
from shelterwatch.outbox.queue import QueueState
from shelterwatch.simulate import baseline, city, stage
from shelterwatch.simulate.driver import Night
from shelterwatch.simulate.journey import Journey
from shelterwatch.simulate.nights import NightPlan
from shelterwatch.simulate.outcome import Outcome, summarise


@dataclass(frozen=True, slots=True)
class Options:
    night: NightPlan
    seed: int = 1
    residents: int = 2_000
    shelters: int | None = None  # None: the whole registry
    patrols: int | None = None  # None: one unit per hundred shelters
    controller_share: float = 0.1
    mqtt_url: str = "mqtt://127.0.0.1:1883"  # "" plays the night without controllers
    speed: float = 20.0
    pg_admin_url: str | None = None
    arrive_s: float | None = None  # None: over the warning time
    minutes: float | None = None  # None: the night's own length
    population_file: Path | None = None
    keep: Path | None = None  # keep the database and the processes' logs here
    clients: int | None = None  # processes sending the crowd's requests (None: one per 2 cores)
    progress: Callable[[str], None] | None = None  # told how the night goes, every few seconds


@dataclass(frozen=True, slots=True)
class Result:
    url: str  # the night's database (dropped unless kept)
    plan: NightPlan
    options: Options
    night: Outcome
    baseline: Outcome
    journeys: list[Journey]
    baseline_journeys: list[Journey]
    world: city.DoorWorld
    baseline_world: city.DoorWorld
    districts: list[str]
    shelters: int
    patrols: int
    population_label: str
    first_answers_s: list[float]  # when the server answered each resident's first look-up
    offline_first: int  # first look-ups the phone ranked from its pack instead
    wall_s: float
    load_average: tuple[float, float]  # at the start and the end of the night
    given_way: int = 0  # look-ups the server sent to the pack at once while taking reports


def run(options: Options) -> Result:
    """Play the night with shelterwatch (real processes, over HTTP) and without it."""
    plan = options.night
    if options.minutes is not None:
        plan = replace(plan, night_s=options.minutes * 60)
    workdir = options.keep or Path(tempfile.mkdtemp(prefix="shelterwatch-night-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # A stopped simulation still stops its server and worker (they run in their own sessions).
    signal.signal(signal.SIGTERM, _exit_on_term)
    url = stage.database(options.pg_admin_url, workdir)
    inbox = socket.create_server(("127.0.0.1", 0), backlog=1024)
    hooks_url = f"http://127.0.0.1:{inbox.getsockname()[1]}"
    try:
        staged, plans = stage.prepare(
            url, plan, shelters=options.shelters,
            patrol_count=options.patrols,
            door_plans_for=lambda ids: city.assign_doors(
                ids, plan, controller_share=options.controller_share if options.mqtt_url else 0,
                rng=random.Random(options.seed * 7919 + 1)),
            hooks_url=hooks_url, population_file=options.population_file,
            rng=random.Random(options.seed * 7919 + 2))
        residents = city.place_residents(
            staged.cells, options.residents, plan,
            arrive_s=plan.warning_s if options.arrive_s is None else options.arrive_s,
            rng=random.Random(options.seed * 7919 + 3))
        load_start = os.getloadavg()[0]
        anchor = datetime.now(UTC)
        clock.compress(options.speed, anchor)
        processes = stage.Processes(stage.environment(
            url, speed=options.speed, anchor=anchor, mqtt_url=options.mqtt_url), workdir)
        world = city.DoorWorld(plans)
        journeys = [Journey.of(r) for r in residents]
        try:
            processes.start()
            night = asyncio.run(_play(processes.base, plan, world, staged, journeys, inbox,
                                      options))
        finally:
            processes.stop()
            clock.compress(1.0, None)
        load_end = os.getloadavg()[0]
        notifications = _notifications(url)
    finally:
        inbox.close()
    baseline_world = city.DoorWorld(plans)
    baseline_journeys = baseline.play(residents, staged.shelters, baseline_world, plan)
    tally = night.tally
    outcome = summarise(
        journeys, world, warning_s=plan.warning_s,
        patrol_utilisation=(tally.patrol_busy_s / (len(staged.patrols) * plan.night_s)
                            if staged.patrols else None),
        offline_lookups=tally.offline_answers,
        notifications={**notifications, "keyholder check-ins answered": tally.check_ins},
        latency_ms=tally.latency_ms())
    result = Result(url, plan, options, outcome,
                    summarise(baseline_journeys, baseline_world, warning_s=plan.warning_s),
                    journeys, baseline_journeys, world, baseline_world, staged.districts,
                    len(staged.shelters), len(staged.patrols), staged.population_label,
                    tally.first_answer_s, tally.offline_first, time.monotonic() - started,
                    (load_start, load_end), tally.given_way)
    if options.keep is None:
        stage.drop_database(url, options.pg_admin_url)
        shutil.rmtree(workdir, ignore_errors=True)
    elif options.pg_admin_url:
        db.dispose(url)
    return result


def _exit_on_term(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


async def _play(base: str, plan: NightPlan, world: city.DoorWorld, staged: stage.Stage,
                journeys: list[Journey], inbox: socket.socket, options: Options) -> Night:
    night = Night(base=base, plan=plan, world=world, shelters=staged.shelters,
                  operator=staged.operator, patrols=staged.patrols, mqtt_url=options.mqtt_url,
                  clients=options.clients)
    await night.play(journeys, inbox, options.progress)
    return night


def _notifications(url: str) -> dict[str, int]:
    """What the outbox sent, by channel and step (every delivery is a row)."""
    with db.reading(url) as session:
        rows = session.execute(
            select(Delivery.channel, Delivery.step, func.count())
            .where(Delivery.state == QueueState.SENT.value)
            .group_by(Delivery.channel, Delivery.step)).all()
    return {f"{channel} {step}": int(n) for channel, step, n in rows}
