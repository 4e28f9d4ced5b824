"""`GET /v1/areas`: the area tree, without polygons unless asked for."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter

from shelterwatch.answers import documented
from shelterwatch.areas import service as areas
from shelterwatch.areas.schemas import AreaList
from shelterwatch.deps import ReadSession
from shelterwatch.shelters import service as shelters

router = APIRouter(tags=["areas"])


@router.get("/v1/areas", summary="Areas alerts are issued for, with shelter counts",
            **documented(AreaList))
def list_areas(session: ReadSession, geometry: bool = False) -> dict[str, Any]:
    counts = shelters.count_by_area(session)
    items = []
    for a in areas.list_all(session):
        item: dict[str, Any] = {"id": a.id, "name": a.name, "name_en": a.name_en,
                                "level": a.level, "parent_id": a.parent_id,
                                "katottg": a.katottg, "shelters": counts.get(a.id, 0)}
        if geometry and a.geometry:
            item["geometry"] = orjson.loads(a.geometry)
        items.append(item)
    return {"areas": items}
