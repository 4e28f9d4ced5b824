"""Growing the log's Merkle tree from the facts, signing its heads, and proving from it.

The tree follows the log: a worker (or `shelterwatch log head`) extends it from the facts in seq
order and signs a head every `log_head_every_facts` facts or `log_head_every_s` seconds. Nothing
here runs on a write's path, and every proof reads O(log² n) stored nodes in one query, whatever
the size of the log. Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from shelterwatch import bulk, db
from shelterwatch.errors import Conflict, InvalidInput, NotFound
from shelterwatch.log import merkle, signing
from shelterwatch.log.models import Fact
from shelterwatch.log.tree_models import LogKey, MerkleNode, MerkleState, TreeHead

STATE_ID = 1
FETCH_CHUNK = 400


def _lock_state(session: Session) -> MerkleState:
    state = session.execute(
        select(MerkleState).where(MerkleState.id == STATE_ID).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if state is None:
        state = MerkleState(id=STATE_ID, size=0)
        session.add(state)
        session.flush()
    return state


def size(session: Session) -> int:
    """How many facts the stored tree holds."""
    state = session.get(MerkleState, STATE_ID)
    return state.size if state else 0


def _nodes(session: Session, keys: Sequence[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    found: dict[merkle.NodeKey, bytes] = {}
    for i in range(0, len(keys), FETCH_CHUNK):
        chunk = keys[i:i + FETCH_CHUNK]
        rows = session.execute(
            select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash)
            .where(tuple_(MerkleNode.level, MerkleNode.idx).in_(chunk))
        ).all()
        found.update({(r.level, r.idx): bytes(r.hash) for r in rows})
    missing = set(keys) - set(found)
    if missing:
        raise Conflict(f"the stored tree lacks {len(missing)} nodes; run `shelterwatch log "
                       "verify` and rebuild the tree")
    return found


def _compute(session: Session, compute: Any) -> Any:
    """Run a pure tree computation on the stored nodes it needs, fetched in one pass."""
    fetched = _nodes(session, merkle.needed(compute))
    return compute(lambda level, index: fetched[(level, index)])


def extend(session: Session, *, batch: int = 20_000) -> int:
    """Add the facts not yet in the tree (up to `batch`); returns the tree's new size.

    Stops before a gap in seq, which only an edited log has; `log verify` names it.
    """
    state = _lock_state(session)
    keys = merkle.frontier(state.size)
    known = _nodes(session, keys) if keys else {}
    acc = merkle.Accumulator.resume(state.size, [known[k] for k in keys])
    rows = session.execute(
        select(Fact.seq, Fact.hash).where(Fact.seq > state.size).order_by(Fact.seq).limit(batch)
    ).all()
    made: list[dict[str, Any]] = []
    for row in rows:
        if row.seq != acc.size + 1:
            break
        made.extend({"level": level, "idx": idx, "hash": digest}
                    for level, idx, digest in acc.append(merkle.leaf_hash(row.hash)))
    if made:
        bulk.insert(session, db.table_of(MerkleNode), made)
        state.size = acc.size
        session.flush()
    return acc.size


def root_at(session: Session, tree_size: int) -> bytes:
    """The root hash of the first `tree_size` facts, from the stored tree."""
    _check_size(session, tree_size)
    root: bytes = _compute(session, lambda get: merkle.root(tree_size, get))
    return root


def _check_size(session: Session, tree_size: int) -> None:
    held = size(session)
    if tree_size > held:
        raise Conflict(f"the tree holds {held} facts so far; ask for a size up to {held} "
                       "(GET /v1/log/sth names the latest signed one)")


def latest_head(session: Session) -> TreeHead | None:
    return session.execute(
        select(TreeHead).order_by(TreeHead.tree_size.desc()).limit(1)).scalar_one_or_none()


def head_view(head: TreeHead) -> dict[str, Any]:
    """A signed tree head as published: hashes in hex, the signature in base64."""
    return {"tree_size": head.tree_size, "timestamp": head.timestamp_ms,
            "root_hash": head.root_hash, "signature": head.signature, "key_id": head.key_id}


def register_key(session: Session, key: signing.PublicKey, now: datetime) -> None:
    if session.get(LogKey, key.key_id) is None:
        session.add(LogKey(key_id=key.key_id, public_key=key.raw_hex, public_key_pem=key.pem,
                           created_at=now))
        session.flush()


def publish(session: Session, key: Ed25519PrivateKey, *, now: datetime, every_facts: int = 1,
            every_s: float = 0.0) -> TreeHead | None:
    """Sign a head over the whole stored tree when it has grown by `every_facts` facts, or has
    grown at all and the last head is `every_s` old; returns it, or None when none was due."""
    tree_size = size(session)
    latest = latest_head(session)
    now_ms = int(now.timestamp() * 1000)
    if tree_size == 0 or (latest is not None and latest.tree_size >= tree_size):
        return None
    if latest is not None and tree_size - latest.tree_size < every_facts \
            and now_ms - latest.timestamp_ms < every_s * 1000:
        return None
    if latest is not None and now_ms <= latest.timestamp_ms:
        now_ms = latest.timestamp_ms + 1  # heads' timestamps only move forward
    root = root_at(session, tree_size)
    pub = signing.public(key)
    register_key(session, pub, now)
    head = TreeHead(tree_size=tree_size, timestamp_ms=now_ms, root_hash=root.hex(),
                    signature=signing.sign(key, merkle.tree_head_message(now_ms, tree_size, root)),
                    key_id=pub.key_id)
    session.add(head)
    session.flush()
    return head


def inclusion(session: Session, *, seq: int, tree_size: int) -> dict[str, Any]:
    """The audit path of fact `seq` in the tree of the first `tree_size` facts."""
    if not 1 <= seq <= tree_size:
        raise InvalidInput(f"seq must be between 1 and size ({tree_size}); got {seq}")
    _check_size(session, tree_size)
    fact_hash = session.execute(select(Fact.hash).where(Fact.seq == seq)).scalar_one_or_none()
    if fact_hash is None:
        raise NotFound(f"no fact with seq {seq}")
    path, root = _compute(session, lambda get: (merkle.inclusion_path(seq - 1, tree_size, get),
                                                merkle.root(tree_size, get)))
    return {"seq": seq, "leaf_index": seq - 1, "tree_size": tree_size, "fact_hash": fact_hash,
            "leaf_hash": merkle.leaf_hash(fact_hash).hex(), "root_hash": root.hex(),
            "audit_path": [p.hex() for p in path]}


def consistency(session: Session, *, first: int, second: int) -> dict[str, Any]:
    """The proof that the tree of `second` facts extends the tree of `first`."""
    if not 1 <= first <= second:
        raise InvalidInput(f"need 1 <= first <= second; got first={first}, second={second}")
    _check_size(session, second)
    path, r1, r2 = _compute(session, lambda get: (
        merkle.consistency_path(first, second, get) if first < second else [],
        merkle.root(first, get), merkle.root(second, get)))
    return {"first": first, "second": second, "first_root_hash": r1.hex(),
            "second_root_hash": r2.hex(), "consistency_path": [p.hex() for p in path]}


def keys(session: Session) -> list[LogKey]:
    return list(session.execute(select(LogKey).order_by(LogKey.created_at)).scalars())


# --- verification -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SavedHead:
    tree_size: int
    timestamp: int
    root_hash: str
    signature: str
    key_id: str

    @classmethod
    def parse(cls, data: Any) -> SavedHead:
        """A head as `GET /v1/log/sth` gave it; a precise error for anything else."""
        if not isinstance(data, dict):
            raise InvalidInput("a signed tree head is a JSON object")
        try:
            head = cls(tree_size=int(data["tree_size"]), timestamp=int(data["timestamp"]),
                       root_hash=str(data["root_hash"]), signature=str(data["signature"]),
                       key_id=str(data["key_id"]))
            bytes.fromhex(head.root_hash)
        except KeyError as exc:
            raise InvalidInput(f"the signed tree head lacks {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"the signed tree head is malformed: {exc}") from exc
        return head


def _fact_hashes(session: Session, batch: int = 10_000) -> Iterator[tuple[int, str]]:
    last = 0
    while True:
        rows = session.execute(select(Fact.seq, Fact.hash).where(Fact.seq > last)
                               .order_by(Fact.seq).limit(batch)).all()
        if not rows:
            return
        yield from ((r.seq, r.hash) for r in rows)
        last = rows[-1].seq


def _signature_ok(session: Session, head: SavedHead) -> bool:
    key = session.get(LogKey, head.key_id)
    message = merkle.tree_head_message(head.timestamp, head.tree_size,
                                       bytes.fromhex(head.root_hash))
    return key is not None and signing.valid(key.public_key, message, head.signature)


def verify(session: Session, *, against: SavedHead | None = None) -> list[str]:
    """Recompute the tree from the stored facts' hashes and check every signed head, the stored
    tree and (if given) a head someone saved; returns what is wrong, empty when nothing is."""
    stored_heads = {h.tree_size: h for h in session.execute(select(TreeHead)).scalars()}
    tree_size = size(session)
    wanted = set(stored_heads) | {tree_size} | ({against.tree_size} if against else set())
    roots: dict[int, bytes] = {}
    acc = merkle.Accumulator()
    if 0 in wanted:
        roots[0] = acc.root()
    for seq, fact_hash in _fact_hashes(session):
        if seq != acc.size + 1:
            break  # the chain check names the gap
        acc.append(merkle.leaf_hash(fact_hash))
        if acc.size in wanted:
            roots[acc.size] = acc.root()
    held = acc.size
    problems: list[str] = []
    if against is not None:
        if not _signature_ok(session, against):
            problems.append(f"the saved head (size {against.tree_size}) is not signed by a key "
                            f"of this log (key_id {against.key_id[:16]}…)")
        if against.tree_size > held:
            problems.append(f"log truncated: the saved head signed {against.tree_size} facts, "
                            f"the log holds {held}")
        elif roots[against.tree_size].hex() != against.root_hash:
            problems.append(f"log rewritten: the first {against.tree_size} facts no longer hash "
                            "to the saved head's root")
    if tree_size > held:
        problems.append(f"the tree holds {tree_size} facts but the log only {held}: "
                        "facts were deleted")
    elif tree_size and root_at(session, tree_size) != roots[tree_size]:
        problems.append(f"the stored tree of {tree_size} facts does not match the facts")
    for n, head in sorted(stored_heads.items()):
        saved = SavedHead(n, head.timestamp_ms, head.root_hash, head.signature, head.key_id)
        if not _signature_ok(session, saved):
            problems.append(f"the signed head of size {n} has an invalid signature")
        if n > held:
            problems.append(f"the signed head of size {n} covers facts the log no longer has")
        elif roots[n].hex() != head.root_hash:
            problems.append(f"the facts no longer match the signed head of size {n}")
    return problems


def audit_paths(session: Session, seqs: Sequence[int], tree_size: int) -> dict[int, list[str]]:
    """Audit paths (hex) of many facts in one tree, from one fetch of the nodes they need."""
    _check_size(session, tree_size)
    wanted = [s for s in seqs if 1 <= s <= tree_size]
    paths: dict[int, list[bytes]] = _compute(session, lambda get: {
        s: merkle.inclusion_path(s - 1, tree_size, get) for s in wanted})
    return {s: [p.hex() for p in path] for s, path in paths.items()}
