"""Properties of the hash chain: any edit, deletion or reordering names the first broken seq."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.log import chain

payloads = st.dictionaries(st.text(min_size=1, max_size=8),
                           st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=20),
                                     st.booleans(),
                                     st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                           max_size=4)


def build(bodies: list[tuple[str, dict[str, object]]]) -> list[chain.StoredFact]:
    facts, prev = [], chain.GENESIS_HASH
    for seq, (kind, payload) in enumerate(bodies, start=1):
        body = chain.FactBody(seq=seq, at="2023-06-01T00:00:00.000000Z", kind=kind,
                              actor="system", payload=payload, private_digest="")
        digest = chain.fact_hash(prev, body)
        facts.append(chain.StoredFact(body=body, prev_hash=prev, hash=digest))
        prev = digest
    return facts


logs = st.lists(st.tuples(st.sampled_from(["a.b", "c.d"]), payloads), min_size=2, max_size=12)


@given(logs)
def test_an_untouched_log_verifies(bodies: list[tuple[str, dict[str, object]]]) -> None:
    verdict = chain.verify(build(bodies), head_seq=len(bodies))
    assert verdict.ok and verdict.checked == len(bodies)


@given(logs, st.data())
def test_editing_any_fact_names_its_seq(bodies: list[tuple[str, dict[str, object]]],
                                        data: st.DataObject) -> None:
    facts = build(bodies)
    i = data.draw(st.integers(0, len(facts) - 1))
    edited = replace(facts[i].body, actor="someone else")
    facts[i] = replace(facts[i], body=edited)
    verdict = chain.verify(facts, head_seq=len(facts))
    assert not verdict.ok and verdict.broken_seq == i + 1


@given(logs, st.data())
def test_deleting_any_fact_names_the_missing_seq(bodies: list[tuple[str, dict[str, object]]],
                                                 data: st.DataObject) -> None:
    facts = build(bodies)
    i = data.draw(st.integers(0, len(facts) - 1))
    del facts[i]
    verdict = chain.verify(facts, head_seq=len(bodies))
    assert not verdict.ok and verdict.broken_seq == i + 1


@given(logs, st.data())
def test_swapping_two_facts_is_detected_at_the_first(bodies: list[tuple[str, dict[str, object]]],
                                                     data: st.DataObject) -> None:
    facts = build(bodies)
    i = data.draw(st.integers(0, len(facts) - 2))
    j = data.draw(st.integers(i + 1, len(facts) - 1))
    # Swap contents but keep each row's seq, as an UPDATE of two rows would.
    a, b = facts[i], facts[j]
    facts[i] = replace(b, body=replace(b.body, seq=a.body.seq))
    facts[j] = replace(a, body=replace(a.body, seq=b.body.seq))
    verdict = chain.verify(facts, head_seq=len(facts))
    assert not verdict.ok and verdict.broken_seq == i + 1


def test_canonical_json_is_independent_of_key_order() -> None:
    a = chain.canonical_json({"b": 1, "a": [1, 2]})
    assert a == chain.canonical_json({"a": [1, 2], "b": 1})


kinds_and_actors = st.text(min_size=1, max_size=12)  # quotes, backslashes, any letters


@given(st.lists(st.tuples(kinds_and_actors, kinds_and_actors, payloads,
                          st.sampled_from(["", "ab" * 32])), min_size=1, max_size=8),
       st.integers(0, 2**40))
def test_a_batch_writes_the_bytes_a_fact_body_hashes(
        facts: list[tuple[str, str, dict[str, object], str]], first: int) -> None:
    """The import's fast serialisation and the verifier's must never drift apart."""
    writer = chain.BodyWriter("2023-06-01T00:00:00.000000Z")
    for seq, (kind, actor, payload, digest) in enumerate(facts, start=first):
        body = chain.FactBody(seq=seq, at="2023-06-01T00:00:00.000000Z", kind=kind,
                              actor=actor, payload=payload, private_digest=digest)
        assert writer.canonical(seq, kind, actor, chain.canonical_json(payload),
                                digest) == body.canonical()
