"""The one rate limiter: django-ratelimit's fixed windows in the shared cache, keyed by client address.

Counters live in the Django cache (Redis in production, the atomic database cache of
``parkgate.core.cache`` in ``make run``), so every web process shares them and a hit is counted with
one atomic increment *before* the request is evaluated: 80 concurrent hits against a limit of 30
let exactly 30 through. The client is ``parkgate.core.net.client_ip`` (RATELIMIT_IP_META_KEY), never
the proxy in front.

Limits are per client, never global per object, so nobody can spend a real visitor's budget; where
only failures are the abuse, ``rate_exceeded`` looks without counting and ``rate_hit`` counts the
failure afterwards.
"""

from __future__ import annotations

import ipaddress
import logging

from django.http import HttpRequest
from django_ratelimit.core import get_usage

from parkgate.core.net import client_ip

logger = logging.getLogger(__name__)


def client_key(request: HttpRequest) -> str:
    """The client's address; an IPv6 client is its /64, which one subscriber usually holds whole."""
    address = client_ip(request)
    if ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) + "/64"
    return address


def _usage(request: HttpRequest | None, *, scope: str, rate: str, key: str | None, increment: bool) -> bool:
    if key is None:
        if request is None:
            raise ValueError("a limit without a request needs a key")
        value = client_key(request)
    else:
        value = key
    try:
        usage = get_usage(
            request, group=scope, key=lambda _group, _request: value, rate=rate, increment=increment
        )
    except Exception:  # the cache is down (Redis restarting): serve rather than refuse everyone
        logger.warning("rate limit %s not checked: the cache did not answer", scope, exc_info=True)
        return False
    return bool(usage and usage["should_limit"])


def rate_hit(request: HttpRequest | None, *, scope: str, rate: str, key: str | None = None) -> bool:
    """Count one hit; True when it goes past ``rate`` ("30/h", "6/m") and must be refused.

    ``key`` defaults to the client's address; pass another value (an e-mail address, a link) for a
    limit that protects something else than the server (a mailbox) or belongs to the holder of a
    secret link. Without a request, ``key`` is required.
    """
    return _usage(request, scope=scope, rate=rate, key=key, increment=True)


def rate_exceeded(request: HttpRequest | None, *, scope: str, rate: str, key: str | None = None) -> bool:
    """True when ``scope`` is already past ``rate`` for this key; counts nothing."""
    return _usage(request, scope=scope, rate=rate, key=key, increment=False)
