"""System checks: production never runs on the bundled Stripe test server's public key or secret.

The test server's API key and webhook secret are in this repository (gateway.py), so anyone can
sign a webhook with them. With DEBUG off, Stripe must be configured with the account's own key
and the webhook endpoint's own secret; otherwise ``manage.py check`` (and ``check --deploy``),
``runserver`` and the WSGI/ASGI application (config/wsgi.py) refuse to start.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from parkgate.payments import gateway

HINT_KEY = (
    "Set STRIPE_SECRET_KEY to the platform's secret key from the Stripe dashboard (Developers > API keys)."
)
HINT_SECRET = (
    "Set STRIPE_WEBHOOK_SECRET to the signing secret of the Connect webhook endpoint that points at "
    "/payments/webhook/ (Stripe dashboard > Developers > Webhooks)."
)


@checks.register(checks.Tags.security)
def stripe_production_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Errors when DEBUG is off and Stripe is unconfigured or configured with the test server's values."""
    if settings.DEBUG:
        return []  # make run: the bundled test server is the point
    errors: list[checks.CheckMessage] = []
    key = str(settings.STRIPE_SECRET_KEY or "")
    if not key:
        errors.append(
            checks.Error(
                "STRIPE_SECRET_KEY is not set while DEBUG is off.", hint=HINT_KEY, id="parkgate.payments.E001"
            )
        )
    elif key == gateway.TEST_SERVER_API_KEY:
        errors.append(
            checks.Error(
                "STRIPE_SECRET_KEY is the bundled Stripe test server's public key while DEBUG is off.",
                hint=HINT_KEY,
                id="parkgate.payments.E002",
            )
        )
    secret = str(settings.STRIPE_WEBHOOK_SECRET or "")
    if not secret:
        errors.append(
            checks.Error(
                "STRIPE_WEBHOOK_SECRET is not set while DEBUG is off.",
                hint=HINT_SECRET,
                id="parkgate.payments.E003",
            )
        )
    elif secret == gateway.TEST_SERVER_WEBHOOK_SECRET:
        errors.append(
            checks.Error(
                "STRIPE_WEBHOOK_SECRET is the bundled Stripe test server's public secret while DEBUG is off: "
                "anyone could forge a paid booking.",
                hint=HINT_SECRET,
                id="parkgate.payments.E004",
            )
        )
    return errors
