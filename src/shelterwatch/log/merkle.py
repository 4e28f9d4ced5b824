"""The log's Merkle tree as Certificate Transparency builds it (RFC 6962 §2.1), pure.

The hash chain proves the order of facts to someone who reads the whole log; the tree lets a
reader who holds one signed tree head check that one fact is in the log (an inclusion proof of
log2(n) hashes) and that a later head extends an earlier one (a consistency proof), so a cut tail
or a rewritten history shows against any head someone saved.

Leaf i is fact seq i+1: `leaf = SHA-256(0x00 ‖ fact hash bytes)`, nodes are
`SHA-256(0x01 ‖ left ‖ right)`, the empty tree's root is `SHA-256("")`.
A *node* (level, index) is the perfect subtree of 2**level leaves starting at index * 2**level;
only these are stored, every other hash a proof needs is built from O(log n) of them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]  # (level, index)
Lookup = Callable[[int, int], bytes]


def leaf_hash(fact_hash_hex: str) -> bytes:
    """The leaf of a fact: its chain hash, as 32 bytes, under the leaf prefix."""
    return hashlib.sha256(LEAF_PREFIX + bytes.fromhex(fact_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2): where RFC 6962 cuts a tree of n."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(start: int, n: int, get: Lookup) -> bytes:
    """MTH of leaves [start, start + n), from stored perfect nodes."""
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return get(n.bit_length() - 1, start // n)
    k = split(n)
    return node_hash(subtree_hash(start, k, get), subtree_hash(start + k, n - k, get))


def root(size: int, get: Lookup) -> bytes:
    return subtree_hash(0, size, get)


def inclusion_path(index: int, size: int, get: Lookup) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]): the audit path of leaf `index` in the tree of `size`."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")

    def path(m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return [*path(m, start, k), subtree_hash(start + k, n - k, get)]
        return [*path(m - k, start + k, n - k), subtree_hash(start, k, get)]

    return path(index, 0, size)


def consistency_path(first: int, second: int, get: Lookup) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(m, D[n]): that the tree of `second` extends the tree of `first`."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")

    def subproof(m: int, start: int, n: int, whole: bool) -> list[bytes]:
        if m == n:
            return [] if whole else [subtree_hash(start, n, get)]
        k = split(n)
        if m <= k:
            return [*subproof(m, start, k, whole), subtree_hash(start + k, n - k, get)]
        return [*subproof(m - k, start + k, n - k, False), subtree_hash(start, k, get)]

    return subproof(first, 0, second, True)


def needed(compute: Callable[[Lookup], object]) -> list[NodeKey]:
    """The stored nodes a computation reads; its shape does not depend on the hashes, so the
    caller fetches them in one query and runs it again on the real values."""
    keys: list[NodeKey] = []

    def record(level: int, index: int) -> bytes:
        keys.append((level, index))
        return EMPTY_ROOT

    compute(record)
    return sorted(set(keys))


def frontier(size: int) -> list[NodeKey]:
    """The perfect subtrees a tree of `size` is made of, left to right (one per bit of size)."""
    keys: list[NodeKey] = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, (size >> level) - 1))
    return keys


@dataclass
class Accumulator:
    """A tree grown one leaf at a time in O(log n) memory: the stack of its frontier nodes.

    `append` returns the perfect nodes the new leaf completes, which is what gets stored.
    """

    size: int = 0
    stack: list[bytes] = field(default_factory=list)

    @classmethod
    def resume(cls, size: int, frontier_hashes: Sequence[bytes]) -> Accumulator:
        if len(frontier_hashes) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} has {bin(size).count('1')} frontier nodes")
        return cls(size=size, stack=list(frontier_hashes))

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        made = [(0, self.size, leaf)]
        self.stack.append(leaf)
        index, level = self.size, 0
        self.size += 1
        while index & 1:
            right, left = self.stack.pop(), self.stack.pop()
            merged = node_hash(left, right)
            self.stack.append(merged)
            index >>= 1
            level += 1
            made.append((level, index, merged))
        return made

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        digest = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes],
                     expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does this audit path lead from the leaf to the root?"""
    if not 0 <= index < size:
        return False
    fn, sn, digest = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            digest = node_hash(p, digest)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            digest = node_hash(digest, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of `second` the tree of `first` with leaves appended?"""
    if first == second:
        return not path and first_root == second_root
    if not 0 < first < second or not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:  # a power of two: the first tree is a node of the second
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def tree_head_message(timestamp_ms: int, tree_size: int, root_hash: bytes) -> bytes:
    """What a signed tree head signs: RFC 6962 §3.5 TreeHeadSignature, version v1 (0),
    signature_type tree_hash (1), uint64 timestamp in ms, uint64 tree_size, 32-byte root."""
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root_hash
