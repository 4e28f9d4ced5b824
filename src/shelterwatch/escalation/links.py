"""One-tap check-in links: a signed token naming the keyholder, the shelter and when it expires.

The token is HMAC-SHA256 over its fields with the settings' secret, so the link alone proves the
keyholder was sent it; no login is needed in the first seconds of an alert.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shelterwatch.errors import Forbidden

LINK_TTL = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class CheckInGrant:
    keyholder_id: int
    shelter_id: int
    expires_at: datetime


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def make_token(secret: str, *, keyholder_id: int, shelter_id: int, now: datetime) -> str:
    expires = int((now + LINK_TTL).timestamp())
    body = f"{keyholder_id}.{shelter_id}.{expires}"
    return f"{body}.{_mac(secret, body)}"


def read_token(secret: str, token: str, *, now: datetime) -> CheckInGrant:
    """The grant a token carries; refused when forged, altered or expired."""
    try:
        kid, sid, exp, mac = token.split(".")
        grant = CheckInGrant(int(kid), int(sid), datetime.fromtimestamp(int(exp), UTC))
    except ValueError:
        raise Forbidden("this check-in link is not valid") from None
    if not hmac.compare_digest(_mac(secret, f"{kid}.{sid}.{exp}"), mac):
        raise Forbidden("this check-in link is not valid")
    if grant.expires_at < now:
        raise Forbidden("this check-in link has expired; open the app and check in there")
    return grant


def url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/check-in/{token}"
