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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shelterwatch.budgets import rule as budget
from shelterwatch.budgets import service as budgets
from shelterwatch.config import Settings
from shelterwatch.errors import TooManyRequests
from shelterwatch.reads import Reads
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
        refused = self.check_many(session, [Ask(device_id, address, shelter_id, who)], now=now)[0]
        if refused is not None:
            raise refused

    def check_many(self, session: Session, asks: Sequence[Ask], *,
                   now: datetime) -> list[TooManyRequests | None]:
        """Count a batch of reports against every limit, in order, as if one by one: one read
        and one write per table for the whole batch."""
        reads = Reads()
        checking = self.prepare(session, reads, asks, now=now)
        reads.send(session.connection())
        return checking.check(session, range(len(asks)))

    def prepare(self, session: Session, reads: Reads, asks: Sequence[Ask], *,
                now: datetime) -> Checking:
        """Queue on `reads` what checking these reports needs; once sent, `Checking.check`
        counts any of them, in order (the writer's group commit: see `budgets.ask`)."""
        plans = [self._plan(a) for a in asks]
        return Checking(plans, budgets.ask(session, reads, [[c for c, _ in plan]
                                                            for plan in plans], now=now))

    def _plan(self, ask: Ask) -> list[tuple[budget.Check, str]]:
        """The checks one report passes, in order, each with how a refusal names its source."""
        s = self.settings
        secret = s.secret_key
        network = witnesses.network_of(ask.address)
        plan: list[tuple[budget.Check, str]] = []
        if network:
            plan.append((budget.Rate("report-address",
                                     witnesses.keyed_digest(secret, "network", network),
                                     s.reports_per_address_per_minute, 60.0),
                         f"too many reports from this network address (limit "
                         f"{s.reports_per_address_per_minute} a minute)"))
        if ask.device_id:
            plan.append((budget.Rate("report-device",
                                     witnesses.keyed_digest(secret, "device-limit", ask.device_id),
                                     s.reports_per_device_per_hour, 3600.0),
                         f"too many reports from this device (limit "
                         f"{s.reports_per_device_per_hour} an hour)"))
        if ask.shelter_id is None:
            return plan
        who = ask.who or self.witness(device_id=ask.device_id, address=ask.address)
        if not who.reporter:
            return plan
        item = str(ask.shelter_id)
        limit = (s.shelters_per_device_per_hour if who.issued
                 else s.shelters_per_network_per_hour)
        plan.append((budget.Spread("report-spread", who.reporter, item, limit, 3600.0),
                     SOURCES.get(who.channel, "this device") if who.issued
                     else "this network, without an issued device id,"))
        if who.issued and network:
            plan.append((budget.Spread("report-spread-issued",
                                       "n:" + witnesses.keyed_digest(secret, "network", network),
                                       item, s.shelters_per_network_issued_per_hour, 3600.0),
                         "this network's devices"))
        return plan


@dataclass(frozen=True, slots=True)
class Checking:
    """A batch's reports as the limits see them, with what the database knows of their keys."""

    plans: list[list[tuple[budget.Check, str]]]
    judging: budgets.Judging

    def check(self, session: Session, which: Iterable[int], *,
              defer: budgets.Writes | None = None) -> list[TooManyRequests | None]:
        """The reports numbered `which` counted in that order, each refused or let through;
        with `defer` the counts are handed to the caller to write with its own rows."""
        chosen = list(which)
        refusals = self.judging.judge(session, chosen, defer=defer)
        return [None if r is None else _refusal(*self.plans[n][r.index], r)
                for n, r in zip(chosen, refusals, strict=True)]


@dataclass(frozen=True, slots=True)
class Ask:
    """One report as the limits see it: who sent it, from where, about which shelter."""

    device_id: str | None
    address: str | None
    shelter_id: int | None
    who: Witness | None = None


def _refusal(check: budget.Check, source: str, refused: budget.Refusal) -> TooManyRequests:
    if isinstance(check, budget.Rate):  # say when the next unit comes
        wait = math.ceil(refused.wait_s)
        return TooManyRequests(f"{source}; retry in {wait} s", retry_after_s=wait)
    return TooManyRequests(
        f"{source} reported about {refused.limit} different shelters in the last hour; one "
        f"person is at one door, so this report was not recorded. Reports about the "
        f"same shelters are still taken.", retry_after_s=600)
