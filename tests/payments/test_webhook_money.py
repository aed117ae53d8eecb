"""A checkout event confirms a booking only when it is about the money we asked for.

The session id, the connected account, the amount and the currency of a ``checkout.session.*``
event must all be the recorded payment's. Anything else leaves the booking as it was, is recorded
as a payment anomaly (with what differed), answered 200 (Stripe does not retry a genuine but wrong
event for days) and listed for platform staff.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from devtools.stripe_test_server import StripeTestServer, sign
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import BookingNotice, BookingStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.payments.models import Payment, PaymentAnomaly, PaymentStatus, StripeEvent
from tests import factories as f
from tests.booking.conftest import PortalWorld, portal_world  # noqa: F401
from tests.conftest import World, login
from tests.payments.checkout_setup import paid_setup
from tests.payments.conftest import control, http, onboarded_account, wait_for
from tests.payments.paid import Paid, make_paid

SECRET = "whsec_webhook_money"


@pytest.fixture
def webhook_secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def _opened(payment: Payment) -> Payment:
    """The payment once its Checkout Session was created and recorded (as checkout_session_start does)."""
    payment.checkout_session_id = f"cs_test_{payment.pk}_{uuid.uuid4().hex[:8]}"
    payment.status = PaymentStatus.OPEN
    payment.save(update_fields=["checkout_session_id", "status"])
    return payment


def _session_event(
    payment: Payment, *, event_type: str = "checkout.session.completed", **session: Any
) -> dict[str, Any]:
    obj = {
        "id": payment.checkout_session_id,
        "object": "checkout.session",
        "client_reference_id": f"payment-{payment.pk}",
        "metadata": {"payment": str(payment.pk)},
        "payment_status": "paid",
        "payment_intent": "pi_money",
        "amount_total": payment.amount,
        "currency": payment.currency.lower(),
    }
    account = session.pop("account", payment.stripe_account_id)
    obj.update(session)
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "account": account,
        "created": int(time.time()),
        "type": event_type,
        "data": {"object": obj},
    }


def _post(client: Client, event: dict[str, Any]) -> Any:
    body = json.dumps(event).encode()
    return client.post(
        "/payments/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, SECRET, int(time.time())),
    )


def _unconfirmed(payment: Payment) -> None:
    """The booking, its spots and its payment are exactly as before the event."""
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert (payment.status, payment.paid_at, payment.payment_intent_id) == (PaymentStatus.OPEN, None, "")
    assert payment.booking.status == BookingStatus.AWAITING_PAYMENT
    assert set(
        Reservation.objects.filter(group_id=payment.booking.group_id).values_list("status", flat=True)
    ) == {ReservationStatus.HELD}
    assert OutboundEmail.objects.filter(kind="booking.confirmation").count() == 0
    assert not BookingNotice.objects.filter(booking=payment.booking).exists()
    assert not AuditEvent.objects.filter(action="payments.payment.paid").exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
@pytest.mark.parametrize(
    ("change", "reasons", "expected", "received"),
    [
        ({"amount_total": 1}, ["amount"], {"amount": 1500}, {"amount": 1}),
        ({"currency": "usd"}, ["currency"], {"currency": "eur"}, {"currency": "usd"}),
        (
            {"account": "acct_someone_else"},
            ["account"],
            {"account": "acct_units"},
            {"account": "acct_someone_else"},
        ),
        (
            {"amount_total": 1, "currency": "usd"},
            ["amount", "currency"],
            {"amount": 1500, "currency": "eur"},
            {"amount": 1, "currency": "usd"},
        ),
    ],
)
def test_a_completed_event_for_other_money_confirms_nothing_and_is_recorded(
    client: Client,
    world: World,
    change: dict[str, Any],
    reasons: list[str],
    expected: dict[str, Any],
    received: dict[str, Any],
    pinned_now,
) -> None:
    payment = _opened(paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500))
    event = _session_event(payment, **change)
    response = _post(client, event)
    assert (response.status_code, response.content) == (200, b"anomaly")
    _unconfirmed(payment)
    anomaly = PaymentAnomaly.objects.get()
    assert (anomaly.payment, anomaly.event.event_id, anomaly.reasons) == (payment, event["id"], reasons)
    assert (anomaly.expected, anomaly.received) == (expected, received)
    assert anomaly.organisation == world.tenant
    audit = AuditEvent.objects.get(action="payments.payment.anomaly")
    assert audit.data["reasons"] == reasons
    # Stripe's redelivery of the same event changes nothing and records nothing twice.
    assert _post(client, event).content == b"duplicate"
    assert PaymentAnomaly.objects.count() == 1
    _unconfirmed(payment)


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_another_sessions_id_confirms_nothing(client: Client, world: World, pinned_now) -> None:
    """The event names payment A but carries payment B's session: neither is confirmed."""
    first = _opened(paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500))
    second = _opened(
        paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500, slug="paid2")
    )
    event = _session_event(first, id=second.checkout_session_id)
    assert _post(client, event).content == b"anomaly"
    _unconfirmed(first)
    _unconfirmed(second)
    anomaly = PaymentAnomaly.objects.get()
    assert (anomaly.payment, anomaly.reasons) == (first, ["session"])
    assert anomaly.expected == {"session": first.checkout_session_id}
    assert anomaly.received == {"session": second.checkout_session_id}


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_an_expired_event_of_another_session_releases_nothing(
    client: Client, world: World, pinned_now
) -> None:
    payment = _opened(paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500))
    event = _session_event(payment, event_type="checkout.session.expired", id="cs_test_someone_else")
    assert _post(client, event).content == b"anomaly"
    _unconfirmed(payment)
    assert PaymentAnomaly.objects.get().reasons == ["session"]


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_the_exact_money_confirms_once(client: Client, world: World, pinned_now) -> None:
    payment = _opened(paid_setup(world, now=pinned_now, spots=2, fee_fixed=25, fee_percent="1.5", price=1500))
    event = _session_event(payment)
    assert (event["data"]["object"]["amount_total"], event["data"]["object"]["currency"]) == (3000, "eur")
    assert _post(client, event).content == b"handled"
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert (payment.status, payment.payment_intent_id) == (PaymentStatus.PAID, "pi_money")
    assert payment.booking.status == BookingStatus.CONFIRMED
    assert PaymentAnomaly.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_before_our_session_id_is_recorded_stripe_is_asked_to_retry(
    client: Client, world: World, pinned_now
) -> None:
    payment = paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    assert payment.checkout_session_id is None
    event = _session_event(payment, id="cs_test_not_recorded_yet")
    assert _post(client, event).status_code == 404
    assert (StripeEvent.objects.count(), PaymentAnomaly.objects.count()) == (0, 0)


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_staff_see_the_anomaly_and_tenants_do_not(client: Client, world: World, pinned_now) -> None:
    payment = _opened(paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500))
    assert _post(client, _session_event(payment, amount_total=1)).content == b"anomaly"
    staff = f.UserFactory(is_superuser=True)
    page = login(Client(), staff).get(reverse("backoffice:staff_payment_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Payment anomalies" in html
    assert f"payment-{payment.pk}" in html and "Amount: expected €15.00, received €0.01" in html
    # The organisation's own office page lists its payments, not the platform's anomaly list.
    office = login(Client(), world.admin).get(reverse("backoffice:payment_list"))
    assert office.status_code == 200 and "Payment anomalies" not in office.content.decode()
    assert (
        login(Client(), world.outsider_admin).get(reverse("backoffice:staff_payment_list")).status_code == 403
    )
    french = login(Client(), staff).get(reverse("backoffice:staff_payment_list"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Anomalies de paiement" in french.content.decode()


# --- Through the real SDK and the bundled Stripe test server ---------------------------------


@pytest.fixture
def paid(portal_world: PortalWorld, gateway_server: StripeTestServer, live_server: Any) -> Paid:  # noqa: F811
    return make_paid(portal_world, gateway_server, live_server.url)


def _pay_other_session(paid: Paid, payment: Payment, *, account: str, amount: int, currency: str) -> str:
    """Someone opens their own Checkout Session naming our payment and pays it; returns its id."""
    session = paid.sdk.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount,
                        "product_data": {"name": "Parking"},
                    },
                    "quantity": 1,
                }
            ],
            "client_reference_id": payment.client_reference,
            "metadata": {"payment": str(payment.pk)},
            "success_url": "http://parkgate.test/ok",
            "cancel_url": "http://parkgate.test/cancel",
        },
        options={"stripe_account": account},
    )
    status, _location, body = http(session.url or "", {"action": "pay", "email": "x@example.com"})
    assert status in (200, 303), body[:300]
    wait_for(
        lambda: StripeEvent.objects.filter(
            type="checkout.session.completed", payload__data__object__id=session.id
        ).exists(),
        what="the completed event stored",
    )
    wait_for(lambda: control(paid.server, "settled")["settled"], what="deliveries settled")
    return session.id


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("amount", "currency", "other_account", "reasons"),
    [
        (50, "eur", False, ["session", "amount"]),  # 50 cents (Stripe's minimum) for a €15.00 booking
        (1500, "usd", False, ["session", "currency"]),
        (1500, "eur", True, ["account", "session"]),  # the right price, paid to someone else
    ],
)
def test_a_session_someone_else_opened_and_paid_confirms_nothing(
    paid: Paid, client: Client, amount: int, currency: str, other_account: bool, reasons: list[str]
) -> None:
    booking, _url = paid.book(client, spots=1)
    payment = Payment.objects.get(booking=booking)
    assert (payment.amount, payment.currency, payment.status) == (1500, "EUR", PaymentStatus.OPEN)
    account = onboarded_account(paid.sdk).id if other_account else paid.account.stripe_account_id
    session_id = _pay_other_session(paid, payment, account=account, amount=amount, currency=currency)
    _unconfirmed(payment)
    anomaly = PaymentAnomaly.objects.get()
    assert (anomaly.payment, anomaly.reasons) == (payment, reasons)
    assert anomaly.received["session"] == session_id
    # The visitor's own session, paid in full, still confirms the booking.
    paid.pay(payment.checkout_url)
    paid.wait_status(payment, PaymentStatus.PAID)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert PaymentAnomaly.objects.count() == 1
