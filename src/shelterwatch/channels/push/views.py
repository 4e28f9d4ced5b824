"""`POST /v1/push/subscriptions` (anonymous) and `GET /v1/push/key`.

The page subscribes with the browser's PushSubscription and says which shelters it just showed
and where it is (turned into an area here; the position is not kept). Posting the same endpoint
again renews it and adds the shelters shown. Only push services' own hosts are accepted as
endpoints, so nobody can make the server post to an address of their choosing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shelterwatch import db
from shelterwatch.answers import Answer, documented
from shelterwatch.channels.push import service as push
from shelterwatch.clock import utcnow
from shelterwatch.config import Settings
from shelterwatch.deps import address_of
from shelterwatch.errors import InvalidInput, NotFound
from shelterwatch.notify import push as channel
from shelterwatch.reports.views import limits_of


class PushKey(Answer):
    public_key: str = Field(description="base64url, for PushManager.subscribe")

router = APIRouter(tags=["residents"])
B64URL = r"^[A-Za-z0-9_\-]+={0,2}$"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Keys(BaseModel):
    model_config = ConfigDict(extra="ignore")
    p256dh: str = Field(min_length=80, max_length=100, pattern=B64URL)
    auth: str = Field(min_length=16, max_length=32, pattern=B64URL)


class Subscription(BaseModel):
    model_config = ConfigDict(extra="ignore")
    endpoint: str = Field(min_length=10, max_length=1000)
    keys: Keys


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscription: Subscription
    lang: Literal["uk", "en"] = "uk"
    lat: float | None = Field(default=None, ge=-90, le=90,
                              description="where the page is; only its area is kept")
    lon: float | None = Field(default=None, ge=-180, le=180)
    shown: list[int] = Field(default_factory=list, max_length=push.MAX_SHOWN,
                             description="shelter ids the page just showed")


class SubscribeOut(BaseModel):
    subscribed: bool
    area_id: str | None
    shown: list[int]
    expires_at: datetime


def check_endpoint(settings: Settings, endpoint: str) -> None:
    """A push service's https URL, on one of the configured push services' hosts."""
    url = urlsplit(endpoint)
    host = (url.hostname or "").lower()
    allowed = settings.push_endpoint_hosts  # read, split and lower-cased once, at start
    if not any(host == h or (h.startswith(".") and host.endswith(h)) for h in allowed):
        raise InvalidInput(f"subscription.endpoint must be on a push service "
                           f"({', '.join(allowed)}), not {host or endpoint[:40]!r}")
    if url.scheme != "https" and not (url.scheme == "http" and host in LOOPBACK):
        raise InvalidInput("subscription.endpoint must be an https URL")
    if not re.match(r"^[\x21-\x7e]+$", endpoint):
        raise InvalidInput("subscription.endpoint must be a plain URL")


@router.get("/v1/push/key", summary="The server's VAPID public key (applicationServerKey)",
            **documented(PushKey))
def push_key(request: Request) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    try:
        key = channel.vapid(settings)
    except ValueError:
        raise NotFound("web push is not configured on this server") from None
    return {"public_key": channel.application_server_key(key)}


@router.post("/v1/push/subscriptions", status_code=201, response_model=SubscribeOut,
             summary="Subscribe this browser to alerts here and locked-door redirects",
             responses={422: {"description": "An invalid field (problem+json)"},
                        429: {"description": "Too many from this address (problem+json)"}})
def subscribe(body: SubscribeIn, request: Request, response: Response) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    if (body.lat is None) != (body.lon is None):
        raise InvalidInput("lat and lon come together: send both or neither")
    check_endpoint(settings, body.subscription.endpoint)
    nearest: Any = request.app.state.nearest
    area_id = None
    if body.lat is not None and body.lon is not None:
        hits = nearest.index.nearest(body.lat, body.lon, 1)
        area_id = hits[0][0].area_id if hits else None
    shown = [i for i in body.shown if nearest.index.get(i) is not None]
    now = utcnow()
    with db.transaction(settings.database_url) as session:
        # anonymous writes share the reports' per-address budget (a NAT's worth a minute),
        # counted in the database so every process shares it
        limits_of(request).check(session, device_id=None, address=address_of(request),
                                 shelter_id=None, now=now)
        row = push.subscribe(session, endpoint=body.subscription.endpoint,
                             p256dh=body.subscription.keys.p256dh,
                             auth=body.subscription.keys.auth, language=body.lang,
                             area_id=area_id, shown=shown, now=now,
                             days=settings.push_subscription_days)
        expires_at = row.expires_at
    response.headers["Cache-Control"] = "no-store"
    return {"subscribed": True, "area_id": area_id, "shown": sorted(set(shown)),
            "expires_at": expires_at}
