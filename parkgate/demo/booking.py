"""Demo data for the visitor booking flow: an invitation to click through, and one booking.

Idempotent. Uses the portal the portal app's demo created for Acme when there is one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from parkgate.access.capacity import ReservationError
from parkgate.booking.models import Booking
from parkgate.booking.services import BookingPlan, BookingRefused, VisitorDetails, booking_submit
from parkgate.demo.base import DemoContext
from parkgate.portal.models import Invitation, PortalSlot, VisitorPortal

DEMO_VISITOR_EMAIL = "jeanne.dupont@example.com"


def load(ctx: DemoContext) -> None:
    portal = (
        VisitorPortal.objects.filter(
            organisation=ctx.acme, lot=ctx.lot, is_active=True, payment_enabled=False
        )
        .order_by("pk")
        .first()
    )
    if portal is None:
        portal = VisitorPortal.objects.create(
            organisation=ctx.acme,
            lot=ctx.lot,
            name="Acme visitors",
            slug="acme-visitors",
            languages=["en", "fr", "nl"],
            default_language="en",
            brand_colour="1F4E79",
            max_spots_per_booking=3,
            allow_slots=True,
            allow_custom_time=True,
        )
        portal.policies.add(ctx.visitor_policy)
        PortalSlot.objects.create(portal=portal, start_minute=9 * 60, duration_minutes=240)
        PortalSlot.objects.create(portal=portal, start_minute=13 * 60, duration_minutes=240)
    invitation = Invitation.objects.filter(
        portal=portal, visitor_email=DEMO_VISITOR_EMAIL, revoked_at__isnull=True
    ).first()
    if invitation is None:
        invitation = Invitation.objects.create(
            portal=portal,
            token=secrets.token_urlsafe(24),
            language="en",
            visitor_name="Jeanne Dupont",
            visitor_email=DEMO_VISITOR_EMAIL,
            message="Welcome to Acme! Park on level -1.",
        )
    if not Booking.objects.filter(portal=portal).exists():
        _demo_booking(invitation)
    ctx.links += [
        (
            "Visitor portal (demo invitation)",
            reverse("booking:invitation", args=[portal.slug, invitation.token]),
        ),
        ("Visitor bookings (back office)", reverse("backoffice:booking_list")),
    ]


def _demo_booking(invitation: Invitation) -> None:
    portal = invitation.portal
    day = timezone.now().astimezone(portal.lot.zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    try:
        booking_submit(
            invitation=invitation,
            plan=BookingPlan(days=(day,), start_minute=9 * 60, end_minute=13 * 60, spots=2),
            visitors=[
                VisitorDetails("Jeanne", "Dupont", "1-JDU-001", "jeanne.dupont@example.com"),
                VisitorDetails("Pieter", "Claes", "2-PCL-002", "pieter.claes@example.com"),
            ],
            language="fr",
        )
    except (BookingRefused, ReservationError):
        return  # the demo lot is closed or full on that day: the list stays empty, nothing breaks
