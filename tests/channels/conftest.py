"""A Kyiv neighbourhood with the channels' settings pointed at local servers."""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from shelterwatch import db
from shelterwatch.app import create_app
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings, get_settings
from shelterwatch.ingest import mapping as mappings
from shelterwatch.ingest import registry_csv
from shelterwatch.notify.registry import limits, load_enabled
from shelterwatch.outbox import service as outbox
from shelterwatch.outbox.throttle import OutboxThrottle
from shelterwatch.shelters import importer
from tests.channels.bot_api import TOKEN, BotApi, bot_api
from tests.notify.receivers import HttpReceiver, http_receiver
from tests.support.databases import Templates
from tests.support.kyiv import KYIV_CSV, KYIV_MAPPING

SECRET = "webhook-secret-for-tests"
VAPID_PEM = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption()).decode()


@dataclass
class Town:
    client: TestClient
    api: BotApi
    settings: Settings
    throttle: OutboxThrottle
    gateway: HttpReceiver

    def update(self, body: dict, secret: str = SECRET):
        return self.client.post("/v1/channels/telegram/webhook", json=body,
                                headers={"X-Telegram-Bot-Api-Secret-Token": secret})

    def deliver(self) -> int:
        """What the worker's outbox loop does once: claim, pace, send, settle."""
        channels = load_enabled(self.settings, ["telegram", "sms", "push"])
        return outbox.deliver_due(self.settings.database_url, channels, clock=utcnow,
                                  lease_s=30, max_attempts=6, backoff_base_s=0.2,
                                  limit=50, throttle=self.throttle)

    def drain(self, calls: int, timeout_s: float = 10.0) -> None:
        """Deliver until the Bot API has seen `calls` calls (the limits hold some back)."""
        deadline = time.monotonic() + timeout_s
        while len(self.api.calls) < calls:
            assert time.monotonic() < deadline, f"only {len(self.api.calls)} of {calls} sent"
            if not self.deliver():
                time.sleep(0.05)
        assert self.deliver() == 0 and len(self.api.calls) == calls


# The real registry's rows around вул. Курчатова, 18-А (Desnianskyi district): the seed night's
# neighbourhood, small enough that a worker starting on it catches up in a moment.
NEAR_CLINIC = (50.455, 50.500, 30.590, 30.670)


def import_near_clinic(url: str) -> None:
    south, north, west, east = NEAR_CLINIC
    with KYIV_CSV.open(encoding="utf-8", newline="") as source:
        rows = list(csv.reader(source))
    header, body = rows[0], rows[1:]
    lat, lon = header.index("lat"), header.index("lon")
    kept = [r for r in body if south <= float(r[lat]) <= north and west <= float(r[lon]) <= east]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "near-clinic.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([header, *kept])
        with db.transaction(url) as session:
            importer.import_records(session, registry_csv.read(path, mappings.load(KYIV_MAPPING)),
                                    source="kmda-2022", now=utcnow())


@pytest.fixture
def town_db_url(templates: Templates) -> Iterator[str]:
    url = templates.copy("near_clinic", import_near_clinic)
    yield url
    templates.drop(url)


@pytest.fixture
def town(town_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Town]:
    with bot_api() as api, http_receiver() as gateway:
        env = {"DATABASE_URL": town_db_url, "SHELTERWATCH_FOLLOW_INTERVAL_S": "0.05",
               "SHELTERWATCH_TELEGRAM_API_URL": api.url,
               "SHELTERWATCH_TELEGRAM_BOT_TOKEN": TOKEN,
               "SHELTERWATCH_TELEGRAM_WEBHOOK_SECRET": SECRET,
               "SHELTERWATCH_SMS_INBOUND_SECRET": "gateway-secret",
               "SHELTERWATCH_SMS_GATEWAY_URL": gateway.url + "/send",
               "SHELTERWATCH_WORKER_TICK_S": "0.05",
               "SHELTERWATCH_PUSH_VAPID_PRIVATE_KEY": VAPID_PEM,
               "SHELTERWATCH_PUSH_ENDPOINT_HOSTS": "127.0.0.1"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        settings = get_settings()
        with TestClient(create_app(settings)) as client:
            yield Town(client, api, settings, OutboxThrottle(limits(settings)), gateway)
        get_settings.cache_clear()
