"""Web Push (RFC 8030) with VAPID (RFC 8292) and an aes128gcm-encrypted payload (RFC 8291),
through `pywebpush`. The address is the browser's subscription (endpoint and keys) as JSON.

The VAPID key is `SHELTERWATCH_PUSH_VAPID_PRIVATE_KEY` (PEM, or the raw key in base64url). In
development, with none set, one is made once beside the SQLite database (or under ./var/), so
`make run` works out of the box and the API and the worker share it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy.engine import make_url

from shelterwatch.config import Settings
from shelterwatch.notify.base import DeliveryError, Message

TTL_S = 3600  # a redirect or an alert an hour old is no use; the push service may drop it


def vapid(settings: Settings) -> Vapid:
    """The server's VAPID key, or ValueError when push is not configured."""
    raw = settings.push_vapid_private_key.strip()
    if not raw and settings.environment == "development":
        raw = _development_key(settings)
    if not raw:
        raise ValueError("web push needs SHELTERWATCH_PUSH_VAPID_PRIVATE_KEY")
    if raw.startswith("-----BEGIN"):
        return Vapid.from_pem(raw.encode())
    return Vapid.from_raw(raw.encode())


def _development_key(settings: Settings) -> str:
    """Read the development key, making it first if no process has (exclusive create)."""
    url = make_url(settings.database_url)
    folder = (Path(url.database).parent if url.get_backend_name() == "sqlite" and url.database
              else Path("var"))
    dev_key = folder / "vapid_private.pem"
    dev_key.parent.mkdir(parents=True, exist_ok=True)
    if not dev_key.exists():
        key = Vapid()
        key.generate_keys()
        try:
            fd = os.open(dev_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile: use theirs
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(key.private_pem())
    return dev_key.read_text()


def application_server_key(key: Vapid) -> str:
    """The public key as the browser's `pushManager.subscribe` wants it (base64url, raw point)."""
    point = key.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


class PushChannel:
    name = "push"

    def __init__(self, settings: Settings) -> None:
        self.key = vapid(settings)
        self.subject = settings.push_vapid_subject
        self.timeout_s = settings.notify_timeout_s

    def send(self, message: Message) -> str | None:
        subscription: dict[str, Any] = orjson.loads(message.address)
        payload = orjson.dumps({"title": message.subject, "body": message.text,
                                "url": message.link, **message.data}).decode()
        try:
            # a fresh claims dict each time: pywebpush writes the push service's origin into it
            response: Any = webpush(subscription, data=payload, vapid_private_key=self.key,
                                    vapid_claims={"sub": self.subject}, ttl=TTL_S,
                                    timeout=self.timeout_s, headers={"Urgency": "high"})
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            retry_after = exc.response.headers.get("Retry-After") if exc.response else None
            raise DeliveryError(
                f"push service answered {status}: {str(exc)[:200]}",
                # 404/410: the browser unsubscribed; other 4xx: our request is wrong
                retryable=status >= 500 or status in (0, 408, 429),
                retry_after_s=float(retry_after) if retry_after and retry_after.isdigit()
                else None) from exc
        except Exception as exc:  # network errors surface as requests' exceptions
            raise DeliveryError(f"push: {exc!r}") from exc
        location = getattr(response, "headers", {}).get("Location")
        return str(location)[:200] if location else None
