from __future__ import annotations

from typing import Any

import pytest

from devtools.stripe_test_server import StripeTestServer
from parkgate.demo import base as demo
from parkgate.payments import gateway
from parkgate.payments.models import PaymentAccount
from parkgate.portal.models import VisitorPortal


@pytest.mark.django_db
def test_demo_without_the_stripe_server_leaves_the_paid_portal_off(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    ctx = demo.load()
    assert ("Payments (owner, admin)", "/payments/account/") in ctx.links
    assert ("Payment accounts (staff)", "/payments/staff/accounts/") in ctx.links
    assert ("Payments and refunds (admin)", "/office/payments/") in ctx.links
    assert PaymentAccount.objects.count() == 0
    portal = VisitorPortal.objects.get(slug="acme-paid-parking")
    assert portal.payment_enabled
    assert [(s.start_minute, s.duration_minutes, s.price) for s in portal.slots.order_by("start_minute")] == [
        (7 * 60, 720, None),
        (9 * 60, 240, 800),
        (13 * 60, 240, 800),
    ]


@pytest.mark.django_db
def test_demo_with_the_stripe_server_connects_and_approves_acme_once(
    gateway_server: StripeTestServer,
) -> None:
    demo.load()
    account = PaymentAccount.objects.get()
    assert account.organisation.slug == "acme"
    assert account.can_take_payments
    assert (account.fee_fixed, str(account.fee_percent)) == (25, "1.50")
    demo.load()  # idempotent
    assert PaymentAccount.objects.get().stripe_account_id == account.stripe_account_id
    assert VisitorPortal.objects.filter(slug="acme-paid-parking").count() == 1
