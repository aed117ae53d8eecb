"""Safe production defaults, as system checks: ``manage.py check --deploy`` stops on each (DEBUG off).

The deployment runs ``check --deploy --fail-level WARNING`` before it starts the web process
(``make check-deploy``; docs/deployment.md), so none of these reaches production unnoticed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

# Cache backends whose increments are atomic and shared by every process (rate limits, lockouts).
ATOMIC_CACHES = {
    "django.core.cache.backends.redis.RedisCache",
    "parkgate.core.cache.AtomicDatabaseCache",
}
# Views that must never serve in production unless they refuse by themselves (@debug_only).
DEBUG_ONLY_MODULES = (
    "django.views.static",
    "parkgate.core.devmail",
    "devtools",
    "debug_toolbar",
)


def _views(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _is_local(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@checks.register(checks.Tags.security, deploy=True)
def production_defaults(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    found: list[checks.CheckMessage] = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        found.append(
            checks.Error(
                "The database is SQLite, the embedded database of `make run`.",
                hint="Set DATABASE_URL=postgres://user:password@host:5432/parkgate (see docs/deployment.md).",
                id="parkgate.E001",
            )
        )
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in ATOMIC_CACHES:
        found.append(
            checks.Error(
                f"The cache backend {backend} does not count atomically across processes: rate limits "
                "and keypad lockouts would let more through than their limit.",
                hint="Set CACHE_BACKEND=redis and REDIS_URL (or CACHE_BACKEND=database).",
                id="parkgate.E002",
            )
        )
    for route, view in _views(get_resolver().url_patterns):
        module = getattr(view, "__module__", "") or ""
        if module.startswith(DEBUG_ONLY_MODULES) and not getattr(view, "debug_only", False):
            found.append(
                checks.Error(
                    f"A development-only page is served at /{route} ({module}.{view.__name__}).",
                    hint="Mount it only when DEBUG is on, or guard it with parkgate.core.debug.debug_only.",
                    id="parkgate.E003",
                )
            )
    site = urlsplit(settings.SITE_URL)
    if _is_local(site.hostname or ""):
        found.append(
            checks.Error(
                f"SITE_URL is {settings.SITE_URL!r}: e-mails, QR codes and Stripe would send people to "
                "this machine.",
                hint="Set SITE_URL to the public address, e.g. https://parking.example.org.",
                id="parkgate.E004",
            )
        )
    elif site.scheme != "https":
        found.append(
            checks.Warning(
                f"SITE_URL {settings.SITE_URL!r} is not https: links in e-mails would go in clear text.",
                id="parkgate.W002",
            )
        )
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXIES:
        found.append(
            checks.Warning(
                "Parkgate runs behind a TLS proxy (BEHIND_TLS_PROXY) but TRUSTED_PROXIES is empty: every "
                "visitor arrives from the proxy's address and shares one rate limit.",
                hint="Set TRUSTED_PROXIES to the proxy's address, e.g. TRUSTED_PROXIES=127.0.0.1.",
                id="parkgate.W001",
            )
        )
    return found
