"""The virtual remote control page behind the confirmation e-mail's link."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from parkgate.access.models import AccessEvent, AccessMethod, GateResult, ReservationStatus
from parkgate.access.simulator import ShellySimulator
from tests import factories as f
from tests.access.gate_support import TopicSpy, fast_passwords, mqtt_prefix, shelly, spy, use_shelly

FIXTURES = (fast_passwords, mqtt_prefix, shelly, spy)


def _reservation(world, now, *, start_in: timedelta = timedelta(minutes=-10), hours: int = 2, **extra):
    start = now + start_in
    parker = f.ParkerFactory(managed_by=world.tenant, first_name="Lena", last_name="Maes")
    return f.ReservationFactory(
        parker=parker,
        policy=world.visitor_policy,
        start=start,
        end=start + timedelta(hours=hours),
        plate_text="1-ABC-123",
        plate_key="1ABC123",
        **extra,
    )


def _page(token: str) -> str:
    return reverse("access:remote_control", args=[token])


def _open(token: str, gate_id: int) -> str:
    return reverse("access:remote_control_open", args=[token, gate_id])


def test_page_in_window_shows_a_button_per_active_gate(world, client: Client, pinned_now: datetime) -> None:
    reservation = _reservation(world, pinned_now)
    f.GateFactory(lot=world.lot, name="Old barrier", direction="entry", is_active=False)
    response = client.get(_page(reservation.remote_control_token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Central Garage" in html and "Lena Maes" in html and "1-ABC-123" in html
    assert _open(reservation.remote_control_token, world.entry.pk) in html
    assert _open(reservation.remote_control_token, world.exit.pk) in html
    assert "Open Entry" in html and "Open Exit" in html and "Old barrier" not in html
    assert 'hx-post="' in html and "Opening the gate…" in html
    assert "no-store" in response["Cache-Control"]


def test_htmx_open_commands_the_shelly_relay(
    world, client: Client, shelly: ShellySimulator, pinned_now: datetime
) -> None:
    reservation = _reservation(world, pinned_now)
    use_shelly(world.entry, shelly.prefix)
    response = client.post(_open(reservation.remote_control_token, world.entry.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Entry is opening." in response.content.decode()
    event = AccessEvent.objects.get()
    assert (event.method, event.reservation, event.parker, event.gate) == (
        AccessMethod.REMOTE_CONTROL,
        reservation,
        reservation.parker,
        world.entry,
    )
    assert (event.granted, event.reason, event.result) == (True, "granted_reservation", GateResult.OPENED)
    assert event.plate_text == "1-ABC-123"
    [pulse] = shelly.pulses
    assert pulse.request_id == str(event.command_id) and pulse.toggle_after == 1.5


def test_open_without_javascript_redirects_to_the_result(world, client: Client, pinned_now: datetime) -> None:
    reservation = _reservation(world, pinned_now)
    response = client.post(_open(reservation.remote_control_token, world.exit.pk))
    event = AccessEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_page(reservation.remote_control_token)}?attempt={event.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "Exit is opening." in page
    # Another reservation's event id shows nothing on this page.
    other = _reservation(world, pinned_now)
    assert (
        "is opening"
        not in client.get(f"{_page(other.remote_control_token)}?attempt={event.pk}").content.decode()
    )


def test_open_needs_csrf(world, pinned_now) -> None:
    reservation = _reservation(world, pinned_now)
    client = Client(enforce_csrf_checks=True)
    response = client.post(_open(reservation.remote_control_token, world.entry.pk))
    assert response.status_code == 403
    assert not AccessEvent.objects.exists()
    page = client.get(_page(reservation.remote_control_token))
    token = page.cookies["csrftoken"].value
    ok = client.post(_open(reservation.remote_control_token, world.entry.pk), {"csrfmiddlewaretoken": token})
    assert ok.status_code == 302
    assert AccessEvent.objects.get().result == GateResult.OPENED


def test_open_is_post_only(world, client: Client, pinned_now: datetime) -> None:
    reservation = _reservation(world, pinned_now)
    assert client.get(_open(reservation.remote_control_token, world.entry.pk)).status_code == 405
    assert not AccessEvent.objects.exists()


def test_before_the_window_the_page_says_when_it_works_and_nothing_opens(
    world, client: Client, shelly: ShellySimulator, spy: TopicSpy, pinned_now: datetime
) -> None:
    reservation = _reservation(world, pinned_now, start_in=timedelta(hours=3))
    use_shelly(world.entry, shelly.prefix)
    html = client.get(_page(reservation.remote_control_token)).content.decode()
    local = (reservation.start - timedelta(minutes=15)).astimezone(world.lot.zone)
    starts = reservation.start.astimezone(world.lot.zone)
    assert "Booking starts at" in html and starts.strftime("%H:%M") in html
    assert "appear on this page from" in html and local.strftime("%H:%M") in html
    assert _open(reservation.remote_control_token, world.entry.pk) not in html
    # A crafted POST is decided (and logged) but opens nothing.
    response = client.post(_open(reservation.remote_control_token, world.entry.pk), HTTP_HX_REQUEST="true")
    assert "The gate stays closed." in response.content.decode()
    event = AccessEvent.objects.get()
    assert (event.granted, event.reason, event.result) == (
        False,
        "reservation_not_started",
        GateResult.NOT_ATTEMPTED,
    )
    spy.barrier()
    assert spy.rpc_requests() == [] and shelly.pulses == []


def test_grace_before_start_and_after_end(world, client: Client, settings, pinned_now: datetime) -> None:
    settings.ACCESS_GRACE_BEFORE_MINUTES = 15
    settings.ACCESS_GRACE_AFTER_MINUTES = 15
    early = _reservation(world, pinned_now, start_in=timedelta(minutes=10))
    assert "Open Entry" in client.get(_page(early.remote_control_token)).content.decode()
    late = _reservation(world, pinned_now, start_in=timedelta(hours=-2, minutes=-10))  # ended 10 minutes ago
    assert "Open Entry" in client.get(_page(late.remote_control_token)).content.decode()
    over = _reservation(world, pinned_now, start_in=timedelta(hours=-2, minutes=-20))  # ended 20 minutes ago
    html = client.get(_page(over.remote_control_token)).content.decode()
    assert "Booking ended at" in html and "Open Entry" not in html


def test_cancelled_reservation_opens_nothing(world, client: Client, pinned_now: datetime) -> None:
    reservation = _reservation(world, pinned_now, status=ReservationStatus.CANCELLED)
    html = client.get(_page(reservation.remote_control_token)).content.decode()
    assert "This booking was cancelled." in html and "Open Entry" not in html
    client.post(_open(reservation.remote_control_token, world.entry.pk))
    event = AccessEvent.objects.get()
    assert (event.granted, event.reason, event.result) == (
        False,
        "reservation_cancelled",
        GateResult.NOT_ATTEMPTED,
    )


def test_rate_limited_through_the_shared_cache(world, client: Client, settings, pinned_now: datetime) -> None:
    settings.REMOTE_CONTROL_OPENS_PER_MINUTE = 2
    reservation = _reservation(world, pinned_now)
    url = _open(reservation.remote_control_token, world.entry.pk)
    assert client.post(url).status_code == 302
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 200
    limited = client.post(url, HTTP_HX_REQUEST="true")
    assert limited.status_code == 200  # htmx swaps only successful answers
    assert "Too many attempts. Wait a minute, then try again." in limited.content.decode()
    assert client.post(url).status_code == 429
    assert AccessEvent.objects.count() == 2
    # Another link has its own allowance.
    other = _reservation(world, pinned_now)
    assert client.post(_open(other.remote_control_token, world.entry.pk)).status_code == 302


def test_unknown_token_and_foreign_gate_are_404(world, client: Client, pinned_now: datetime) -> None:
    reservation = _reservation(world, pinned_now)
    foreign_gate = f.GateFactory(lot=world.outsider_lot, name="Their gate")
    assert client.get(_page("not-a-token")).status_code == 404
    assert client.post(_open("not-a-token", world.entry.pk)).status_code == 404
    assert client.post(_open(reservation.remote_control_token, foreign_gate.pk)).status_code == 404
    assert not AccessEvent.objects.exists()


def test_page_speaks_the_booking_language(world, client: Client, pinned_now: datetime) -> None:
    reservation = _reservation(world, pinned_now, language="fr")
    html = client.get(_page(reservation.remote_control_token)).content.decode()
    assert "Télécommande virtuelle" in html and "Ouvrir Entry" in html
    client.cookies["django_language"] = "nl"
    html = client.get(_page(reservation.remote_control_token)).content.decode()
    assert "Virtuele afstandsbediening" in html


@pytest.mark.parametrize("outcome", ["failed", "timed_out"])
def test_gate_failure_is_shown_and_recorded(
    world, client: Client, outcome: str, pinned_now: datetime
) -> None:
    reservation = _reservation(world, pinned_now)
    world.entry.driver_settings = {"outcome": outcome}
    world.entry.save()
    html = client.post(
        _open(reservation.remote_control_token, world.entry.pk), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "please call reception" in html
    assert AccessEvent.objects.get().result == outcome
