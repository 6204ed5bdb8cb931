"""Who is behind a request: the peer, or — behind proxies you trust — ``X-Forwarded-For``.

The webhook's audit rows and its cap on denials name the client's address. Behind a load
balancer the peer is always the balancer, so the real client is in ``X-Forwarded-For`` — but any
client can send that header with any content. It is believed only when the peer is one of the
operator's proxies (``TELEGRAM_WEBHOOK_TRUSTED_PROXIES``), and then only as far as it was
written by trusted proxies: the header is read right to left (each proxy appends the address it
saw), and the first address that is not a trusted proxy is the client. What lies further left
was written by the client itself and proves nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final

#: ``X-Forwarded-For`` entries looked at, from the right (a longer chain is not ours).
MAX_FORWARDED_HOPS: Final = 16

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and CIDR ranges (``10.0.0.0/8``, ``::1``) as networks.

    Raises:
        ValueError: An entry that is neither.
    """
    networks = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:4711"
        text = text[1 : text.index("]")]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(remote: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """Who sent the request: ``remote`` itself unless it is a trusted proxy; then the nearest
    ``X-Forwarded-For`` hop (right to left) that is not one. Hops further left than that were
    written by the client and prove nothing. An unreadable hop stops the walk at ``remote``."""
    if remote is None:
        return "unknown"
    peer = _address(remote)
    if peer is None or not any(peer in net for net in trusted):
        return remote
    hops = [hop for header in forwarded for hop in header.split(",")][-MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return remote
        if not any(address in net for net in trusted):
            return str(address)
    return remote
