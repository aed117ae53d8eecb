"""Issue 11: a visitor booking with a plate already registered to someone else of the lot's
organisations is warned (not refused), and the control room search shows both people."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from parkgate.booking.models import Booking, BookingStatus
from parkgate.parking.models import Parker
from parkgate.parking.services import parker_save
from tests.booking.conftest import booking_post

SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
MONDAY = date(2026, 11, 30)
WARNING = (
    "The plate 1-ABC-123 is already registered to someone else at this car park. The booking stands, "
    "but the camera cannot tell the two apart: check the plate, or tell your host if this car is shared."
)


def _member(world, plate: str) -> Parker:
    return parker_save(
        parker=Parker(managed_by=world.tenant, organisation=world.tenant, first_name="Eva", last_name="Roos"),
        plates=[plate],
        actor=None,
    )


@time_machine.travel(SATURDAY, tick=False)
def test_a_plate_already_registered_to_someone_else_is_warned_not_refused(
    world, portal_world, client, client_for
) -> None:  # type: ignore[no-untyped-def]
    # Other spellings of the visitor's 1-abc-123: the one rule says both are 1ABC123.
    _member(world, "1-ÄBC-123")
    _member(world, "\uff11\uff21BC\uff11 23")  # fullwidth digits and letter A
    response = client.post(portal_world.url, booking_post(portal_world, day=MONDAY))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    page = client.get(response["Location"]).content.decode()
    assert html.escape(WARNING) in page
    assert "Roos" not in page  # the booker is warned, not told who
    # The control room finds everyone with that plate.
    desk = client_for(world.receptionist)
    results = desk.get(reverse("controlroom:lot", args=[world.lot.pk]), {"q": "1abc123"}).content.decode()
    assert "Jeanne Dupont" in results and results.count("Eva Roos") == 2


@time_machine.travel(SATURDAY, tick=False)
def test_no_warning_for_a_plate_nobody_else_has(world, portal_world, client) -> None:  # type: ignore[no-untyped-def]
    _member(world, "9-XYZ-999")
    response = client.post(portal_world.url, booking_post(portal_world, day=MONDAY))
    page = client.get(response["Location"]).content.decode()
    assert "already registered to someone else" not in page
