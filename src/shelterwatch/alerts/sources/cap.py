"""OASIS CAP 1.2 messages (one alert, or an Atom feed of them) as alert transitions.

Parsed with defusedxml (no entity expansion, no external fetches) and checked against the bundled
CAP 1.2 schema before anything is believed. `responseType=Shelter` starts an alert; an
`AllClear` response or `msgType=Cancel` ends the alerts the message references. The area comes
from a geocode (our area ids, KATOTTG codes, or the configured `valueName:value=area` mapping),
else from intersecting the CAP polygon or circle with area polygons. CAP 1.1 and older are
refused by name, because their semantics differ and silently accepting them would mislead.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import xmlschema
from defusedxml import DefusedXmlException
from shapely import make_valid
from shapely.geometry import Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.alerts import service
from shelterwatch.alerts.models import Alert
from shelterwatch.areas.models import Area
from shelterwatch.errors import InvalidInput
from shelterwatch.vocabulary import AlertType, Threat

SOURCE = "cap"
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
OLDER = {"urn:oasis:names:tc:emergency:cap:1.1": "1.1", "http://www.incident.com/cap/1.0": "1.0",
         "urn:oasis:names:tc:emergency:cap:1.0": "1.0"}
ATOM = "http://www.w3.org/2005/Atom"
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"
AREA_GEOCODES = {"alerts.in.ua", "ua-alerts-uid", "shelterwatch-area"}
MIN_COVER = 0.5  # an area counts as alerted when the CAP shape covers half of it
logger = logging.getLogger(__name__)

THREAT_WORDS: tuple[tuple[str, Threat], ...] = (
    ("ballistic", Threat.BALLISTIC), ("балістич", Threat.BALLISTIC),
    ("cruise", Threat.CRUISE), ("крилат", Threat.CRUISE), ("ракет", Threat.CRUISE),
    ("drone", Threat.DRONES), ("бпла", Threat.DRONES), ("дрон", Threat.DRONES),
    ("шахед", Threat.DRONES), ("aviation", Threat.AVIATION), ("авіац", Threat.AVIATION),
)


@dataclass(frozen=True, slots=True)
class CapInfo:
    response_types: tuple[str, ...]
    event: str
    category: tuple[str, ...]
    onset: datetime | None
    geocodes: tuple[tuple[str, str], ...]
    shapes: tuple[BaseGeometry, ...]


@dataclass(frozen=True, slots=True)
class CapMessage:
    sender: str
    identifier: str
    sent: datetime
    msg_type: str
    references: tuple[str, ...]  # "sender,identifier" of the messages this one refers to
    infos: tuple[CapInfo, ...]

    @property
    def ref(self) -> str:
        return f"{self.sender},{self.identifier}"


@dataclass
class CapOutcome:
    """What importing one message did, in words an operator can act on."""

    identifier: str
    action: str  # started | ended | ignored
    alert_ids: list[int] = field(default_factory=list)
    reason: str = ""


@lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    path = resources.files("shelterwatch.alerts").joinpath("cap12.xsd")
    return xmlschema.XMLSchema(str(path))


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _text(el: Element, name: str) -> str:
    found = el.find(f"{{{CAP12}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def _all(el: Element, name: str) -> list[Element]:
    return el.findall(f"{{{CAP12}}}{name}")


def _point(text: str, where: str) -> tuple[float, float]:
    """A CAP "lat,lon" pair as (lon, lat), checked to be a place on Earth."""
    parts = text.split(",")
    try:
        lat, lon = (float(v) for v in parts)
    except ValueError:
        raise InvalidInput(f"{where}: {text!r} is not a 'lat,lon' pair") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
            and -180 <= lon <= 180):
        raise InvalidInput(f"{where}: {text!r} is not a position on Earth")
    return lon, lat


def _shape_of(area: Element) -> list[BaseGeometry]:
    """The area's polygons and circles; a malformed one is refused, naming what is wrong."""
    shapes: list[BaseGeometry] = []
    for poly in _all(area, "polygon"):
        points = [_point(p, "polygon") for p in (poly.text or "").split()]
        if len(points) < 4 or points[0] != points[-1]:
            raise InvalidInput("polygon: needs at least 4 'lat,lon' pairs, the first repeated "
                               f"last (CAP 1.2 §3.3.4), got {len(points)}")
        shape_ = Polygon(points)
        if not shape_.is_valid:  # a ring that crosses itself: take the area it encloses
            shape_ = make_valid(shape_)
        if shape_.is_empty or shape_.area == 0:
            raise InvalidInput("polygon: encloses no area")
        shapes.append(shape_)
    for circle in _all(area, "circle"):
        parts = (circle.text or "").split()
        if len(parts) != 2:
            raise InvalidInput(f"circle: {circle.text!r} is not 'lat,lon radius_km'")
        lon, lat = _point(parts[0], "circle")
        try:
            radius_km = float(parts[1])
        except ValueError:
            raise InvalidInput(f"circle: radius {parts[1]!r} is not a number") from None
        if not math.isfinite(radius_km) or radius_km < 0 or radius_km > 5000:
            raise InvalidInput(f"circle: radius {parts[1]!r} km is not a usable radius")
        shapes.append(Point(lon, lat).buffer(max(radius_km, 0.01) / 111.32))
    return shapes


