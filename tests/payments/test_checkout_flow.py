"""Paid bookings end to end: portal → Checkout Session on the organisation's account → webhook.

Django's live server receives the test server's signed webhooks; the visitor's browser is the test
client (portal) and plain HTTP (hosted checkout page).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from devtools.stripe_test_server import StripeTestServer
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking, BookingNotice, BookingNoticeStatus, BookingStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.payments.checkout import SESSION_LIFETIME
from parkgate.payments.models import (
    Payment,
    PaymentApproval,
    PaymentApprovalStatus,
    PaymentLine,
    PaymentStatus,
    StripeEvent,
)
from tests.booking.conftest import PortalWorld, booking_post, portal_world  # noqa: F401
from tests.payments.conftest import control, http, wait_for
from tests.payments.paid import FEE_FIXED, SLOT_PRICE, Paid, make_paid

pytestmark = pytest.mark.django_db(transaction=True)

INVOICE_POST = {
    "invoice-invoice": "on",
    "invoice-company_name": "Dupont  SRL",
    "invoice-company_address": "Rue Haute 1\n\n1000 Bruxelles ",
    "invoice-vat_number": "be 0123.456.789",
}


@pytest.fixture
def paid(portal_world: PortalWorld, gateway_server: StripeTestServer, live_server: Any) -> Paid:  # noqa: F811
    return make_paid(portal_world, gateway_server, live_server.url)


def _held(booking: Booking) -> list[str]:
    return list(
        Reservation.objects.filter(group_id=booking.group_id).order_by("pk").values_list("status", flat=True)
    )


def test_proceed_holds_the_spots_and_sends_exactly_these_parameters(
    paid: Paid, client: Client, time_machine: Any
) -> None:
    # The clock stands still while booking: our expires_at and the server's created are read a
    # moment apart, and on a busy machine that moment can cross a second.
    time_machine.move_to(timezone.now(), tick=False)
    booking, url = paid.book(client, spots=2, **INVOICE_POST)
    payment = Payment.objects.get(booking=booking)
    assert (payment.invoice_requested, payment.company_name, payment.company_vat_number) == (
        True,
        "Dupont SRL",
        "BE0123456789",
    )
    assert payment.company_address == "Rue Haute 1\n1000 Bruxelles"
    # 2 x €15.00, VAT 21 % included (260 each), fee €0.25 + 1.5 % of €30.00 = 70.
    assert (payment.amount, payment.vat_amount, payment.platform_fee, payment.status) == (
        3000,
        520,
        70,
        "open",
    )
    assert [(line.amount, line.vat_amount, line.fee_share) for line in payment.lines.order_by("pk")] == [
        (1500, 260, 35),
        (1500, 260, 35),
    ]
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert _held(booking) == [ReservationStatus.HELD, ReservationStatus.HELD]
    session = paid.session(payment)
    assert url == session.url
    assert session.client_reference_id == f"payment-{payment.pk}"
    assert session.metadata.to_dict() == {"payment": str(payment.pk), "booking": booking.reference}
    assert session.customer_email == "jeanne@example.com"
    assert session.amount_total == 3000
    # Our own invoice (documents.py), not a second one from Stripe.
    assert (session.invoice_creation.enabled, session.tax_id_collection.enabled) == (False, False)
    assert session.expires_at - session.created == int(SESSION_LIFETIME.total_seconds())
    assert session.success_url.endswith(
        reverse(
            "booking:confirmation",
            args=["acme", paid.pw.invitation.token, booking.reference, booking.link_key],
        )
        + "?session={CHECKOUT_SESSION_ID}"
    )
    items = paid.sdk.v1.checkout.sessions.line_items.list(
        session.id, options={"stripe_account": paid.account.stripe_account_id}
    )
    day = paid.pw.monday.strftime("%d/%m/%Y")
    assert [(i.description, i.amount_total, i.amount_tax, i.quantity) for i in items.data] == [
        (f"Parking {day} 09:00-13:00, Jeanne Dupont", 1500, 260, 1),
        (f"Parking {day} 09:00-13:00, Piet Peeters", 1500, 260, 1),
    ]
    assert all(i.taxes[0].rate.inclusive and i.taxes[0].rate.percentage == 21.0 for i in items.data)
    # The payment intent carries the fee and the metadata (session metadata is not copied by Stripe).
    paid.pay(url)
    paid.wait_status(payment, PaymentStatus.PAID)
    payment.refresh_from_db()
    intent = paid.sdk.v1.payment_intents.retrieve(
        payment.payment_intent_id, options={"stripe_account": paid.account.stripe_account_id}
    )
    assert intent.application_fee_amount == 70
    assert intent.metadata.to_dict() == {"payment": str(payment.pk), "booking": booking.reference}


def test_no_invoice_box_no_invoice_and_hourly_price(paid: Paid, client: Client) -> None:
    booking, _url = paid.book(client, spots=1, hour=13)
    payment = Payment.objects.get(booking=booking)
    # 13:00-17:00 at €4.00 an hour = €16.00, capped at the day price €14.00.
    assert (payment.amount, payment.vat_amount, payment.platform_fee) == (1400, 243, FEE_FIXED + 21)
    session = paid.session(payment)
    assert (session.invoice_creation.enabled, session.tax_id_collection.enabled) == (False, False)


def test_paid_by_webhook_confirms_and_mails_once(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client, spots=2)
    payment = Payment.objects.get(booking=booking)
    done = reverse(
        "booking:confirmation", args=["acme", paid.pw.invitation.token, booking.reference, booking.link_key]
    )
    waiting = client.get(done)
    assert "Payment being confirmed" in waiting.content.decode()
    assert OutboundEmail.objects.filter(kind="booking.confirmation").count() == 0
    paid.pay(url)
    paid.wait_status(payment, PaymentStatus.PAID)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert _held(booking) == [ReservationStatus.CONFIRMED, ReservationStatus.CONFIRMED]
    assert Reservation.objects.filter(group_id=booking.group_id, hold_expires_at__isnull=False).count() == 0
    page = client.get(done).content.decode()
    assert "Your booking is confirmed" in page and "€30.00, VAT included" in page
    # The confirmation was owed in the webhook's transaction; the task writes it right after commit.
    notice = BookingNotice.objects.get(booking=booking, kind="confirmation")
    wait_for(lambda: OutboundEmail.objects.filter(kind="booking.confirmation").count() == 2, what="2 e-mails")
    notice.refresh_from_db()
    assert notice.status == BookingNoticeStatus.QUEUED and notice.emails.count() == 2
    assert AuditEvent.objects.filter(action="access.reservation.confirmed").count() == 2


def test_webhook_before_the_visitor_comes_back(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client)
    payment = Payment.objects.get(booking=booking)
    control(paid.server, "webhooks", {"action": "pause"})
    paid.pay(url)
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.OPEN  # the redirect confirms nothing
    done = reverse(
        "booking:confirmation", args=["acme", paid.pw.invitation.token, booking.reference, booking.link_key]
    )
    # Checkout sends the payer back in another browser (their bank app): no session, same address.
    bank_app = Client()
    assert "Payment being confirmed" in bank_app.get(done).content.decode()
    control(paid.server, "webhooks", {"action": "resume", "order": "reverse"})
    paid.wait_status(payment, PaymentStatus.PAID)
    assert "Your booking is confirmed" in bank_app.get(done).content.decode()


def test_htmx_poll_refreshes_once_confirmed(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client)
    payment = Payment.objects.get(booking=booking)
    done = reverse(
        "booking:confirmation", args=["acme", paid.pw.invitation.token, booking.reference, booking.link_key]
    )
    polled = client.get(done, HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and 'hx-trigger="every 2s"' in polled.content.decode()
    paid.pay(url)
    paid.wait_status(payment, PaymentStatus.PAID)
    assert client.get(done, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"


def test_event_replayed_ten_times_has_one_effect(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client)
    payment = Payment.objects.get(booking=booking)
    paid.pay(url)
    paid.wait_status(payment, PaymentStatus.PAID)
    wait_for(lambda: control(paid.server, "settled")["settled"], what="deliveries settled")
    completed = StripeEvent.objects.get(type="checkout.session.completed")
    control(paid.server, "replay", {"event": completed.event_id, "times": 10})
    wait_for(lambda: control(paid.server, "settled")["settled"], what="replays delivered")
    deliveries = [
        d for d in control(paid.server, "deliveries")["data"] if d["event_id"] == completed.event_id
    ]
    assert len(deliveries) == 11 and all(d["status"] == 200 for d in deliveries)
    assert StripeEvent.objects.filter(event_id=completed.event_id).count() == 1
    assert BookingNotice.objects.filter(booking=booking).count() == 1
    wait_for(lambda: BookingNotice.objects.filter(status="queued").exists(), what="the e-mails written")
    assert OutboundEmail.objects.filter(kind="booking.confirmation").count() == 2
    assert AuditEvent.objects.filter(action="payments.payment.paid").count() == 1


def test_expired_session_frees_the_spots(paid: Paid, client: Client) -> None:
    booking, _url = paid.book(client, spots=2)
    payment = Payment.objects.get(booking=booking)
    control(paid.server, "clock", {"advance": SESSION_LIFETIME.total_seconds() + 60})
    paid.wait_status(payment, PaymentStatus.EXPIRED)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert _held(booking) == [ReservationStatus.CANCELLED, ReservationStatus.CANCELLED]
    page = client.get(
        reverse(
            "booking:confirmation",
            args=["acme", paid.pw.invitation.token, booking.reference, booking.link_key],
        )
    ).content.decode()
    assert "The payment did not go through" in page
    assert OutboundEmail.objects.filter(kind="booking.confirmation").count() == 0


def test_delayed_debit_holds_then_fails_and_releases(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client, spots=1)
    payment = Payment.objects.get(booking=booking)
    paid.pay(url, action="delayed")
    paid.wait_status(payment, PaymentStatus.PROCESSING)
    reservation = Reservation.objects.get(group_id=booking.group_id)
    assert reservation.status == ReservationStatus.HELD
    assert reservation.hold_expires_at is not None
    assert reservation.hold_expires_at - reservation.created_at > timedelta(days=13)
    paid.pay(url, action="settle_fail")
    paid.wait_status(payment, PaymentStatus.FAILED)
    assert _held(booking) == [ReservationStatus.CANCELLED]


def test_delayed_debit_that_succeeds_confirms(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client, spots=1)
    payment = Payment.objects.get(booking=booking)
    paid.pay(url, action="delayed")
    paid.wait_status(payment, PaymentStatus.PROCESSING)
    paid.pay(url, action="settle_succeed")
    paid.wait_status(payment, PaymentStatus.PAID)
    assert _held(booking) == [ReservationStatus.CONFIRMED]


def test_stripe_down_at_proceed_books_nothing_and_retries_same_key(paid: Paid, client: Client) -> None:
    control(
        paid.server,
        "faults",
        {"method": "POST", "path": "/v1/checkout/sessions", "mode": "error_before", "times": 10},
    )
    response = client.post(paid.pw.url, booking_post(paid.pw, spots=1))
    assert response.status_code == 409
    assert "The payment could not start" in response.content.decode()
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.EXPIRED
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert _held(booking) == [ReservationStatus.CANCELLED]


def test_timeout_at_proceed_is_retried_with_the_same_key_one_session(paid: Paid, client: Client) -> None:
    control(
        paid.server,
        "faults",
        {"method": "POST", "path": "/v1/checkout/sessions", "mode": "drop_after", "times": 1},
    )
    booking, url = paid.book(client, spots=1)
    payment = Payment.objects.get(booking=booking)
    with paid.server.store.lock:  # the server did the work twice asked: one session exists
        sessions = [
            o["id"] for o in paid.server.store.objects.values() if o.get("object") == "checkout.session"
        ]
    assert sessions == [payment.checkout_session_id]
    assert url == paid.session(payment).url


def test_unapproved_or_disabled_account_refuses_politely(paid: Paid, client: Client) -> None:
    approval = PaymentApproval.objects.get(organisation=paid.account.organisation)
    PaymentApproval.objects.filter(pk=approval.pk).update(status=PaymentApprovalStatus.PENDING)
    page = client.get(paid.pw.url).content.decode()
    assert "Online payment is not available yet on this portal" in page
    response = client.post(paid.pw.url, booking_post(paid.pw, spots=1))
    assert "Online payment is not available yet" in response.content.decode()
    assert (Booking.objects.count(), Reservation.objects.count(), Payment.objects.count()) == (0, 0, 0)
    PaymentApproval.objects.filter(pk=approval.pk).update(status=PaymentApprovalStatus.APPROVED)
    paid.account.charges_enabled = False
    paid.account.save()
    client.post(paid.pw.url, booking_post(paid.pw, spots=1))
    assert (Booking.objects.count(), Reservation.objects.count(), Payment.objects.count()) == (0, 0, 0)


def test_price_is_shown_before_proceed(paid: Paid, client: Client) -> None:
    data = booking_post(paid.pw, spots=2)
    query = {k: v for k, v in data.items() if not k.startswith("v")} | {"step": "details"}
    page = client.get(paid.pw.url, query).content.decode()
    assert "€15.00" in page and "€30.00" in page and "VAT included (€5.20)" in page
    assert 'name="invoice-invoice"' in page and 'name="invoice-vat_number"' in page
    client.get(paid.pw.url, {"lang": "fr"})
    page = client.get(paid.pw.url, query).content.decode()
    assert "15,00\u00a0€" in page and "30,00\u00a0€" in page
    assert "TVA comprise (5,20\u00a0€)" in page and "Continuer vers le paiement" in page


def test_no_price_for_the_time_refuses(paid: Paid, client: Client) -> None:
    policy = paid.pw.portal.policies.get()
    policy.price_per_hour = None
    policy.price_per_day = None
    policy.save()
    response = client.post(paid.pw.url, booking_post(paid.pw, spots=1, hour=13))
    assert response.status_code == 409
    assert "No price is set for this time" in response.content.decode()
    assert (Booking.objects.count(), Reservation.objects.count(), PaymentLine.objects.count()) == (0, 0, 0)
    assert SLOT_PRICE == 1500


def test_abandoned_checkout_offers_to_pay_and_holds_until_expiry(paid: Paid, client: Client) -> None:
    booking, url = paid.book(client, spots=1)
    status, location, _body = http(url, {"action": "abandon"})
    assert status == 303 and location.endswith(f"/done/{booking.reference}/{booking.link_key}/?cancelled=1")
    back = urlsplit(location)
    page = client.get(f"{back.path}?{back.query}").content.decode()
    assert "You left the payment page" in page and "Nothing has been charged" in page
    assert f'href="{url}"' in page and "Pay €15.00" in page
    assert _held(booking) == [ReservationStatus.HELD]
    control(paid.server, "clock", {"advance": SESSION_LIFETIME.total_seconds() + 60})
    paid.wait_status(Payment.objects.get(booking=booking), PaymentStatus.EXPIRED)
    assert _held(booking) == [ReservationStatus.CANCELLED]


def test_the_price_shows_with_the_times_on_the_first_step(paid: Paid, client: Client) -> None:
    """Issue 14 item 10: the slot's own price (€15.00) and the policy's capped hourly price (€14.00)."""
    page = client.get(paid.pw.url).content.decode()
    assert "€15.00 per spot" in page and "€14.00 per spot" in page
