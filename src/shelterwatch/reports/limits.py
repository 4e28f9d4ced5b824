"""Limits on anonymous writes, kept in the database and shared by every process, with a clear 429.

Three limits, checked in the writer's transaction:
- per network address (600 a minute by default): lets a whole carrier-grade NAT through during an
  alert, stops a flood;
- per device id (20 an hour): stops one phone repeating itself;
- per source, how many *different* shelters it reports about in an hour: one person is at one
  door. A source is an issued device id (3 shelters), or, for a report without one, its network
  (5 shelters) — so a client minting device ids at will moves at most five shelters an hour;
  all issued ids behind one network together reach at most 5 shelters an hour, so a client
  spending its network's issuance budget on ids gains little. A Telegram chat or an SMS sender
  number is a source as an issued id is (3 shelters), whatever device id it reports under.

Kept in the database, N processes allow what one does, not N times as much.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy.orm import Session

from shelterwatch.budgets import service as budgets
from shelterwatch.config import Settings
from shelterwatch.errors import TooManyRequests
from shelterwatch.rules import witness as witnesses
from shelterwatch.rules.witness import Witness

# How a refusal names the source that reached its spread limit.
SOURCES = {"telegram": "this Telegram chat", "sms": "this phone number"}


class ReportLimits:
    """The limits every anonymous write passes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def witness(self, *, device_id: str | None, address: str | None) -> Witness:
        """Who this report counts as (DESIGN §2 Witness)."""
        return witnesses.witness(self.settings.secret_key, device_id=device_id, address=address)

    def check(self, session: Session, *, device_id: str | None, address: str | None,
              shelter_id: int | None, now: datetime, who: Witness | None = None) -> None:
        """Count one report against every limit, or refuse it with 429 and when to retry.

        `who` is the witness when the caller knows it better than the client's word (a chat or
        phone number a resident channel vouches for); else it is worked out from the request."""
        s = self.settings
        secret = s.secret_key
        network = witnesses.network_of(address)
        if network:
            wait = budgets.hit(session, scope="report-address",
                               key=witnesses.keyed_digest(secret, "network", network),
                               limit=s.reports_per_address_per_minute, window_s=60.0, now=now)
            if wait is not None:
                raise TooManyRequests(
                    f"too many reports from this network address (limit "
                    f"{s.reports_per_address_per_minute} a minute); retry in {math.ceil(wait)} s",
                    retry_after_s=math.ceil(wait))
        if device_id:
            wait = budgets.hit(session, scope="report-device",
                               key=witnesses.keyed_digest(secret, "device-limit", device_id),
                               limit=s.reports_per_device_per_hour, window_s=3600.0, now=now)
            if wait is not None:
                raise TooManyRequests(
                    f"too many reports from this device (limit {s.reports_per_device_per_hour} "
                    f"an hour); retry in {math.ceil(wait)} s", retry_after_s=math.ceil(wait))
        if shelter_id is None:
            return
        who = who or self.witness(device_id=device_id, address=address)
        if not who.reporter:
            return
        limit = (s.shelters_per_device_per_hour if who.issued
                 else s.shelters_per_network_per_hour)
        self._spread(session, "report-spread", who.reporter, shelter_id, limit, now,
                     SOURCES.get(who.channel, "this device") if who.issued
                     else "this network, without an issued device id,")
        if who.issued and network:
            self._spread(session, "report-spread-issued",
                         "n:" + witnesses.keyed_digest(secret, "network", network),
                         shelter_id, s.shelters_per_network_issued_per_hour, now,
                         "this network's devices")

    @staticmethod
    def _spread(session: Session, scope: str, key: str, shelter_id: int, limit: int,
                now: datetime, source: str) -> None:
        over = budgets.spread(session, scope=scope, key=key, item=str(shelter_id), limit=limit,
                              window_s=3600.0, now=now)
        if over is not None:
            raise TooManyRequests(
                f"{source} reported about {over} different shelters in the last hour; one "
                f"person is at one door, so this report was not recorded. Reports about the "
                f"same shelters are still taken.", retry_after_s=600)