def _without_signatures(root: Element) -> Element:
    """The alert minus XML-DSig blocks: we do not verify signatures, so an elided or foreign
    signature must not decide whether the message itself is valid CAP."""
    copy = Element(root.tag, root.attrib)
    copy.text = root.text
    copy.extend(child for child in root if _ns(child.tag) != XMLDSIG)
    return copy


def parse_alert(root: Element) -> CapMessage:
    """A validated CAP 1.2 <alert> element as plain data; InvalidInput says why not."""
    ns = _ns(root.tag)
    if ns in OLDER:
        raise InvalidInput(f"CAP {OLDER[ns]} is not supported: send CAP 1.2 ({CAP12})")
    if ns != CAP12 or root.tag != f"{{{CAP12}}}alert":
        raise InvalidInput(f"not a CAP 1.2 alert: root element {root.tag!r}")
    error = next(iter(schema().iter_errors(_without_signatures(root))), None)
    if error is not None:
        raise InvalidInput(f"CAP 1.2 schema violation at {error.path}: {error.reason}")
    infos = []
    for info in _all(root, "info"):
        onset = _text(info, "onset") or _text(info, "effective")
        infos.append(CapInfo(
            response_types=tuple((r.text or "").strip() for r in _all(info, "responseType")),
            event=_text(info, "event"),
            category=tuple((c.text or "").strip() for c in _all(info, "category")),
            onset=datetime.fromisoformat(onset) if onset else None,
            geocodes=tuple((_text(g, "valueName"), _text(g, "value"))
                           for a in _all(info, "area") for g in _all(a, "geocode")),
            shapes=tuple(s for a in _all(info, "area") for s in _shape_of(a)),
        ))
    references = tuple(",".join(r.split(",")[:2]) for r in _text(root, "references").split())
    return CapMessage(sender=_text(root, "sender"), identifier=_text(root, "identifier"),
                      sent=datetime.fromisoformat(_text(root, "sent")),
                      msg_type=_text(root, "msgType"), references=references,
                      infos=tuple(infos))


