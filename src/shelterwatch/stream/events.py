"""Which facts the public stream carries, and their Server-Sent Events encoding.

A fact is encoded once, on the follower's thread, and the same bytes go to every subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from shelterwatch import db
from shelterwatch.log import service as log
from shelterwatch.log.models import Fact
from shelterwatch.observations import service as observations
from shelterwatch.vocabulary import ALERT_KINDS, INCIDENT_KINDS, FactKind

# Which facts a client hears, and as which event: subscribed by kind, never by a name's prefix.
EVENT_OF_KIND: dict[FactKind, str] = {
    **dict.fromkeys(ALERT_KINDS, "alert"), FactKind.STATUS_CHANGED: "status",
    **dict.fromkeys(INCIDENT_KINDS, "incident"),
    # audits: a ghost leaves the map at once; readiness relabels a shelter
    FactKind.SHELTER_GHOSTED: "ghost", FactKind.SHELTER_RESTORED: "ghost",
    FactKind.READINESS_CHANGED: "readiness",
}
_KINDS = frozenset(FactKind)

Event = tuple[int, bytes]  # (fact seq, the encoded event)
BACKLOG_PAGE = 2000


def event_name(kind: str) -> str | None:
    return EVENT_OF_KIND.get(FactKind(kind)) if kind in _KINDS else None


def encode(fact: Fact) -> bytes | None:
    """The fact as one SSE event whose id is its seq (so Last-Event-ID resumes), or None when
    the public stream does not carry its kind."""
    name = event_name(fact.kind)
    if name is None:
        return None
    payload = orjson.loads(fact.payload)
    if fact.kind == FactKind.STATUS_CHANGED and "reasons" in payload:
        # The status as a reader sees it: worded by the catalogue, the codes kept beside it.
        payload = {**payload, "explanation": observations.worded(payload)["explanation"]}
    data = orjson.dumps({"kind": fact.kind, "at": log.public_view(fact)["at"], **payload})
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (fact.seq, name.encode(), data)


def encode_all(facts: Sequence[Fact]) -> list[Event]:
    return [(f.seq, e) for f in facts if (e := encode(f)) is not None]


def backlog(database_url: str, after: int, upto: int) -> list[Event]:
    """The stream's events with after < seq <= upto, from the log (for an older resume)."""
    out: list[Event] = []
    with db.reading(database_url) as session:
        while after < upto:
            facts = [f for f in log.after(session, after, limit=BACKLOG_PAGE) if f.seq <= upto]
            if not facts:
                break
            out.extend(encode_all(facts))
            after = facts[-1].seq
    return out
