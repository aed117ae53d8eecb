"""Public privacy pages: the notice Parkgate writes for an organisation, and a visitor's erasure request."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET, require_POST

from parkgate.accounts.models import Organisation
from parkgate.booking import selectors as booking_selectors
from parkgate.booking.models import Booking
from parkgate.core.audit import audit_log
from parkgate.privacy.models import ErasureRequest, periods_for


@require_GET
def notice(request: HttpRequest, organisation_slug: str) -> HttpResponse:
    """The privacy notice of an organisation that has none of its own, written from its settings."""
    organisation = get_object_or_404(Organisation, slug=organisation_slug)
    if not organisation.email:
        raise Http404
    asked = request.GET.get("lang", "")
    if asked in dict(settings.LANGUAGES):
        translation.activate(asked)
        request.LANGUAGE_CODE = asked
    context = {
        "organisation": organisation,
        "periods": periods_for(organisation.pk),
        "accounting_years": settings.PRIVACY_ACCOUNTING_YEARS,
    }
    return render(request, "privacy/notice.html", context)


@require_POST
def erasure_request(
    request: HttpRequest, portal_slug: str, token: str, reference: str, key: str
) -> HttpResponse:
    """Whoever holds a booking's confirmation link asks for its visitors' data to go right after the visit."""
    invitation = booking_selectors.get_public_invitation(portal_slug=portal_slug, token=token)
    booking = (
        Booking.objects.filter(reference=reference, invitation=invitation).first() if invitation else None
    )
    # The confirmation address's secret key proves the link is held (the reference alone is not secret).
    if booking is None or not booking.link_key or not constant_time_compare(key, booking.link_key):
        raise Http404
    with transaction.atomic():
        _request, created = ErasureRequest.objects.get_or_create(
            booking=booking, defaults={"requested_at": timezone.now()}
        )
        if created:
            audit_log(
                action="privacy.erasure.requested",
                organisation=booking.portal.organisation_id,
                actor_label="visitor",
                obj=booking,
            )
    return redirect("booking:confirmation", portal_slug, token, reference, booking.link_key)
