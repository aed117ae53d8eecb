"""A booking: what one visitor submitted on a portal (one or several spots, one or several days).

Its reservations (one per visitor per day, each with its own credentials) share the booking's
``group_id`` (``Reservation.group_id``); the access app never depends on this app.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.portal.models import Invitation, VisitorPortal


class BookingStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class Booking(models.Model):
    portal = models.ForeignKey(VisitorPortal, on_delete=models.PROTECT, related_name="bookings")
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    group_id = models.UUIDField(unique=True)
    reference = models.CharField(max_length=16, unique=True)
    # The secret part of the confirmation page's address (43 URL-safe characters, 256 bits). The
    # reference alone is not enough: it is read aloud, printed and shown to staff, and an invitation
    # link may be shared by many visitors. Empty for bookings made before it existed (those pages
    # stay reachable only from the browser that booked).
    link_key = models.CharField(max_length=64, blank=True, default="")
    language = models.CharField(max_length=8)
    booker_email = models.EmailField()
    spots = models.PositiveSmallIntegerField()
    days = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=BookingStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference


class BookingNoticeKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    CANCELLATION = "cancellation", _("Cancellation")
    # Paid after the hold ran out and the spots went to someone else: refunded, the payer told.
    PAID_TOO_LATE = "paid_too_late", _("Paid too late")
    # A refund Stripe could not make: the payer told no money went back, with the debit note.
    REFUND_FAILED = "refund_failed", _("Refund failed")


class BookingNoticeStatus(models.TextChoices):
    PENDING = "pending", _("To be written")
    QUEUED = "queued", _("Written, handed to the mailer")
    FAILED = "failed", _("Could not be written")


class BookingNotice(models.Model):
    """An e-mail a booking owes its visitors: the outbox row, written in the SAME transaction as the
    change it reports (confirmed, cancelled), so a committed booking always has its e-mail on the way.

    A background task (after commit) or ``manage.py housekeeping`` renders it into OutboundEmail rows
    (one per visitor), which the mailer sends and retries. ``context`` keeps only what cannot be read
    back from the booking later (who cancelled).
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=BookingNoticeKind.choices)
    # The cancelled reservation (cancellations); confirmations cover every confirmed reservation.
    reservation = models.ForeignKey(
        "access.Reservation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=BookingNoticeStatus.choices, default=BookingNoticeStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    written_at = models.DateTimeField(null=True, blank=True)
    emails = models.ManyToManyField("core.OutboundEmail", blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="booking_notice_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(kind="confirmation"),
                name="one_confirmation_notice_per_booking",
            ),
            models.UniqueConstraint(
                fields=["reservation"],
                condition=models.Q(kind="cancellation"),
                name="one_cancellation_notice_per_reservation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.booking_id} ({self.status})"
