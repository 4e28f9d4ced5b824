"""`GET /v1/shelters/{id}/card`: the shelter card's live line, "last verified open, by whom".

The rest of the card (kind, capacity, pets, entrances, the owner's door-sign phone, the
registry's date) travels in the offline pack; this is the part that needs the server.
Only the role is told, never who: a keyholder's name or contact is private.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter

from shelterwatch.answers import Answer, documented
from shelterwatch.deps import DbId, ReadSession
from shelterwatch.log import chain
from shelterwatch.observations import service as observations
from shelterwatch.shelters import service as shelters
from shelterwatch.shelters.schemas import ShelterCard

router = APIRouter(tags=["shelters"])


class VerifiedOpen(Answer):
    at: datetime
    role: str  # keyholder, patrol, auditor, operator or door
    kind: str  # open or forced_open


class CardAnswer(Answer):
    """What the card adds to the pack: the last verified open (null: never) and the extras."""

    shelter_id: int
    card: ShelterCard
    last_verified_open: VerifiedOpen | None


@router.get("/v1/shelters/{shelter_id}/card", summary="A shelter's card: last verified open",
            **documented(CardAnswer))
def card(session: ReadSession, shelter_id: DbId) -> dict[str, Any]:
    shelter = shelters.get_or_raise(session, shelter_id)
    last = observations.last_verified_open(session, shelter_id)
    verified = (None if last is None else
                {"at": chain.format_at(last.at), "role": last.role, "kind": last.kind})
    return {"shelter_id": shelter_id, "card": shelters.card_fields(shelter.details),
            "last_verified_open": verified}
