"""Appending facts and reading them back. Callers own the transaction; nothing here commits."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import Session

from shelterwatch import bulk, db
from shelterwatch.log import chain
from shelterwatch.log.models import Fact, LogHead

NOTIFY_CHANNEL = "shelterwatch_facts"
HEAD_ID = 1
APPENDED = "shelterwatch.facts_appended"  # session.info: the last seq this transaction appended
PENDING = "shelterwatch.facts_pending"  # session.info: facts to append at commit (append_later)
_committed_callbacks: list[Callable[[int], None]] = []


def on_commit(callback: Callable[[int], None]) -> Callable[[], None]:
    """Call `callback` with the last seq after each commit in this process that appended facts
    (a follower's wake-up: no waiting for its next poll); returns the function that unregisters
    it."""
    _committed_callbacks.append(callback)
    return lambda: _committed_callbacks.remove(callback)


@event.listens_for(Session, "after_commit")
def _appended_committed(session: Session) -> None:
    seq = session.info.pop(APPENDED, None)
    if seq is not None:
        for callback in list(_committed_callbacks):
            callback(seq)


@event.listens_for(Session, "after_rollback")
def _appended_rolled_back(session: Session) -> None:
    session.info.pop(APPENDED, None)
    session.info.pop(PENDING, None)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    # Also called as a savepoint is released (outbox.enqueue makes one per message): the
    # facts wait for the transaction's own commit.
    if session.info.get(PENDING) and not session.in_nested_transaction():
        session.flush()  # the transaction's own rows first: not under the log's lock
        append_pending(session)


@dataclass(frozen=True, slots=True)
class NewFact:
    kind: str
    actor: str
    payload: Mapping[str, Any]
    private: Mapping[str, Any] | None = None


def _lock_head(session: Session) -> LogHead:
    head = session.execute(
        select(LogHead).where(LogHead.id == HEAD_ID).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        head = LogHead(id=HEAD_ID, seq=0, hash=chain.GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def lock(session: Session) -> int:
    """Take the log's write lock for this transaction; returns the current last seq.

    Writers that allocate ids (imports) take it first so ids and seqs come out in one order.
    """
    return _lock_head(session).seq


# Built once: a batch of facts binds values into it and pays no statement construction.
LOCK_HEAD = select(LogHead.seq, LogHead.hash).where(LogHead.id == HEAD_ID).with_for_update()
INSERT_FACTS = insert(db.table_of(Fact))
MOVE_HEAD = update(LogHead).where(LogHead.id == HEAD_ID).values(
    seq=bindparam("new_seq"), hash=bindparam("new_hash"))
# On PostgreSQL the same statement wakes the followers too: one round trip, not two.
MOVE_HEAD_AND_NOTIFY = MOVE_HEAD.returning(
    func.pg_notify(bindparam("channel"), bindparam("last")))


SALT_BYTES = 16


def salted(private: Mapping[str, Any] | None,
           salt: str | None = None) -> Mapping[str, Any] | None:
    """The private part with a random salt of its own, kept inside it.

    The public log shows each fact's private digest. Without a salt, a digest of guessable
    values (a position rounded to 5 decimals, a token's name) is found by trying them all; with
    128 random bits inside, only who holds the private part can recompute it, and the public
    chain stays verifiable from the digest alone.
    """
    if not private:
        return private
    return {**private, "salt": salt if salt is not None else secrets.token_hex(SALT_BYTES)}


def chained(facts: Sequence[NewFact], *, now: datetime,
            head: tuple[int, str]) -> list[dict[str, Any]]:
    """The stored rows of these facts after the head (seq, hash), each hashed onto the one
    before: for `append_many`, and for a writer that sends them with its other rows at once."""
    seq, prev = head
    bodies = chain.BodyWriter(chain.format_at(now))
    canonical, sha256 = chain.canonical_json, hashlib.sha256
    rows: list[dict[str, Any]] = []
    # Every salt of the batch from one read of the system's randomness (an import's 10,000
    # reads of 16 bytes each were a twentieth of its work); each fact still gets 128 bits.
    salts = secrets.token_bytes(SALT_BYTES * len(facts)).hex()
    for n, fact in enumerate(facts):
        seq += 1
        # Serialised once: what is stored is byte for byte what was hashed.
        payload_json = canonical(fact.payload)
        private_json = b""
        private_digest = ""
        if fact.private:
            salt = salts[2 * SALT_BYTES * n:2 * SALT_BYTES * (n + 1)]
            private_json = canonical(salted(fact.private, salt))
            private_digest = sha256(private_json).hexdigest()  # chain.private_digest
        body = bodies.canonical(seq, fact.kind, fact.actor, payload_json, private_digest)
        digest = sha256(prev.encode("ascii") + body).hexdigest()  # chain.fact_hash
        rows.append({
            "seq": seq, "at": now, "kind": fact.kind, "actor": fact.actor,
            "payload": payload_json.decode(),
            "private": private_json.decode() if private_json else None,
            "private_digest": private_digest, "prev_hash": prev, "hash": digest,
        })
        prev = digest
    return rows


def append_later(session: Session, facts: Sequence[NewFact], *, now: datetime) -> None:
    """Append facts at this transaction's commit, still inside it, in the order asked.

    The log's lock is held from the first append to the commit, and every resident's report
    waits for it. A worker's transaction that appends early and then goes on (a ladder's rung:
    the keyholders' messages queued one by one, a patrol chosen, the step's fact) held it for
    all of that; facts asked for here are chained and written just before the commit, so the
    lock is held for the appends alone. For callers that need no seq back. Any immediate
    append in the same transaction appends these first, so the log keeps the order asked.
    """
    if facts:
        session.info.setdefault(PENDING, []).append((list(facts), now))


def has_pending(session: Session) -> bool:
    """Whether this transaction asked for facts to be appended later (`append_pending`)."""
    return bool(session.info.get(PENDING))


def append_pending(session: Session) -> None:
    """Append now what this transaction asked to append later: a writer that reads the head
    itself calls this first, so the log keeps the order asked for.

    Lock, chain, write: on PostgreSQL three round trips under the lock (the head, the facts and
    the head's move in one pipeline, the commit), whatever the number of facts.
    """
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    found = session.connection().execute(LOCK_HEAD).first()
    if found is None:  # a fresh log: the ORM makes its head row
        head = _lock_head(session)
        at = (head.seq, head.hash)
    else:
        at = (found.seq, found.hash)
    rows: list[dict[str, Any]] = []
    for facts, now in pending:
        rows += chained(facts, now=now, head=at)
        at = (rows[-1]["seq"], rows[-1]["hash"])
    _write(session, rows, None)


def append_many(session: Session, facts: Sequence[NewFact], *, now: datetime) -> list[int]:
    """Append facts in order within the caller's transaction; returns their seqs."""
    if not facts:
        return []
    append_pending(session)  # what this transaction asked to append later comes first
    head = _lock_head(session)
    rows = chained(facts, now=now, head=(head.seq, head.hash))
    _write(session, rows, head)
    return [r["seq"] for r in rows]


def append_chained(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write rows `chained` onto the head this transaction read itself under the log's lock (a
    batch writer, which spares locking and reading the head twice and keeps the rows: its
    process applies them without reading them back)."""
    if has_pending(session):
        raise RuntimeError("facts are pending in a transaction that read the head itself")
    if rows:
        _write(session, rows, None)


def _write(session: Session, rows: list[dict[str, Any]], head: LogHead | None) -> None:
    """Insert chained rows and move the head past them (`head`: the session's ORM row of it,
    when it has one, kept in step)."""
    seq, prev = rows[-1]["seq"], rows[-1]["hash"]
    session.info[APPENDED] = seq
    postgresql = session.get_bind().dialect.name == "postgresql"
    if head is None:  # a head read with Core: no ORM row of it in this session to keep in step
        moved = {"new_seq": seq, "new_hash": prev}
        # The facts and the head's move in one round trip on PostgreSQL, the driver's own
        # executemany on SQLite.
        bulk.write_all(session.connection(), [
            (INSERT_FACTS, rows),
            (MOVE_HEAD_AND_NOTIFY, [{**moved, "channel": NOTIFY_CHANNEL, "last": str(seq)}])
            if postgresql else (MOVE_HEAD, [moved])])
        return
    bulk.insert(session, db.table_of(Fact), rows)
    session.execute(update(LogHead).where(LogHead.id == HEAD_ID).values(seq=seq, hash=prev))
    head.seq, head.hash = seq, prev
    if postgresql:
        session.execute(text("SELECT pg_notify(:c, :s)"), {"c": NOTIFY_CHANNEL, "s": str(seq)})


def append(session: Session, *, kind: str, actor: str, payload: Mapping[str, Any], now: datetime,
           private: Mapping[str, Any] | None = None) -> int:
    """Append one fact; returns its seq."""
    return append_many(session, [NewFact(kind, actor, payload, private)], now=now)[0]


def last_seq(session: Session) -> int:
    return session.execute(select(func.coalesce(func.max(Fact.seq), 0))).scalar_one()


def head_seq(session: Session) -> int:
    """The last seq the log's head records (0 for an empty log): one row by its key."""
    seq = session.execute(select(LogHead.seq).where(LogHead.id == HEAD_ID)).scalar()
    return int(seq or 0)


def after(session: Session, seq: int, *, limit: int = 1000, upto: int | None = None,
          skip: Collection[str] = ()) -> Sequence[Fact]:
    """Facts with seq greater than `seq` (and at most `upto`), oldest first; kinds in `skip`
    are left out by the database, never loaded."""
    query = select(Fact).where(Fact.seq > seq)
    if upto is not None:
        query = query.where(Fact.seq <= upto)
    if skip:
        query = query.where(Fact.kind.not_in(sorted(skip)))
    return session.execute(query.order_by(Fact.seq).limit(limit)).scalars().all()


def public_view(fact: Fact, *, redacted: bool = False) -> dict[str, Any]:
    """A fact as anyone may see it: everything the chain covers, nothing private.

    A redacted fact (the location policy, stats.redaction) keeps its place in the chain — seq,
    time, kind and hashes — without its actor or content: its hash is then taken as given.
    """
    if redacted:
        return {"seq": fact.seq, "at": chain.format_at(fact.at), "kind": fact.kind,
                "actor": None, "payload": None, "private_digest": None,
                "prev_hash": fact.prev_hash, "hash": fact.hash, "redacted": True}
    return {
        "seq": fact.seq, "at": chain.format_at(fact.at), "kind": fact.kind, "actor": fact.actor,
        "payload": orjson.loads(fact.payload), "private_digest": fact.private_digest,
        "prev_hash": fact.prev_hash, "hash": fact.hash,
    }


def _stored(session: Session, batch: int = 5000) -> Iterator[chain.StoredFact]:
    # Storage order by primary key; a swapped seq shows up as out of order or as a broken link.
    last = 0
    while True:
        rows = session.execute(
            select(Fact.seq, Fact.at, Fact.kind, Fact.actor, Fact.payload, Fact.private,
                   Fact.private_digest, Fact.prev_hash, Fact.hash)
            .where(Fact.seq > last).order_by(Fact.seq).limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            digest = r.private_digest
            if r.private is not None:
                digest = chain.private_digest(orjson.loads(r.private))
                if digest != r.private_digest:
                    digest = "altered:" + digest  # the stored digest no longer matches
            body = chain.FactBody(seq=r.seq, at=chain.format_at(r.at), kind=r.kind,
                                  actor=r.actor, payload=orjson.loads(r.payload),
                                  private_digest=digest)
            yield chain.StoredFact(body=body, prev_hash=r.prev_hash, hash=r.hash)
        last = rows[-1].seq


def verify(session: Session) -> chain.Verdict:
    """Check the whole stored log against its chain and its head."""
    head = session.get(LogHead, HEAD_ID)
    return chain.verify(_stored(session), head_seq=head.seq if head else None)
