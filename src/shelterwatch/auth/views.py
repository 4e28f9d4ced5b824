"""Operators issue and revoke tokens over the API as well as the CLI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shelterwatch.answers import Answer, documented
from shelterwatch.auth import service as auth
from shelterwatch.auth.service import Actor
from shelterwatch.clock import utcnow
from shelterwatch.deps import DbId, WriteSession, require_role
from shelterwatch.shelters import service as shelters
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["tokens"])
Operator = Annotated[Actor, Depends(require_role(Role.OPERATOR))]


class TokenCreated(Answer):
    id: int
    role: str
    name: str
    token: str = Field(description="the bearer token, shown once")


class TokenRevoked(Answer):
    id: int
    revoked: bool


class TokenIn(BaseModel):
    role: str = Field(max_length=16)
    name: str = Field(min_length=1, max_length=200)
    shelter_ids: list[int] = Field(default_factory=list, max_length=1000)


@router.post("/v1/tokens", status_code=201, summary="Issue a token (operator)",
             **documented(TokenCreated, 201))
def create_token(body: TokenIn, session: WriteSession, actor: Operator) -> dict[str, Any]:
    shelters.require_existing(session, body.shelter_ids, "shelter_ids")
    token, plaintext = auth.create(session, role=body.role, name=body.name, now=utcnow(),
                                   actor=actor.label, shelter_ids=body.shelter_ids)
    session.commit()
    return {"id": token.id, "role": token.role, "name": token.name, "token": plaintext}


@router.post("/v1/tokens/{token_id}/revoke", summary="Revoke a token at once (operator)",
             **documented(TokenRevoked))
def revoke_token(token_id: DbId, session: WriteSession, actor: Operator) -> dict[str, Any]:
    auth.revoke(session, token_id=token_id, now=utcnow(), actor=actor.label)
    session.commit()
    return {"id": token_id, "revoked": True}
