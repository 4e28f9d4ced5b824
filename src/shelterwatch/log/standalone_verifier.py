#!/usr/bin/env python3
"""Check a shelterwatch record with nothing but Python's standard library.

    python3 verify.py BUNDLE.json             # a dossier's proof bundle, offline
    python3 verify.py --url http://HOST:8000  # a live log: chain, tree and its signed head
    python3 verify.py --url … --against STH.json   # … and that it extends a head you saved

Each fact: hash = SHA-256(prev_hash ‖ canonical JSON of {seq, at, kind, actor, payload,
private_digest}); canonical JSON is UTF-8 with no \\u escapes (except control characters), keys
sorted, no spaces, floats as Python's repr with no leading zero in the exponent (1e-7).
Tree (RFC 6962): leaf = SHA-256(0x00 ‖ hash bytes), node = SHA-256(0x01 ‖ left ‖ right).
A signed tree head is Ed25519 over 0x00 0x01 ‖ uint64 timestamp ‖ uint64 tree_size ‖ root.
A live log may redact facts (shelters in hidden oblasts): those link and sit in the signed tree,
their content is not shown, so their hashes are taken as given.
Exits 0 when everything checks, 1 naming the first thing that does not.
"""

import base64
import hashlib
import json
import struct
import sys
import urllib.error
import urllib.request
from typing import Any

Point = tuple[int, int, int, int]


