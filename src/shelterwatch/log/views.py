"""`GET /v1/log`: the public fact log, for anyone to verify (no private fields); and the
verifiable log as Certificate Transparency serves it (RFC 6962 §4): signed tree heads, inclusion
and consistency proofs, the public key and a standalone verifier.

Hashes are lowercase hex; the signature is base64 of the 64-byte Ed25519 signature over the
RFC 6962 §3.5 TreeHeadSignature of (timestamp, tree_size, root_hash). Leaf i is fact seq i+1.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from shelterwatch.answers import documented
from shelterwatch.deps import ReadSession, SettingsDep, StaleReadSession
from shelterwatch.errors import NotFound
from shelterwatch.log import chain, tree
from shelterwatch.log import service as log
from shelterwatch.log.schemas import (
    ConsistencyProof,
    InclusionProof,
    LogPage,
    PublicKeys,
    SignedTreeHead,
)
from shelterwatch.stats import redaction

router = APIRouter(tags=["log"])


@router.get("/v1/log", summary="Public facts after a seq, with their hashes",
            **documented(LogPage))
def public_log(session: StaleReadSession, settings: SettingsDep,
               after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
               limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict[str, Any]:
    """From the replica when there is one: a second behind is fine for an audit of the log.
    Facts about shelters in hidden oblasts come redacted (README, Security)."""
    rows = log.after(session, after, limit=limit)
    hidden = redaction.redacted_seqs(session, rows, settings.stats_hidden_oblasts)
    facts = [log.public_view(f, redacted=f.seq in hidden) for f in rows]
    return {
        "facts": facts,
        "next_after": facts[-1]["seq"] if len(facts) == limit else None,
        "hashing": "hash = sha256(prev_hash + canonical_json({seq, at, kind, actor, payload, "
                   "private_digest})); canonical JSON has sorted keys and no spaces; the first "
                   f"prev_hash is {chain.GENESIS_HASH[:8]}…; a fact with \"redacted\": true "
                   "withholds its actor and payload: its hash is as the signed tree holds it",
    }


HASHING = ("leaf = SHA-256(0x00 || fact hash bytes), node = SHA-256(0x01 || left || right) "
           "(RFC 6962 §2.1); hashes hex, signature base64 Ed25519 over the RFC 6962 §3.5 "
           "TreeHeadSignature: 0x00 0x01, uint64 timestamp ms, uint64 tree_size, root (32 bytes)")


@router.get("/v1/log/sth", summary="The latest signed tree head",
            **documented(SignedTreeHead))
def signed_tree_head(session: ReadSession) -> dict[str, Any]:
    """`root_hash` and `key_id` are hex, `signature` base64 (Ed25519 over RFC 6962 §3.5's
    TreeHeadSignature), `timestamp` milliseconds since 1970; the README says it byte for byte."""
    head = tree.latest_head(session)
    if head is None:
        raise NotFound("no signed tree head yet: the worker signs one after the first facts")
    return tree.head_view(head)


@router.get("/v1/log/proof", summary="Inclusion proof of a fact in the tree of `size` facts",
            **documented(InclusionProof))
def inclusion_proof(session: ReadSession, seq: Annotated[int, Query(ge=1)],
                    size: Annotated[int, Query(ge=1)]) -> dict[str, Any]:
    """RFC 6962 audit path (hex) of leaf seq − 1, leaf = SHA-256(0x00 ‖ fact hash bytes)."""
    return {**tree.inclusion(session, seq=seq, tree_size=size), "hashing": HASHING}


@router.get("/v1/log/consistency", summary="Consistency proof between two tree sizes",
            **documented(ConsistencyProof))
def consistency_proof(session: ReadSession, first: Annotated[int, Query(ge=1)],
                      second: Annotated[int, Query(ge=1)]) -> dict[str, Any]:
    """RFC 6962 §2.1.2 consistency proof (hex) that tree `second` extends tree `first`."""
    return {**tree.consistency(session, first=first, second=second), "hashing": HASHING}


@router.get("/v1/log/key", summary="The Ed25519 public key(s) that sign tree heads",
            **documented(PublicKeys))
def public_keys(session: ReadSession) -> dict[str, Any]:
    """Raw Ed25519 public key in hex (and PEM); key_id = hex SHA-256 of the raw key."""
    keys = tree.keys(session)
    if not keys:
        raise NotFound("no signing key yet: `shelterwatch init` makes one")
    current = keys[-1]
    return {"algorithm": "Ed25519", "key_id": current.key_id, "public_key": current.public_key,
            "public_key_pem": current.public_key_pem,
            "keys": [{"key_id": k.key_id, "public_key": k.public_key} for k in keys],
            "key_id_is": "SHA-256 of the raw 32-byte public key, hex"}


@router.get("/v1/log/verifier.py", response_class=PlainTextResponse,
            summary="A standalone verifier (Python standard library only)")
def verifier_script() -> PlainTextResponse:
    """Checks a dossier bundle offline, or a live log against a saved head."""
    text = resources.files("shelterwatch.log").joinpath("standalone_verifier.py").read_text()
    return PlainTextResponse(text, media_type="text/x-python; charset=utf-8")
