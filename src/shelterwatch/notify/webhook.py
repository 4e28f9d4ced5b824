"""Webhook channel: a JSON POST signed with HMAC-SHA256 so the receiver can trust it."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import orjson

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message, http_failure
from shelterwatch.notify.http import pooled_client

SIGNATURE_HEADER = "X-Shelterwatch-Signature"
TIMESTAMP_HEADER = "X-Shelterwatch-Timestamp"
DELIVERY_HEADER = "X-Shelterwatch-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over "timestamp.body"; the timestamp lets receivers refuse old replays."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver runs: constant-time comparison of the expected signature."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


CONNECTIONS = 32  # at least as many as the worker's senders (OUTBOX_SENDERS)


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.webhook_secret or settings.secret_key
        self.timeout_s = settings.notify_timeout_s
        self.client = pooled_client(timeout_s=self.timeout_s, connections=CONNECTIONS)

    def send(self, message: Message) -> str | None:
        body = orjson.dumps({
            "subject": message.subject, "text": message.text, "link": message.link,
            "delivery": message.delivery_key, **message.data,
        })
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, ts, body),
            TIMESTAMP_HEADER: ts, DELIVERY_HEADER: message.delivery_key,
        }
        try:
            response = self.client.post(message.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {message.address}: {exc!r}") from exc
        if response.status_code >= 300:
            raise http_failure(response.status_code, response.text, what="webhook")
        return None

    def close(self) -> None:
        self.client.close()
