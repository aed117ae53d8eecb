"""Issue 14 item 6: editing a portal keeps its slots; a lost race keeps what the visitor typed."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from parkgate.booking.models import Booking
from parkgate.portal.models import PortalSlot
from tests.booking.conftest import booking_post
from tests.booking.test_flow import _fill

pytestmark = pytest.mark.django_db


def _edit_data(pw, **overrides):  # type: ignore[no-untyped-def]
    portal = pw.portal
    data = {
        "name": portal.name,
        "lot": portal.lot_id,
        "is_active": "on",
        "languages": ["en", "fr", "nl"],
        "default_language": "en",
        "brand_colour": "1F4E79",
        "max_spots_per_booking": str(portal.max_spots_per_booking),
        "policies": [p.pk for p in portal.policies.all()],
        "time_selection": "slots",
        "slots-TOTAL_FORMS": "2",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "24",
        "slots-0-start": "09:00",
        "slots-0-duration_hours": "4",
        "slots-1-start": "13:00",
        "slots-1-duration_hours": "4",
    }
    return data | overrides


def test_editing_a_portal_keeps_its_slots_so_an_open_page_still_books(
    client, client_for, world, portal_world
) -> None:  # type: ignore[no-untyped-def]
    morning = portal_world.slot(9)
    visitor_post = booking_post(portal_world)  # the visitor's page was opened with this slot id
    before = set(PortalSlot.objects.filter(portal=portal_world.portal).values_list("pk", flat=True))
    admin = client_for(world.admin)
    edited = admin.post(reverse("portal:edit", args=[portal_world.portal.pk]), _edit_data(portal_world))
    assert edited.status_code == 302
    assert set(PortalSlot.objects.filter(portal=portal_world.portal).values_list("pk", flat=True)) == before
    admin.logout()
    response = client.post(portal_world.url, visitor_post)
    assert response.status_code == 302, response.content.decode()[:400]
    assert Booking.objects.count() == 1
    assert str(Booking.objects.get().portal.slots.get(pk=int(morning)).start_minute) == "540"


def test_a_removed_slot_is_explained_not_select_a_valid_choice(
    client, client_for, world, portal_world
) -> None:  # type: ignore[no-untyped-def]
    visitor_post = booking_post(portal_world, hour=13)
    data = _edit_data(portal_world, **{"slots-1-start": "", "slots-1-duration_hours": ""})
    assert (
        client_for(world.admin).post(reverse("portal:edit", args=[portal_world.portal.pk]), data).status_code
        == 302
    )
    client.logout()
    body = unescape(client.post(portal_world.url, visitor_post).content.decode())
    assert "Select a valid choice" not in body
    assert "This time is no longer offered. Please choose another." in body
    assert not Booking.objects.exists()


def test_losing_the_race_keeps_the_details_and_offers_the_nearest_free_times(
    client, world, portal_world
) -> None:  # type: ignore[no-untyped-def]
    """The visitor saw a free morning; it filled up while they typed two visitors' details."""
    monday = portal_world.monday
    _fill(world, monday, 9, 10)  # the morning is now full (cap 10)
    response = client.post(portal_world.url, booking_post(portal_world, spots=2))
    assert response.status_code == 409 and not Booking.objects.exists()
    nearest = response.context["nearest"]
    tuesday = monday + timedelta(days=1)
    afternoon = portal_world.slot(13)
    assert [(o["start"].date(), o["start"].hour) for o in nearest][:2] == [(monday, 13), (tuesday, 9)]
    assert f"date={monday.isoformat()}&time={afternoon}" in nearest[0]["query"]
    assert "Free at the nearest times" in response.content.decode()
    # Choosing the nearest time opens the details step with what they typed, both visitors.
    details = client.get(portal_world.url + "?" + nearest[0]["query"]).content.decode()
    for typed in (
        "Jeanne",
        "Dupont",
        "1-abc-123",
        "jeanne@example.com",
        "Piet",
        "2 xyz 987",
        "piet@example.com",
    ):
        assert f'value="{typed}"' in details, typed
    # Booked: the draft is gone, the next booking starts clean.
    data = booking_post(portal_world, hour=13, spots=2)
    assert client.post(portal_world.url, data).status_code == 302
    again = client.get(portal_world.url + "?" + nearest[0]["query"]).content.decode()
    assert 'value="Piet"' not in again


def test_typed_times_count_on_a_both_portal_without_ticking_another_time(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    portal = portal_world.portal
    portal.allow_custom_time = True
    portal.save(update_fields=["allow_custom_time"])
    data = booking_post(portal_world)
    del data["time"]
    data |= {"start": "10:00", "end": "12:00"}
    response = client.post(portal_world.url, data)
    assert response.status_code == 302, response.content.decode()[:300]
    (reservation,) = Booking.objects.get().portal.lot.reservations.all()
    zone = portal.lot.zone
    assert (reservation.start.astimezone(zone).hour, reservation.end.astimezone(zone).hour) == (10, 12)


def test_a_both_portal_with_neither_a_slot_nor_times_says_what_to_do(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    portal = portal_world.portal
    portal.allow_custom_time = True
    portal.save(update_fields=["allow_custom_time"])
    data = booking_post(portal_world)
    del data["time"]
    response = client.post(portal_world.url, data)
    assert response.status_code == 409
    assert "Choose a time slot, or enter your arrival and departure." in response.content.decode()
    assert not Booking.objects.exists()
