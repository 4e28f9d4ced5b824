"""The witness rule: networks and issued ids, as pure functions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shelterwatch.rules import witness

SECRET = "a-secret-for-tests"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=8, max_size=40))
def test_self_chosen_device_ids_from_one_address_are_one_witness(device_id: str) -> None:
    assert witness.witness(SECRET, device_id=device_id, address="198.51.100.1") == \
        witness.witness(SECRET, device_id="another-phone", address="198.51.100.1")


@given(st.binary(min_size=16, max_size=16).map(lambda b: b.hex()))
def test_issued_ids_are_their_own_witnesses_and_tampering_breaks_them(raw: str) -> None:
    issued = witness.sign_device(SECRET, raw)
    assert witness.verify_device(SECRET, issued)
    assert not witness.verify_device("another-secret", issued)
    assert not witness.verify_device(SECRET, issued[:-1] + ("0" if issued[-1] != "0" else "1"))
    w = witness.witness(SECRET, device_id=issued, address="198.51.100.1")
    assert w.issued and w.reporter.startswith("i:")


def test_an_ipv6_subscriber_is_one_network_and_mapped_ipv4_is_ipv4() -> None:
    assert witness.network_of("2001:db8:1:1::1") == witness.network_of("2001:db8:1:ff::2")
    assert witness.network_of("2001:db8:1:1::1") != witness.network_of("2001:db8:1:100::1")
    assert witness.network_of("::ffff:198.51.100.1") == "198.51.100.1"
    assert witness.network_of(None) is None


def test_network_digests_need_the_secret() -> None:
    a = witness.witness(SECRET, device_id=None, address="10.0.0.1").reporter
    b = witness.witness("other", device_id=None, address="10.0.0.1").reporter
    assert a != b and "10.0.0.1" not in a


@given(st.binary(min_size=32, max_size=32))
def test_leading_zero_bits_counts_bits(digest: bytes) -> None:
    n = witness.leading_zero_bits(digest)
    as_int = int.from_bytes(digest, "big")
    assert n == 256 - as_int.bit_length()


def test_an_auditors_check_is_explained_as_an_auditors() -> None:
    from datetime import UTC, datetime

    from shelterwatch.messages.status import explain
    from shelterwatch.rules import status
    from shelterwatch.vocabulary import ObservationKind, Role

    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    audit = status.Evidence(id="a", kind=ObservationKind.OPEN, role=Role.AUDITOR, at=now,
                            reporter="auditor:7", distance_m=5.0)
    alone = status.derive([audit], now=now)
    assert "1 auditor reported open" in explain(alone.status, alone.reasons, "en", reference=now)
    assert "resident" not in explain(alone.status, alone.reasons, "en", reference=now)
    assert "1 аудитор повідомив" in explain(alone.status, alone.reasons, "uk", reference=now)
    resident = status.Evidence(id="b", kind=ObservationKind.OPEN, role=Role.RESIDENT, at=now,
                               reporter="n:x", distance_m=5.0)
    both = status.derive([audit, resident], now=now)
    shown = explain(both.status, both.reasons, "en", reference=now)
    assert "1 auditor and 1 resident reported open" in shown