def parse_document(data: bytes) -> list[CapMessage]:
    """A CAP alert or an Atom feed whose entries embed CAP alerts."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:  # entity expansion, external references
        raise InvalidInput(f"refused XML: {type(exc).__name__}: {exc}") from exc
    except (SafeET.ParseError, ValueError) as exc:
        raise InvalidInput(f"not well-formed XML: {exc}") from exc
    if root.tag == f"{{{ATOM}}}feed":
        alerts = [el for entry in root.iter(f"{{{ATOM}}}entry") for el in entry.iter()
                  if el.tag.endswith("}alert")]
        if not alerts:
            raise InvalidInput("the Atom feed embeds no CAP <alert> in its entries")
        return [parse_alert(el) for el in alerts]
    return [parse_alert(root)]


def type_and_threat(info: CapInfo) -> tuple[AlertType, Threat]:
    """What kind of alert a CAP info describes, from its event name and categories."""
    words = info.event.casefold()
    kind = AlertType.AIR_RAID
    if "CBRNE" in info.category or "chemical" in words or "хімічн" in words:
        kind = AlertType.NUCLEAR if ("nuclear" in words or "радіац" in words) else \
            AlertType.CHEMICAL
    elif "artillery" in words or "артилер" in words:
        kind = AlertType.ARTILLERY
    threat = next((t for w, t in THREAT_WORDS if w in words), Threat.UNKNOWN)
    return kind, threat


def areas_for(session: Session, info: CapInfo, geocode_map: dict[tuple[str, str], str]) -> \
        list[str]:
    """Our areas this CAP info speaks for: geocodes first, then geometry."""
    rows = session.execute(select(Area.id, Area.parent_id, Area.katottg)).all()
    ids = {r[0] for r in rows}
    by_katottg = {r[2]: r[0] for r in rows if r[2]}
    found: list[str] = []
    for name, value in info.geocodes:
        key = name.casefold()
        area = geocode_map.get((key, value))
        if area is None and key in AREA_GEOCODES and value in ids:
            area = value
        if area is None and key == "katottg":
            area = by_katottg.get(value)
        if area is not None and area not in found:
            found.append(area)
    if not found and info.shapes:
        found = _areas_by_geometry(session, info.shapes)
    parents = {r[0]: r[1] for r in rows}
    return [a for a in found if not _has_ancestor_in(a, set(found), parents)]


def _has_ancestor_in(area: str, chosen: set[str], parents: dict[str, str | None]) -> bool:
    current = parents.get(area)
    while current is not None:
        if current in chosen:
            return True
        current = parents.get(current)
    return False


def _areas_by_geometry(session: Session, shapes: tuple[BaseGeometry, ...]) -> list[str]:
    rows = session.execute(select(Area.id, Area.geometry).where(Area.geometry.is_not(None)))
    polygons = [(i, shape(json.loads(g))) for i, g in rows if g]
    covered = []
    for shp in shapes:
        for area_id, poly in polygons:
            if poly.area and poly.intersects(shp) and \
                    poly.intersection(shp).area / poly.area >= MIN_COVER:
                covered.append(area_id)
        if not covered:
            inside = [(p.area, i) for i, p in polygons if p.contains(shp.representative_point())]
            covered.extend(i for _, i in sorted(inside)[:1])
    return list(dict.fromkeys(covered))


def ref_for(message_ref: str, info_index: int, area_id: str) -> str:
    """Our source_ref for the alert one CAP info starts on one area; Cancel finds it by prefix."""
    return f"{message_ref}#{info_index}:{area_id}"


def apply(session: Session, message: CapMessage, *, geocode_map: dict[tuple[str, str], str],
          actor: str, now: datetime) -> CapOutcome:
    """Start or end alerts as one CAP message says; ignored messages say why."""
    out = CapOutcome(identifier=message.identifier, action="ignored")
    ends_refs = message.msg_type == "Cancel" or any(
        "AllClear" in i.response_types for i in message.infos)
    if ends_refs:
        refs = list(message.references)
        if not refs:
            out.reason = "an all-clear that references no earlier message"
            return out
        for ref in refs:
            for alert in _alerts_started_by(session, ref):
                t = service.end(session, alert=alert, ended_at=message.sent, actor=actor, now=now)
                out.alert_ids.append(t.alert.id)
        out.action = "ended" if out.alert_ids else "ignored"
        out.reason = "" if out.alert_ids else f"no alert started by {', '.join(refs)}"
        return out
    shelter = [i for i in message.infos if "Shelter" in i.response_types]
    if message.msg_type not in {"Alert", "Update"} or not shelter:
        out.reason = "no info with responseType Shelter"
        return out
    for n, info in enumerate(shelter):
        kind, threat = type_and_threat(info)
        targets = areas_for(session, info, geocode_map)
        for area_id in targets:
            t = service.start(session, area_id=area_id, type=kind, threat=threat,
                              started_at=info.onset or message.sent, source=SOURCE,
                              source_ref=ref_for(message.ref, n, area_id), actor=actor, now=now)
            out.alert_ids.append(t.alert.id)
    out.action = "started" if out.alert_ids else "ignored"
    out.reason = "" if out.alert_ids else "no known area matches its geocodes or shapes"
    return out


def _alerts_started_by(session: Session, ref: str) -> list[Alert]:
    return list(session.execute(
        select(Alert).where(Alert.source == SOURCE, Alert.source_ref.startswith(ref + "#"))
    ).scalars())
