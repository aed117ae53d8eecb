"""The one way Parkgate reaches Stripe: a configured ``stripe.StripeClient`` and idempotency keys.

With ``STRIPE_SECRET_KEY`` set, the client talks to the real Stripe. In development (``DEBUG``,
``make run``) an unset key means the bundled Stripe-compatible test server (``python -m
devtools.stripe_test_server``) at ``STRIPE_API_BASE`` with its public test key and webhook secret, so no
Stripe account is needed; the tests set that key and secret explicitly (config/testenv.py).
Outside DEBUG nothing ever falls back to them: an unset key or webhook secret raises
ImproperlyConfigured, and the system check ``parkgate.payments.E001``-``E004`` refuses to start
production with none or with the test server's (their values are in this public source).

Either way the calls go through the official SDK, with a timeout and automatic retries of network
errors and 5xx; the SDK resends the same ``Idempotency-Key`` on each retry, and our keys are
deterministic, so a retry (ours or the SDK's) can never charge or refund twice.
"""

from __future__ import annotations

import threading

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Where `python -m devtools.stripe_test_server` listens by default, and the key it accepts. Public values:
# used only in development (DEBUG) or when set explicitly (tests); production refuses them.
TEST_SERVER_URL = "http://127.0.0.1:8111"
TEST_SERVER_API_KEY = "sk_test_parkgate_local_test_server"
# Signs the test server's webhooks in development when STRIPE_WEBHOOK_SECRET is unset.
TEST_SERVER_WEBHOOK_SECRET = "whsec_parkgate_local_test_server"

_clients: dict[tuple[str, str, int, int], stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def secret_key() -> str:
    """The API key: ``STRIPE_SECRET_KEY``, or the test server's in development (DEBUG) only."""
    if settings.STRIPE_SECRET_KEY:
        return str(settings.STRIPE_SECRET_KEY)
    if settings.DEBUG:
        return TEST_SERVER_API_KEY
    raise ImproperlyConfigured("STRIPE_SECRET_KEY must be set when DEBUG is off")


def uses_test_server() -> bool:
    """True when payments go to the bundled test server rather than to Stripe."""
    key = settings.STRIPE_SECRET_KEY or (TEST_SERVER_API_KEY if settings.DEBUG else "")
    return bool(key == TEST_SERVER_API_KEY)


def webhook_secret() -> str:
    """The secret webhooks are signed with: Stripe's endpoint secret (the test server's in DEBUG only)."""
    if settings.STRIPE_WEBHOOK_SECRET:
        return str(settings.STRIPE_WEBHOOK_SECRET)
    if settings.DEBUG and uses_test_server():
        return TEST_SERVER_WEBHOOK_SECRET
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must be set (Stripe's webhook endpoint secret)")


def api_base() -> str:
    """The API address the client uses ("" means Stripe's own, https://api.stripe.com)."""
    if uses_test_server():
        return (settings.STRIPE_API_BASE or TEST_SERVER_URL).rstrip("/")
    return settings.STRIPE_API_BASE.rstrip("/")


def stripe_client() -> stripe.StripeClient:
    """The configured client (one per configuration, shared: the SDK client is thread-safe)."""
    key = secret_key()
    if settings.STRIPE_API_BASE and not key.startswith("sk_test_"):
        raise ImproperlyConfigured(
            "STRIPE_API_BASE points the client away from Stripe; never send a live STRIPE_SECRET_KEY there."
        )
    base = api_base()
    config = (key, base, settings.STRIPE_TIMEOUT_SECONDS, settings.STRIPE_MAX_NETWORK_RETRIES)
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = stripe.StripeClient(
                key,
                base_addresses={"api": base} if base else None,
                max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
                http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
            )
            _clients[config] = client
    return client


# --- Idempotency keys -------------------------------------------------------------------------
# Deterministic: the same business operation always sends the same key, so whoever retries it
# (the SDK after a timeout, a worker after a crash, a person pressing the button twice) gets the
# first result back instead of a second charge or refund. Stripe scopes keys to the account the
# request is made on and keeps them 24 hours.


def checkout_idempotency_key(payment_id: int) -> str:
    """Creating the Checkout Session of local payment ``payment_id``."""
    return f"checkout-{_positive(payment_id)}"


def refund_idempotency_key(spot_id: int) -> str:
    """Refunding the price of one spot (one reservation) of a paid booking."""
    return f"refund-spot-{_positive(spot_id)}"


def fee_refund_idempotency_key(spot_id: int) -> str:
    """Giving back the platform's fee share of one refunded spot."""
    return f"fee-refund-spot-{_positive(spot_id)}"


def account_idempotency_key(organisation_id: int) -> str:
    """Creating the connected account of an organisation (one per organisation)."""
    return f"account-organisation-{_positive(organisation_id)}"


def _positive(identifier: int) -> int:
    if not isinstance(identifier, int) or isinstance(identifier, bool) or identifier < 1:
        raise ValueError(f"an idempotency key needs a saved object's id, not {identifier!r}")
    return identifier
