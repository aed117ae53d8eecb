"""Prices, fee shares and the exact Checkout Session parameters, without a Stripe server; the
webhook's refusals for session events; a payment that arrives after its spots were taken."""

from __future__ import annotations

import json
import time
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from django.test import Client

from devtools.stripe_test_server import sign
from parkgate.access.capacity import CapacityBusy, ReservationRequest, reservations_create
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.booking import receivers
from parkgate.booking.models import Booking, BookingNotice, BookingStatus
from parkgate.booking.notices import booking_notices_due
from parkgate.core.models import OutboundEmail
from parkgate.payments import checkout
from parkgate.payments.checkout import (
    checkout_session_params,
    payment_mark_paid,
)
from parkgate.payments.documents import document_prefix_default
from parkgate.payments.models import Payment, PaymentAnomaly, PaymentStatus, Refund, StripeEvent
from parkgate.payments.pricing import spot_price, started_hours
from tests import factories as f
from tests.conftest import World
from tests.payments.checkout_setup import paid_setup

BXL = zoneinfo.ZoneInfo("Europe/Brussels")
SECRET = "whsec_checkout_units"


def _at(day: int, hour: int, month: int = 1, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BXL)


# --- Prices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_hour", "per_day", "slot", "start", "end", "expected"),
    [
        (400, None, None, _at(11, 9), _at(11, 13), 1600),  # 4 hours
        (400, None, None, _at(11, 9), _at(11, 13) + timedelta(minutes=1), 2000),  # a 5th hour begun
        (400, 1400, None, _at(11, 9), _at(11, 13), 1400),  # capped at the day price
        (400, 1400, None, _at(11, 9), _at(11, 11), 800),  # below the cap
        (None, 1500, None, _at(11, 9), _at(11, 10), 1500),  # only a day price
        (400, 1400, 999, _at(11, 9), _at(11, 13), 999),  # the slot's own price wins
        (400, None, 0, _at(11, 9), _at(11, 13), 0),  # a free slot stays free
    ],
)
def test_spot_prices(
    per_hour: int | None, per_day: int | None, slot: int | None, start: datetime, end: datetime, expected: int
) -> None:
    policy: Any = f.AccessPolicyFactory.build(
        price_per_hour=per_hour, price_per_day=per_day, vat_rate=Decimal("21"), currency="EUR"
    )
    price = spot_price(policy=policy, start=start, end=end, slot_price=slot)
    assert price is not None and price.amount == expected


def test_hours_are_real_hours_across_a_clock_change() -> None:
    # 27 March 2027: Brussels clocks go forward at 02:00; 00:00-06:00 local is 5 real hours.
    assert started_hours(_at(28, 0, month=3), _at(28, 6, month=3)) == 5
    # 31 October 2027: back; 00:00-06:00 local is 7 real hours.
    assert started_hours(_at(31, 0, month=10), _at(31, 6, month=10)) == 7


def test_no_price_is_none_and_vat_is_included_half_up() -> None:
    policy: Any = f.AccessPolicyFactory.build(price_per_hour=None, price_per_day=None)
    assert spot_price(policy=policy, start=_at(11, 9), end=_at(11, 10)) is None
    priced: Any = f.AccessPolicyFactory.build(price_per_day=1000, vat_rate=Decimal("21"))
    price = spot_price(policy=priced, start=_at(11, 9), end=_at(11, 10))
    assert price is not None and (price.amount, price.vat_amount) == (1000, 174)  # 173.55 → 174
    six: Any = f.AccessPolicyFactory.build(price_per_day=1, vat_rate=Decimal("6"))
    price = spot_price(policy=six, start=_at(11, 9), end=_at(11, 10))
    assert price is not None and (price.amount, price.vat_amount) == (1, 0)


# --- A payment, built without Stripe ----------------------------------------------------------


_paid_setup = paid_setup


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spots", "fixed", "percent", "price", "fee", "shares"),
    [
        (5, 25, "1.5", 1000, 100, [20, 20, 20, 20, 20]),  # 25 + 75 = 100, even
        (3, 26, "1.5", 1500, 94, [32, 31, 31]),  # 26 + 67.5 → 68; the first spot takes the extra unit
        (3, 0, "2.5", 333, 25, [9, 8, 8]),  # 24.975 → 25, half up
        (1, 500, "0", 300, 299, [299]),  # the fee is capped below the amount (Stripe refuses more)
        (2, 0, "0", 1000, 0, [0, 0]),  # no fee at all: none sent to Stripe
    ],
)
def test_fee_and_its_shares_add_up(
    world: World,
    spots: int,
    fixed: int,
    percent: str,
    price: int,
    fee: int,
    shares: list[int],
    pinned_now: datetime,
) -> None:
    payment = _paid_setup(
        world, now=pinned_now, spots=spots, fee_fixed=fixed, fee_percent=percent, price=price
    )
    assert payment.platform_fee == fee
    assert [line.fee_share for line in payment.lines.order_by("pk")] == shares
    assert sum(shares) == fee
    assert payment.amount == price * spots


