from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking, BookingStatus
from tests.booking.conftest import visitor_post

pytestmark = pytest.mark.django_db(transaction=False)


def url(pw):  # type: ignore[no-untyped-def]
    return reverse("booking:invitation", args=[pw.portal.slug, pw.invitation.token])


def test_start_page_renders_slots_with_free_spots(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url(portal_world) + f"?date={portal_world.monday.isoformat()}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "09:00\u201313:00" in body and "10 spots free" in body


def test_free_portal_books_two_visitors_all_at_once(
    client, portal_world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    slot = portal_world.portal.slots.get(start_minute=9 * 60)
    data = {"date": portal_world.monday.isoformat(), "time": str(slot.pk), "spots": "2"}
    data |= visitor_post(0, "Jeanne", "Dupont", "1-abc-123", "jeanne@example.com")
    data |= visitor_post(1, "Piet", "Peeters", "2 xyz 987", "piet@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(portal_world), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED and booking.spots == 2
    reservations = list(Reservation.objects.filter(group_id=booking.group_id).order_by("plate_text"))
    assert [r.plate_text for r in reservations] == ["1-ABC-123", "2 XYZ 987"]
    assert all(r.status == ReservationStatus.CONFIRMED for r in reservations)
    assert sorted(m.to[0] for m in mail.outbox) == ["jeanne@example.com", "piet@example.com"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert booking.reference in page.content.decode()
