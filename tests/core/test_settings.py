"""Settings come from the environment only, strictly; production settings pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!Qm2#pL9@vR4$tN8^wK1&zB6*yC3(dF5)gH0_jJ2+kL4-mN6=pQ8",
    "ALLOWED_HOSTS": "parkgate.example.org",
    "SITE_URL": "https://parkgate.example.org",
    # check --deploy opens no connection: these only have to be the production kinds.
    "DATABASE_URL": "postgres://parkgate@127.0.0.1:5432/parkgate",
    "CACHE_BACKEND": "redis",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    # Production's own Stripe key and webhook secret (parkgate/payments/checks.py refuses none).
    "STRIPE_SECRET_KEY": "sk_live_check_deploy_0123456789abcdef",
    "STRIPE_WEBHOOK_SECRET": "whsec_check_deploy_0123456789abcdef",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "SITE_URL",
            "STATIC_MANIFEST",
            "DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "CACHE_BACKEND",
            "REDIS_URL",
            "TRUSTED_PROXIES",
            "BEHIND_TLS_PROXY",
            "STRIPE_SECRET_KEY",
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_API_BASE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_with_no_warning() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    # The one silenced: django_ratelimit.W001 ("not officially supported" for Django's own Redis
    # cache); parkgate.E002 vouches for the cache instead.
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_a_bad_boolean_stops_the_process_instead_of_meaning_false() -> None:
    result = _manage("check", env={**PRODUCTION, "DEBUG": "flase"})
    assert result.returncode != 0
    assert "DEBUG='flase' is not a boolean" in result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_turned_on() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DEBUG"}
    result = _manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)", env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_no_empty_django_admin_is_mounted(client) -> None:  # type: ignore[no-untyped-def]
    # Nothing is registered with django.contrib.admin, so it is neither installed nor routed.
    from django.conf import settings

    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    assert client.get("/platform/admin/").status_code == 404
    assert client.get("/admin/").status_code == 404
