"""Coverage gaps (issue 14): who has no shelter within reach, and where to add or fix one."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class CoverageSettings(BaseSettings):
    # The population and street network the live figures use (empty = the bundled district
    # totals, straight line × detour), and the longest walk considered.
    coverage_population: str = ""
    coverage_network: str = ""
    coverage_horizon_s: float = 1800.0
    coverage_max_cells: int = 60_000  # live figures only; Kyiv is ~8,300, an oblast ~300,000
    # Where to add or fix: how many sites to rank, how far back a door counts as locked-prone,
    # and a CSV of lat,lon[,name] points a planner proposes (empty: none).
    coverage_sites_top: int = 10
    coverage_locked_window_days: float = 30.0
    coverage_candidates: str = ""
    # Which areas the API keeps live coverage for, each built when the process starts (and again
    # when the registry changes), never on a request: "*" = every area with a shelter in it or
    # under it, or a comma list of area ids; empty = none.
    coverage_areas: str = "*"
