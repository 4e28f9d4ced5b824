"""`POST /v1/checks`: keyholders, patrols, auditors and door controllers record what they saw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from shelterwatch import receipts
from shelterwatch.answers import documented
from shelterwatch.auth.service import Actor
from shelterwatch.checks import service as checks
from shelterwatch.checks.schemas import CheckIn, CheckReceipt
from shelterwatch.clock import utcnow
from shelterwatch.deps import SettingsDep, WriteSession, require_role
from shelterwatch.observations import idempotency
from shelterwatch.vocabulary import Role

router = APIRouter(tags=["checks"])
Checker = Annotated[Actor, Depends(require_role(Role.KEYHOLDER, Role.PATROL, Role.AUDITOR,
                                                Role.DOOR))]


@router.post("/v1/checks", status_code=201, summary="Record a check (keyholder, patrol, auditor)",
             **documented(CheckReceipt, 201))
def create_check(check: CheckIn, actor: Checker, session: WriteSession, settings: SettingsDep,
                 request: Request,
                 idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    key = idempotency.check_key(idempotency_key)
    now = utcnow()

    def write() -> idempotency.Receipt:
        result = checks.submit(session, check=check, actor=actor, now=now,
                               tracking_prefix=settings.tracking_prefix)
        return idempotency.Receipt(201, checks.receipt(result))

    receipt = receipts.respond_once(session, scope=f"checks:{actor.label}", key=key,
                                       body=check.model_dump(), write=write, now=now)
    request.app.state.follower.catch_up()  # read your writes: this process shows it at once
    return JSONResponse(receipt.body, status_code=receipt.status_code)
