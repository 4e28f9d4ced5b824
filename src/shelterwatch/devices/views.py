"""`POST /v1/devices/challenge` and `POST /v1/devices`: a phone gets its issued id (anonymous)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from shelterwatch.answers import Answer, documented
from shelterwatch.clock import utcnow
from shelterwatch.deps import SettingsDep, WriteSession, address_of
from shelterwatch.devices import service as devices


class Challenge(Answer):
    challenge: str
    bits: int = Field(description="leading zero bits sha256(challenge:nonce) must have")
    expires_at: int = Field(description="epoch seconds")


class IssuedDevice(Answer):
    device_id: str = Field(description="send it with every report; keep it on the phone")

router = APIRouter(tags=["devices"])


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge: str = Field(min_length=1, max_length=200)
    nonce: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z]+$")


@router.post("/v1/devices/challenge", summary="A proof-of-work challenge for a device id",
             **documented(Challenge, description="challenge, bits, expires_at"))
def create_challenge(settings: SettingsDep) -> dict[str, Any]:
    """Find `nonce` so that sha256(`challenge` + ":" + `nonce`) starts with `bits` zero bits."""
    c = devices.challenge(settings, now=utcnow())
    return {"challenge": c.challenge, "bits": c.bits, "expires_at": c.expires_at}


@router.post("/v1/devices", status_code=201, summary="Trade a solved challenge for a device id",
             response_model=None,
             responses={201: {"description": "the issued device_id", "model": IssuedDevice},
                        409: {"description": "challenge already used (problem+json)"},
                        422: {"description": "bad challenge or nonce (problem+json)"},
                        429: {"description": "network's issuance budget spent (problem+json)"}})
def create_device(body: DeviceIn, request: Request, session: WriteSession,
                  settings: SettingsDep) -> dict[str, str]:
    """An issued id counts as its own witness; keep it on the phone and send it with reports."""
    device_id = devices.issue(session, settings, challenge=body.challenge, nonce=body.nonce,
                              address=address_of(request), now=utcnow())
    session.commit()
    return {"device_id": device_id}
