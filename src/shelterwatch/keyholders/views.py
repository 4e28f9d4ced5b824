"""Operators manage owners and keyholders; contacts come back only to operators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shelterwatch.answers import documented
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import DbId, ReadSession, WriteSession, require_role
from shelterwatch.errors import InvalidInput, PayloadTooLarge
from shelterwatch.keyholders import importer as keyholder_import
from shelterwatch.keyholders import service as keyholders
from shelterwatch.keyholders.schemas import (
    KeyholderDeactivated,
    KeyholderList,
    KeyholdersImported,
    PersonCreated,
)
from shelterwatch.shelters import service as shelters
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["keyholders"])
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]
MAX_CSV_BYTES = 2_000_000


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    shelter_ids: list[int] = Field(min_length=1, max_length=1000)
    email: str | None = Field(default=None, max_length=254)
    sms: str | None = Field(default=None, max_length=32)
    telegram: str | None = Field(default=None, max_length=64)
    webhook: str | None = Field(default=None, max_length=2000)

    def contact(self) -> keyholders.ContactIn:
        return keyholders.ContactIn(name=self.name, email=self.email, sms=self.sms,
                                    telegram=self.telegram, webhook=self.webhook)


@router.get("/v1/keyholders", summary="Keyholders with their private contacts (operator)",
            **documented(KeyholderList))
def list_keyholders(actor: Operator, session: ReadSession) -> dict[str, Any]:
    return {"keyholders": [
        {"id": k.id, "name": k.name, "active": k.active, "shelter_ids": ids,
         **{c: getattr(k, c) for c in keyholders.CHANNELS}}
        for k, ids in keyholders.list_keyholders(session)]}


@router.post("/v1/keyholders", status_code=201, summary="Register a keyholder (operator)",
             **documented(PersonCreated, 201))
def create_keyholder(person: PersonIn, actor: Operator, session: WriteSession) -> dict[str, Any]:
    return _registered(keyholders.create_keyholder, person, actor, session)


@router.post("/v1/keyholders/{keyholder_id}/deactivate",
             summary="Stop notifying a keyholder who no longer holds the keys (operator)",
             **documented(KeyholderDeactivated))
def deactivate_keyholder(keyholder_id: DbId, actor: Operator,
                         session: WriteSession) -> dict[str, Any]:
    keyholders.deactivate_keyholder(session, keyholder_id=keyholder_id, now=utcnow(),
                                    actor=actor.label)
    session.commit()
    return {"id": keyholder_id, "active": False}


@router.post("/v1/owners", status_code=201, summary="Register a shelter's owner (operator)",
             **documented(PersonCreated, 201))
def create_owner(person: PersonIn, actor: Operator, session: WriteSession) -> dict[str, Any]:
    return _registered(keyholders.create_owner, person, actor, session)


def _registered(create: Callable[..., Any], person: PersonIn, actor: Actor,
                session: Session) -> dict[str, Any]:
    """A keyholder and an owner are registered alike: bound only to shelters that exist."""
    shelters.require_existing(session, person.shelter_ids, "shelter_ids")
    row = create(session, contact=person.contact(), shelter_ids=person.shelter_ids,
                 now=utcnow(), actor=actor.label)
    session.commit()
    return {"id": row.id, "shelter_ids": sorted(set(person.shelter_ids))}


@router.post("/v1/keyholders/import", status_code=201,
             summary="Import keyholders and owners from CSV (text/csv body, operator)",
             **documented(KeyholdersImported, 201))
async def import_keyholders(request: Request, actor: Operator,
                            session: WriteSession) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise PayloadTooLarge(f"keyholder CSV over {MAX_CSV_BYTES} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("keyholder CSV must be UTF-8") from None

    def work() -> dict[str, Any]:
        """Parsing and writing thousands of rows happen off the event loop."""
        counts = keyholder_import.import_csv(session, text=text, now=utcnow(), actor=actor.label)
        session.commit()
        return {"imported": counts}

    return await run_in_threadpool(work)
