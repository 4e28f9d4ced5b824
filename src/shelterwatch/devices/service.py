"""Issuing device ids: a signed challenge, a small proof of work, a budget per network.

A phone asks for a challenge, spends a second or so of CPU finding a nonce, and trades both for a
device id the server signed. It does this once, when the resident page first opens, so at the
door — offline or during an alert — the id is already there. Each id costs work, and a network
gets only so many an hour (shared across processes), so one address cannot mint a crowd; twenty
phones behind one carrier's NAT each fetch their own id without noticing the budget.

Ids carry no identity: nothing is stored about them but the spent challenge.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shelterwatch.budgets import service as budgets
from shelterwatch.config import Settings
from shelterwatch.errors import Conflict, InvalidInput, TooManyRequests
from shelterwatch.rules import witness

CHALLENGE_TTL_S = 600


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge: str
    bits: int
    expires_at: int  # epoch seconds


def challenge(settings: Settings, *, now: datetime) -> Challenge:
    """A fresh challenge, signed so that the server need not remember it."""
    bits = settings.device_pow_bits
    expires = int(now.timestamp()) + CHALLENGE_TTL_S
    body = f"{expires}.{bits}.{secrets.token_urlsafe(12)}"
    sig = witness.keyed_digest(settings.secret_key, "challenge", body, 24)
    return Challenge(f"{body}.{sig}", bits, expires)


def issue(session: Session, settings: Settings, *, challenge: str, nonce: str,
          address: str | None, now: datetime) -> str:
    """A signed device id for a solved challenge, within the network's issuance budget."""
    parts = challenge.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        raise InvalidInput("challenge: not a challenge this server issued")
    body, sig = ".".join(parts[:3]), parts[3]
    if not secrets.compare_digest(sig, witness.keyed_digest(settings.secret_key, "challenge",
                                                            body, 24)):
        raise InvalidInput("challenge: not a challenge this server issued")
    if int(parts[0]) < now.timestamp():
        raise InvalidInput("challenge: expired; ask for a new one")
    if not witness.work_done(challenge, nonce, int(parts[1])):
        raise InvalidInput(f"nonce: sha256(challenge:nonce) must start with {parts[1]} zero bits")
    key = witness.keyed_digest(settings.secret_key, "spent", challenge, 32)
    if budgets.spent(session, scope="challenge", key=key):
        raise Conflict("challenge: already used; ask for a new one")
    network = witness.network_of(address) or ""
    wait = budgets.hit(session, scope="device-issue",
                       key=witness.keyed_digest(settings.secret_key, "network", network),
                       limit=settings.devices_per_address_per_hour, window_s=3600.0, now=now)
    if wait is not None:
        raise TooManyRequests(
            f"too many device ids issued to this network (limit "
            f"{settings.devices_per_address_per_hour} an hour); retry in {math.ceil(wait)} s",
            retry_after_s=math.ceil(wait))
    budgets.spend(session, scope="challenge", key=key, now=now)
    return witness.sign_device(settings.secret_key, secrets.token_urlsafe(16))
