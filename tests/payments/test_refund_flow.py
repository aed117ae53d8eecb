"""Refunds when a visitor of a paid group booking cancels their own spot."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from devtools.stripe_test_server import StripeTestServer
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking
from parkgate.booking.services import reservation_cancel_by_staff
from parkgate.core.models import OutboundEmail
from parkgate.payments.documents import document_pdf
from parkgate.payments.models import (
    BillingDocument,
    DocumentKind,
    FeeRefundStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from parkgate.payments.refunds import refund_update, refunds_retry
from tests.booking.conftest import PortalWorld, portal_world  # noqa: F401
from tests.clock import lot_date
from tests.payments.conftest import control, wait_for
from tests.payments.paid import Paid, make_paid
from tests.payments.test_documents import pdf_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid(portal_world: PortalWorld, gateway_server: StripeTestServer, live_server: Any) -> Paid:  # noqa: F811
    # A fee that does not split evenly over three spots: 26 + 1.5 % of 4500 (67.5 → 68) = 94.
    result = make_paid(portal_world, gateway_server, live_server.url)
    result.account.fee_fixed = 26
    result.account.save()
    return result


def _paid_booking(paid: Paid, client: Client, spots: int = 3, action: str = "pay") -> tuple[Booking, Payment]:
    booking, url = paid.book(client, spots=spots)
    payment = Payment.objects.get(booking=booking)
    paid.pay(url, action=action)
    return booking, paid.wait_status(payment, PaymentStatus.PAID)


def _spots(booking: Booking) -> list[Reservation]:
    return list(Reservation.objects.filter(group_id=booking.group_id).select_related("parker").order_by("pk"))


def _cancel(client: Client, reservation: Reservation) -> None:
    response = client.post(reverse("booking:cancel", args=["acme", reservation.cancel_token]))
    assert response.status_code == 200


def _settled(refund: Refund) -> Refund:
    return wait_for(
        lambda: Refund.objects.filter(pk=refund.pk, status=RefundStatus.SUCCEEDED).first(),
        what="refund settled",
    )


def test_fee_shares_follow_largest_remainder(paid: Paid, client: Client) -> None:
    _booking, payment = _paid_booking(paid, client)
    assert payment.platform_fee == 94
    assert [line.fee_share for line in payment.lines.order_by("pk")] == [32, 31, 31]


def test_one_visitor_cancels_and_gets_their_spot_back(paid: Paid, client: Client) -> None:
    booking, payment = _paid_booking(paid, client)
    first, second, third = _spots(booking)
    _cancel(client, second)
    refund = _settled(Refund.objects.get())
    assert (refund.line.reservation_id, refund.amount, refund.fee_share) == (second.pk, 1500, 31)
    assert refund.fee_status == FeeRefundStatus.SUCCEEDED
    assert refund.stripe_refund_id.startswith("re_") and refund.stripe_fee_refund_id.startswith("fr_")
    options = {"stripe_account": paid.account.stripe_account_id}
    stripe_refund = paid.sdk.v1.refunds.retrieve(refund.stripe_refund_id, options=options)
    assert (stripe_refund.amount, stripe_refund.payment_intent) == (1500, payment.payment_intent_id)
    fee = paid.sdk.v1.application_fees.retrieve(Payment.objects.get().application_fee_id)
    assert (fee.amount, fee.amount_refunded) == (94, 31)
    mail = OutboundEmail.objects.get(kind="booking.cancellation")
    assert mail.to == [second.parker.email]
    # Piet did not pay: his e-mail names who gets the money back; Jeanne, who paid, gets the credit note.
    assert "Jeanne Dupont, who paid for this spot, receives €15.00 back." in mail.body_text
    assert "We are refunding" not in mail.body_text
    assert [r.status for r in _spots(booking)] == ["confirmed", "cancelled", "confirmed"]
    # Cancelling again is harmless: no second refund, no second e-mail.
    _cancel(client, second)
    assert (Refund.objects.count(), OutboundEmail.objects.filter(kind="booking.cancellation").count()) == (
        1,
        1,
    )
    assert first.pk != third.pk


def test_every_visitor_cancels_refunds_sum_exactly(paid: Paid, client: Client) -> None:
    booking, payment = _paid_booking(paid, client)
    for reservation in _spots(booking):
        _cancel(client, reservation)
    refunds = [_settled(r) for r in Refund.objects.order_by("line_id")]
    assert sum(r.amount for r in refunds) == payment.amount == 4500
    assert [r.fee_share for r in refunds] == [32, 31, 31]
    options = {"stripe_account": paid.account.stripe_account_id}
    intent = paid.sdk.v1.payment_intents.retrieve(
        payment.payment_intent_id, params={"expand": ["latest_charge"]}, options=options
    )
    charge: Any = intent.latest_charge
    assert charge.amount_refunded == 4500
    # The platform gave back exactly its fee; what Stripe keeps (its processing fee) stays with
    # the organisation's balance and is never part of a refund.
    fee = paid.sdk.v1.application_fees.retrieve(Payment.objects.get().application_fee_id)
    assert (fee.amount, fee.amount_refunded, fee.refunded) == (94, 94, True)


def test_stripe_down_refund_stays_pending_then_retry_sends_it_once(
    paid: Paid, client: Client, settings: Any
) -> None:
    booking, _payment = _paid_booking(paid, client)
    reservation = _spots(booking)[0]
    control(
        paid.server, "faults", {"method": "POST", "path": "/v1/refunds", "mode": "error_before", "times": 3}
    )
    _cancel(client, reservation)
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id, refund.attempts) == (RefundStatus.PENDING, None, 1)
    assert refund.failure_reason
    assert "We are refunding €15.00" in OutboundEmail.objects.get(kind="booking.cancellation").body_text
    assert refunds_retry() == 1
    refund = _settled(refund)
    assert refund.fee_status == FeeRefundStatus.SUCCEEDED
    assert refunds_retry() == 0


def test_timeout_after_stripe_refunded_never_refunds_twice(paid: Paid, client: Client, settings: Any) -> None:
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # our own retry, not the SDK's, must be safe too
    booking, payment = _paid_booking(paid, client)
    reservation = _spots(booking)[0]
    control(
        paid.server, "faults", {"method": "POST", "path": "/v1/refunds", "mode": "drop_after", "times": 1}
    )
    fee_refunds = f"/v1/application_fees/{payment.application_fee_id or _fee_id(paid, payment)}/refunds"
    control(paid.server, "faults", {"method": "POST", "path": fee_refunds, "mode": "drop_after", "times": 1})
    # Stripe's refund.* events would tell us the id too (see refund_update); hold them back so
    # only our own retry can learn it.
    control(paid.server, "webhooks", {"action": "pause"})
    _cancel(client, reservation)
    # Stripe refunded, but we never heard: no id. The retry replays the same key and learns it;
    # then the fee refund times out the same way and its own retry learns it.
    assert Refund.objects.get().stripe_refund_id is None
    assert refunds_retry() == 1
    assert Refund.objects.get().stripe_refund_id is not None
    assert Refund.objects.get().fee_status == FeeRefundStatus.PENDING
    assert refunds_retry() == 1
    assert refunds_retry() == 0
    control(paid.server, "webhooks", {"action": "resume"})
    refund = _settled(Refund.objects.get())
    assert refund.fee_status == FeeRefundStatus.SUCCEEDED
    options = {"stripe_account": paid.account.stripe_account_id}
    intent = paid.sdk.v1.payment_intents.retrieve(
        payment.payment_intent_id, params={"expand": ["latest_charge"]}, options=options
    )
    charge: Any = intent.latest_charge
    assert charge.amount_refunded == 1500
    fee = paid.sdk.v1.application_fees.retrieve(Payment.objects.get().application_fee_id)
    assert fee.amount_refunded == 32


def _fee_id(paid: Paid, payment: Payment) -> str:
    options = {"stripe_account": paid.account.stripe_account_id}
    intent = paid.sdk.v1.payment_intents.retrieve(
        payment.payment_intent_id, params={"expand": ["latest_charge"]}, options=options
    )
    charge: Any = intent.latest_charge
    return str(charge.application_fee)


def test_refund_that_fails_is_shown_as_failed(
    paid: Paid, client: Client, world: Any, pinned_now: datetime, tmp_path: Path
) -> None:
    paid.account.document_prefix = "ACME"
    paid.account.save(update_fields=["document_prefix"])
    year = lot_date(pinned_now).year
    booking, payment = _paid_booking(paid, client, spots=2, action="pay_refunds_fail")
    _cancel(client, _spots(booking)[1])
    refund = wait_for(lambda: Refund.objects.filter(status=RefundStatus.FAILED).first(), what="refund failed")
    assert refund.failure_reason == "expired_or_canceled_card"
    # The credit note issued with the refund no longer stands: a debit note cancels it, same amounts.
    receipt = BillingDocument.objects.get(payment=payment, kind=DocumentKind.RECEIPT)
    note = BillingDocument.objects.get(refund=refund)
    debit = BillingDocument.objects.get(payment=payment, kind=DocumentKind.DEBIT_NOTE)
    assert [(d.display_number, d.total, d.vat_total) for d in (receipt, note, debit)] == [
        (f"ACME-{year}-0001", 3000, 520),
        (f"ACME-CN-{year}-0001", -1500, -260),
        (f"ACME-{year}-0002", 1500, 260),
    ]
    assert (debit.corrects_id, debit.refund_id, debit.data["corrects_number"]) == (
        note.pk,
        None,
        f"ACME-CN-{year}-0001",
    )
    assert debit.data["lines"][0]["total"] == 1500
    text = pdf_text(document_pdf(debit), tmp_path, "debit.pdf")
    for expected in (
        "Debit note",
        f"No. ACME-{year}-0002",
        f"Corrects Credit note No. ACME-CN-{year}-0001",
        "Total not refunded incl. VAT €15.00",
        "The refund of the credit note above failed: no money went back.",
    ):
        assert expected in text, (expected, text)
    # The payer, told "refunded" when the spot was cancelled, is told once that no money went back.
    told = wait_for(
        lambda: OutboundEmail.objects.filter(kind="booking.refund_failed", status="sent").first(),
        what="the refund-failed e-mail",
    )
    assert (told.to, told.reply_to, told.language) == (
        [booking.booker_email],
        [booking.portal.organisation.email],
        "en",
    )
    assert told.subject == f"Your refund of €15.00 for {booking.portal.lot.name} did not go through"
    for expected in (
        "Your bank or card refused the refund",
        "no money went back to you.",
        f"Debit note No. ACME-{year}-0002 is attached (PDF): it cancels credit note No. ACME-CN-{year}-0001.",
        f"{booking.portal.organisation.name} will pay you back another way: "
        "reply to this e-mail to tell them how.",
        f"Booking reference: {booking.reference}",
    ):
        assert expected in told.body_text, (expected, told.body_text)
    assert [a["filename"] for a in told.attachments] == [debit.filename]
    # Stripe tells us again (a late refund.updated, a retried delivery): still one debit note.
    refund_update(stripe_refund={"id": refund.stripe_refund_id, "status": "failed", "metadata": {}})
    assert BillingDocument.objects.filter(kind=DocumentKind.DEBIT_NOTE).count() == 1
    assert OutboundEmail.objects.filter(kind="booking.refund_failed").count() == 1
    # Staff see the failed refund and the debit note on the payment.
    office = Client()
    office.force_login(world.admin)
    page = office.get(reverse("backoffice:payment_detail", args=[payment.pk])).content.decode()
    assert "1 refund failed at Stripe: the money did not go back to the payer." in page
    assert f"ACME-{year}-0002" in page and "Debit note" in page and "expired_or_canceled_card" in page
    listing = office.get(reverse("backoffice:payment_list")).content.decode()
    assert "1 failed" in listing
    # The payer's confirmation page lists it too (the other spot still stands).
    assert booking.invitation is not None
    confirmation = client.get(
        reverse(
            "booking:confirmation",
            args=["acme", booking.invitation.token, booking.reference, booking.link_key],
        )
    ).content.decode()
    assert f"Debit note No. ACME-{year}-0002 (PDF)" in confirmation


def test_a_refund_that_succeeds_issues_no_debit_note(paid: Paid, client: Client) -> None:
    booking, payment = _paid_booking(paid, client, spots=1)
    _cancel(client, _spots(booking)[0])
    _settled(Refund.objects.get())
    kinds = sorted(BillingDocument.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == [DocumentKind.CREDIT_NOTE, DocumentKind.RECEIPT]


def test_no_refund_once_started(paid: Paid, client: Client, world: Any, pinned_now: datetime) -> None:
    booking, _payment = _paid_booking(paid, client, spots=1)
    reservation = _spots(booking)[0]
    Reservation.objects.filter(pk=reservation.pk).update(
        start=pinned_now - timedelta(minutes=5), end=pinned_now + timedelta(hours=1)
    )
    reservation.refresh_from_db()
    response = client.post(reverse("booking:cancel", args=["acme", reservation.cancel_token]))
    assert response.status_code == 409
    assert reservation_cancel_by_staff(reservation=reservation, actor=world.admin) is True
    assert Reservation.objects.get(pk=reservation.pk).status == ReservationStatus.CANCELLED
    assert Refund.objects.count() == 0
    assert "refunding" not in OutboundEmail.objects.get(kind="booking.cancellation").body_text


def test_staff_cancel_before_start_refunds(paid: Paid, client: Client, world: Any) -> None:
    booking, _payment = _paid_booking(paid, client, spots=1)
    reservation_cancel_by_staff(reservation=_spots(booking)[0], actor=world.admin)
    assert _settled(Refund.objects.get()).amount == 1500
