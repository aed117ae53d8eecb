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
