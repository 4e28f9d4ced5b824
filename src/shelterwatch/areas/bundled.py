"""The areas shipped with shelterwatch: oblasts keyed by alerts.in.ua UIDs, Kyiv's ten districts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from shelterwatch.vocabulary import AreaLevel

KYIV_CITY = "31"
CITY_UIDS = {"31", "30"}  # Kyiv and Sevastopol have special status
# The bundled polygon file swaps two UIDs; alerts.in.ua and ukrainealarm both use Vinnytsia = 4
# and Volyn = 8. Keyed by KATOTTG code, which the file has right.
UID_FIXES = {"UA05000000000010236": "4", "UA07000000000024379": "8"}


@dataclass(frozen=True, slots=True)
class AreaRecord:
    id: str
    name: str
    name_en: str
    level: AreaLevel
    parent_id: str | None
    katottg: str | None
    geometry: dict[str, Any] | None


def _features(name: str) -> list[dict[str, Any]]:
    text = resources.files("shelterwatch.data.areas").joinpath(name).read_text("utf-8")
    features: list[dict[str, Any]] = json.loads(text)["features"]
    return features


def normalise_name(name: str) -> str:
    """Join names across sources that spell the apostrophe differently."""
    return " ".join(name.replace("\u2019", "'").replace("\u02bc", "'").split()).casefold()


def records() -> list[AreaRecord]:
    """Parents before children, so the tree can be inserted in order."""
    out: list[AreaRecord] = []
    for f in _features("oblasts_osm_alertsinua_uid.geojson"):
        p = f["properties"]
        uid = UID_FIXES.get(p.get("katotth", ""), str(p["@location_uid"]))
        level = AreaLevel.CITY if uid in CITY_UIDS else AreaLevel.OBLAST
        out.append(AreaRecord(uid, p["name"], p.get("name:en", ""), level, None,
                              p.get("katotth"), f["geometry"]))
    out.sort(key=lambda a: int(a.id))
    for f in _features("kyiv_districts_osm.geojson"):
        p = f["properties"]
        out.append(AreaRecord(p["katotth"], p["name"], p.get("name:en", ""), AreaLevel.DISTRICT,
                              KYIV_CITY, p["katotth"], f["geometry"]))
    return out
