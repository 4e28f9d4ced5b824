"""A dossier for investigators: every fact about a shelter or a case, in order, with the times
in the city's zone, who was notified when, and the proofs that tie each fact to a signed tree
head — a JSON bundle the shipped standalone verifier checks offline.

The location policy (`SHELTERWATCH_STATS_HIDDEN_OBLASTS`) covers dossiers too. A dossier is the
facts themselves — the registry's name, address and point among them — and each fact's hash
covers its content, so a dossier with the location cut out would no longer verify. So a dossier
about a shelter (or a case at a shelter) in a hidden oblast is given whole, or not at all: whole
to an operator or an auditor, and to an owner bound to that shelter; refused to everyone else,
saying which policy refuses it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelterwatch.auth.service import Actor
from shelterwatch.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from shelterwatch.incidents.models import Incident
from shelterwatch.log import service as log
from shelterwatch.log import tree
from shelterwatch.log.models import Fact
from shelterwatch.shelters.models import Shelter
from shelterwatch.stats.models import FactSubject
from shelterwatch.vocabulary import FactKind, Noun, Role, Subject

SEES_HIDDEN = frozenset({Role.OPERATOR, Role.AUDITOR})  # and an owner, for its own shelters

MAX_FACTS = 5000
FORMAT = "shelterwatch-dossier/1"


def subject_of(kind: str, subject_id: int) -> str:
    if kind not in ("shelter", "incident"):
        raise InvalidInput(f"a dossier is about a shelter or an incident, not {kind!r}")
    return str(Subject(Noun(kind), subject_id))


def shelter_of(session: Session, subject: str) -> tuple[int, str] | None:
    """The shelter a dossier is about (directly, or as its case's shelter) and its area."""
    about = Subject.parse(subject)
    query = (select(Shelter.id, Shelter.area_id).where(Shelter.id == about.number)
             if about.noun is Noun.SHELTER
             else select(Shelter.id, Shelter.area_id).join(Incident, Incident.shelter_id
                                                           == Shelter.id)
             .where(Incident.id == about.number))
    row = session.execute(query).first()
    return (int(row[0]), str(row[1])) if row else None


def may_see_hidden(actor: Actor | None, shelter_id: int) -> bool:
    """Who may read a dossier the location policy keeps from the public."""
    if actor is None:
        return False
    if actor.role in SEES_HIDDEN:
        return True
    return actor.role == Role.OWNER and shelter_id in actor.shelter_ids


def check_policy(session: Session, *, subject: str, hidden: dict[str, str],
                 actor: Actor | None) -> None:
    """Refuse a dossier whose shelter lies in a hidden oblast to a caller who may not see it."""
    found = shelter_of(session, subject) if hidden else None
    if found is None or found[1] not in hidden:
        return
    if may_see_hidden(actor, found[0]):
        return
    reason = (f"the location policy keeps shelters in oblast {hidden[found[1]]} from the "
              "public, and a dossier names its shelter's place in facts it cannot drop without "
              "breaking their proofs; an operator, an auditor or the shelter's owner may read it")
    raise Unauthorized(reason) if actor is None else Forbidden(reason)


def build(session: Session, *, subject: str, timezone: str, now: datetime) -> dict[str, Any]:
    seqs = session.execute(select(FactSubject.seq).where(FactSubject.subject == subject)
                           .order_by(FactSubject.seq).limit(MAX_FACTS)).scalars().all()
    if not seqs:
        raise NotFound(f"no facts about {subject} (yet: the worker indexes new facts within "
                       "seconds)")
    rows = session.execute(select(Fact).where(Fact.seq.in_(seqs)).order_by(Fact.seq)).scalars()
    zone = ZoneInfo(timezone)
    head = tree.latest_head(session)
    paths = tree.audit_paths(session, list(seqs), head.tree_size) if head else {}
    facts, notified, evidence = [], [], []
    for fact in rows:
        view = log.public_view(fact)
        view["at_local"] = fact.at.astimezone(zone).isoformat() if fact.at.tzinfo else \
            fact.at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).isoformat()
        if fact.seq in paths:
            view["audit_path"] = paths[fact.seq]
        facts.append(view)
        if fact.kind in (FactKind.NOTIFICATION_QUEUED, FactKind.NOTIFICATION_SENT,
                         FactKind.NOTIFICATION_FAILED):
            notified.append({"at_local": view["at_local"], "kind": fact.kind,
                             "recipient": view["payload"].get("recipient"),
                             "channel": view["payload"].get("channel"),
                             "step": view["payload"].get("step")})
        evidence.extend(_evidence(fact.seq, view))
    keys = {k.key_id: k for k in tree.keys(session)}
    key = keys.get(head.key_id) if head else None
    return {
        "format": FORMAT, "subject": subject, "timezone": timezone,
        "generated_at": now.isoformat(),
        "sth": tree.head_view(head) if head else None,
        "public_key": key.public_key if key else None,
        "facts": [f for f in facts if "audit_path" in f],
        "not_yet_signed": [f for f in facts if "audit_path" not in f],
        "notifications": notified,
        "evidence": evidence,
        "verify_with": "python3 verify.py BUNDLE.json (GET /v1/log/verifier.py)",
    }


def _evidence(seq: int, view: dict[str, Any]) -> list[dict[str, Any]]:
    """Photos an audit or a deficiency's fix names, by SHA-256: the hash is in the signed
    fact, so a photo handed over later is proven to be the one taken (GET /v1/photos/{sha256}
    serves it to auditors, operators and owners; its hash is public)."""
    payload = view["payload"]
    found = []
    for photo in payload.get("photos") or ():
        if isinstance(photo, dict) and isinstance(photo.get("sha256"), str):
            found.append({"seq": seq, "at_local": view["at_local"], "kind": view["kind"],
                          "audit_id": payload.get("audit_id"),
                          "deficiency_id": payload.get("deficiency_id"),
                          "item_id": photo.get("item_id"), "sha256": photo["sha256"]})
    sha = payload.get("photo_sha256")  # a deficiency closed by a photo of the fix
    if isinstance(sha, str):
        found.append({"seq": seq, "at_local": view["at_local"], "kind": view["kind"],
                      "audit_id": payload.get("audit_id"),
                      "deficiency_id": payload.get("deficiency_id"),
                      "item_id": payload.get("item_id"), "sha256": sha})
    return found
