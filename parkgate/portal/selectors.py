"""Reads about portals and invitations. Tenant objects come only through these helpers (404 outside)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation
from parkgate.core.models import OutboundEmail
from parkgate.portal.models import Invitation, VisitorPortal

# Bookings that count against an invitation's maximum: cancelled and expired ones give it back.
# The values of booking.models.BookingStatus.CONFIRMED and AWAITING_PAYMENT (the booking app sits
# above this one, so it is not imported; tests/booking/test_flow.py pins the two together).
COUNTED_BOOKING_STATUSES = ("confirmed", "awaiting_payment")


def portals_of(organisation: Organisation) -> QuerySet[VisitorPortal]:
    return (
        VisitorPortal.objects.filter(organisation=organisation)
        .select_related("lot")
        .annotate(
            invitation_count=Count("invitations", distinct=True),
            booking_count=Count("bookings", distinct=True),
        )
    )


def get_portal_for_organisation(organisation: Organisation, portal_id: int) -> VisitorPortal:
    return get_object_or_404(
        VisitorPortal.objects.select_related("lot", "organisation"), pk=portal_id, organisation=organisation
    )


def get_invitation_for_organisation(
    organisation: Organisation, portal_id: int, invitation_id: int
) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("portal", "portal__lot", "portal__organisation", "created_by"),
        pk=invitation_id,
        portal_id=portal_id,
        portal__organisation=organisation,
    )


def public_prefix() -> str:
    """The start of every portal's public address (the booking app's /visit/)."""
    return f"{settings.SITE_URL}/visit/"


def portal_public_url(portal: VisitorPortal) -> str:
    """The public address shown to staff: where the portal's invitations live."""
    return f"{public_prefix()}{portal.slug}/"


def invitation_url(invitation: Invitation) -> str:
    """The public address of an invitation: in e-mails, QR codes and "copy link"."""
    path = reverse(
        "booking:invitation", kwargs={"portal_slug": invitation.portal.slug, "token": invitation.token}
    )
    return f"{settings.SITE_URL}{path}"


def invitation_emails(invitation: Invitation) -> QuerySet[OutboundEmail]:
    """The e-mails that carried this invitation, newest first, with their delivery status."""
    return OutboundEmail.objects.filter(
        kind="portal.invitation", object_type=Invitation._meta.label_lower, object_id=str(invitation.pk)
    ).order_by("-created_at", "-id")


def lot_today(portal: VisitorPortal) -> date:
    return timezone.now().astimezone(portal.lot.zone).date()


# --- Invitation state ------------------------------------------------------------------------


class InvitationState(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    USED_UP = "used_up"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    InvitationState.ACTIVE: _("Active"),
    InvitationState.REVOKED: _("Revoked"),
    InvitationState.USED_UP: _("Used up"),
    InvitationState.EXPIRED: _("Expired"),
}


@dataclass(frozen=True)
class AllowedDates:
    """The days an invitation lets its visitor book. ``None`` bounds are open (no date: any day)."""

    first: date | None
    last: date | None

    def allows(self, day: date) -> bool:
        return (self.first is None or day >= self.first) and (self.last is None or day <= self.last)


def invitation_allowed_dates(invitation: Invitation, today: date) -> AllowedDates:
    """Which days the invitation allows, never before ``today`` (the lot's local date)."""
    if invitation.date is not None:
        first: date | None = invitation.date
        last: date | None = invitation.date
    else:
        first, last = invitation.date_from, invitation.date_until
    if first is None or first < today:
        first = today
    return AllowedDates(first=first, last=last)


def counted_bookings(invitation: Invitation) -> int:
    return invitation.bookings.filter(status__in=COUNTED_BOOKING_STATUSES).count()


def invitation_state(invitation: Invitation, today: date, *, bookings: int | None = None) -> InvitationState:
    """What the invitation's link does today (``today`` in the lot's timezone).

    Invitations without a date never expire; ``bookings`` may be passed when already counted.
    """
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    last = invitation.date if invitation.date is not None else invitation.date_until
    if last is not None and last < today:
        return InvitationState.EXPIRED
    if invitation.max_bookings is not None:
        used = counted_bookings(invitation) if bookings is None else bookings
        if used >= invitation.max_bookings:
            return InvitationState.USED_UP
    return InvitationState.ACTIVE


def invitations_of(
    portal: VisitorPortal, *, state: str = "", today: date | None = None
) -> QuerySet[Invitation]:
    """The portal's invitations with ``booking_count`` (all) and ``counted_booking_count`` annotated."""
    today = today or lot_today(portal)
    invitations = (
        Invitation.objects.filter(portal=portal)
        .select_related("created_by", "revoked_by", "portal")
        .annotate(
            booking_count=Count("bookings", distinct=True),
            counted_booking_count=Count(
                "bookings", filter=Q(bookings__status__in=COUNTED_BOOKING_STATUSES), distinct=True
            ),
        )
        .order_by("-created_at", "-id")
    )
    revoked = Q(revoked_at__isnull=False)
    expired = Q(date__lt=today) | Q(date__isnull=True, date_until__lt=today)
    used_up = Q(max_bookings__isnull=False, counted_booking_count__gte=F("max_bookings"))
    if state == InvitationState.REVOKED:
        invitations = invitations.filter(revoked)
    elif state == InvitationState.EXPIRED:
        invitations = invitations.filter(expired).exclude(revoked)
    elif state == InvitationState.USED_UP:
        invitations = invitations.filter(used_up).exclude(revoked).exclude(expired)
    elif state == InvitationState.ACTIVE:
        invitations = invitations.exclude(revoked).exclude(expired).exclude(used_up)
    return invitations
