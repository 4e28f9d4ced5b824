"""Every endpoint that is not public refuses a caller without a token, and a resident's-level
caller with a wrong token: the list is read from the app's own OpenAPI document, so a new
endpoint is covered the day it is added."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.config import Settings

# Public by design (DESIGN §5): residents, maps, 311 clients and investigators read these, and
# residents write reports without an account. Feeds' pushes prove themselves with a shared secret.
PUBLIC = {
    ("get", "/v1/alerts/active"), ("get", "/v1/areas/{area_id}/alerts"),
    ("get", "/v1/shelters"), ("get", "/v1/shelters/{shelter_id}"), ("get", "/v1/areas"),
    ("get", "/v1/log"), ("get", "/v1/stream"), ("post", "/v1/reports"),
    ("get", "/v1/reports/{tracking_id}"), ("get", "/v1/reports/{tracking_id}/progress"),
    ("get", "/v1/pack"), ("get", "/v1/nearest"),
    ("get", "/open311/v2/services.{fmt}"), ("get", "/open311/v2/services/{code}.{fmt}"),
    ("get", "/open311/v2/requests.{fmt}"), ("post", "/open311/v2/requests.{fmt}"),
    ("get", "/open311/v2/requests/{request_id}.{fmt}"),
    ("post", "/v1/alerts/webhooks/ukrainealarm"), ("get", "/v1/health"),
    # a phone gets its issued device id without an account (proof of work, budget per network)
    ("post", "/v1/devices/challenge"), ("post", "/v1/devices"),
    # the verifiable log and the accountability figures, for investigators and the public
    ("get", "/v1/log/sth"), ("get", "/v1/log/proof"), ("get", "/v1/log/consistency"),
    ("get", "/v1/log/key"), ("get", "/v1/log/verifier.py"), ("get", "/v1/stats"),
    ("get", "/v1/stats.csv"), ("get", "/v1/stats/cases.csv"),
    ("get", "/v1/dossiers/{kind}/{subject_id}"),
    ("get", "/v1/shelters/{shelter_id}/sign.svg"),  # the printable door sign: public fields only
    ("get", "/v1/shelters/{shelter_id}/card"),  # the card's last verified open: a role, no one
    ("get", "/v1/push/key"), ("post", "/v1/push/subscriptions"),  # residents, no account
    ("get", "/v1/coverage"), ("get", "/v1/coverage/cells"),
    # readiness audits: the published checklist and rule, audits as judged (never where the
    # inspector stood), and the ghost list with its evidence's references
    ("get", "/v1/checklist"), ("get", "/v1/audits/{audit_id}"), ("get", "/v1/ghosts"),
    ("get", "/v1/audits/{audit_id}/act.pdf"),
    # The resident's shelter card: the registry's public fields and when it was last verified open.
    ("get", "/v1/shelters/{shelter_id}/card"),
    # For load balancers, supervisors and Prometheus: counts and ages, nothing private
    # (tests/test_metrics.py proves a queued delivery's address is not in /metrics).
    ("get", "/v1/health/live"), ("get", "/metrics"),
}


def private_operations(settings: Settings) -> list[tuple[str, str]]:
    spec = create_app(settings).openapi()
    ops = [(method, path) for path, item in spec["paths"].items() for method in item
           if method in {"get", "post", "put", "patch", "delete"}]
    return [op for op in ops if op not in PUBLIC]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_guard_list_is_not_empty(settings: Settings) -> None:
    ops = private_operations(settings)
    assert ("post", "/v1/alerts") in ops and ("get", "/v1/incidents") in ops
    assert len(ops) >= 15


@pytest.mark.parametrize("auth", [None, "Bearer sw_not-a-real-token"])
def test_every_private_endpoint_refuses_callers_without_a_valid_token(
        client: TestClient, settings: Settings, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    let_through = []
    for method, path in private_operations(settings):
        r = client.request(method.upper(), concrete(path), headers=headers, json={})
        if r.status_code != 401:
            let_through.append((method, path, r.status_code))
    assert let_through == []


def test_a_resident_level_role_cannot_use_operator_endpoints(
        client: TestClient, make_token: Callable[..., str]) -> None:
    keyholder = {"Authorization": f"Bearer {make_token('keyholder', shelter_ids=(1,))}"}
    for method, path in [("post", "/v1/alerts"), ("get", "/v1/incidents"),
                         ("post", "/v1/tokens"), ("get", "/v1/console"),
                         ("post", "/v1/incidents/1/false-report")]:
        r = client.request(method.upper(), path, headers=keyholder, json={})
        assert r.status_code == 403, (method, path, r.status_code)
