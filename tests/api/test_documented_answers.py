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


def test_every_json_operation_documents_a_response_schema_and_its_errors(
        client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "a token from `shelterwatch token create` (role-only endpoints)"}
    missing = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for code, answer in op["responses"].items():
                content = answer.get("content", {})
                if not code.startswith("2") or "application/json" not in content:
                    continue
                schema = content["application/json"]["schema"]
                ref = schema.get("$ref", "").rsplit("/", 1)[-1]
                if not (ref in schemas and schemas[ref].get("properties")) and not (
                        path.startswith("/open311/") and schema.get("type") == "array"):
                    missing.append(f"{method.upper()} {path} {code}")
            if op.get("security"):
                assert {"401", "403"} <= op["responses"].keys(), path
    assert not missing, "no response schema: " + ", ".join(missing)
    incidents = doc["paths"]["/v1/incidents"]["get"]
    assert incidents["security"] == [{"bearer": []}]
    assert incidents["responses"]["401"] == {"$ref": "#/components/responses/401"}
    problem = doc["components"]["responses"]["429"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "429" in doc["paths"]["/v1/reports"]["post"]["responses"]


def test_the_operator_and_patrol_answers_are_what_the_docs_say(
        kyiv_client: TestClient, kyiv_settings: Settings) -> None:
    from shelterwatch.auth.views import TokenCreated, TokenRevoked
    from shelterwatch.escalation.schemas import Console, OwnerStandings
    from shelterwatch.health import Health, Live
    from shelterwatch.incidents.schemas import IncidentList, IncidentOut
    from shelterwatch.keyholders.schemas import KeyholderList, PersonCreated
    from shelterwatch.patrols.schemas import NewUnit, TaskDone, TaskOut, UnitTasks
    from shelterwatch.reports.schemas import ReportProgress, ReportTimeline
    from shelterwatch.shelters.schemas import RegistryFeature
    from shelterwatch.sources.schemas import FlaggedSources

    url = kyiv_settings.database_url
    door = kyiv_shelter(url, 0)
    operator = bearer(token(url, "operator"))

    def answer(model: type[BaseModel], method: str, path: str, status: int = 200,
               **kwargs: Any) -> dict[str, Any]:
        r = kyiv_client.request(method, path, **kwargs)
        assert r.status_code == status, r.text
        model.model_validate(r.json())
        return dict(r.json())

    answer(Live, "GET", "/v1/health/live")
    answer(Health, "GET", "/v1/health")
    unit = answer(NewUnit, "POST", "/v1/patrols", 201, headers=operator,
                  json={"name": "unit 7", "lat": door.lat, "lon": door.lon})
    patrol = bearer(unit["token"])
    answer(AlertOut, "POST", "/v1/alerts", 201, json={"area_id": "31"}, headers=operator)
    receipt = answer(ReportReceipt, "POST", "/v1/reports", 201,
                     json={"shelter_id": door.id, "kind": "locked", "lat": door.lat,
                           "lon": door.lon, "device_id": "resident-phone-1"})
    answer(ReportTimeline, "GET", f"/v1/reports/{receipt['tracking_id']}")
    answer(ReportProgress, "GET", f"/v1/reports/{receipt['tracking_id']}/progress")
    answer(Console, "GET", "/v1/console", headers=operator)
    cases = answer(IncidentList, "GET", "/v1/incidents", headers=operator)["incidents"]
    answer(TaskOut, "POST", f"/v1/incidents/{cases[0]['id']}/dispatch", headers=operator)
    tasks = answer(UnitTasks, "GET", "/v1/tasks", headers=patrol)["tasks"]
    answer(TaskOut, "POST", f"/v1/tasks/{tasks[0]['id']}/take", headers=patrol)
    answer(TaskDone, "POST", f"/v1/tasks/{tasks[0]['id']}/result", 201, headers=patrol,
           json={"kind": "open"})
    answer(PersonCreated, "POST", "/v1/keyholders", 201, headers=operator,
           json={"name": "K", "shelter_ids": [door.id], "email": "k@example.org"})
    answer(KeyholderList, "GET", "/v1/keyholders", headers=operator)
    answer(OwnerStandings, "GET", "/v1/owners", headers=operator)
    answer(RegistryFeature, "GET", f"/v1/registry/shelters/{door.id}", headers=operator)
    answer(FlaggedSources, "GET", "/v1/sources/flagged", headers=operator)
    made = answer(TokenCreated, "POST", "/v1/tokens", 201, headers=operator,
                  json={"role": "auditor", "name": "commission"})
    answer(TokenRevoked, "POST", f"/v1/tokens/{made['id']}/revoke", headers=operator)
    second = kyiv_shelter(url, 1)
    kyiv_client.post("/v1/reports", json={"shelter_id": second.id, "kind": "locked",
                                          "lat": second.lat, "lon": second.lon})
    open_case = answer(IncidentList, "GET", "/v1/incidents", headers=operator)["incidents"]
    assert cases and open_case
    answer(IncidentOut, "POST", f"/v1/incidents/{open_case[0]['id']}/false-report",
           headers=operator)
