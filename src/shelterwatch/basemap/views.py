"""`/basemap/…`: the street map's tiles, style, gazetteer and tile list, when one is built.

Tiles are immutable for one build, so they are cached for a day and carry the build's hash in
their URL (`?v=`): a rebuilt basemap gets new URLs, and the service worker keeps the old ones
only until it has the new set.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shelterwatch.basemap.archive import Archive
from shelterwatch.errors import NotFound

router = APIRouter(prefix="/basemap", include_in_schema=False)
MVT = "application/vnd.mapbox-vector-tile"


def _archive(request: Request) -> Archive:
    archive: Archive | None = getattr(request.app.state, "basemap", None)
    if archive is None:
        raise NotFound("no street map is installed: run `shelterwatch basemap build EXTRACT "
                       "--out DIR` and set SHELTERWATCH_BASEMAP_DIR=DIR")
    return archive


@router.get("/tiles/{z}/{x}/{y}.mvt")
def tile(request: Request, z: int, x: int, y: int) -> Response:
    """One vector tile; an empty one where the city has nothing to draw (never a 404 hole)."""
    data = _archive(request).tile(z, x, y)
    headers = {"Cache-Control": "public, max-age=86400"}
    if data is None:
        return Response(b"", media_type=MVT, headers=headers)
    if data[:2] == b"\x1f\x8b":  # pmtiles stores vector tiles gzipped: the browser unpacks them
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=MVT, headers=headers)


@router.get("/style.json")
def style(request: Request) -> Response:
    return Response(_archive(request).style, media_type="application/json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/gazetteer.json")
def gazetteer(request: Request) -> Response:
    """The extract's streets (with former names) and house numbers, for the offline search."""
    return Response(_archive(request).gazetteer, media_type="application/json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/index.json")
def index(request: Request) -> dict[str, object]:
    """The build and every tile's address: what the service worker keeps for offline use."""
    archive = _archive(request)
    return {"version": archive.version, "manifest": archive.manifest,
            "tiles": archive.tile_list}
