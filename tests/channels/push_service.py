"""A local stand-in for a browser's push service (RFC 8030) that checks what a real one checks,
and decrypts as the browser would.

It refuses a push whose VAPID token (RFC 8292) is not an ES256 JWT signed by the key in `k`, for
this origin, unexpired and at most a day long, or whose body is not `aes128gcm` (RFC 8188). The
browser side (its P-256 key and auth secret) decrypts the payload by RFC 8291's steps, written
out here independently of the library the server sends with.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.support.http import QuietHandler, serving
from tests.support.server import free_port


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


class Refused(Exception):
    """What a push service answers 4xx for."""


def check_vapid(authorization: str, *, audience: str, now: float) -> str:
    """The `k` of a valid `vapid t=…, k=…` header, or Refused saying what is wrong."""
    if not authorization.startswith("vapid "):
        raise Refused("Authorization must use the vapid scheme")
    parts = dict(p.strip().split("=", 1) for p in authorization[6:].split(","))
    token, k = parts.get("t", ""), parts.get("k", "")
    head_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64d(head_b64))
    if header.get("alg") != "ES256":
        raise Refused(f"alg must be ES256, got {header.get('alg')}")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(k))
    raw = b64d(signature_b64)
    if len(raw) != 64:
        raise Refused("an ES256 JWS signature is 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("the VAPID signature does not verify with k") from None
    claims = json.loads(b64d(claims_b64))
    if claims.get("aud") != audience:
        raise Refused(f"aud must be {audience}, got {claims.get('aud')}")
    if not now < claims.get("exp", 0) <= now + 86400:
        raise Refused("exp must be in the future and within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Refused("sub must be a mailto: or https: contact")
    return k


@dataclass
class Browser:
    """The browser's half of a subscription: its P-256 key and auth secret."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def keys(self) -> dict[str, str]:
        return {"p256dh": b64e(_point(self.private.public_key())), "auth": b64e(self.auth)}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 and RFC 8188 §2: one record, padding delimiter 0x02."""
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender = body[21:21 + idlen]
        ciphertext = body[21 + idlen:]
        if idlen != 65 or len(ciphertext) > rs:
            raise Refused("the aes128gcm header must carry the sender's 65-byte key, one record")
        sender_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
        secret = self.private.exchange(ec.ECDH(), sender_key)
        info = b"WebPush: info\x00" + _point(self.private.public_key()) + sender
        ikm = _hkdf(self.auth, secret, info, 32)
        cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        plain = AESGCM(cek).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        if not plain.endswith(b"\x02"):
            raise Refused("the last record must end with the 0x02 delimiter")
        return plain[:-1]


@dataclass
class Received:
    at: float
    ttl: str
    urgency: str
    k: str
    payload: dict[str, Any]


@dataclass
class PushService:
    url: str
    browser: Browser
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/push/v2/gAAAAABk-subscription-1"

    def subscription(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": self.browser.keys()}


@contextmanager
def push_service() -> Iterator[PushService]:
    port = free_port()
    service = PushService(url=f"http://127.0.0.1:{port}", browser=Browser())

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                if self.path != "/push/v2/gAAAAABk-subscription-1":
                    raise Refused(f"no subscription at {self.path}")
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise Refused("Content-Encoding must be aes128gcm")
                if self.headers.get("TTL") is None:
                    raise Refused("TTL is required")
                k = check_vapid(self.headers.get("Authorization", ""), audience=service.url,
                                now=time.time())
                payload = json.loads(service.browser.decrypt(body))
            except Exception as exc:
                service.refused.append(str(exc))
                self._answer(400 if not isinstance(exc, Refused) else 403)
                return
            service.received.append(Received(time.monotonic(), self.headers.get("TTL", ""),
                                             self.headers.get("Urgency", ""), k, payload))
            self._answer(201)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Location", f"{service.url}/message/{len(service.received)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(port, Handler):
        yield service
