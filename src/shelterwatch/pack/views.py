"""`GET /v1/pack`: the offline pack with an ETag (304 when the phone already has it)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.answers import documented
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.errors import Unavailable
from shelterwatch.log.follower import LogFollower
from shelterwatch.observations.board import StatusBoard
from shelterwatch.pack import service as packs
from shelterwatch.pack.published import PublishedPack
from shelterwatch.pack.schemas import Pack
from shelterwatch.pack.service import PackCache

router = APIRouter(tags=["live"])


def start(settings: Settings, follower: LogFollower,
          board: StatusBoard) -> PackCache | PublishedPack:
    """The process's pack: the published files when `SHELTERWATCH_PACK_DIR` is set (the worker
    keeps them current; no request builds the pack), else built lazily from the status board
    and rebuilt only after relevant facts (after the board applied them)."""
    if settings.pack_dir:
        return PublishedPack(Path(settings.pack_dir))
    url = settings.database_url
    config = alerts.warning_config(settings)

    def build() -> packs.Pack:
        with db.reading(url) as session:
            return packs.build(session, board.get, now=utcnow(), config=config)

    cache = PackCache(build)
    board.on_change(cache.mark_stale)
    follower.subscribe(cache.apply)
    return cache


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.get("/v1/pack", summary="Offline pack: every shelter and its status (ETag)",
            **documented(Pack))
def get_pack(request: Request) -> Response:
    pack = request.app.state.pack.current()
    if pack is None:
        raise Unavailable("the offline pack is not published yet (the worker publishes it to "
                          "SHELTERWATCH_PACK_DIR when it starts); retry in a few seconds")
    headers = {"ETag": pack.etag, "Cache-Control": "public, max-age=5, must-revalidate",
               "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), pack.etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(pack.gzipped, media_type="application/json",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(pack.body, media_type="application/json", headers=headers)
