"""The log's Merkle tree is RFC 6962's: checked against the Certificate Transparency test
vectors, against pymerkle (an RFC 6962 tree that is not ours) and against a reference written
in this file straight from the recursive definitions of RFC 6962 §2.1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymerkle import InmemoryTree
from pymerkle.proof import InclusionProof, InvalidProof

from shelterwatch.log import merkle


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- the reference: RFC 6962 §2.1, word for word, over plain lists of leaf inputs ------------

def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + d[0])
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
    return sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# --- the stored tree, as the service keeps it: every perfect node -----------------------------

def stored(datas: list[bytes]) -> merkle.Lookup:
    acc = merkle.Accumulator()
    nodes: dict[tuple[int, int], bytes] = {}
    for data in datas:
        for level, idx, digest in acc.append(merkle.leaf_hash(data.hex())):
            nodes[(level, idx)] = digest
    return lambda level, idx: nodes[(level, idx)]


def inputs(n: int) -> list[bytes]:
    return [sha(i.to_bytes(4, "big")) for i in range(n)]  # fact hashes are 32 bytes


# Certificate Transparency's test vectors (merkle_tree_test.cc): leaf inputs and the root of
# the tree of the first 1..8 of them.
CT_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_roots_are_certificate_transparencys_test_vectors() -> None:
    datas = [bytes.fromhex(h) for h in CT_INPUTS]
    get = stored(datas)
    for n, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root(n, get).hex() == expected
    assert merkle.root(0, get) == sha(b"")


def test_roots_and_audit_paths_match_pymerkle_and_verify_there() -> None:
    datas = inputs(37)
    get = stored(datas)
    theirs = InmemoryTree(algorithm="sha256")
    for data in datas:
        theirs.append_entry(data)
    for size in range(1, 38):
        root = merkle.root(size, get)
        assert root == theirs.get_root(size)
        for index in range(size):
            path = merkle.inclusion_path(index, size, get)
            their_proof = theirs.prove_inclusion(index + 1, size)
            leaf = merkle.leaf_hash(datas[index].hex())
            # pymerkle's proof holds the leaf first, then RFC 6962's audit path
            assert their_proof.path == [leaf, *path]
            # and pymerkle's verifier accepts our path in its own proof frame
            ours = InclusionProof("sha256", True, size, index + 1, their_proof.rule,
                                  [leaf, *path])
            ours.verify(leaf, root)
            assert merkle.verify_inclusion(leaf, index, size, path, root)


def test_a_wrong_audit_path_is_refused_by_pymerkle_and_by_us() -> None:
    datas = inputs(11)
    get = stored(datas)
    theirs = InmemoryTree(algorithm="sha256")
    for data in datas:
        theirs.append_entry(data)
    root, leaf = merkle.root(11, get), merkle.leaf_hash(datas[4].hex())
    path = merkle.inclusion_path(4, 11, get)
    forged = [path[0], sha(b"forged"), *path[2:]]
    rule = theirs.prove_inclusion(5, 11).rule
    with pytest.raises(InvalidProof):
        InclusionProof("sha256", True, 11, 5, rule, [leaf, *forged]).verify(leaf, root)
    assert not merkle.verify_inclusion(leaf, 4, 11, forged, root)
    assert not merkle.verify_inclusion(leaf, 5, 11, path, root)  # another leaf's place


def test_audit_and_consistency_paths_match_rfc_6962_definitions() -> None:
    datas = inputs(33)
    get = stored(datas)
    for n in range(1, 34):
        d = datas[:n]
        assert merkle.root(n, get) == ref_mth(d)
        for m in range(n):
            assert merkle.inclusion_path(m, n, get) == ref_path(m, d)
        for m in range(1, n):
            proof = merkle.consistency_path(m, n, get)
            assert proof == ref_proof(m, d)
            assert merkle.verify_consistency(m, n, ref_mth(datas[:m]), ref_mth(d), proof)


def test_a_rewritten_history_fails_the_consistency_proof() -> None:
    honest, rewritten = inputs(20), inputs(20)
    rewritten[6] = sha(b"a fact someone changed")
    old_root = ref_mth(honest[:9])
    proof = merkle.consistency_path(9, 20, stored(rewritten))
    assert not merkle.verify_consistency(9, 20, old_root, ref_mth(rewritten), proof)
    assert not merkle.verify_consistency(9, 20, old_root, ref_mth(honest), proof[:-1])


@given(st.integers(min_value=0, max_value=300))
def test_a_resumed_tree_grows_as_if_never_stopped(n: int) -> None:
    datas = inputs(n + 5)
    full = merkle.Accumulator()
    for data in datas[:n]:
        full.append(merkle.leaf_hash(data.hex()))
    get = stored(datas[:n])
    resumed = merkle.Accumulator.resume(n, [get(*k) for k in merkle.frontier(n)])
    assert resumed.root() == ref_mth(datas[:n])
    for data in datas[n:]:
        resumed.append(merkle.leaf_hash(data.hex()))
    assert resumed.root() == ref_mth(datas)


def test_tree_head_message_is_rfc_6962_tree_head_signature() -> None:
    message = merkle.tree_head_message(1_700_000_000_123, 42, b"\xab" * 32)
    assert message[:2] == b"\x00\x01"
    assert int.from_bytes(message[2:10], "big") == 1_700_000_000_123
    assert int.from_bytes(message[10:18], "big") == 42
    assert message[18:] == b"\xab" * 32 and len(message) == 50
