"""The OpenAPI document describes each answer, and real answers match what it says."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel

from shelterwatch.alerts.schemas import ActiveAlerts, AlertOut, AreaAlerts
from shelterwatch.areas.schemas import AreaList
from shelterwatch.checks.schemas import CheckReceipt
from shelterwatch.config import Settings
from shelterwatch.log.schemas import LogPage
from shelterwatch.observations.views import CardAnswer
from shelterwatch.reports.schemas import ReportReceipt
from shelterwatch.shelters.schemas import ShelterFeature, ShelterPage
from tests.reports.helpers import bearer, kyiv_shelter, token

DOCUMENTED: dict[tuple[str, str, str], type[BaseModel]] = {
    ("get", "/v1/shelters", "200"): ShelterPage,
    ("get", "/v1/shelters/{shelter_id}", "200"): ShelterFeature,
    ("get", "/v1/areas", "200"): AreaList,
    ("get", "/v1/alerts/active", "200"): ActiveAlerts,
    ("get", "/v1/areas/{area_id}/alerts", "200"): AreaAlerts,
    ("post", "/v1/alerts", "201"): AlertOut,
    ("post", "/v1/alerts/{alert_id}/end", "200"): AlertOut,
    ("post", "/v1/reports", "201"): ReportReceipt,
    ("post", "/v1/checks", "201"): CheckReceipt,
    ("get", "/v1/log", "200"): LogPage,
    ("get", "/v1/shelters/{shelter_id}/card", "200"): CardAnswer,
}


def test_docs_name_a_schema_for_each_documented_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for (method, path, status), model in DOCUMENTED.items():
        content = paths[path][method]["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}, path


def test_real_answers_are_what_the_docs_say(kyiv_client: TestClient,
                                            kyiv_settings: Settings) -> None:
    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0)
    operator, patrol = bearer(token(url, "operator")), bearer(token(url, "patrol"))

    def answer(model: type[BaseModel], method: str, path: str, status: int = 200,
               **kwargs: Any) -> dict[str, Any]:
        r = kyiv_client.request(method, path, **kwargs)
        assert r.status_code == status, r.text
        model.model_validate(r.json())  # every field documented, each of the documented type
        return dict(r.json())

    answer(ShelterPage, "GET", "/v1/shelters?limit=3")
    answer(AreaList, "GET", "/v1/areas")
    alert = answer(AlertOut, "POST", "/v1/alerts", 201, json={"area_id": "31"}, headers=operator)
    answer(ActiveAlerts, "GET", "/v1/alerts/active")
    answer(AreaAlerts, "GET", f"/v1/areas/{door.area_id}/alerts")
    receipt = answer(ReportReceipt, "POST", "/v1/reports", 201,
                     json={"shelter_id": door.id, "kind": "locked", "lat": door.lat,
                           "lon": door.lon, "device_id": "resident-phone-1"})
    assert receipt["incident"] is not None  # the case branch of the receipt is checked too
    check = answer(CheckReceipt, "POST", "/v1/checks", 201,
                   json={"shelter_id": door.id, "kind": "open"}, headers=patrol)
    assert check["incident"] is not None
    feature = answer(ShelterFeature, "GET", f"/v1/shelters/{door.id}")
    assert feature["properties"]["status_explanation"] is not None
    card = answer(CardAnswer, "GET", f"/v1/shelters/{door.id}/card")
    assert card["last_verified_open"]["role"] == "patrol"
    answer(AlertOut, "POST", f"/v1/alerts/{alert['id']}/end", headers=operator)
    answer(LogPage, "GET", "/v1/log?limit=50")
