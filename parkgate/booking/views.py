"""The public booking flow. The invitation page is completed by the booking issue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from parkgate.portal.models import Invitation


def invitation(request: HttpRequest, portal_slug: str, token: str) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.select_related("portal"),
        portal__slug=portal_slug,
        token=token,
        revoked_at__isnull=True,
    )
    return render(request, "booking/invitation.html", {"invitation": invitation, "portal": invitation.portal})
