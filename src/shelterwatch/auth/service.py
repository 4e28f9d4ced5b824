"""Creating, checking and revoking tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelterwatch.auth.models import Token
from shelterwatch.errors import Conflict, InvalidInput, NotFound, Unauthorized
from shelterwatch.log import service as log
from shelterwatch.vocabulary import FactKind, Role

TOKEN_PREFIX = "sw_"
ISSUABLE = (Role.KEYHOLDER, Role.PATROL, Role.OPERATOR, Role.AUDITOR, Role.DOOR, Role.OWNER)
# Roles whose word is authoritative about particular doors: a token acts on its shelters only.
BOUND = (Role.KEYHOLDER, Role.DOOR)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: a token's holder, or an anonymous resident."""

    role: Role
    token_id: int | None = None
    name: str = ""
    shelter_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        """How facts name the actor: role and token id, never a person's name."""
        return f"{self.role.value}:{self.token_id}" if self.token_id else self.role.value


RESIDENT = Actor(role=Role.RESIDENT)


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create(session: Session, *, role: str, name: str, now: datetime, actor: str = "cli",
           shelter_ids: Sequence[int] = ()) -> tuple[Token, str]:
    """A new token and its plaintext, which is never stored."""
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed not in ISSUABLE:
        allowed = ", ".join(r.value for r in ISSUABLE)
        raise InvalidInput(f"role {role!r} cannot hold a token (one of {allowed})")
    if not name.strip():
        raise InvalidInput("a token needs a name saying who holds it")
    if parsed in BOUND and not shelter_ids:
        raise InvalidInput(f"a {parsed.value} token must be bound to the shelters it acts on "
                           f"(shelter_ids, or --shelter ID on the command line)")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = Token(name=name.strip(), role=parsed.value, digest=digest(plaintext),
                  shelter_ids=orjson.dumps(sorted(set(shelter_ids))).decode(), created_at=now)
    session.add(token)
    session.flush()
    log.append(session, kind=FactKind.TOKEN_CREATED, actor=actor, now=now,
               payload={"id": token.id, "role": token.role},
               private={"name": token.name, "shelter_ids": sorted(set(shelter_ids))})
    return token, plaintext


def revoke(session: Session, *, token_id: int, now: datetime, actor: str) -> None:
    token = session.get(Token, token_id)
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    if token.revoked_at is None:
        if token.role == Role.OPERATOR.value and _active_operators(session) <= 1:
            raise Conflict(f"token {token_id} is the last active operator token; create "
                           f"another operator token before revoking this one")
        token.revoked_at = now
        log.append(session, kind=FactKind.TOKEN_REVOKED, actor=actor, now=now,
                   payload={"id": token_id})


def _active_operators(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Token).where(
        Token.role == Role.OPERATOR.value, Token.revoked_at.is_(None))).scalar_one())


def authenticate(session: Session, plaintext: str) -> Actor:
    """The actor behind a bearer token; the same error for unknown and revoked tokens."""
    query = select(Token).where(Token.digest == digest(plaintext))
    token = session.execute(query).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        raise Unauthorized("the bearer token is not valid")
    return Actor(role=Role(token.role), token_id=token.id, name=token.name,
                 shelter_ids=frozenset(orjson.loads(token.shelter_ids)))
