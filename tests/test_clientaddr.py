"""The client address is the socket's peer unless that peer is a configured trusted proxy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shelterwatch.app import create_app
from shelterwatch.clientaddr import client_address
from shelterwatch.config import Settings


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    assert client_address("198.51.100.1", "1.2.3.4", "") == "198.51.100.1"
    assert client_address("198.51.100.1", "1.2.3.4", "10.0.0.0/8") == "198.51.100.1"


def test_forwarded_for_from_a_trusted_proxy_names_the_hop_it_added() -> None:
    spec = "10.0.0.0/8"
    assert client_address("10.0.0.2", "203.0.113.5", spec) == "203.0.113.5"
    # a client's own claim sits to the left of what our proxy appended
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.5", spec) == "203.0.113.5"
    assert client_address("10.0.0.2", "203.0.113.5, 10.0.0.3", spec) == "203.0.113.5"
    assert client_address("10.0.0.2", "nonsense", spec) == "10.0.0.2"


def test_a_forged_forwarded_for_does_not_escape_the_per_address_limit(
        settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"reports_per_address_per_minute": 3}))
    with TestClient(app, client=("198.51.100.77", 4000)) as c:
        codes = [c.post("/v1/reports", json={"shelter_id": 1, "kind": "open"},
                        headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                 for n in range(5)]
    assert codes[-1] == 429
