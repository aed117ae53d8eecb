"""The occupancy counts (access_occupancy) follow every write of a reservation, whatever its path.

The capacity check under the lot lock reads them instead of counting the day's reservations
(parkgate.access.models.Occupancy); a count the triggers missed would sell a spot twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Count

from parkgate.access.capacity import (
    CapacityFull,
    ReservationRequest,
    lots_lock,
    occupancy_prune,
    reservation_cancel,
    reservations_create,
)
from parkgate.access.models import Occupancy, Reservation, ReservationSource, ReservationStatus
from tests import factories as f
from tests.polling import wait_for, waiting_on_a_lock

pytestmark = pytest.mark.django_db

KEY = ("lot_id", "start", "end", "policy_id", "organisation_id")


def live() -> dict[tuple[Any, ...], int]:
    """Confirmed reservations per key, counted the slow way."""
    rows = Reservation.objects.filter(status=ReservationStatus.CONFIRMED).values(*KEY).annotate(n=Count("id"))
    return {tuple(row[k] for k in KEY): row["n"] for row in rows}


def kept() -> dict[tuple[Any, ...], int]:
    rows = Occupancy.objects.values_list(*KEY, "confirmed")
    assert all(row[-1] >= 0 for row in rows), rows
    return {tuple(row[:-1]): row[-1] for row in rows if row[-1]}


def test_every_way_of_writing_a_reservation_is_counted() -> None:
    policy = f.AccessPolicyFactory(spot_cap=50)
    other = f.AccessPolicyFactory(lot=policy.lot, organisation=policy.organisation, spot_cap=50)
    f.AllocationFactory(lot=policy.lot, organisation=policy.organisation, spots=50)
    start = f.aware(2026, 12, 7, 9)
    end = start + timedelta(hours=8)

    # The service, confirmed and held.
    made = reservations_create(
        requests=[ReservationRequest(parker=f.ParkerFactory(), policy=policy, start=start, end=end)] * 2,
        source=ReservationSource.BACK_OFFICE,
        now=start - timedelta(days=1),
    )
    held = reservations_create(
        requests=[ReservationRequest(parker=f.ParkerFactory(), policy=policy, start=start, end=end)],
        source=ReservationSource.PORTAL,
        hold_for=timedelta(minutes=15),
        now=start - timedelta(days=1),
    )
    key = (policy.lot_id, start, end, policy.pk, policy.organisation_id)
    assert kept() == live() == {key: 2}

    # bulk_create, bypassing save() and every service.
    f.ReservationFactory.create_batch(3, policy=policy, start=start, end=end)
    Reservation.objects.bulk_create(
        [f.ReservationFactory.build(policy=policy, start=start, end=end, parker=f.ParkerFactory())]
    )
    assert kept() == live() == {key: 6}

    # A hold paid (QuerySet.update), then a cancellation through the service.
    Reservation.objects.filter(pk=held[0].pk).update(status=ReservationStatus.CONFIRMED)
    assert reservation_cancel(reservation=made[0], actor=None, actor_label="test") is True
    assert kept() == live() == {key: 6}

    # Moved to another time, then to another policy: leaves one count for the other.
    moved = Reservation.objects.get(pk=made[1].pk)
    moved.end = end + timedelta(hours=1)
    moved.save()
    Reservation.objects.filter(pk=moved.pk).update(policy=other)
    later = (policy.lot_id, start, end + timedelta(hours=1), other.pk, policy.organisation_id)
    assert kept() == live() == {key: 5, later: 1}

    # A save that changes nothing the count depends on counts nothing twice.
    for reservation in Reservation.objects.filter(status=ReservationStatus.CONFIRMED):
        reservation.plate_text = "1-ABC-234"
        reservation.save()
    assert kept() == live() == {key: 5, later: 1}

    # Deleted (the privacy retention deletes old reservations).
    Reservation.objects.filter(policy=other).delete()
    confirmed = Reservation.objects.filter(policy=policy, status=ReservationStatus.CONFIRMED)
    Reservation.objects.filter(pk__in=list(confirmed.values_list("pk", flat=True)[:2])).delete()
    assert kept() == live()
    assert sum(live().values()) == 3


def test_reservations_written_behind_the_services_back_still_fill_the_lot() -> None:
    """The count is the database's: a bulk import of 9 makes the 10th spot the last one."""
    policy = f.AccessPolicyFactory(spot_cap=10)
    f.AllocationFactory(lot=policy.lot, organisation=policy.organisation, spots=10)
    start = f.aware(2026, 12, 7, 9)
    end = start + timedelta(hours=8)
    Reservation.objects.bulk_create(
        f.ReservationFactory.build(policy=policy, start=start, end=end, parker=f.ParkerFactory())
        for _ in range(9)
    )

    def book() -> list[Reservation]:
        return reservations_create(
            requests=[ReservationRequest(parker=f.ParkerFactory(), policy=policy, start=start, end=end)],
            source=ReservationSource.BACK_OFFICE,
            now=start - timedelta(days=1),
        )

    assert len(book()) == 1
    with pytest.raises(CapacityFull):
        book()
    assert Reservation.objects.filter(policy=policy, status=ReservationStatus.CONFIRMED).count() == 10


