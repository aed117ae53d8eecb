"""Payment reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from parkgate.accounts.models import Organisation
from parkgate.payments.models import (
    BillingDocument,
    FeeRefundStatus,
    Payment,
    PaymentAccount,
    PaymentAnomaly,
    PaymentApproval,
    PaymentApprovalStatus,
    PaymentLine,
    PaymentStatus,
    Refund,
    RefundStatus,
)


def payment_account_of(organisation: Organisation) -> PaymentAccount | None:
    return PaymentAccount.objects.filter(organisation=organisation).first()


def payment_approval_of(organisation: Organisation) -> PaymentApproval | None:
    return PaymentApproval.objects.filter(organisation=organisation).first()


def portal_can_take_payments(portal: Any) -> bool:
    """Payments need the portal's toggle AND a platform staff member's approval of the organisation."""
    if not portal.payment_enabled:
        return False
    return PaymentApproval.objects.filter(
        organisation_id=portal.organisation_id, status=PaymentApprovalStatus.APPROVED
    ).exists()


def payment_accounts_for_staff() -> QuerySet[PaymentAccount]:
    """Every organisation's account, for platform staff only (callers check the user)."""
    return PaymentAccount.objects.select_related("organisation__payment_approval__decided_by").order_by(
        "organisation__name"
    )


# --- Payments and refunds (back office) -----------------------------------------------------


def payments_of(organisation: Organisation | None) -> QuerySet[Payment]:
    """The payments made to ``organisation`` (its own account); None: every organisation (staff)."""
    payments = Payment.objects.select_related("booking__portal", "organisation").prefetch_related(
        "lines__refund", "lines__reservation__parker"
    )
    return payments if organisation is None else payments.filter(organisation=organisation)


def get_payment_for(organisation: Organisation | None, payment_id: int) -> Payment:
    """One payment of ``organisation`` (404 for another organisation's); None: staff."""
    payment = payments_of(organisation).filter(pk=payment_id).first()
    if payment is None:
        raise Http404
    return payment


@dataclass(frozen=True)
class PaymentTotals:
    count: int
    amount: int
    vat: int
    platform_fee: int
    refunded: int
    fee_refunded: int


def payment_totals(payments: QuerySet[Payment]) -> dict[str, PaymentTotals]:
    """Paid totals per currency (amounts of different currencies never add up)."""
    paid = payments.filter(status=PaymentStatus.PAID)
    totals: dict[str, PaymentTotals] = {}
    rows = paid.values("currency").annotate(
        n=Count("id"), amount_sum=Sum("amount"), vat_sum=Sum("vat_amount"), fee_sum=Sum("platform_fee")
    )
    for row in rows.order_by("currency"):
        refunds = Refund.objects.filter(line__payment__in=paid.filter(currency=row["currency"]))
        refunded = refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(s=Sum("amount"))["s"] or 0
        fee_refunded = (
            refunds.filter(fee_status=FeeRefundStatus.SUCCEEDED).aggregate(s=Sum("fee_share"))["s"] or 0
        )
        totals[row["currency"]] = PaymentTotals(
            count=row["n"],
            amount=row["amount_sum"] or 0,
            vat=row["vat_sum"] or 0,
            platform_fee=row["fee_sum"] or 0,
            refunded=refunded,
            fee_refunded=fee_refunded,
        )
    return totals


def booking_payment(booking: Any) -> Payment | None:
    """The payment of a booking with its lines and refunds (None for a free booking)."""
    return Payment.objects.prefetch_related("lines__refund").filter(booking_id=booking.pk).first()


def spot_payment(reservation: Any) -> tuple[PaymentLine | None, Refund | None]:
    """A paid spot's line and its refund (if any): (None, None) when the spot was not paid."""
    line = (
        PaymentLine.objects.select_related("payment")
        .filter(reservation_id=reservation.pk, payment__status=PaymentStatus.PAID)
        .first()
    )
    if line is None:
        return None, None
    return line, Refund.objects.filter(line=line).first()


def payment_anomalies_for_staff(limit: int = 50) -> list[PaymentAnomaly]:
    """The latest events that named a payment but not its money (platform staff only)."""
    return list(
        PaymentAnomaly.objects.select_related("event", "payment__booking", "organisation").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def payment_documents(payment: Payment | None) -> list[BillingDocument]:
    """A payment's receipt or invoice, then its credit notes, in number order."""
    if payment is None:
        return []
    return list(BillingDocument.objects.filter(payment=payment).order_by("number"))


def booking_document(*, booking: Any, access_token: str) -> BillingDocument | None:
    """One of this booking's documents by its own unguessable token (None for any other)."""
    if not access_token:
        return None
    return (
        BillingDocument.objects.select_related("payment")
        .filter(payment__booking=booking, access_token=access_token)
        .first()
    )


def organisation_document(
    *, organisation: Organisation | None, payment: Payment, document_id: int
) -> BillingDocument:
    """A document of a payment the caller may see (``get_payment_for`` did the tenancy check)."""
    query = BillingDocument.objects.filter(payment=payment, pk=document_id)
    if organisation is not None:
        query = query.filter(organisation=organisation)
    document = query.first()
    if document is None:
        raise Http404
    return document
