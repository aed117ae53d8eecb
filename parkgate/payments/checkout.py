"""Paid bookings: the local payment, the Checkout Session, and what the webhooks do to them.

Flow (see README.md "Design"): the booking service holds the spots and calls
:func:`payment_create` in the same transaction; after commit :func:`checkout_session_start`
creates the Checkout Session on the organisation's connected account (never under a lock) and the
visitor is redirected there. Only webhooks confirm: they move the payment forward (idempotent,
order-tolerant) and report it through ``payments.signals``; the booking app confirms or releases
its held reservations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parkgate.access.models import Reservation
from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError
from parkgate.payments import gateway, signals
from parkgate.payments.documents import payment_document_issue
from parkgate.payments.models import (
    Payment,
    PaymentAccount,
    PaymentLine,
    PaymentStatus,
    StripeTaxRate,
)
from parkgate.payments.money import platform_fee, split_largest_remainder
from parkgate.payments.pricing import SpotPrice
from parkgate.payments.selectors import portal_can_take_payments

logger = logging.getLogger(__name__)

# The spots stay held a little longer than the session lives (Stripe wants expires_at at least
# 30 minutes after ITS creation time): a payment completed at the last second finds them held.
PAYMENT_HOLD = timedelta(minutes=35)
SESSION_LIFETIME = timedelta(minutes=31)
# A delayed debit (SEPA, Bancontact...) keeps the spots held until it settles.
PROCESSING_HOLD = timedelta(days=14)


class PaymentUnavailable(ParkgateError):
    """This portal cannot take payments now; ``message`` is for the visitor."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


class PaymentStartFailed(ParkgateError):
    """Stripe could not create the Checkout Session: nothing was charged, the spots are free again."""


@dataclass(frozen=True)
class PricedSpot:
    reservation: Reservation
    price: SpotPrice
    description: str


def payment_account_for_portal(portal: Any) -> PaymentAccount:
    """The organisation's account, if this portal may take payments now.

    The portal's rule (its "authorise payment" toggle and the organisation's approval by platform
    staff, one PaymentApproval) AND Stripe's: the connected account has charges enabled.
    """
    account = PaymentAccount.objects.filter(organisation_id=portal.organisation_id).first()
    if account is None or not account.charges_enabled or not portal_can_take_payments(portal):
        raise PaymentUnavailable(
            _(
                "Online payment is not available yet on this portal, so it cannot take bookings. "
                "Please contact the organisation that invited you."
            )
        )
    return account


@dataclass(frozen=True)
class InvoiceDetails:
    """The payer's company, printed on their invoice (validated by the booking form)."""

    company_name: str
    company_address: str
    vat_number: str


def payment_create(
    *,
    booking: Any,
    account: PaymentAccount,
    spots: Sequence[PricedSpot],
    invoice_requested: bool,
    invoice_details: InvoiceDetails | None = None,
) -> Payment:
    """The local payment and its lines (call inside the booking's transaction, before the session).

    With ``invoice_requested`` the company's name and VAT number are required (``PaymentUnavailable``
    otherwise, so nothing of the booking is kept); they are stored for the invoice.
    """
    if invoice_requested and (
        invoice_details is None or not invoice_details.company_name.strip() or not invoice_details.vat_number
    ):
        raise PaymentUnavailable(_("An invoice needs your company's name and VAT number."))
    currencies = {spot.price.currency for spot in spots}
    if currencies != {account.currency}:
        raise PaymentUnavailable(
            _(
                "This portal's prices are not in the currency its payments are taken in. "
                "Please contact the organisation."
            )
        )
    amounts = [spot.price.amount for spot in spots]
    total = sum(amounts)
    if total <= 0:
        raise PaymentUnavailable(
            _("This booking has no price. Please contact the organisation that invited you.")
        )
    fee = platform_fee(total, fixed=account.fee_fixed, percent=account.fee_percent)
    shares = split_largest_remainder(fee, amounts)
    payment = Payment.objects.create(
        booking=booking,
        organisation_id=account.organisation_id,
        stripe_account_id=account.stripe_account_id,
        currency=account.currency,
        amount=total,
        vat_amount=sum(spot.price.vat_amount for spot in spots),
        platform_fee=fee,
        invoice_requested=invoice_requested,
        company_name=invoice_details.company_name.strip()[:200]
        if invoice_requested and invoice_details
        else "",
        company_address=invoice_details.company_address.strip()[:500]
        if invoice_requested and invoice_details
        else "",
        company_vat_number=invoice_details.vat_number if invoice_requested and invoice_details else "",
    )
    PaymentLine.objects.bulk_create(
        [
            PaymentLine(
                payment=payment,
                reservation=spot.reservation,
                description=spot.description[:250],
                amount=spot.price.amount,
                vat_amount=spot.price.vat_amount,
                fee_share=share,
            )
            for spot, share in zip(spots, shares, strict=True)
        ]
    )
    audit_log(
        action="payments.payment.created",
        organisation=account.organisation_id,
        actor_label="visitor",
        obj=payment,
        data={"booking": booking.reference, "amount": total, "currency": payment.currency, "fee": fee},
    )
    return payment


