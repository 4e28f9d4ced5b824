"""The page's own files: served by the app, cacheable, and the district counts kept at /about."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_about_keeps_the_per_district_shelter_counts(kyiv_client: TestClient) -> None:
    html = kyiv_client.get("/about").text
    assert 'id="total">3' in html and "Голосіївський" in html


def test_the_home_page_points_at_no_tile_server_and_loads_no_third_party_script(
    kyiv_client: TestClient,
) -> None:
    html = kyiv_client.get("/").text
    assert "tile.openstreetmap.org" not in html and '"tilesUrl":""' in html
    assert 'src="/static/leaflet/leaflet.js"' in html
    assert "<script src=\"http" not in html and "cdn" not in html.lower()


def test_leaflet_is_served_by_the_app_with_an_etag(kyiv_client: TestClient) -> None:
    first = kyiv_client.get("/static/leaflet/leaflet.js")
    assert first.status_code == 200 and "javascript" in first.headers["content-type"]
    again = kyiv_client.get("/static/leaflet/leaflet.js",
                            headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert kyiv_client.get("/static/leaflet/images/marker-icon.png").status_code == 200
    assert kyiv_client.get("/static/nope.js").status_code == 404


def test_the_service_worker_is_served_from_the_root_so_it_controls_the_page(
    kyiv_client: TestClient,
) -> None:
    response = kyiv_client.get("/sw.js")
    assert response.status_code == 200 and "/v1/pack" in response.text
    assert response.headers["cache-control"] == "no-cache"


def test_without_a_basemap_the_districts_outline_is_served_small_and_attributed(
    kyiv_client: TestClient,
) -> None:
    r = kyiv_client.get("/static/districts.geojson")
    assert r.status_code == 200 and len(r.content) < 200_000
    body = r.json()
    assert len(body["features"]) == 10
    assert {f["properties"]["name"] for f in body["features"]} >= {"Деснянський район"}
    assert "OpenStreetMap" in body["attribution"] and "ODbL" in body["attribution"]


def test_the_api_docs_load_every_file_from_the_app(kyiv_client: TestClient) -> None:
    html = kyiv_client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert "https://" not in html.split("<body", 1)[0]
    assert kyiv_client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert kyiv_client.get("/static/swagger/swagger-ui.css").status_code == 200


def test_the_page_can_be_installed_with_icons(kyiv_client: TestClient) -> None:
    manifest = kyiv_client.get("/static/manifest.webmanifest").json()
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert kyiv_client.get(icon["src"]).status_code == 200
    assert 'rel="icon"' in kyiv_client.get("/").text
