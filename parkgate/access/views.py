"""The virtual remote control: the personal page behind the link in the confirmation e-mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from parkgate.access.decisions import Reason, sentence
from parkgate.access.models import AccessEvent, AccessMethod, Reservation
from parkgate.access.reachability import lot_unreachable
from parkgate.access.selectors import active_gates, ways_in
from parkgate.access.ways import remote_control_open as open_for_link
from parkgate.access.ways import remote_control_rate_ok, remote_control_state
from parkgate.parking.models import Gate


def _reservation(token: str) -> Reservation:
    return get_object_or_404(
        Reservation.objects.select_related("lot", "parker", "policy"), remote_control_token=token
    )


def _language(request: HttpRequest, reservation: Reservation) -> None:
    # The booking's language, unless the visitor picked one on this device.
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(reservation.language)
        request.LANGUAGE_CODE = translation.get_language()


def _local_when(value: datetime, *, zone: ZoneInfo, now: datetime) -> str:
    local, today = value.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return dateformat.format(local, "H:i")
    return dateformat.format(local, "l j F Y H:i")


def _page_context(reservation: Reservation) -> dict[str, Any]:
    now = timezone.now()
    state = remote_control_state(reservation, at=now)
    zone = reservation.lot.zone
    context: dict[str, Any] = {
        "reservation": reservation,
        "state": state,
        "usable": state.granted,
        "gates": active_gates(reservation.lot) if state.granted else [],
        "explanation": sentence(state.reason, state.details, zone=zone, now=now),
    }
    if state.reason == Reason.RESERVATION_NOT_STARTED:
        context["works_from"] = _local_when(state.details["opens_at"], zone=zone, now=now)
    if state.granted:
        # The other ways in, offered when a press cannot work: the site runs on its own
        # (docs/site-agent.md), or this phone cannot reach Parkgate (the page's offline message).
        ways = ways_in(reservation.lot)
        context["keypad_code"] = reservation.keypad_code if AccessMethod.KEYPAD in ways else ""
        context["plate_works"] = AccessMethod.ANPR in ways and bool(reservation.plate_text)
        context["unreachable"] = lot_unreachable(reservation.lot, now=now)
    return context


@never_cache  # what the page says depends on the time: never show a stale copy
@require_GET
def remote_control(request: HttpRequest, token: str) -> HttpResponse:
    reservation = _reservation(token)
    _language(request, reservation)
    context = _page_context(reservation)
    attempt = request.GET.get("attempt", "")
    if attempt.isdigit():
        context["attempt"] = AccessEvent.objects.filter(pk=int(attempt), reservation=reservation).first()
    return render(request, "access/remote_control.html", context)


@never_cache
@require_POST
def remote_control_open(request: HttpRequest, token: str, gate_id: int) -> HttpResponse:
    reservation = _reservation(token)
    _language(request, reservation)
    gate = get_object_or_404(Gate, pk=gate_id, lot_id=reservation.lot_id, is_active=True)
    page = reverse("access:remote_control", args=[token])
    if not remote_control_rate_ok(reservation):
        message = _("Too many attempts. Wait a minute, then try again.")
        if request.htmx:  # type: ignore[attr-defined]
            # htmx does not swap error responses: the message must come with a 200 to be seen.
            return render(request, "access/_open_result.html", {"error": message, "gate": gate})
        context = _page_context(reservation) | {"rate_error": message}
        return render(request, "access/remote_control.html", context, status=429)
    event = open_for_link(reservation=reservation, gate=gate)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "access/_open_result.html", {"attempt": event, "gate": gate})
    return redirect(f"{page}?attempt={event.pk}")
