"""The resident's page at `/`, its static files and service worker, and `/about` with the counts.

Leaflet comes from the XStatic-Leaflet pip package, the street map's renderer (protomaps-leaflet)
and its font (Noto Sans) from npm, installed by `make` (npm ci); the app serves them itself: a page
that must work during an alert cannot depend on a third-party CDN. Static files are read into memory
once and served with an ETag, so the service worker's revalidation costs a 304.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import mimetypes
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

import orjson
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from shelterwatch import db
from shelterwatch.alerts import service as alerts
from shelterwatch.areas import service as areas
from shelterwatch.audits import readiness_store
from shelterwatch.basemap import views as basemap_views
from shelterwatch.basemap.archive import Archive
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.deps import ReadSession
from shelterwatch.errors import NotFound
from shelterwatch.log.follower import LogFollower
from shelterwatch.messages import catalogue
from shelterwatch.messages import status as wording
from shelterwatch.messages.catalogue import Renderer
from shelterwatch.rules.ranking import FAILS, STATUS_CLASS, WalkingModel
from shelterwatch.shelters import service as shelters
from shelterwatch.shelters.index import ShelterIndex
from shelterwatch.shelters.routing import FootRouter
from shelterwatch.vocabulary import Status
from shelterwatch.web import nearest, page_words, tracking
from shelterwatch.web.alert_board import AlertBoard

WEB = files("shelterwatch.web")
log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _asset(path: Path | Traversable, name: str) -> Asset:
    body = path.read_bytes()
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def _load_assets() -> dict[str, Asset]:
    import xstatic.pkg.leaflet as leaflet

    out: dict[str, Asset] = {}
    base = Path(leaflet.BASE_DIR)
    for rel in ("leaflet.js", "leaflet.css", "images/marker-icon.png",
                "images/marker-icon-2x.png", "images/marker-shadow.png", "images/layers.png",
                "images/layers-2x.png"):
        out[f"leaflet/{rel}"] = _asset(base / rel, rel)
    import swagger_ui_bundle

    swagger = Path(swagger_ui_bundle.swagger_ui_path)
    for rel in ("swagger-ui-bundle.js", "swagger-ui.css"):
        out[f"swagger/{rel}"] = _asset(swagger / rel, rel)
    out.update(_npm_assets())
    static = WEB / "static"
    for entry in static.iterdir():
        if entry.is_file():
            out[entry.name] = _asset(entry, entry.name)
    out["catalogue.js"] = _catalogue_script()
    districts = _districts_outline()
    out["districts.geojson"] = Asset(districts, "application/geo+json",
                                     '"' + hashlib.sha256(districts).hexdigest()[:20] + '"')
    renames = _street_renames()
    out["street-renames.json"] = Asset(renames, "application/json",
                                       '"' + hashlib.sha256(renames).hexdigest()[:20] + '"')
    return out


def _street_renames() -> bytes:
    """Kyiv's renamed streets (bundled, see data/streets/SOURCE.md) for the offline search."""
    text = (files("shelterwatch.data.streets") / "kyiv_street_renames.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    return orjson.dumps({"renames": [[r["old_name"], r["new_name"], int(r["year"])]
                                     for r in rows],
                         "source": "Kyiv City Council renaming decisions (data/streets)"})


# Installed by `make` (npm ci, pinned in package-lock.json) beside the source tree.
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
NPM_FILES = {
    "vendor/protomaps-leaflet.js": "protomaps-leaflet/dist/protomaps-leaflet.js",
    **{f"fonts/noto-sans-{script}-{weight}-normal.woff2":
       f"@fontsource/noto-sans/files/noto-sans-{script}-{weight}-normal.woff2"
       for script in ("cyrillic", "latin") for weight in (400, 600)},
}


def _npm_assets() -> dict[str, Asset]:
    """The street map's renderer and font; absent (no streets drawn) until `npm ci` has run."""
    out: dict[str, Asset] = {}
    for name, rel in NPM_FILES.items():
        path = NODE_MODULES / rel
        if path.is_file():
            out[name] = _asset(path, path.name)
    return out


def _catalogue_script() -> Asset:
    """The message catalogue as a script the page and the service worker load before `i18n.js`:
    one set of words for the server and the phone, offline too."""
    shared = {k: v for k, v in catalogue.data().items() if k in ("term", "plural", "message")}
    body = b"self.CATALOGUE = " + orjson.dumps(shared) + b";\n"
    return Asset(body, "text/javascript; charset=utf-8",
                 '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def _districts_outline(places: int = 4) -> bytes:
    """The city's districts as a light GeoJSON: the map's background when no basemap is built.

    Coordinates rounded to about 10 m and repeated points dropped take the bundled OSM export
    from half a megabyte to a size a phone keeps without noticing.
    """
    raw = orjson.loads((files("shelterwatch.data.areas") / "kyiv_districts_osm.geojson")
                       .read_bytes())
    features = []
    for f in raw["features"]:
        rings = []
        for ring in f["geometry"]["coordinates"]:
            out: list[list[float]] = []
            for lon, lat in ring:
                point = [round(lon, places), round(lat, places)]
                if not out or out[-1] != point:
                    out.append(point)
            rings.append(out)
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
                         "properties": {"name": f["properties"].get("name", ""),
                                        "name_en": f["properties"].get("name:en", "")}})
    return orjson.dumps({"type": "FeatureCollection", "features": features,
                         "attribution": "© OpenStreetMap contributors, ODbL 1.0"})


