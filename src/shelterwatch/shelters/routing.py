"""Walking distances from a foot-routing server (OSRM or Valhalla), when one is configured.

Streets are rarely straight, so a router's answer beats the detour-factor estimate; but a resident
must never wait on it. Every call has a short timeout and any failure returns None, so the caller
falls back to the estimate. Only the routed distance is used (divided by the configured walking
speed), so a slower reduced-mobility walk is honoured whatever speed the router's profile assumes.

OSRM: `GET {url}/table/v1/foot/{lon,lat;…}?sources=0&annotations=distance,duration`
  → `{"code": "Ok", "distances": [[…]], "durations": [[…]]}` (metres, seconds, null = no route).
Valhalla: `POST {url}/sources_to_targets` with `costing: pedestrian`
  → `{"sources_to_targets": [[{"distance": km, "time": s}, …]]}`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

logger = logging.getLogger(__name__)

ENGINES = ("osrm", "valhalla")


class FootRouter:
    """A client for one routing server; `distances` never raises."""

    def __init__(self, url: str, *, engine: str = "osrm", timeout_s: float = 0.3,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if engine not in ENGINES:
            raise ValueError(f"routing engine {engine!r} is not one of {', '.join(ENGINES)}")
        self.url = url.rstrip("/")
        self.engine = engine
        self.timeout_s = timeout_s
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def distances(self, origin: tuple[float, float],
                        targets: Sequence[tuple[float, float]]) -> list[float | None] | None:
        """Walking distance in metres from origin (lat, lon) to each target; None on failure."""
        if not targets:
            return []
        try:
            if self.engine == "osrm":
                return await self._osrm(origin, targets)
            return await self._valhalla(origin, targets)
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as exc:
            logger.warning("foot routing failed (%s); using the straight-line estimate", exc)
            return None

    async def _osrm(self, origin: tuple[float, float],
                    targets: Sequence[tuple[float, float]]) -> list[float | None] | None:
        points = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in (origin, *targets))
        response = await self._client.get(
            f"{self.url}/table/v1/foot/{points}",
            params={"sources": "0", "annotations": "distance,duration"})
        response.raise_for_status()
        body = response.json()
        if body.get("code") != "Ok":
            raise ValueError(f"OSRM answered {body.get('code')}: {body.get('message', '')}")
        row = body["distances"][0][1:]
        if len(row) != len(targets):
            raise ValueError("OSRM returned a table of the wrong size")
        return [None if d is None else float(d) for d in row]

    async def _valhalla(self, origin: tuple[float, float],
                        targets: Sequence[tuple[float, float]]) -> list[float | None] | None:
        request = {
            "sources": [{"lat": origin[0], "lon": origin[1]}],
            "targets": [{"lat": lat, "lon": lon} for lat, lon in targets],
            "costing": "pedestrian", "units": "kilometers",
        }
        response = await self._client.post(f"{self.url}/sources_to_targets", json=request)
        response.raise_for_status()
        row = response.json()["sources_to_targets"][0]
        if len(row) != len(targets):
            raise ValueError("Valhalla returned a matrix of the wrong size")
        return [None if cell.get("distance") is None else float(cell["distance"]) * 1000.0
                for cell in row]
