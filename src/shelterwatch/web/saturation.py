"""When this process cannot keep up, look-ups give way to reports.

One API process answers residents' look-ups and takes their reports on one event loop. In a
city's first minute the look-ups alone can fill it: the Kyiv simulation at 100,000 residents
had 1,400 look-ups a second on one process and residents' reports waiting behind them, p99 22 s.
A phone that holds the offline pack can rank shelters without the server; a report of a locked
door cannot be made anywhere else. So while the loop runs late, a look-up from a phone that says
it holds the pack (`pack=true`) is answered at once with a 503, and its page ranks the pack
straight away instead of waiting out its five seconds; reports, and look-ups from anything that
holds no pack, are served as before.

Saying `pack=true` buys nothing (it only lets the server refuse the caller), so a script gains
nothing by it; leaving it out is the plain look-up everyone had before.

Lateness is measured by a tick: a timer asks to wake every `TICK_S`, and how late it wakes is
how long the loop kept everything else waiting. A run of `LATE_TICKS` ticks later than the
threshold starts the giving way: a loop that cannot keep up is late on every tick, while one
pause (a collection, a slow handler) is late on one, and sending phones to their packs for it
would cost their answers the server's knowledge for nothing. It ends after a run of ticks on
time (under half the threshold), so it does not flap.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

TICK_S = 0.02
LATE_TICKS = 3  # late this many times in a row: the loop is not keeping up
CALM_TICKS = 25  # half a second on time before look-ups are served again


@dataclass(slots=True)
class Lateness:
    """Whether look-ups give way, from how late each tick of the loop ran."""

    give_way_after_s: float  # 0: never
    late_ticks: int = LATE_TICKS
    calm_ticks: int = CALM_TICKS
    giving_way: bool = False
    last_late_s: float = 0.0
    _late: int = 0  # ticks in a row later than the threshold
    _on_time: int = 0  # ticks in a row under half of it

    def observe(self, late_s: float) -> bool:
        """Take one tick's lateness; True when this tick started or ended the giving way."""
        self.last_late_s = late_s
        if self.give_way_after_s <= 0:
            return False
        if late_s > self.give_way_after_s:
            self._late += 1
            self._on_time = 0
            if not self.giving_way and self._late >= self.late_ticks:
                self.giving_way = True
                return True
            return False
        self._late = 0
        if late_s < self.give_way_after_s / 2:
            self._on_time += 1
            if self.giving_way and self._on_time >= self.calm_ticks:
                self.giving_way = False
                return True
        else:
            self._on_time = 0
        return False


class LoopWatch:
    """Ticks on the running loop and keeps `lateness` current; started by the app's lifespan."""

    def __init__(self, lateness: Lateness, *, tick_s: float = TICK_S) -> None:
        self.lateness = lateness
        self.tick_s = tick_s
        self.given_way = 0  # look-ups refused so far (`/metrics`)
        self._task: asyncio.Task[None] | None = None

    @property
    def giving_way(self) -> bool:
        return self.lateness.giving_way

    def start(self) -> None:
        if self.lateness.give_way_after_s > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.tick_s
            await asyncio.sleep(self.tick_s)
            late = max(0.0, loop.time() - due)
            if self.lateness.observe(late):
                if self.lateness.giving_way:
                    logger.warning("look-ups give way to reports: the loop ran %.0f ms late",
                                   late * 1000)
                else:
                    logger.info("look-ups served again; %d were sent to the phones' packs",
                                self.given_way)