ASSETS = _load_assets()
APP_VERSION = hashlib.sha256(b"".join(a.etag.encode() for _, a in sorted(ASSETS.items()))
                             ).hexdigest()[:12]


def _send(request: Request, asset: Asset, cache: str) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": cache}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/static/{path:path}")
def static(request: Request, path: str) -> Response:
    asset = ASSETS.get(path)
    if asset is None:
        raise NotFound(f"no static file {path!r}")
    return _send(request, asset, "public, max-age=300")


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    """Served from the root so it may control the whole page (a worker's scope is its path)."""
    return _send(request, ASSETS["sw.js"], "no-cache")


def _page_config(request: Request) -> str:
    settings = request.app.state.settings
    model: WalkingModel = request.app.state.nearest.model
    config = {
        "tilesUrl": settings.tiles_url,
        "basemap": _basemap_config(request),
        "zone": settings.timezone,
        "version": APP_VERSION,
        "walk": {"speed": model.speed_mps, "reducedSpeed": model.reduced_mobility_speed_mps,
                 "detour": model.detour_factor},
        "pool": request.app.state.nearest.pool,
        "statusClass": {s.value: c for s, c in STATUS_CLASS.items()},
        "fails": {s.value: p for s, p in FAILS.items()},
        "statusText": wording.headlines(),
    }
    # Inline JSON in a <script> must not be able to close the tag.
    return orjson.dumps(config).decode().replace("</", "<\\/")


def _basemap_config(request: Request) -> dict[str, object] | None:
    archive: Archive | None = getattr(request.app.state, "basemap", None)
    if archive is None or not all(name in ASSETS for name in NPM_FILES):
        return None
    return {"tiles": f"/basemap/tiles/{{z}}/{{x}}/{{y}}.mvt?v={archive.version}",
            "version": archive.version, "style": "/basemap/style.json",
            "gazetteer": "/basemap/gazetteer.json", "index": "/basemap/index.json",
            "bbox": archive.manifest.get("bbox"), "maxZoom": archive.max_zoom,
            "attribution": archive.manifest.get("attribution", "")}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    page = Template(page_words.worded((WEB / "templates" / "index.html").read_text("utf-8")))
    html = page.substitute(config=_page_config(request), version=APP_VERSION,
                           title=page_words.title("title"),
                           results=escape(Renderer("uk")("page.results"), quote=False))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """The API's interactive documentation, every file served by the app itself (offline too)."""
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="shelterwatch API",
                               swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                               swagger_css_url="/static/swagger/swagger-ui.css",
                               swagger_favicon_url="/static/icon.svg")
    html = bytes(page.body).decode().replace("<html>", '<html lang="en">', 1)
    return HTMLResponse(html)


@router.get("/about", response_class=HTMLResponse)
def about(session: ReadSession) -> HTMLResponse:
    """How many shelters are loaded, per district: the registry at a glance."""
    counts = shelters.count_by_area(session)
    rows = [(a.name, a.name_en, counts[a.id]) for a in areas.list_all(session) if a.id in counts]
    rows.sort(key=lambda r: r[0])
    total = sum(c for *_, c in rows)
    body = "".join(f"<tr><td>{escape(n)}</td><td>{escape(e)}</td><td>{c}</td></tr>"
                   for n, e, c in rows)
    page = Template((WEB / "templates" / "about.html").read_text(encoding="utf-8"))
    return HTMLResponse(page.substitute(total=total, rows=body))


router.include_router(tracking.router)
router.include_router(basemap_views.router)


def open_basemap(directory: str) -> Archive | None:
    """The built street map, or None (the page then says how to add one) with the reason logged."""
    if not directory:
        return None
    try:
        archive = Archive(Path(directory))
    except (OSError, ValueError, KeyError) as exc:
        log.error("SHELTERWATCH_BASEMAP_DIR=%s is not a built basemap (%s): run `shelterwatch "
                  "basemap build EXTRACT --out %s`; serving the district outline only",
                  directory, exc, directory)
        return None
    if not all(name in ASSETS for name in NPM_FILES):
        log.error("the street map needs protomaps-leaflet and Noto Sans from npm: run `make` "
                  "(npm ci); serving the district outline only")
    return archive


def start(settings: Settings, follower: LogFollower,
          statuses: dict[int, Status]) -> tuple[ShelterIndex, AlertBoard, nearest.Nearest]:
    """The shelter index and alert board loaded and following the log, and the nearest-shelter
    look-up over them; the index ranks by `statuses`, the process's status board's."""
    with db.reading(settings.database_url) as session:
        index, _ = ShelterIndex.load(session, shared_statuses=statuses,
                                     readiness=readiness_store.readiness_by_shelter(session),
                                     ghost_ids=readiness_store.ghost_ids(session))
        board = AlertBoard.load(session, now=utcnow(), config=alerts.warning_config(settings))
    follower.subscribe(index.apply)
    follower.subscribe(board.apply)
    foot = (FootRouter(settings.routing_url, engine=settings.routing_engine,
                       timeout_s=settings.routing_timeout_s) if settings.routing_url else None)
    model = WalkingModel(speed_mps=settings.walking_speed_mps,
                         reduced_mobility_speed_mps=settings.reduced_mobility_speed_mps,
                         detour_factor=settings.detour_factor)
    return index, board, nearest.Nearest(index, board, model, pool=settings.nearest_pool,
                                         router=foot)
