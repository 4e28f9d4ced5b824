"""SMS through an HTTP gateway: POST {"to", "text"} as JSON, bearer token if configured."""

from __future__ import annotations

import httpx

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message, http_failure
from shelterwatch.notify.http import pooled_client

SMS_LIMIT = 480  # three concatenated parts; a longer text is cut, the link kept


CONNECTIONS = 32  # as many as the lane sends at once (notify.registry)


class SmsChannel:
    name = "sms"

    def __init__(self, settings: Settings) -> None:
        if not settings.sms_gateway_url:
            raise ValueError("the sms channel needs SHELTERWATCH_SMS_GATEWAY_URL")
        self.url = settings.sms_gateway_url
        self.token = settings.sms_gateway_token
        self.timeout_s = settings.notify_timeout_s
        self.client = pooled_client(timeout_s=self.timeout_s, connections=CONNECTIONS)

    def send(self, message: Message) -> str | None:
        tail = f" {message.link}" if message.link else ""
        text = message.text[: SMS_LIMIT - len(tail)] + tail
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.client.post(self.url, json={
                "to": message.address, "text": text, "reference": message.delivery_key,
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

    def close(self) -> None:
        self.client.close()