def _tax_rate_id(client: stripe.StripeClient, account_id: str, rate: Decimal) -> str:
    """The account's inclusive TaxRate for ``rate`` (created once, then reused)."""
    rate = rate.quantize(Decimal("0.01"))
    found = StripeTaxRate.objects.filter(stripe_account_id=account_id, percentage=rate).first()
    if found is not None:
        return found.tax_rate_id
    created = client.v1.tax_rates.create(
        params=cast(
            Any,
            {"display_name": "VAT", "inclusive": True, "percentage": str(rate.normalize())},
        ),
        options={"stripe_account": account_id, "idempotency_key": f"tax-rate-{account_id}-{rate}"},
    )
    try:
        with transaction.atomic():
            StripeTaxRate.objects.create(
                stripe_account_id=account_id, percentage=rate, tax_rate_id=created.id
            )
    except IntegrityError:
        return StripeTaxRate.objects.get(stripe_account_id=account_id, percentage=rate).tax_rate_id
    return created.id


def checkout_session_params(
    *, payment: Payment, tax_rates: dict[Decimal, str], success_url: str, cancel_url: str, now: datetime
) -> dict[str, Any]:
    """Exactly what Stripe receives for this payment (tests read it back from the server)."""
    booking = payment.booking
    metadata = {"payment": str(payment.pk), "booking": booking.reference}
    lines = list(payment.lines.select_related("reservation__policy").order_by("pk"))
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": payment.currency.lower(),
                    "unit_amount": line.amount,
                    "tax_behavior": "inclusive",
                    "product_data": {"name": line.description},
                },
                "quantity": 1,
                "tax_rates": [tax_rates[Decimal(line.reservation.policy.vat_rate).quantize(Decimal("0.01"))]],
            }
            for line in lines
        ],
        "payment_intent_data": {"metadata": metadata},
        "metadata": metadata,
        "client_reference_id": payment.client_reference,
        "customer_email": booking.booker_email,
        "locale": booking.language if booking.language in ("en", "fr", "nl") else "auto",
        "expires_at": int((now + SESSION_LIFETIME).timestamp()),
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if payment.platform_fee > 0:  # Stripe refuses an application fee of 0
        params["payment_intent_data"]["application_fee_amount"] = payment.platform_fee
    # No ``invoice_creation``: the invoice (or receipt) is ours, numbered per organisation without
    # gaps (documents.py); a Stripe invoice too would bill the same payment twice.
    return params


