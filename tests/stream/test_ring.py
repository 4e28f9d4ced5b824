"""The shared ring never hands a client a wrong or missing event: it serves exactly what
followed, or says that it no longer can (and the client resumes from the log)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.stream.ring import EventRing

# Batches as the follower hands them: gaps in seq where facts are not streamed.
batches = st.lists(st.lists(st.tuples(st.integers(1, 3), st.booleans()), max_size=12),
                   max_size=30)


def fill(ring: EventRing, plan: list[list[tuple[int, bool]]]) -> list[tuple[int, bytes]]:
    streamed: list[tuple[int, bytes]] = []
    seq = ring.position
    for batch in plan:
        events = []
        for step, carried in batch:
            seq += step
            if carried:
                events.append((seq, b"id: %d\n\n" % seq))
        ring.extend(events, seq)
        streamed.extend(events)
    return streamed


@given(plan=batches, capacity=st.integers(1, 20), start=st.integers(0, 50),
       probe=st.integers(0, 200))
def test_a_resume_gets_exactly_the_events_after_its_id_or_a_refusal(
        plan: list[list[tuple[int, bool]]], capacity: int, start: int, probe: int) -> None:
    ring = EventRing(capacity, position=start)
    streamed = fill(ring, plan)
    expected = [chunk for seq, chunk in streamed if seq > probe]
    index = ring.index_after(probe)
    trimmed = streamed[:len(streamed) - len(ring)]
    # Refused exactly when the ring cannot know: the id is older than the ring, or something
    # after it was trimmed away.
    assert (index is None) == (probe < start or any(seq > probe for seq, _ in trimmed))
    if index is not None:
        assert ring.since(index) == expected
    assert len(ring) <= capacity + capacity // 4


@given(first=batches, then=batches, capacity=st.integers(1, 20))
def test_a_live_client_gets_every_later_event_once_unless_it_fell_behind(
        first: list[list[tuple[int, bool]]], then: list[list[tuple[int, bool]]],
        capacity: int) -> None:
    ring = EventRing(capacity)
    fill(ring, first)
    index = ring.end  # connected now, without Last-Event-ID
    later = fill(ring, then)
    got = ring.since(index)
    if got is None:
        assert len(later) > len(ring)  # more arrived than the ring holds
    else:
        assert got == [chunk for _, chunk in later]


def test_a_client_ahead_of_this_process_skips_what_it_has_seen() -> None:
    ring = EventRing(10, position=5)
    ring.extend([(6, b"6"), (8, b"8"), (9, b"9")], 9)
    assert ring.since(ring.index_after(5) or 0, after_seq=8) == [b"9"]
