"""The night over HTTP: residents, keyholders, patrols and door controllers against the real
server and worker, on the clock they share (`SHELTERWATCH_CLOCK_SPEED`).

Everything a person does is a request a phone would make: residents ask /v1/nearest, walk, and
report a locked or unfit door; their phones follow /v1/stream and ask again when the door they
are walking to is reported locked; keyholders tap the check-in link of the webhook they get;
patrols poll /v1/tasks, drive and record what they find; controllers unlock on MQTT commands.
The residents' requests leave from several client processes (`crowd`), so the server, not the
simulation's client, is what a city-sized night measures; a phone whose look-up is not answered
within `PHONE_TIMEOUT_S` ranks the pack it holds, as the resident page does (`phone`).
What the doors really are (city.DoorWorld) is known here and nowhere in the product.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from shelterwatch import clock
from shelterwatch.simulate import patrol_units
from shelterwatch.simulate.city import Door, DoorWorld, Shelter, along, walk_s
from shelterwatch.simulate.controllers import Controllers
from shelterwatch.simulate.crowd import ABANDONED, Crowd, Reply
from shelterwatch.simulate.journey import Journey
from shelterwatch.simulate.nights import NightPlan
from shelterwatch.simulate.outcome import quantile
from shelterwatch.simulate.phone import Phone

# A status the resident page re-ranks away from (it re-asks /v1/nearest on every status event).
AVOID = frozenset({"locked_reported", "locked_confirmed", "unfit", "closed", "full"})
CONCURRENCY = 64  # residents' requests in flight, like a proxy's upstream connections
STAFF_CONCURRENCY = 16
NEAREST_LIMIT = 5
# The resident page gives up on a look-up after this long and ranks its pack (app.js's
# NEAREST_TIMEOUT_MS); real seconds, as the phone waits them.
PHONE_TIMEOUT_S = 5.0


def client_processes() -> int:
    """How many processes send the crowd's requests: one per two cores, at least one."""
    return max(1, min(8, (os.cpu_count() or 2) // 2))


def _settle(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


def address_of(resident_id: int) -> str:
    """Each resident's phone has its own address behind the simulated proxy."""
    return f"10.{(resident_id >> 16) & 255}.{(resident_id >> 8) & 255}.{resident_id & 255}"


@dataclass(slots=True)
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # route → seconds
    failures: Counter[str] = field(default_factory=Counter)
    keyholder_messages: Counter[str] = field(default_factory=Counter)
    check_ins: int = 0
    first_answer_s: list[float] = field(default_factory=list)  # each resident's first answer
    offline_answers: int = 0  # look-ups the phone answered from its pack (no answer in time)
    offline_first: int = 0  # of them, residents' first look-ups
    given_way: int = 0  # of them, look-ups the server sent to the pack at once (a 503)
    patrol_busy_s: float = 0.0

    def latency_ms(self) -> dict[str, tuple[float | None, float | None, int]]:
        out: dict[str, tuple[float | None, float | None, int]] = {}
        for route, values in self.latencies.items():
            p50, p99 = quantile(values, 0.5), quantile(values, 0.99)
            out[route] = (None if p50 is None else p50 * 1000,
                          None if p99 is None else p99 * 1000, len(values))
        return out


class Night:
    def __init__(self, *, base: str, plan: NightPlan, world: DoorWorld,
                 shelters: Sequence[Shelter], operator: str,
                 patrols: Sequence[tuple[str, float, float]], mqtt_url: str,
                 clients: int | None = None) -> None:
        self.base, self.plan, self.world = base, plan, world
        self.by_id = {s.id: s for s in shelters}
        self.operator = operator
        self.patrols = patrols
        self.mqtt_url = mqtt_url
        self.tally = Tally()
        self.t0 = clock.utcnow()
        self.status: dict[int, str] = {}
        self.watchers: dict[int, set[asyncio.Future[bool]]] = {}
        processes = clients or client_processes()
        self.crowd = Crowd(base, processes=processes,
                           connections=max(8, CONCURRENCY // processes))
        self.phone = Phone([])
        # Keyholders, patrols and the desk have phones of their own: never queued behind the
        # crowd's look-ups in the simulation (in the city they share only the server).
        self.staff_gate = asyncio.Semaphore(STAFF_CONCURRENCY)
        self.staff_client = httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(
            max_connections=STAFF_CONCURRENCY, max_keepalive_connections=STAFF_CONCURRENCY))
        self.loop = asyncio.get_running_loop()
        self.background: set[asyncio.Task[None]] = set()
        self.phones: set[asyncio.StreamWriter] = set()
        self.on_duty: dict[str, float] = {}  # patrol token → since when on its current task
        self.inside = 0  # residents through an open door so far (counted, never scanned)

    # -- the shared clock -----------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the alert started, on the clock the server and worker read."""
        return (clock.utcnow() - self.t0).total_seconds()

    async def until(self, t: float) -> None:
        await asyncio.sleep(max(0.0, clock.real_seconds(t - self.now())))

    def spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def call(self, route: str, method: str, path: str,
                   **kwargs: Any) -> httpx.Response | None:
        """One request of the staff's, its latency kept under `route`; None when it failed."""
        async with self.staff_gate:
            if route != "alerts" and self.now() >= self.plan.night_s:
                return None  # asked too late: the night followed is over
            started = time.perf_counter()
            try:
                response = await self.staff_client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                self.tally.failures[f"{route}: {type(exc).__name__}"] += 1
                return None
            self.tally.latencies.setdefault(route, []).append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.tally.failures[f"{route}: {response.status_code}"] += 1
        return response

    async def ask(self, route: str, method: str, path: str, *, timeout_s: float | None = None,
                  **kwargs: Any) -> Reply | None:
        """One request of a resident's phone through the crowd; None when asked after the
        night, failed outright or not answered within `timeout_s` (real seconds)."""
        if self.now() >= self.plan.night_s:
            return None
        # Never past the night's end: `play` abandons what is still pending then.
        reply = await self.crowd.send(method, path, timeout_s=timeout_s, **kwargs)
        if reply.error == ABANDONED:
            return None
        self._count(route, reply)
        return reply if reply.status else None

    def _count(self, route: str, reply: Reply) -> None:
        if not reply.status:
            if reply.error != "TimeoutError":  # a phone giving up is counted as a pack answer
                self.tally.failures[f"{route}: {reply.error}"] += 1
            return
        if route == "nearest" and reply.status == 503:  # busy: the page ranks its pack
            self.tally.given_way += 1
            return
        self.tally.latencies.setdefault(route, []).append(reply.latency_s)
        if reply.status >= 400:
            self.tally.failures[f"{route}: {reply.status}"] += 1

    # -- the night --------------------------------------------------------------------------
    async def start_alert(self) -> datetime:
        response = await self.call("alerts", "POST", "/v1/alerts", headers=patrol_units.auth(
            self.operator), json={"area_id": self.plan.area_id, "type": "air_raid",
                                  "threat": self.plan.threat})
        if response is None or response.status_code != 201:
            raise RuntimeError(f"the alert did not start: {response and response.text[:300]}")
        self.t0 = clock.as_utc(datetime.fromisoformat(response.json()["started_at"]))
        return self.t0

    async def play(self, journeys: Sequence[Journey], inbox: socket.socket,
                   progress: Callable[[str], None] | None = None) -> None:
        """From the alert to the end of the night followed; `inbox` is the listening socket the
        keyholders' webhooks come to."""
        stream = self.loop.create_task(self._follow_stream())
        hooks = await asyncio.start_server(self._keyholder_phone, sock=inbox)
        await asyncio.sleep(0.2)  # subscribed before anything changes
        doors = (Controllers(self.mqtt_url, self.world.plans, self._unlocked_from_thread)
                 if self.mqtt_url else None)
        await self.crowd.start()
        ends: asyncio.TimerHandle | None = None
        try:
            pack = await self.staff_client.get("/v1/pack")
            self.phone = Phone(pack.json()["shelters"] if pack.status_code == 200 else [])
            await self.start_alert()
            ends = self.loop.call_later(
                clock.real_seconds(self.plan.night_s - self.now()) + 1.0, self.crowd.abandon)
            if progress:
                self.spawn(self._progress(journeys, progress))
            for token, lat, lon in self.patrols:
                self.spawn(patrol_units.patrol(self, token, lat, lon))
            await self._residents(journeys)
            await self.until(self.plan.night_s)
            for token in list(self.on_duty):  # still on a task: busy until the end
                patrol_units.off_duty(self, token)
        finally:
            if ends is not None:
                ends.cancel()
            stream.cancel()
            for task in list(self.background):
                task.cancel()
            await asyncio.gather(*self.background, stream, return_exceptions=True)
            hooks.close()
            for phone in list(self.phones):  # their readers end, their handlers return
                phone.transport.abort()
            await asyncio.sleep(0.05)
            if doors:
                doors.stop()
            await self.crowd.stop()
            await self.staff_client.aclose()

    # -- residents --------------------------------------------------------------------------
    async def _residents(self, journeys: Sequence[Journey]) -> None:
        """Each resident's task begins when they look for a shelter: the loop carries those on
        their way, not a city's worth of sleepers each with its timer."""
        tasks = []
        for journey in sorted(journeys, key=lambda j: j.resident.start_s):  # stable on ties
            if journey.resident.start_s > self.now():
                await self.until(journey.resident.start_s)
            tasks.append(self.loop.create_task(self._resident(journey)))
        await asyncio.gather(*tasks)

    async def _resident(self, journey: Journey) -> None:
        resident, plan = journey.resident, self.plan
        headers = {"X-Forwarded-For": address_of(resident.id)}
        ready = resident.start_s  # when, on the night's clock, they look for the next door
        while self.now() < plan.night_s:
            journey.lookups += 1
            # They set off when they were ready to ask: on a compressed clock a loaded
            # machine's every millisecond of latency, and of this process's own scheduling,
            # would cost them the speed's many, which the baseline's residents never pay
            # (latency is reported instead).
            asked = min(ready, self.now())
            reply = await self.ask("nearest", "GET", "/v1/nearest", headers=headers, params={
                "lat": f"{journey.lat:.6f}", "lon": f"{journey.lon:.6f}",
                "limit": NEAREST_LIMIT, "threat": plan.threat,
                **({"pack": "true"} if self.phone.shelters else {})}, read_ids=True,
                timeout_s=PHONE_TIMEOUT_S)
            if self.now() >= plan.night_s:
                return
            if reply is not None and reply.status == 200 and reply.ids is not None:
                ranked = reply.ids
                if journey.lookups == 1:  # when the phone had it, on the night's clock
                    self.tally.first_answer_s.append(
                        asked + reply.latency_s / clock.real_seconds(1.0))
            else:  # no answer in time: the page ranks the pack it holds
                self.tally.offline_answers += 1
                self.tally.offline_first += journey.lookups == 1
                ranked = self.phone.rank(journey.lat, journey.lon, heard=self.status,
                                         limit=NEAREST_LIMIT, warning_s=round(plan.warning_s))
            choice = journey.choose(ranked)
            if choice is None:
                return
            target = self.by_id[choice]
            set_off, walk = asked, walk_s(resident, journey.lat, journey.lon, target, plan)
            journey.walked(walk)
            if set_off + walk > plan.night_s:  # still on the way when the night followed ends
                await self.until(plan.night_s)
                return
            if await self._walk(choice, set_off + walk):
                lat, lon = along(journey.lat, journey.lon, target,
                                 (self.now() - set_off) / walk if walk else 1.0)
                journey.turned_away(choice, lat, lon)
                ready = self.now()
                continue
            arrival = journey.arrive(self.world, choice, set_off + walk, target.lat, target.lon)
            if arrival.found == Door.OPEN:
                self.inside += 1
                return
            ready = arrival.t
            # The page writes a report to its outbox and sends it in the background: the
            # resident looks for the next door at once (the baseline's tell nobody waits).
            self.spawn(self._report(journey, target, arrival.found, headers))
            if not journey.goes_on(plan.max_tries):
                return

    async def _walk(self, shelter_id: int, arrive_at: float) -> bool:
        """Walk until `arrive_at`; True when the phone hears the door is reported shut first."""
        future: asyncio.Future[bool] = self.loop.create_future()
        self.watchers.setdefault(shelter_id, set()).add(future)
        # One timer settles the walk (no wrapping task or waiter): False, they arrived.
        arrives = self.loop.call_later(max(0.0, clock.real_seconds(arrive_at - self.now())),
                                       _settle, future, False)
        try:
            return await future
        finally:
            arrives.cancel()
            self.watchers.get(shelter_id, set()).discard(future)

    async def _report(self, journey: Journey, at: Shelter, found: Door,
                      headers: dict[str, str]) -> None:
        body: dict[str, Any] = {"shelter_id": at.id, "kind": found.value, "lat": at.lat,
                                "lon": at.lon, "device_id": f"sim-phone-{journey.resident.id}"}
        if found == Door.UNFIT:
            body["reason"] = "flooded"
        reply = await self.ask("reports", "POST", "/v1/reports", headers=headers, json=body)
        if found == Door.LOCKED and reply is not None and reply.status == 201:
            self.world.reported(at.id, self.now())

    async def _follow_stream(self) -> None:
        """The residents' phones hear status changes (one subscription stands for all)."""
        async with httpx.AsyncClient(base_url=self.base, timeout=None) as client:
            async with client.stream("GET", "/v1/stream") as response:
                event = ""
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "status":
                        data = orjson.loads(line[5:])
                        sid, status = data.get("shelter_id"), data.get("status")
                        if isinstance(sid, int) and isinstance(status, str):
                            self.status[sid] = status
                            if status in AVOID:
                                for future in self.watchers.pop(sid, set()):
                                    _settle(future, True)

    async def _progress(self, journeys: Sequence[Journey], say: Callable[[str], None]) -> None:
        while True:
            await asyncio.sleep(5.0)
            inside = self.inside
            asked = sum(len(v) for v in self.tally.latencies.values())
            say(f"t={self.now():.0f} s: {inside} of {len(journeys)} inside, {asked} answered, "
                f"{self.tally.offline_answers} ranked by the phone "
                f"({self.tally.given_way} sent there by the server), "
                f"{sum(self.tally.failures.values())} failed")

    # -- keyholders ---------------------------------------------------------------------------
    async def _keyholder_phone(self, reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
        """A keyholder's phone receiving the outbox's webhooks (HTTP/1.1, kept alive)."""
        self.phones.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
                length = next((int(v) for k, _, v in (h.partition(":") for h in lines[1:])
                               if k.strip().lower() == "content-length"), 0)
                body = await reader.readexactly(length) if length else b"{}"
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
                try:
                    message = orjson.loads(body)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(message, dict):
                    self._keyholder_message(path, message)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self.phones.discard(writer)
            writer.close()

    def _keyholder_message(self, path: str, body: dict[str, Any]) -> None:
        self.tally.keyholder_messages[str(body.get("event"))] += 1
        try:
            sid = int(path.rstrip("/").rsplit("/", 1)[-1])
        except ValueError:
            return
        answers = self.world.plans[sid].keyholder_answers_s if sid in self.world.plans else None
        link = body.get("link")
        if body.get("event") == "check_in" and isinstance(link, str) and answers is not None:
            self.spawn(self._check_in(urlsplit(link).path, self.now() + answers))

    async def _check_in(self, path: str, at: float) -> None:
        await self.until(at)
        response = await self.call("check-in", "POST", path)
        if response is not None and response.status_code < 400:
            self.tally.check_ins += 1

    def _unlocked_from_thread(self, shelter_id: int) -> None:
        """An unlock reached a controlled door (the MQTT thread hands it to the loop)."""
        self.loop.call_soon_threadsafe(lambda: self.world.open(shelter_id, self.now()))
