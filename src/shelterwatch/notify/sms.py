"""SMS through an HTTP gateway: POST {"to", "text", "parts", "encoding"} as JSON, bearer token if
configured. `parts` is the text cut as the network carries it (153 GSM-7 or 67 UCS-2 characters
per part of a long message, words kept whole), for gateways that send parts themselves."""

from __future__ import annotations

import httpx

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message, http_failure
from shelterwatch.notify.gsm import encoding, split
from shelterwatch.notify.http import pooled_client

CONNECTIONS = 32  # at least as many as the worker's senders (OUTBOX_SENDERS)


class SmsChannel:
    name = "sms"

    def __init__(self, settings: Settings) -> None:
        if not settings.sms_gateway_url:
            raise ValueError("the sms channel needs SHELTERWATCH_SMS_GATEWAY_URL")
        self.url = settings.sms_gateway_url
        self.token = settings.sms_gateway_token
        self.timeout_s = settings.notify_timeout_s
        self.client = pooled_client(timeout_s=self.timeout_s, connections=CONNECTIONS)

    def close(self) -> None:
        self.client.close()

    def send(self, message: Message) -> str | None:
        tail = f" {message.link}" if message.link else ""
        parts = split(message.text + tail)  # at most MAX_PARTS; a longer text loses its end
        text = "".join(parts)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.client.post(self.url, json={
                "to": message.address, "text": text, "parts": parts,
                "encoding": encoding(text), "reference": message.delivery_key,
            }, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"sms gateway: {exc!r}") from exc
        if response.status_code >= 300:
            raise http_failure(response.status_code, response.text, what="sms gateway")
        try:
            ref = response.json().get("id")
        except ValueError:
            ref = None
        return str(ref) if ref is not None else None
