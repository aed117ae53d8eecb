"""Two visitors press Proceed for the last spot at the same instant: one gets it, the other nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from parkgate.access.capacity import CapacityFull, ReservationRequest, reservations_create
from parkgate.access.models import Reservation, ReservationSource
from parkgate.booking.models import Booking
from parkgate.booking.services import BookingPlan, BookingRefused, VisitorDetails, booking_submit
from tests import factories as f
from tests.booking.factories import InvitationFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_last_spot_is_sold_once(world, portal_world) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks across connections (CI runs on PostgreSQL)")
    day = portal_world.monday
    start = f.aware(day.year, day.month, day.day, 9)
    reservations_create(
        requests=[
            ReservationRequest(
                parker=f.ParkerFactory(managed_by=world.tenant),
                policy=world.visitor_policy,
                start=start,
                end=start + timedelta(hours=4),
            )
            for _ in range(9)
        ],
        source=ReservationSource.BACK_OFFICE,
    )
    invitations = [portal_world.invitation, InvitationFactory(portal=portal_world.portal)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            booking_submit(
                invitation=invitations[index],
                plan=BookingPlan(days=(day,), start_minute=9 * 60, end_minute=13 * 60, spots=1),
                visitors=[VisitorDetails("V", f"N{index}", f"PLATE{index}", f"v{index}@example.com")],
                language="en",
            )
            outcomes.append("booked")
        except CapacityFull:
            outcomes.append("full")
        except BookingRefused as error:  # pragma: no cover - would be a bug
            outcomes.append(f"refused: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["booked", "full"]
    assert Booking.objects.count() == 1
    assert Reservation.objects.filter(source=ReservationSource.PORTAL).count() == 1