def test_counts_left_at_zero_are_deleted_once_their_times_are_over_and_nothing_else() -> None:
    policy = f.AccessPolicyFactory(spot_cap=3)
    f.AllocationFactory(lot=policy.lot, organisation=policy.organisation, spots=3)
    monday = f.aware(2026, 12, 7, 9)
    tuesday = monday + timedelta(days=1)
    hours = timedelta(hours=8)

    def book(start: Any) -> Reservation:
        [made] = reservations_create(
            requests=[
                ReservationRequest(parker=f.ParkerFactory(), policy=policy, start=start, end=start + hours)
            ],
            source=ReservationSource.BACK_OFFICE,
            now=monday - timedelta(days=1),
        )
        return made

    cancelled_monday, cancelled_tuesday = book(monday), book(tuesday)
    book(monday)  # stays at 1
    gone_monday = book(monday + timedelta(hours=1))
    for reservation in (cancelled_monday, cancelled_tuesday):
        assert reservation_cancel(reservation=reservation, actor=None, actor_label="test") is True
    Reservation.objects.filter(pk=gone_monday.pk).delete()  # the retention deletes old ones
    counts = dict(Occupancy.objects.values_list("start", "confirmed"))
    assert counts == {monday: 1, monday + timedelta(hours=1): 0, tuesday: 0}

    # Monday evening: Monday's count at 0 is over and goes; Tuesday's at 0 and Monday's at 1 stay.
    assert occupancy_prune(now=monday + hours + timedelta(hours=2)) == 1
    assert dict(Occupancy.objects.values_list("start", "confirmed")) == {monday: 1, tuesday: 0}
    assert kept() == live()
    assert occupancy_prune(now=monday + hours + timedelta(hours=2)) == 0

    # A count deleted is written again by the next reservation at those times, from 1.
    assert occupancy_prune(now=tuesday + hours + timedelta(minutes=1)) == 1
    for _ in range(3):
        book(tuesday)
    with pytest.raises(CapacityFull):
        book(tuesday)
    assert dict(Occupancy.objects.values_list("start", "confirmed")) == {monday: 1, tuesday: 3}


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_then_the_lots_lock_never_deadlocks_with_a_booking_of_the_same_times() -> None:
    """The member's day cancel cancels, then locks the lot to serve the waiting list. A booking of the
    same times holds the lot's lock and increments the occupancy row that cancellation decrements:
    unless the cancellation takes the lot's lock first, each waits for the other (PostgreSQL then
    kills one of them)."""
    policy = f.AccessPolicyFactory(spot_cap=10)
    f.AllocationFactory(lot=policy.lot, organisation=policy.organisation, spots=10)
    start = f.aware(2026, 12, 7, 9)
    end = start + timedelta(hours=8)

    def request() -> ReservationRequest:
        return ReservationRequest(parker=f.ParkerFactory(), policy=policy, start=start, end=end)

    (mine,) = reservations_create(
        requests=[request()], source=ReservationSource.MEMBER_PAGE, now=start - timedelta(days=1)
    )
    theirs = request()
    errors: list[Exception] = []
    holding, go = threading.Event(), threading.Event()

    def booking() -> None:
        try:
            with transaction.atomic():
                lots_lock([policy.lot_id])
                holding.set()
                go.wait(10)
                reservations_create(
                    requests=[theirs], source=ReservationSource.MEMBER_PAGE, now=start - timedelta(days=1)
                )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def day_cancel() -> None:
        try:
            with transaction.atomic():
                reservation_cancel(reservation=mine, actor_label="member", now=start - timedelta(days=1))
                lots_lock([policy.lot_id])
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    booker = threading.Thread(target=booking)
    booker.start()
    assert holding.wait(10)
    canceller = threading.Thread(target=day_cancel)
    canceller.start()
    wait_for(lambda: waiting_on_a_lock() >= 1, what="the cancellation waiting for a lock")
    go.set()
    booker.join(30)
    canceller.join(30)
    assert errors == []
    assert not booker.is_alive() and not canceller.is_alive()
    key = (policy.lot_id, start, end, policy.pk, policy.organisation_id)
    assert kept() == live() == {key: 1}
