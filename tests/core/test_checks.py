"""Production defaults as system checks: each unsafe setting stops `check --deploy` when DEBUG is off."""

from __future__ import annotations

import pytest

from parkgate.core.checks import production_defaults
from tests.core.test_settings import PRODUCTION, _manage

# The check only reads the setting; no connection is made with the overridden DATABASES.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")

SQLITE = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}}
PLAIN_DB_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}}
SAFE = {
    "DEBUG": False,
    "DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "parkgate"}},
    "CACHES": {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}
    },
    "SITE_URL": "https://parking.example.org",
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "TRUSTED_PROXIES": ["127.0.0.1"],
}


def _ids(settings, **changes) -> list[str]:  # type: ignore[no-untyped-def]
    for name, value in {**SAFE, **changes}.items():
        setattr(settings, name, value)
    return [message.id for message in production_defaults()]


def test_safe_production_settings_pass(settings) -> None:  # type: ignore[no-untyped-def]
    assert _ids(settings) == []
    atomic_db = {"default": {"BACKEND": "parkgate.core.cache.AtomicDatabaseCache", "LOCATION": "t"}}
    assert _ids(settings, CACHES=atomic_db) == []


def test_nothing_is_checked_in_make_run(settings) -> None:  # type: ignore[no-untyped-def]
    assert _ids(settings, DEBUG=True, DATABASES=SQLITE, SITE_URL="http://127.0.0.1:8000") == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"DATABASES": SQLITE}, ["parkgate.E001"]),
        ({"CACHES": PLAIN_DB_CACHE}, ["parkgate.E002"]),
        (
            {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}},
            ["parkgate.E002"],
        ),
        ({"ROOT_URLCONF": "tests.core.urls_debug_leak"}, ["parkgate.E003"]),
        ({"SITE_URL": "http://127.0.0.1:8000"}, ["parkgate.E004"]),
        ({"SITE_URL": "https://localhost"}, ["parkgate.E004"]),
        ({"SITE_URL": "http://parking.example.org"}, ["parkgate.W002"]),
        ({"TRUSTED_PROXIES": []}, ["parkgate.W001"]),
    ],
)
def test_each_unsafe_default_is_named(settings, changes, expected) -> None:  # type: ignore[no-untyped-def]
    assert _ids(settings, **changes) == expected


def test_no_trusted_proxy_is_fine_without_a_tls_proxy(settings) -> None:  # type: ignore[no-untyped-def]
    assert _ids(settings, TRUSTED_PROXIES=[], SECURE_PROXY_SSL_HEADER=None) == []


def test_check_deploy_stops_on_sqlite_and_a_local_site_url() -> None:
    env = {**PRODUCTION, "DATABASE_URL": "sqlite:////tmp/parkgate-check-deploy.sqlite3"}
    env["SITE_URL"] = "http://127.0.0.1:8000"
    result = _manage("check", "--deploy", env=env)
    assert result.returncode == 1
    assert "parkgate.E001" in result.stderr and "parkgate.E004" in result.stderr


def test_check_deploy_warns_behind_a_tls_proxy_without_trusted_proxies() -> None:
    env = {**PRODUCTION, "BEHIND_TLS_PROXY": "true"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 1
    assert "parkgate.W001" in result.stderr
    ok = _manage("check", "--deploy", "--fail-level", "WARNING", env={**env, "TRUSTED_PROXIES": "127.0.0.1"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