@pytest.mark.django_db
def test_exact_session_parameters(world: World, pinned_now: datetime) -> None:
    payment = _paid_setup(world, now=pinned_now, spots=2, fee_fixed=25, fee_percent="1.5", price=1500)
    now = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    params = checkout_session_params(
        payment=payment,
        tax_rates={Decimal("21.00"): "txr_21"},
        success_url="https://p.example/done?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://p.example/done?cancelled=1",
        now=now,
    )
    lines = list(payment.lines.order_by("pk"))
    metadata = {"payment": str(payment.pk), "booking": payment.booking.reference}
    assert params == {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1500,
                    "tax_behavior": "inclusive",
                    "product_data": {"name": line.description},
                },
                "quantity": 1,
                "tax_rates": ["txr_21"],
            }
            for line in lines
        ],
        "payment_intent_data": {"metadata": metadata, "application_fee_amount": 70},
        "metadata": metadata,
        "client_reference_id": f"payment-{payment.pk}",
        "customer_email": "booker@example.com",
        "locale": "fr",
        "expires_at": int(now.timestamp()) + 31 * 60,
        "success_url": "https://p.example/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://p.example/done?cancelled=1",
    }
    payment.invoice_requested = True
    payment.platform_fee = 0
    with_invoice = checkout_session_params(
        payment=payment, tax_rates={Decimal("21.00"): "txr_21"}, success_url="s", cancel_url="c", now=now
    )
    # The invoice is ours (numbered per organisation, documents.py): Stripe is not asked for another.
    assert "invoice_creation" not in with_invoice and "tax_id_collection" not in with_invoice
    assert "application_fee_amount" not in with_invoice["payment_intent_data"]


@pytest.mark.django_db
def test_paid_after_the_spots_were_taken_is_refunded_in_full(
    world: World, django_capture_on_commit_callbacks: Any, pinned_now: datetime
) -> None:
    world.visitor_policy.spot_cap = 2
    world.visitor_policy.save()
    payment = _paid_setup(world, now=pinned_now, spots=2, fee_fixed=25, fee_percent="1.5", price=1500)
    group = payment.booking.group_id
    # The hold ran out and the spots went to someone else before the (late) payment arrived.
    Reservation.objects.filter(group_id=group).update(hold_expires_at=pinned_now - timedelta(minutes=1))
    held = Reservation.objects.filter(group_id=group).first()
    assert held is not None
    reservations_create(
        requests=[
            ReservationRequest(
                parker=f.ParkerFactory(managed_by=world.tenant, organisation=None),
                policy=world.visitor_policy,
                start=held.start,
                end=held.end,
            )
        ],
        source=ReservationSource.PORTAL,
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert payment_mark_paid(payment=payment, payment_intent_id="pi_late") is True
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert (payment.status, payment.booking.status) == (PaymentStatus.PAID, BookingStatus.EXPIRED)
    assert sorted(Refund.objects.values_list("amount", "fee_share")) == [(1500, 35), (1500, 35)]
    assert len(callbacks) == 3  # each refund is sent to Stripe after commit; the payer's e-mail is written
    assert set(Reservation.objects.filter(group_id=group).values_list("status", flat=True)) == {
        ReservationStatus.EXPIRED
    }
    assert OutboundEmail.objects.filter(kind="booking.confirmation").count() == 0
    # The payer is told, once, in the booking's language, with the receipt and both credit notes.
    assert BookingNotice.objects.filter(booking=payment.booking, kind="paid_too_late").count() == 1
    with patch("parkgate.payments.refunds.refund_send_by_id"):  # Stripe is not what this test is about
        for callback in callbacks:
            callback()
    (email,) = OutboundEmail.objects.filter(kind="booking.paid_too_late")
    assert email.to == ["booker@example.com"] and email.language == "fr"
    names = sorted(a["filename"] for a in email.attachments)
    year = pinned_now.year
    prefix = document_prefix_default(payment.organisation.slug)
    assert names == [
        f"credit-note-{prefix}-CN-{year}-0001.pdf",
        f"credit-note-{prefix}-CN-{year}-0002.pdf",
        f"receipt-{prefix}-{year}-0001.pdf",
    ]
    assert "Nous remboursons 30,00" in email.body_text
    assert booking_notices_due(now=pinned_now + timedelta(hours=1)) == 0
    assert OutboundEmail.objects.filter(kind="booking.paid_too_late").count() == 1


# --- Webhook refusals -------------------------------------------------------------------------


def _completed_event(payment: Payment, account: str) -> dict[str, Any]:
    if not payment.checkout_session_id:  # as checkout_session_start records it
        payment.checkout_session_id = f"cs_test_{payment.pk}"
        payment.save(update_fields=["checkout_session_id"])
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "account": account,
        "created": int(time.time()),
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": payment.checkout_session_id,
                "object": "checkout.session",
                "amount_total": payment.amount,
                "currency": payment.currency.lower(),
                "client_reference_id": f"payment-{payment.pk}",
                "metadata": {"payment": str(payment.pk)},
                "payment_status": "paid",
                "payment_intent": "pi_x",
            }
        },
    }


