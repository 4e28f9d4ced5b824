"""How far a resident gets and how the way is shown: walking speeds, the router, the map."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings


class WalkingSettings(BaseSettings):
    # Walking (DESIGN §4, issue 5)
    walking_speed_mps: float = 1.3
    reduced_mobility_speed_mps: float = 0.8
    detour_factor: float = 1.3
    routing_url: str = ""
    routing_timeout_s: float = 0.3
    routing_engine: Literal["osrm", "valhalla"] = "osrm"
    # How many nearest shelters (by distance) the ranking chooses from.
    nearest_pool: int = 12
    # Empty: no tile server. A public one (tile.openstreetmap.org) forbids heavy use, and a
    # page that must work during an alert cannot lean on a third party (issue 11).
    tiles_url: str = ""
    # A street map the app serves itself: the folder `shelterwatch basemap build` wrote (empty:
    # the bundled district outline only).
    basemap_dir: str = ""
