"""The clock of a simulated night: it may run faster than real time, in development only (the
check that needs `environment` is on Settings, where both groups meet)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from pydantic_settings import BaseSettings


class ClockSettings(BaseSettings):
    # A simulated night only (`shelterwatch simulate`): the clock runs this many times faster
    # than real time from the real instant CLOCK_ANCHOR, the same in the server and the worker.
    clock_speed: float = Field(default=1.0, gt=0, le=1000)
    clock_anchor: datetime | None = None
