"""The hash chain, pure: how a fact is hashed and how a sequence of facts is checked.

Private fields are kept beside a fact, not inside its public body; the chain covers them through
their digest, so anyone can verify the public export while the private values stay private.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shelterwatch.vocabulary import format_at as format_at  # the one definition, re-exported

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTC timestamps with microseconds."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


def private_digest(private: Mapping[str, Any] | None) -> str:
    """Digest of the private part; empty when there is none."""
    if not private:
        return ""
    return hashlib.sha256(canonical_json(private)).hexdigest()


@dataclass(frozen=True, slots=True)
class FactBody:
    """What the chain covers for one fact."""

    seq: int
    at: str
    kind: str
    actor: str
    payload: Any  # a mapping, or an orjson.Fragment of its canonical JSON
    private_digest: str

    def canonical(self) -> bytes:
        return canonical_json(
            {
                "seq": self.seq,
                "at": self.at,
                "kind": self.kind,
                "actor": self.actor,
                "payload": self.payload,
                "private_digest": self.private_digest,
            }
        )


def fact_hash(prev_hash: str, body: FactBody) -> str:
    """hash = sha256(prev_hash + canonical_json(fact))."""
    return hashlib.sha256(prev_hash.encode("ascii") + body.canonical()).hexdigest()


class BodyWriter:
    """`FactBody.canonical()` as byte concatenation, for a batch of thousands of facts.

    An import hashes 65,000 facts; building a FactBody and a dict of it for orjson to sort
    cost more than the hash. The keys are in sorted order here (actor, at, kind, payload,
    private_digest, seq), the strings that repeat in a batch (its time, kinds, actors) are
    serialised once, and the payload goes in as the canonical JSON already made of it: the
    bytes are the same as `canonical()` makes (a test compares them).
    """

    def __init__(self, at: str) -> None:
        self._at = canonical_json(at)
        self._starts: dict[tuple[str, str], bytes] = {}

    def canonical(self, seq: int, kind: str, actor: str, payload_json: bytes,
                  private_digest: str) -> bytes:
        start = self._starts.get((kind, actor))
        if start is None:
            start = (b'{"actor":' + canonical_json(actor) + b',"at":' + self._at
                     + b',"kind":' + canonical_json(kind) + b',"payload":')
            self._starts[(kind, actor)] = start
        return b"".join((start, payload_json, b',"private_digest":',
                         canonical_json(private_digest), b',"seq":', b"%d}" % seq))


@dataclass(frozen=True, slots=True)
class StoredFact:
    body: FactBody
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(facts: Iterable[StoredFact], head_seq: int | None = None) -> Verdict:
    """Walk the facts in storage order and name the first seq that breaks the chain.

    `head_seq` is the last seq the log head recorded; a log that ends earlier lost its tail.
    """
    expected_seq = 1
    prev = GENESIS_HASH
    checked = 0
    for fact in facts:
        seq = fact.body.seq
        if seq != expected_seq:
            if seq > expected_seq:
                reason = f"seq {expected_seq} is missing (next stored is {seq})"
                return Verdict(False, checked, expected_seq, reason)
            return Verdict(False, checked, seq, f"seq {seq} is out of order")
        if fact.prev_hash != prev:
            return Verdict(False, checked, seq, f"seq {seq} does not link to seq {seq - 1}")
        if fact_hash(prev, fact.body) != fact.hash:
            return Verdict(False, checked, seq, f"seq {seq} was altered (hash mismatch)")
        prev = fact.hash
        expected_seq += 1
        checked += 1
    if head_seq is not None and head_seq > checked:
        missing = checked + 1
        return Verdict(False, checked, missing, f"seq {missing} is missing (head says {head_seq})")
    return Verdict(True, checked)
