"""The one rule for a client's address: every rate limit, lockout and audit entry calls ``client_ip``.

Behind a TLS proxy every request arrives from the proxy, so ``REMOTE_ADDR`` alone would put every
visitor in one bucket. ``X-Forwarded-For`` is a list the client starts and each proxy appends to, so
only its right-hand end can be believed: walking from the right, each address that belongs to a
proxy we trust (``TRUSTED_PROXIES``) is skipped, and the first other address is the client. A peer
we do not trust is itself the client, whatever header it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # settings.py imports this module: keep it light
    from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "::1"]`` as networks; a malformed item raises ValueError naming it."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _address(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1 and "." in value:  # "192.0.2.1:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, as a string ("unknown" when unreadable)."""
    peer = _address(request.META.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return UNKNOWN
    networks = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A proxy we trust appended garbage, or the client wrote it and nothing trusted vouches
            # for what lies left of it: the last address we could vouch for is the answer.
            return str(peer)
        if not _is_trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)  # every hop is one of our proxies: the request started inside


# The client of the request being served, for audit entries written by services deep below the view.
current_client_ip: ContextVar[str | None] = ContextVar("current_client_ip", default=None)


class ClientAddressMiddleware:
    """Remember ``client_ip(request)`` while the request is served (read by ``audit_log``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_client_ip.reset(token)
