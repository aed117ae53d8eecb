"""Production never trusts the bundled Stripe test server's public key or webhook secret.

Both values are in the source (parkgate/payments/gateway.py). With DEBUG off, nothing falls back
to them, and the system checks refuse a production configured with them, or with none:
``check --deploy`` fails and the WSGI application refuses to load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from devtools.stripe_test_server import sign
from parkgate.booking.models import BookingStatus
from parkgate.payments import gateway
from parkgate.payments.checks import stripe_production_keys
from parkgate.payments.models import PaymentStatus, StripeEvent
from tests.conftest import World
from tests.payments.checkout_setup import paid_setup

ROOT = Path(__file__).resolve().parents[2]
LIVE_KEY = "sk_live_production_0123456789"
LIVE_SECRET = "whsec_production_0123456789"


def _forged_completed(world: World, pinned_now: datetime) -> tuple[Any, bytes]:
    """A paid event for an open €15.00 payment, exactly right but signed with the public test secret."""
    payment = paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    payment.checkout_session_id = f"cs_test_forged_{payment.pk}"
    payment.status = PaymentStatus.OPEN
    payment.save(update_fields=["checkout_session_id", "status"])
    event = {
        "id": "evt_forged",
        "object": "event",
        "account": payment.stripe_account_id,
        "created": int(time.time()),
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": payment.checkout_session_id,
                "object": "checkout.session",
                "client_reference_id": payment.client_reference,
                "payment_status": "paid",
                "payment_intent": "pi_forged",
                "amount_total": 1500,
                "currency": "eur",
            }
        },
    }
    return payment, json.dumps(event).encode()


@pytest.mark.django_db
@pytest.mark.parametrize("secret_key", ["", LIVE_KEY])
def test_a_webhook_signed_with_the_test_servers_secret_confirms_nothing_in_production(
    client: Client, world: World, settings: Any, secret_key: str, pinned_now: datetime
) -> None:
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = secret_key
    settings.STRIPE_WEBHOOK_SECRET = ""
    payment, body = _forged_completed(world, pinned_now)
    response = client.post(
        "/payments/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, gateway.TEST_SERVER_WEBHOOK_SECRET, int(time.time())),
    )
    assert (response.status_code, response.content) == (503, b"payments are not configured")
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert (payment.status, payment.booking.status) == (PaymentStatus.OPEN, BookingStatus.AWAITING_PAYMENT)
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_with_the_endpoints_own_secret_the_same_event_is_verified(
    client: Client, world: World, settings: Any, pinned_now: datetime
) -> None:
    """The control: production's own secret verifies, and the test server's no longer does."""
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = LIVE_KEY
    settings.STRIPE_WEBHOOK_SECRET = LIVE_SECRET
    payment, body = _forged_completed(world, pinned_now)

    def post(secret: str) -> Any:
        return client.post(
            "/payments/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, secret, int(time.time())),
        )

    assert post(gateway.TEST_SERVER_WEBHOOK_SECRET).status_code == 400
    assert StripeEvent.objects.count() == 0
    assert post(LIVE_SECRET).content == b"handled"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID


@pytest.mark.parametrize(
    ("debug", "key", "secret", "ids"),
    [
        (False, "", "", ["parkgate.payments.E001", "parkgate.payments.E003"]),
        (
            False,
            gateway.TEST_SERVER_API_KEY,
            gateway.TEST_SERVER_WEBHOOK_SECRET,
            ["parkgate.payments.E002", "parkgate.payments.E004"],
        ),
        (False, LIVE_KEY, gateway.TEST_SERVER_WEBHOOK_SECRET, ["parkgate.payments.E004"]),
        (False, gateway.TEST_SERVER_API_KEY, LIVE_SECRET, ["parkgate.payments.E002"]),
        (False, LIVE_KEY, "", ["parkgate.payments.E003"]),
        (False, LIVE_KEY, LIVE_SECRET, []),
        (True, "", "", []),  # make run: the bundled test server is the point
    ],
)
def test_the_system_check(settings: Any, debug: bool, key: str, secret: str, ids: list[str]) -> None:
    settings.DEBUG = debug
    settings.STRIPE_SECRET_KEY = key
    settings.STRIPE_WEBHOOK_SECRET = secret
    messages = stripe_production_keys()
    assert [m.id for m in messages] == ids
    assert all(m.is_serious() for m in messages)


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!Qm2#pL9@vR4$tN8^wK1&zB6*yC3(dF5)gH0_jJ2+kL4-mN6=pQ8",
    "ALLOWED_HOSTS": "parkgate.example.org",
    "SITE_URL": "https://parkgate.example.org",
    "DATABASE_URL": "sqlite:////tmp/parkgate-check-deploy.sqlite3",
}
_OURS = {
    *PRODUCTION,
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "STATIC_MANIFEST",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
}


def _run(args: list[str], stripe: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _OURS}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**env, **PRODUCTION, **stripe},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_refuses_production_without_stripe_values() -> None:
    result = _run(["manage.py", "check", "--deploy"], {})
    assert result.returncode != 0
    assert "parkgate.payments.E001" in result.stderr and "parkgate.payments.E003" in result.stderr


def test_the_wsgi_application_refuses_the_test_servers_values_and_loads_with_real_ones() -> None:
    test_values = {
        "STRIPE_SECRET_KEY": gateway.TEST_SERVER_API_KEY,
        "STRIPE_WEBHOOK_SECRET": gateway.TEST_SERVER_WEBHOOK_SECRET,
    }
    refused = _run(["-c", "import config.wsgi"], test_values)
    assert refused.returncode != 0
    assert "Parkgate refuses to start" in refused.stderr
    assert "parkgate.payments.E002" in refused.stderr and "parkgate.payments.E004" in refused.stderr
    loaded = _run(
        ["-c", "import config.wsgi; print('serving')"],
        {"STRIPE_SECRET_KEY": LIVE_KEY, "STRIPE_WEBHOOK_SECRET": LIVE_SECRET},
    )
    assert (loaded.returncode, loaded.stdout.strip()) == (0, "serving"), loaded.stderr
