"""Limits hold across processes: two servers on one database allow what one does."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shelterwatch.config import Settings
from tests.reports.helpers import kyiv_shelter
from tests.support.server import LiveServer

# Two server processes on one database.
pytestmark = pytest.mark.slow


def test_two_server_processes_share_one_devices_report_limit(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    env = {"SHELTERWATCH_REPORTS_PER_DEVICE_PER_HOUR": "10"}
    servers = [live_server(**env), live_server(**env)]
    door = kyiv_shelter(kyiv_settings.database_url, 0)
    body = {"shelter_id": door.id, "kind": "full", "device_id": "one-phone-only"}
    codes = []
    with httpx.Client(timeout=30) as http:
        for n in range(30):
            codes.append(http.post(f"{servers[n % 2].url}/v1/reports", json=body).status_code)
    assert codes.count(201) == 10, codes
    assert codes.count(429) == 20
    assert codes[:10] == [201] * 10  # the first ten, whichever server took them


def test_two_server_processes_share_one_networks_spread_of_shelters(
        kyiv_settings: Settings, live_server: Callable[..., LiveServer]) -> None:
    servers = [live_server(), live_server()]
    url = kyiv_settings.database_url
    codes = []
    with httpx.Client(timeout=30) as http:
        for n in range(8):
            door = kyiv_shelter(url, n)
            codes.append(http.post(f"{servers[n % 2].url}/v1/reports",
                                   json={"shelter_id": door.id, "kind": "locked",
                                         "device_id": f"made-up-{n:05d}"}).status_code)
    assert codes == [201] * 5 + [429] * 3
