"""`GET /v1/log`: the public fact log, for anyone to verify (no private fields)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from shelterwatch.deps import ReadSession
from shelterwatch.log import chain
from shelterwatch.log import service as log

router = APIRouter(tags=["log"])


@router.get("/v1/log", summary="Public facts after a seq, with their hashes")
def public_log(session: ReadSession, after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
               limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict[str, Any]:
    facts = [log.public_view(f) for f in log.after(session, after, limit=limit)]
    return {
        "facts": facts,
        "next_after": facts[-1]["seq"] if len(facts) == limit else None,
        "hashing": "hash = sha256(prev_hash + canonical_json({seq, at, kind, actor, payload, "
                   "private_digest})); canonical JSON has sorted keys and no spaces; the first "
                   f"prev_hash is {chain.GENESIS_HASH[:8]}…",
    }
