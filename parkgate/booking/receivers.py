"""What the booking does when payments reports on its payment (``parkgate.payments.signals``).

Connected in ``BookingConfig.ready()``. Each runs inside the payment's transaction; the booking and
its reservations change here and nowhere in payments.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from parkgate.access.capacity import (
    CapacityBusy,
    CapacityFull,
    ReservationError,
    reservation_cancel,
    reservations_confirm,
)
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import BookingStatus
from parkgate.booking.services import (
    booking_notify_confirmed,
    booking_notify_paid_too_late,
    booking_notify_refund_failed,
)
from parkgate.payments.models import BillingDocument, Payment, Refund
from parkgate.payments.refunds import refunds_full_request


def on_payment_processing(*, payment: Payment, hold_until: datetime, **_: Any) -> None:
    """A delayed debit started: the held spots stay held until it settles."""
    Reservation.objects.filter(group_id=payment.booking.group_id, status=ReservationStatus.HELD).update(
        hold_expires_at=hold_until
    )


def on_payment_paid(*, payment: Payment, **_: Any) -> None:
    """Confirm the held spots and the booking and queue its e-mails; paid too late: give it back."""
    booking = payment.booking
    try:
        with transaction.atomic():
            reservations_confirm(group_id=booking.group_id, actor_label="payment")
    except CapacityBusy:
        raise  # the lot lock was busy: nothing is stored, the webhook answers 503 and Stripe retries
    except (CapacityFull, ReservationError):
        # Paid too late: the spots went to someone else. Give everything back.
        booking.status = BookingStatus.EXPIRED
        booking.save(update_fields=["status"])
        Reservation.objects.filter(group_id=booking.group_id, status=ReservationStatus.HELD).update(
            status=ReservationStatus.EXPIRED
        )
        refunds_full_request(payment=payment)
        booking_notify_paid_too_late(booking=booking)
        return
    booking.status = BookingStatus.CONFIRMED
    booking.save(update_fields=["status"])
    booking_notify_confirmed(booking=booking)


def on_payment_released(*, payment: Payment, **_: Any) -> None:
    """Failed or expired before it was paid: the held spots are freed, the booking expired."""
    booking = payment.booking
    for reservation in Reservation.objects.filter(group_id=booking.group_id, status=ReservationStatus.HELD):
        reservation_cancel(reservation=reservation, actor_label="payment", allow_started=True)
    booking.status = BookingStatus.EXPIRED
    booking.save(update_fields=["status"])


def on_refund_failed(*, refund: Refund, debit_note: BillingDocument | None, **_: Any) -> None:
    """A refund Stripe could not make: the person who paid is told, with the debit note."""
    booking_notify_refund_failed(booking=refund.line.payment.booking, refund=refund, debit_note=debit_note)
