"""The client's address: the socket's peer, unless the peer is a proxy we were told to trust.

`X-Forwarded-For` is a header, and a header is what a client says about itself: believed from
anyone, it lets one client claim a fresh address per request and walk through every per-address
limit. Only when the peer is one of `SHELTERWATCH_TRUSTED_PROXIES` is the header read, from the
right (the hop our proxy added), skipping further trusted proxies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_proxies(spec: str) -> tuple[Network, ...]:
    """`"10.0.0.0/8, 127.0.0.1"` as networks; a bad entry is a configuration error."""
    nets: list[Network] = []
    for part in spec.split(","):
        part = part.strip()
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(
                    f"SHELTERWATCH_TRUSTED_PROXIES: {part!r} is not an address or network"
                ) from None
    return tuple(nets)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: str) -> str | None:
    """The address a request came from, as DESIGN's contract defines it."""
    proxies = parse_proxies(trusted_proxies)
    if peer is None or not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: trust nothing in it
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer
