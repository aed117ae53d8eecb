"""Public pages of the access app. The remote control page is completed by the access issue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from parkgate.access.models import Reservation


def remote_control(request: HttpRequest, token: str) -> HttpResponse:
    reservation = get_object_or_404(
        Reservation.objects.select_related("lot", "parker"), remote_control_token=token
    )
    return render(request, "access/remote_control.html", {"reservation": reservation})
