"""The public shape of the fact log: every field the hash chain covers, nothing private."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shelterwatch.answers import Answer


class PublicFact(Answer):
    seq: int
    at: str
    kind: str
    actor: str | None  # None when redacted
    payload: dict[str, Any] | None  # None when redacted
    private_digest: str | None
    prev_hash: str
    hash: str
    # A fact about a shelter in a hidden oblast (SHELTERWATCH_STATS_HIDDEN_OBLASTS): its actor
    # and payload are withheld, its hash is taken as the signed tree holds it.
    redacted: bool = False


class LogPage(Answer):
    facts: list[PublicFact]
    next_after: int | None  # ask again with ?after= this, or null when there is no more
    hashing: str  # how to recompute each hash


class SignedTreeHead(Answer):
    """The log's latest signed tree head (RFC 6962 style), verifiable with /v1/log/key."""

    tree_size: int
    timestamp: int = Field(description="milliseconds since the epoch")
    root_hash: str
    signature: str
    key_id: str


class InclusionProof(Answer):
    seq: int
    leaf_index: int
    tree_size: int
    fact_hash: str
    leaf_hash: str
    root_hash: str
    audit_path: list[str]
    hashing: str


class ConsistencyProof(Answer):
    first: int
    second: int
    first_root_hash: str
    second_root_hash: str
    consistency_path: list[str]
    hashing: str


class KeyOut(Answer):
    key_id: str
    public_key: str


class PublicKeys(Answer):
    algorithm: str
    key_id: str
    public_key: str
    public_key_pem: str
    keys: list[KeyOut]
    key_id_is: str
