"""Fixed-window rate limits kept in the Django cache, so every process sees the same counters.

Redis in production (CACHE_BACKEND=redis, atomic increments); the database cache in `make run`
and tests. Never process memory: several web workers must share the count.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest


def rate_limit_hit(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``key`` in ``scope``; True when the limit is exceeded (refuse the request)."""
    window = int(time.time() // window_seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}:{window}"
    if cache.add(cache_key, 1, timeout=window_seconds + 5):
        return limit < 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 5)
        count = 1
    return count > limit


def client_address(request: HttpRequest) -> str:
    """The client's address as the server saw it (the TLS proxy, when any, sets REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
