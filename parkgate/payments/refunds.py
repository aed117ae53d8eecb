"""Refunds of cancelled spots: that spot's price from the organisation's account, and the
platform's exact fee share for that spot given back.

:func:`spot_refund_request` runs inside the cancellation's transaction (the Refund row, pending,
unique per line: a second cancellation finds it). After commit :func:`refund_send` talks to Stripe
with deterministic idempotency keys, outside any lock; an error or timeout leaves the refund
pending and :func:`refunds_retry` sends the very same requests again (Stripe replays the first
answer, so a spot is never refunded twice).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import stripe
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from parkgate.access.models import Reservation
from parkgate.core.audit import audit_log
from parkgate.payments import gateway
from parkgate.payments.documents import credit_note_cancel, credit_note_issue
from parkgate.payments.models import (
    FeeRefundStatus,
    Payment,
    PaymentLine,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from parkgate.payments.signals import refund_failed

logger = logging.getLogger(__name__)


def _refund_for_line(line: PaymentLine) -> Refund:
    refund, created = Refund.objects.get_or_create(
        line=line,
        defaults={
            "amount": line.amount,
            "fee_share": line.fee_share,
            "fee_status": FeeRefundStatus.PENDING if line.fee_share > 0 else FeeRefundStatus.NONE,
        },
    )
    if created:
        credit_note_issue(refund=refund)
        audit_log(
            action="payments.refund.requested",
            organisation=line.payment.organisation_id,
            actor_label="system",
            obj=refund,
            data={"reservation": line.reservation_id, "amount": refund.amount, "fee_share": refund.fee_share},
        )
        refund_id = refund.pk
        transaction.on_commit(lambda: refund_send_by_id(refund_id))
    return refund


def spot_refund_request(*, reservation: Reservation, now: datetime | None = None) -> Refund | None:
    """Refund a cancelled, paid spot that had not started (call in the cancellation's transaction).

    None when there is nothing to refund: a free booking, an unpaid payment, or a reservation that
    had already started (unused time is not refunded).
    """
    now = now or timezone.now()
    line = (
        PaymentLine.objects.select_related("payment")
        .filter(reservation_id=reservation.pk, payment__status=PaymentStatus.PAID)
        .first()
    )
    if line is None or reservation.start <= now:
        return None
    return _refund_for_line(line)


def refunds_full_request(*, payment: Payment) -> list[Refund]:
    """Refund every line of a payment (paid, but its spots could not be confirmed)."""
    return [_refund_for_line(line) for line in payment.lines.select_related("payment").order_by("pk")]


def refund_send_by_id(refund_id: int) -> None:
    refund = Refund.objects.select_related("line__payment").filter(pk=refund_id).first()
    if refund is not None:
        refund_send(refund=refund)


def _fee_id(client: stripe.StripeClient, payment: Payment) -> str:
    """The application fee of the payment's charge (read from Stripe once, then kept)."""
    if payment.application_fee_id:
        return payment.application_fee_id
    intent = client.v1.payment_intents.retrieve(
        payment.payment_intent_id,
        params={"expand": ["latest_charge"]},
        options={"stripe_account": payment.stripe_account_id},
    )
    charge: Any = intent.latest_charge
    fee = getattr(charge, "application_fee", None) if charge is not None else None
    fee_id = fee if isinstance(fee, str) else getattr(fee, "id", "") or ""
    if fee_id:
        Payment.objects.filter(pk=payment.pk).update(application_fee_id=fee_id)
        payment.application_fee_id = fee_id
    return fee_id


def refund_send(*, refund: Refund) -> Refund:
    """Send the refund (and the fee refund) to Stripe. Safe to call any number of times."""
    line = refund.line
    payment = line.payment
    client = gateway.stripe_client()
    Refund.objects.filter(pk=refund.pk).update(attempts=refund.attempts + 1)
    try:
        if not refund.stripe_refund_id:
            created = client.v1.refunds.create(
                params={
                    "payment_intent": payment.payment_intent_id,
                    "amount": refund.amount,
                    "metadata": {"reservation": str(line.reservation_id), "payment": str(payment.pk)},
                },
                options={
                    "stripe_account": payment.stripe_account_id,
                    "idempotency_key": gateway.refund_idempotency_key(line.reservation_id),
                },
            )
            refund_update(refund=refund, stripe_refund=created.to_dict())
        if refund.fee_status == FeeRefundStatus.PENDING and refund.fee_share > 0:
            fee_id = _fee_id(client, payment)
            fee_refund = client.v1.application_fees.refunds.create(
                fee_id,
                params={"amount": refund.fee_share, "metadata": {"reservation": str(line.reservation_id)}},
                options={"idempotency_key": gateway.fee_refund_idempotency_key(line.reservation_id)},
            )
            with transaction.atomic():
                locked = Refund.objects.select_for_update().get(pk=refund.pk)
                locked.fee_status = FeeRefundStatus.SUCCEEDED
                locked.stripe_fee_refund_id = fee_refund.id
                locked.save(update_fields=["fee_status", "stripe_fee_refund_id"])
                audit_log(
                    action="payments.refund.fee_refunded",
                    organisation=payment.organisation_id,
                    actor_label="Stripe",
                    obj=locked,
                    data={"amount": locked.fee_share, "fee_refund": fee_refund.id},
                )
            refund.fee_status, refund.stripe_fee_refund_id = locked.fee_status, locked.stripe_fee_refund_id
    except stripe.StripeError as error:
        # Left pending; refunds_retry sends the same requests (same idempotency keys) again.
        logger.warning("refund %s not sent yet: %s", refund.pk, error)
        Refund.objects.filter(pk=refund.pk).update(failure_reason=str(error)[:500])
    return refund


def refund_update(*, refund: Refund | None = None, stripe_refund: dict[str, Any]) -> Refund | None:
    """Apply Stripe's view of a refund (from our own call or a refund.* event). None if unknown."""
    with transaction.atomic():
        query = Refund.objects.select_for_update().select_related("line__payment")
        found: Refund | None
        if refund is not None:
            found = query.get(pk=refund.pk)
        else:
            found = query.filter(stripe_refund_id=stripe_refund["id"]).first()
            reservation_id = str((stripe_refund.get("metadata") or {}).get("reservation") or "")
            if found is None and reservation_id.isdigit():
                # The event came before our own call returned: match it by its reservation.
                found = query.filter(
                    line__reservation_id=int(reservation_id), stripe_refund_id__isnull=True
                ).first()
            if found is None:
                return None
        locked = found
        was = locked.status
        status = {
            "succeeded": RefundStatus.SUCCEEDED,
            "failed": RefundStatus.FAILED,
            "canceled": RefundStatus.FAILED,
        }.get(str(stripe_refund.get("status")), RefundStatus.PENDING)
        changed = locked.stripe_refund_id != stripe_refund["id"] or locked.status != status
        # Forward only: a settled refund does not go back to pending on a late event.
        if locked.status != RefundStatus.PENDING and status == RefundStatus.PENDING:
            status = RefundStatus(locked.status)
        locked.stripe_refund_id = stripe_refund["id"]
        if status != locked.status:
            locked.status = status
            locked.settled_at = timezone.now() if status != RefundStatus.PENDING else None
            locked.failure_reason = (
                str(stripe_refund.get("failure_reason") or "")[:500] if status == RefundStatus.FAILED else ""
            )
        locked.save(update_fields=["stripe_refund_id", "status", "settled_at", "failure_reason"])
        if locked.status == RefundStatus.FAILED:
            # The money did not go back: the credit note no longer stands (a debit note cancels it).
            debit_note = credit_note_cancel(refund=locked)
            if was != RefundStatus.FAILED:
                # Once, whatever the replays: the payer was told "refunded" and must hear otherwise.
                refund_failed.send(sender=Refund, refund=locked, debit_note=debit_note)
        if changed:
            audit_log(
                action=f"payments.refund.{locked.status}",
                organisation=locked.line.payment.organisation_id,
                actor_label="Stripe",
                obj=locked,
                data={"stripe_refund": locked.stripe_refund_id, "amount": locked.amount},
            )
    if refund is not None:
        refund.stripe_refund_id, refund.status = locked.stripe_refund_id, locked.status
        refund.settled_at, refund.failure_reason = locked.settled_at, locked.failure_reason
    return locked


def refunds_unsent() -> QuerySet[Refund]:
    """Refunds whose request (or fee refund) has not reached Stripe yet."""
    return Refund.objects.filter(stripe_refund_id__isnull=True).exclude(
        status=RefundStatus.FAILED
    ) | Refund.objects.filter(fee_status=FeeRefundStatus.PENDING)


def refunds_retry() -> int:
    """Send again every refund not yet accepted by Stripe (same keys: never twice). Returns how many."""
    count = 0
    for refund in refunds_unsent().select_related("line__payment").order_by("pk"):
        refund_send(refund=refund)
        count += 1
    return count