def H(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def canon(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ",".join(canon(k) + ":" + canon(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, float):
        return canon_float(v)
    return json.dumps(v, ensure_ascii=False)  # str, int, true, false, null


def canon_float(v: float) -> str:
    # Shortest round-trip digits (repr); plain decimals for 1e-5 <= |v| < 1e16,
    # else "1.25e-6" / "1.25e+16" (no zero-padded exponent).
    r = repr(v)
    if "e" not in r:
        return r
    mantissa, exp = r.split("e")
    sign, digits = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
    if -5 <= int(exp) < 0:
        return sign + "0." + "0" * (-int(exp) - 1) + digits.replace(".", "")
    return mantissa + "e" + ("+" if int(exp) > 0 else "") + str(int(exp))


def fact_hash(f: dict[str, Any]) -> str:
    body = {k: f[k] for k in ("seq", "at", "kind", "actor", "payload", "private_digest")}
    return hashlib.sha256(f["prev_hash"].encode() + canon(body).encode()).hexdigest()


def leaf(fact_hash_hex: str) -> bytes:
    return H(b"\x00" + bytes.fromhex(fact_hash_hex))


def root_of(leaves: list[bytes]) -> bytes:
    # RFC 6962 §2.1 MTH
    if len(leaves) <= 1:
        return leaves[0] if leaves else H(b"")
    k = 1 << (len(leaves) - 1).bit_length() - 1
    return H(b"\x01" + root_of(leaves[:k]) + root_of(leaves[k:]))


def included(leaf_h: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    # RFC 9162 §2.1.3.2
    fn, sn, r = index, size - 1, leaf_h
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = H(b"\x01" + p + r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = H(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return index < size and sn == 0 and r == root


# Ed25519 verification (RFC 8032 §5.1.7), after the RFC's reference code.
P, Q = 2**255 - 19, 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P


def _add(a: Point, b: Point) -> Point:
    A, B = (a[1] - a[0]) * (b[1] - b[0]) % P, (a[1] + a[0]) * (b[1] + b[0]) % P
    C, E = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = B - A, E - C, E + C, B + A
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s: int, pt: Point) -> Point:
    acc: Point = (0, 1, 1, 0)
    while s:
        if s & 1:
            acc = _add(acc, pt)
        pt, s = _add(pt, pt), s >> 1
    return acc


def _point(b: bytes) -> Point | None:
    y = int.from_bytes(b, "little")
    sign, y = y >> 255, y & (1 << 255) - 1
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if (x * x - x2) % P or (x == 0 and sign):
        return None
    x = P - x if x & 1 != sign else x
    return (x, y, 1, x * y % P)


G: Any = _point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_ok(pub: bytes, msg: bytes, sig: bytes) -> bool:
    A, R, s = _point(pub), _point(sig[:32]), int.from_bytes(sig[32:], "little")
    if len(pub) != 32 or len(sig) != 64 or A is None or R is None or s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % Q
    lhs, rhs = _mul(s, G), _add(R, _mul(h, A))
    same_x = (lhs[0] * rhs[2] - rhs[0] * lhs[2]) % P == 0
    return same_x and (lhs[1] * rhs[2] - rhs[1] * lhs[2]) % P == 0


def head_ok(sth: dict[str, Any], public_key_hex: str) -> str | None:
    pub = bytes.fromhex(public_key_hex)
    msg = struct.pack(">BBQQ", 0, 1, sth["timestamp"], sth["tree_size"])
    msg += bytes.fromhex(sth["root_hash"])
    if hashlib.sha256(pub).hexdigest() != sth["key_id"]:
        return "the head names another key than the one given"
    if not ed25519_ok(pub, msg, base64.b64decode(sth["signature"])):
        return "bad signature on the tree head"
    return None


def check_bundle(b: dict[str, Any]) -> str | None:
    sth = b["sth"]
    bad = head_ok(sth, b["public_key"])
    if bad:
        return bad
    prev = None
    for f in b["facts"]:
        if fact_hash(f) != f["hash"]:
            return f"seq {f['seq']}: hash does not match its content"
        if prev and prev["seq"] + 1 == f["seq"] and f["prev_hash"] != prev["hash"]:
            return f"seq {f['seq']}: does not link to seq {prev['seq']}"
        path = [bytes.fromhex(p) for p in f["audit_path"]]
        root = bytes.fromhex(sth["root_hash"])
        if not included(leaf(f["hash"]), f["seq"] - 1, sth["tree_size"], path, root):
            return f"seq {f['seq']}: not in the signed tree of {sth['tree_size']} facts"
        prev = f
    return None


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


def check_live(base: str, against: dict[str, Any] | None = None) -> str | None:
    try:
        sth = get(base + "/v1/log/sth")
    except urllib.error.HTTPError as e:  # a log with no head yet answers 404
        if e.code != 404:
            raise
        sth = None
    heads = [h for h in (sth, against) if h]
    if not heads:
        return "the log has no signed head yet"
    key = get(base + "/v1/log/key")
    keys = {k["key_id"]: k["public_key"] for k in key["keys"]}
    for head in heads:
        bad = head_ok(head, keys.get(head["key_id"], key["public_key"]))
        if bad:
            return bad
    prev, leaves, after = "0" * 64, list[bytes](), 0
    while after is not None:
        page = get(f"{base}/v1/log?after={after}&limit=5000")
        for f in page["facts"]:
            # A redacted fact withholds its content: it must link, and the signed tree must
            # hold its hash, but the hash itself cannot be recomputed here.
            content_ok = f.get("redacted") is True or fact_hash(f) == f["hash"]
            if f["seq"] != len(leaves) + 1 or f["prev_hash"] != prev or not content_ok:
                return f"chain broken at seq {f['seq']}"
            prev = f["hash"]
            leaves.append(leaf(f["hash"]))
        after = page["next_after"]
    for head in heads:
        if head["tree_size"] > len(leaves):
            return (f"log truncated: a head signed {head['tree_size']} facts, "
                    f"the log serves {len(leaves)}")
        if root_of(leaves[: head["tree_size"]]).hex() != head["root_hash"]:
            return f"log rewritten: the first {head['tree_size']} facts do not give the signed root"
    return None


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--url"]:
        saved = json.load(open(args[3], encoding="utf-8")) if args[2:3] == ["--against"] else None
        problem = check_live(args[1].rstrip("/"), saved)
    else:
        problem = check_bundle(json.load(open(args[0], encoding="utf-8")))
    print(f"FAILED: {problem}" if problem else "verified")
    sys.exit(1 if problem else 0)