def _post(client: Client, event: dict[str, Any], secret: str = SECRET) -> Any:
    body = json.dumps(event).encode()
    return client.post(
        "/payments/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, secret, int(time.time())),
    )


@pytest.fixture
def webhook_secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_bad_signature_400_and_nothing_changes(client: Client, world: World, pinned_now: datetime) -> None:
    payment = _paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    response = _post(client, _completed_event(payment, "acct_units"), secret="whsec_wrong")
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert StripeEvent.objects.count() == 0
    assert Reservation.objects.get().status == ReservationStatus.HELD


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_event_from_another_account_changes_nothing_and_is_recorded(
    client: Client, world: World, pinned_now: datetime
) -> None:
    payment = _paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    response = _post(client, _completed_event(payment, "acct_someone_else"))
    assert (response.status_code, response.content) == (200, b"anomaly")
    payment.refresh_from_db()
    assert (payment.status, StripeEvent.objects.count()) == (PaymentStatus.CREATED, 1)
    assert PaymentAnomaly.objects.get().reasons == ["account"]


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_unknown_payment_404_not_stored_so_stripe_retries(
    client: Client, world: World, pinned_now: datetime
) -> None:
    payment = _paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    event = _completed_event(payment, "acct_units")
    event["data"]["object"]["client_reference_id"] = "payment-999999"
    event["data"]["object"]["metadata"] = {"payment": "999999"}
    assert _post(client, event).status_code == 404
    assert StripeEvent.objects.count() == 0
    # The same event for the known payment then confirms it, once.
    good = _completed_event(payment, "acct_units")
    assert _post(client, good).status_code == 200
    assert _post(client, good).content == b"duplicate"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Reservation.objects.get().status == ReservationStatus.CONFIRMED


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_late_expired_event_after_paid_is_ignored(client: Client, world: World, pinned_now: datetime) -> None:
    payment = _paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    assert _post(client, _completed_event(payment, "acct_units")).status_code == 200
    expired = _completed_event(payment, "acct_units")
    expired["type"] = "checkout.session.expired"
    assert _post(client, expired).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Reservation.objects.get().status == ReservationStatus.CONFIRMED


@pytest.mark.django_db
@pytest.mark.usefixtures("webhook_secret")
def test_busy_lot_lock_503_nothing_stored_then_retry_confirms(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch, pinned_now: datetime
) -> None:
    payment = _paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    event = _completed_event(payment, "acct_units")

    def busy(**kwargs: Any) -> None:
        raise CapacityBusy("busy")

    monkeypatch.setattr(receivers, "reservations_confirm", busy)
    assert _post(client, event).status_code == 503
    payment.refresh_from_db()
    assert (payment.status, StripeEvent.objects.count(), Refund.objects.count()) == (
        PaymentStatus.CREATED,
        0,
        0,
    )
    monkeypatch.undo()
    assert _post(client, event).status_code == 200
    assert Reservation.objects.get().status == ReservationStatus.CONFIRMED


@pytest.mark.django_db
def test_payments_only_reports_the_booking_app_changes_the_booking(world: World, pinned_now) -> None:
    """The seam: payments records the payment and sends a signal; booking's receivers do the rest."""
    from parkgate.payments import signals

    payment = _paid_setup(world, now=pinned_now, spots=1, fee_fixed=25, fee_percent="1.5", price=1500)
    heard: list[tuple[str, int]] = []

    def listener(*, signal: Any, payment: Payment, **kwargs: Any) -> None:
        heard.append((payment.status, payment.pk))

    receivers_of_paid = signals.payment_paid.receivers[:]
    signals.payment_paid.disconnect(dispatch_uid="booking")
    signals.payment_paid.connect(listener, weak=False)
    try:
        assert checkout.payment_mark_paid(payment=payment, payment_intent_id="pi_seam") is True
    finally:
        signals.payment_paid.disconnect(listener)
        signals.payment_paid.receivers[:] = receivers_of_paid
        signals.payment_paid.sender_receivers_cache.clear()
    payment.refresh_from_db()
    assert heard == [(PaymentStatus.PAID, payment.pk)]
    assert payment.status == PaymentStatus.PAID
    # Without booking's receiver nothing else moved: the booking still awaits payment, spots held.
    assert Booking.objects.get(pk=payment.booking_id).status == BookingStatus.AWAITING_PAYMENT
    assert Reservation.objects.get().status == ReservationStatus.HELD
    # (With booking's receiver, connected in BookingConfig.ready, the flow tests see them confirmed.)
    assert [r[0] for r in signals.payment_paid.receivers] == [r[0] for r in receivers_of_paid]
