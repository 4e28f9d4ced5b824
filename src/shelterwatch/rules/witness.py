"""Who counts as an independent witness (DESIGN §2 Witness), as pure functions.

A device id a phone sends is what the phone says about itself: an attacker makes a fresh one per
request for free. The status rule counts each reporter once, so what matters is what a reporter
*is*. Here a resident's reporter is

- an **issued device id** — one the server signed after the phone paid a small proof of work and
  fit within its network's issuance budget — counted as itself, so twenty phones behind one
  carrier-grade NAT at one door are twenty witnesses; or, failing that,
- the **network** the report came from (the IPv4 address, or the IPv6 /56 a subscriber is given),
  so any number of self-chosen ids from one network is one witness.

A report through a resident channel has no client address of its own (the request comes from
Telegram or the SMS gateway), but the platform vouches for who sent it: Telegram gives a chat id
only to an account registered with a phone number, and the mobile network gives the sender's
number. Neither is what a client says about itself, and each costs a phone number to multiply,
so a **chat** or a **sender number** counts as one witness, exactly as an issued device id does,
and is held to the same "one person is at one door" limit.

Network keys are keyed digests (HMAC with the server's secret): the IPv4 space is small enough to
brute-force a plain hash of it, and the key must let nobody go from the digest back to an address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

# A surge repeats the same addresses and device ids: each is parsed and digested once while it
# stays among the most recent (the writer judges every report of a batch against every limit).
RECENT = 65_536
IPV6_PREFIX = 56  # a subscriber's site: one home or phone gets a /64 to /56
ISSUED_PREFIX = "sw1"  # the version tag of issued device ids


@dataclass(frozen=True, slots=True)
class Witness:
    """The reporter key the status rule counts once, and the source the budgets are kept for."""

    reporter: str  # "i:…" an issued id, "c:…" a chat or phone, "n:…" a network, "" nothing
    issued: bool  # counted as itself (an issued id, a chat, a phone), not as its network
    # Where the report came from: the network ("n:…") even behind an issued id, so the surge
    # detector sees one network's many ids as one source, and a quarantine sets all of them aside.
    source: str = ""
    channel: str = ""  # "telegram" or "sms" for a resident channel's sender


@lru_cache(maxsize=RECENT)
def network_of(address: str | None) -> str | None:
    """The network a client address stands for: the IPv4 address, or its IPv6 /56."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # a test client's name, a Unix socket: itself
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


@lru_cache(maxsize=RECENT)
def keyed_digest(secret: str, purpose: str, value: str, length: int = 24) -> str:
    """A digest of `value` nobody without the server's secret can compute or invert."""
    mac = hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:length]


def sign_device(secret: str, raw: str) -> str:
    """An issued device id: the random part and the server's signature of it."""
    return f"{ISSUED_PREFIX}.{raw}.{keyed_digest(secret, 'device', raw, 32)}"


def verify_device(secret: str, device_id: str | None) -> bool:
    """Whether this device id is one the server issued (and signed with this secret)."""
    if not device_id or not device_id.startswith(ISSUED_PREFIX + "."):
        return False
    parts = device_id.split(".")
    if len(parts) != 3 or not parts[1]:
        return False
    return hmac.compare_digest(parts[2], keyed_digest(secret, "device", parts[1], 32))


def witness(secret: str, *, device_id: str | None, address: str | None) -> Witness:
    """The witness behind one anonymous report: its issued id, else its network."""
    network = network_of(address)
    source = "n:" + keyed_digest(secret, "network", network) if network is not None else ""
    if verify_device(secret, device_id):
        assert device_id is not None
        reporter = "i:" + keyed_digest(secret, "issued", device_id)
        return Witness(reporter, issued=True, source=source or reporter)
    return Witness(source, issued=False, source=source)


def channel_witness(secret: str, *, channel: str, address: str) -> Witness:
    """The witness behind a report through a resident channel: its chat or sender number,
    as a keyed digest (a bare hash of a phone number is reversed by trying them all)."""
    reporter = "c:" + keyed_digest(secret, "channel", f"{channel}:{address}")
    return Witness(reporter, issued=True, source=reporter, channel=channel)


def leading_zero_bits(digest: bytes) -> int:
    """How many leading bits of a digest are zero (the proof of work's measure)."""
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def work_done(challenge: str, nonce: str, bits: int) -> bool:
    """Whether sha256(challenge ":" nonce) starts with `bits` zero bits."""
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def solve(challenge: str, bits: int) -> str:
    """Find a nonce for a challenge (what a phone does once; tests and benchmarks use it)."""
    n = 0
    while not work_done(challenge, str(n), bits):
        n += 1
    return str(n)