def checkout_session_start(*, payment: Payment, success_url: str, cancel_url: str) -> str:
    """Create the Checkout Session (after commit, outside any lock) and return its address.

    The idempotency key is the payment's: retrying (the SDK, or a second call) never makes a second
    session. If Stripe cannot be reached the payment fails, the held spots are released, and
    PaymentStartFailed is raised (nothing was charged).
    """
    client = gateway.stripe_client()
    now = timezone.now()
    try:
        rates = {
            Decimal(line.reservation.policy.vat_rate).quantize(Decimal("0.01"))
            for line in payment.lines.select_related("reservation__policy")
        }
        tax_rates = {rate: _tax_rate_id(client, payment.stripe_account_id, rate) for rate in rates}
        params = checkout_session_params(
            payment=payment, tax_rates=tax_rates, success_url=success_url, cancel_url=cancel_url, now=now
        )
        session = client.v1.checkout.sessions.create(
            params=cast(Any, params),
            options={
                "stripe_account": payment.stripe_account_id,
                "idempotency_key": gateway.checkout_idempotency_key(payment.pk),
            },
        )
    except stripe.StripeError as error:
        logger.warning("Checkout Session for payment %s failed: %s", payment.pk, error)
        payment_release(payment=payment, status=PaymentStatus.FAILED, reason="checkout_failed")
        raise PaymentStartFailed(str(error)) from error
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        locked.checkout_session_id = session.id
        locked.checkout_url = session.url or ""
        locked.expires_at = datetime.fromtimestamp(session.expires_at, tz=timezone.get_current_timezone())
        if locked.status == PaymentStatus.CREATED:
            locked.status = PaymentStatus.OPEN
        locked.save(
            update_fields=["checkout_session_id", "checkout_url", "expires_at", "status", "updated_at"]
        )
    payment.checkout_session_id, payment.checkout_url = locked.checkout_session_id, locked.checkout_url
    payment.status = locked.status
    return session.url or ""


# --- Webhook transitions ----------------------------------------------------------------------


def payment_release(*, payment: Payment, status: str, reason: str) -> bool:
    """Payment failed or expired before it was paid: recorded, then ``payment_released`` is sent
    (the booking app frees the held spots and expires the booking).

    A payment that is already paid never goes back (a late ``expired`` is ignored). False when
    nothing changed.
    """
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("booking").get(pk=payment.pk)
        if locked.status in (PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.EXPIRED):
            return False
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        signals.payment_released.send(sender=Payment, payment=locked, reason=reason)
        audit_log(
            action=f"payments.payment.{status}",
            organisation=locked.organisation_id,
            actor_label="Stripe",
            obj=locked,
            data={"booking": locked.booking.reference, "reason": reason},
        )
    payment.status = status
    return True


def payment_mark_processing(*, payment: Payment, payment_intent_id: str) -> bool:
    """A delayed payment method was used: keep the spots held until the debit settles."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("booking").get(pk=payment.pk)
        if locked.status not in (PaymentStatus.CREATED, PaymentStatus.OPEN):
            return False
        locked.status = PaymentStatus.PROCESSING
        locked.payment_intent_id = payment_intent_id or locked.payment_intent_id
        locked.save(update_fields=["status", "payment_intent_id", "updated_at"])
        signals.payment_processing.send(
            sender=Payment, payment=locked, hold_until=timezone.now() + PROCESSING_HOLD
        )
        audit_log(
            action="payments.payment.processing",
            organisation=locked.organisation_id,
            actor_label="Stripe",
            obj=locked,
        )
    return True


def payment_mark_paid(*, payment: Payment, payment_intent_id: str) -> bool:
    """The money is in: recorded, then ``payment_paid`` is sent (the booking app confirms the held
    spots and the booking and queues the confirmation e-mails, or refunds a payment that came too late).

    Idempotent (a second call changes nothing) and order-tolerant: a payment already marked
    expired or failed (its ``expired`` event came first, or the hold ran out) is still reported
    paid. False when nothing changed.
    """
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("booking__portal").get(pk=payment.pk)
        if locked.status == PaymentStatus.PAID:
            return False
        was = locked.status
        locked.status = PaymentStatus.PAID
        locked.paid_at = timezone.now()
        locked.payment_intent_id = payment_intent_id or locked.payment_intent_id
        locked.save(update_fields=["status", "paid_at", "payment_intent_id", "updated_at"])
        audit_log(
            action="payments.payment.paid",
            organisation=locked.organisation_id,
            actor_label="Stripe",
            obj=locked,
            data={"booking": locked.booking.reference, "amount": locked.amount, "was": was},
        )
        # Its receipt or invoice, numbered in this transaction (before a late payment's refunds,
        # whose credit notes correct it).
        payment_document_issue(payment=locked, now=locked.paid_at)
        signals.payment_paid.send(sender=Payment, payment=locked)
    return True
