"""The capacity engine without concurrency: limits at every instant, all or nothing, holds,
cancellation, keypad codes, audit events and the availability query.

The race between concurrent bookings is tested elsewhere (PostgreSQL concurrency test).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override

from parkgate.access import capacity
from parkgate.access.capacity import (
    CapacityFull,
    ReservationError,
    ReservationRequest,
    availability,
    reservation_cancel,
    reservations_create,
    reservations_expire_holds,
)
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.core.models import AuditEvent
from parkgate.parking.models import AccessPolicy, Allocation, Parker
from tests import factories as f
from tests.conftest import World

BXL = zoneinfo.ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a week before the Monday booked in most tests
MONDAY = date(2026, 1, 12)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BXL, fold=fold)


def ask(
    parker: Parker, policy: AccessPolicy, start: datetime, end: datetime, **kwargs: Any
) -> ReservationRequest:
    return ReservationRequest(parker=parker, policy=policy, start=start, end=end, **kwargs)


def book(parker: Parker, policy: AccessPolicy, start: datetime, end: datetime, **kwargs: Any) -> Reservation:
    (reservation,) = reservations_create(
        requests=[ask(parker, policy, start, end)], source=ReservationSource.BACK_OFFICE, now=NOW, **kwargs
    )
    return reservation


def monday(start_hour: float, end_hour: float) -> tuple[datetime, datetime]:
    def at(hour: float) -> datetime:
        return local(MONDAY, int(hour), round((hour % 1) * 60))

    return at(start_hour), at(end_hour)


@pytest.fixture
def parker(world: World) -> Parker:
    return f.ParkerFactory(managed_by=world.tenant, first_name="Ann", last_name="Peeters")


@pytest.fixture
def capped(world: World) -> AccessPolicy:
    """The world's visitor policy (Mon-Fri 07:00-19:00) with room for two at any instant."""
    world.visitor_policy.spot_cap = 2
    world.visitor_policy.save(update_fields=["spot_cap"])
    return world.visitor_policy


def message(error: ReservationError) -> str:
    with override("en"):
        return str(error.message)


def nothing_written() -> tuple[int, int]:
    return Reservation.objects.count(), AuditEvent.objects.filter(action__startswith="access.").count()


# --- creating ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_writes_confirmed_reservations_with_credentials_and_audit(
    world: World, parker: Parker
) -> None:
    morning, afternoon = monday(9, 13), monday(13, 17)
    created = reservations_create(
        requests=[
            ask(parker, world.visitor_policy, *morning, plate_text="1-abc-123", language="fr"),
            ask(parker, world.visitor_policy, *afternoon),
        ],
        source=ReservationSource.BACK_OFFICE,
        created_by=world.admin,
        now=NOW,
    )
    assert len(created) == 2
    first, second = (Reservation.objects.get(pk=r.pk) for r in created)
    assert (first.start, first.end) == (utc(2026, 1, 12, 8, 0), utc(2026, 1, 12, 12, 0))
    assert (second.start, second.end) == (utc(2026, 1, 12, 12, 0), utc(2026, 1, 12, 16, 0))
    for reservation in (first, second):
        assert reservation.status == ReservationStatus.CONFIRMED
        assert reservation.hold_expires_at is None
        assert (reservation.lot_id, reservation.organisation_id, reservation.policy_id) == (
            world.lot.pk,
            world.tenant.pk,
            world.visitor_policy.pk,
        )
        assert reservation.created_by == world.admin
        assert reservation.source == ReservationSource.BACK_OFFICE
        assert len(reservation.keypad_code) == 6 and reservation.keypad_code.isdigit()
        assert len(reservation.remote_control_token) == 32 and len(reservation.cancel_token) == 32
    assert first.group_id == second.group_id
    assert (first.plate_text, first.plate_key, first.language) == ("1-abc-123", "1ABC123", "fr")
    assert (second.plate_text, second.plate_key, second.language) == ("", "", "en")
    assert len({first.remote_control_token, first.cancel_token, second.remote_control_token}) == 3

    events = AuditEvent.objects.filter(action="access.reservation.created").order_by("object_id")
    assert [(e.object_id, e.organisation_id, e.actor_id) for e in events] == [
        (str(first.pk), world.tenant.pk, world.admin.pk),
        (str(second.pk), world.tenant.pk, world.admin.pk),
    ]
    assert events[0].data == {
        "status": "confirmed",
        "source": "back_office",
        "start": "2026-01-12T08:00:00+00:00",
        "end": "2026-01-12T12:00:00+00:00",
        "policy": world.visitor_policy.pk,
        "group": str(first.group_id),
    }


@pytest.mark.django_db
def test_hold_creates_held_reservations_that_expire_later(world: World, parker: Parker) -> None:
    reservation = book(parker, world.visitor_policy, *monday(9, 10), hold_for=timedelta(minutes=15))
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.HELD
    assert reservation.hold_expires_at == NOW + timedelta(minutes=15)
    assert AuditEvent.objects.get(action="access.reservation.created").data["status"] == "held"


@pytest.mark.django_db
def test_one_failing_request_writes_nothing(world: World, parker: Parker) -> None:
    saturday = (local(date(2026, 1, 17), 9), local(date(2026, 1, 17), 10))
    with pytest.raises(ReservationError) as caught:
        reservations_create(
            requests=[
                ask(parker, world.visitor_policy, *monday(9, 10)),
                ask(parker, world.visitor_policy, *monday(10, 11)),
                ask(parker, world.visitor_policy, *saturday),
            ],
            source=ReservationSource.PORTAL,
            now=NOW,
        )
    assert type(caught.value) is ReservationError
    assert caught.value.index == 2
    assert nothing_written() == (0, 0)


@pytest.mark.django_db
def test_one_full_request_writes_nothing(world: World, parker: Parker, capped: AccessPolicy) -> None:
    book(parker, capped, *monday(10, 12))
    book(parker, capped, *monday(10, 12))
    before = nothing_written()
    with pytest.raises(CapacityFull) as caught:
        reservations_create(
            requests=[ask(parker, capped, *monday(14, 16)), ask(parker, capped, *monday(11, 12))],
            source=ReservationSource.PORTAL,
            now=NOW,
        )
    assert (caught.value.index, caught.value.code, message(caught.value)) == (
        1,
        "full",
        "No spot is left for this time.",
    )
    assert nothing_written() == before == (2, 2)


@pytest.mark.django_db
def test_a_batch_counts_against_itself(world: World, parker: Parker) -> None:
    world.visitor_policy.spot_cap = 1
    world.visitor_policy.save(update_fields=["spot_cap"])
    with pytest.raises(CapacityFull) as caught:
        reservations_create(
            requests=[
                ask(parker, world.visitor_policy, *monday(9, 11)),
                ask(parker, world.visitor_policy, *monday(10, 12)),
            ],
            source=ReservationSource.PORTAL,
            now=NOW,
        )
    assert caught.value.index == 1
    assert nothing_written() == (0, 0)


# --- limits at every instant ------------------------------------------------------------------


@pytest.mark.django_db
def test_back_to_back_reservations_do_not_overlap(world: World, parker: Parker) -> None:
    world.visitor_policy.spot_cap = 1
    world.visitor_policy.save(update_fields=["spot_cap"])
    book(parker, world.visitor_policy, *monday(9, 13))
    book(parker, world.visitor_policy, *monday(13, 17))
    reservations_create(
        requests=[
            ask(parker, world.visitor_policy, *monday(7, 9)),
            ask(parker, world.visitor_policy, *monday(17, 19)),
        ],
        source=ReservationSource.PORTAL,
        now=NOW,
    )
    assert Reservation.objects.count() == 4
    with pytest.raises(CapacityFull):
        book(parker, world.visitor_policy, *monday(12.5, 13.5))


@pytest.mark.django_db
def test_spot_cap_is_checked_at_every_instant_not_over_the_whole_interval(
    world: World, parker: Parker, capped: AccessPolicy
) -> None:
    book(parker, capped, *monday(9, 12))  # A
    book(parker, capped, *monday(11, 14))  # B: overlaps A 11-12
    book(parker, capped, *monday(13, 16))  # C: overlaps B 13-14, never A
    # Three reservations in 09:00-16:00, yet never more than two at once: a fourth that would make
    # three is refused, one that fits between A's end and C's start is accepted.
    with pytest.raises(CapacityFull):
        book(parker, capped, *monday(11.5, 12.5))  # A, B and it at 11:30
    with pytest.raises(CapacityFull):
        book(parker, capped, *monday(13.5, 14.5))  # B, C and it at 13:30
    book(parker, capped, *monday(12, 13))  # only B at any instant
    with pytest.raises(CapacityFull):
        book(parker, capped, *monday(12.5, 13))  # B and 12-13 are there
    assert Reservation.objects.count() == 4


@pytest.mark.django_db
def test_allocation_of_the_organisation_is_shared_by_its_policies(world: World, parker: Parker) -> None:
    Allocation.objects.filter(pk=world.allocation.pk).update(spots=2)
    other = f.AccessPolicyFactory(
        organisation=world.tenant, lot=world.lot, name="Acme contractors", spot_cap=10
    )
    book(parker, world.visitor_policy, *monday(9, 12))
    book(parker, other, *monday(11, 13))
    with pytest.raises(CapacityFull) as caught:
        book(parker, other, *monday(11.5, 12))
    assert message(caught.value) == "No spot is left for this time."
    with pytest.raises(CapacityFull):
        book(parker, world.visitor_policy, *monday(10, 11.5))
    book(parker, world.visitor_policy, *monday(12, 14))  # 12-13: two; 13-14: one
    assert Reservation.objects.count() == 3


@pytest.mark.django_db
def test_an_organisation_without_allocation_in_the_lot_cannot_book(world: World, parker: Parker) -> None:
    stranger = f.AccessPolicyFactory(organisation=world.outsider, lot=world.lot, spot_cap=10)
    with pytest.raises(CapacityFull):
        book(parker, stranger, *monday(9, 10))
    assert nothing_written() == (0, 0)


@pytest.mark.django_db
def test_reservations_in_another_lot_do_not_count(world: World, parker: Parker) -> None:
    world.visitor_policy.spot_cap = 1
    world.visitor_policy.save(update_fields=["spot_cap"])
    f.AllocationFactory(lot=world.outsider_lot, organisation=world.tenant, spots=1)
    elsewhere = f.AccessPolicyFactory(organisation=world.tenant, lot=world.outsider_lot, spot_cap=1)
    book(parker, elsewhere, *monday(9, 10))
    book(parker, world.visitor_policy, *monday(9, 10))
    assert Reservation.objects.count() == 2


@pytest.mark.django_db
def test_held_reservation_counts_until_its_hold_expires(world: World, parker: Parker) -> None:
    world.visitor_policy.spot_cap = 1
    world.visitor_policy.save(update_fields=["spot_cap"])
    book(parker, world.visitor_policy, *monday(9, 10), hold_for=timedelta(minutes=15))
    expires = NOW + timedelta(minutes=15)
    request = [ask(parker, world.visitor_policy, *monday(9, 10))]
    with pytest.raises(CapacityFull):
        reservations_create(requests=request, source="portal", now=expires - timedelta(microseconds=1))
    (taken,) = reservations_create(requests=request, source="portal", now=expires)
    assert taken.status == ReservationStatus.CONFIRMED


@pytest.mark.django_db
def test_cancelled_reservation_frees_its_spot_at_once(world: World, parker: Parker) -> None:
    world.visitor_policy.spot_cap = 1
    world.visitor_policy.save(update_fields=["spot_cap"])
    first = book(parker, world.visitor_policy, *monday(9, 10))
    with pytest.raises(CapacityFull):
        book(parker, world.visitor_policy, *monday(9, 10))
    assert reservation_cancel(reservation=first, actor=world.admin, now=NOW) is True
    book(parker, world.visitor_policy, *monday(9, 10))


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "now", "expected"),
    [
        (local(MONDAY, 10), local(MONDAY, 9), NOW, "The end must be after the start."),
        (local(MONDAY, 10), local(MONDAY, 10), NOW, "The end must be after the start."),
        (local(MONDAY, 9), local(MONDAY, 10), utc(2026, 1, 12, 9, 0), "This time is already over."),
        (
            local(MONDAY, 6, 59),
            local(MONDAY, 8),
            NOW,
            "This time is outside the opening hours or the validity of “Acme visitors”.",
        ),
        (
            local(MONDAY, 18),
            local(MONDAY, 19, 1),
            NOW,
            "This time is outside the opening hours or the validity of “Acme visitors”.",
        ),
        (
            local(MONDAY, 12),
            local(date(2026, 1, 13), 12),  # through the night, when the policy is closed
            NOW,
            "This time is outside the opening hours or the validity of “Acme visitors”.",
        ),
    ],
)
def test_refused_with_a_message(
    world: World, parker: Parker, start: datetime, end: datetime, now: datetime, expected: str
) -> None:
    with pytest.raises(ReservationError) as caught:
        reservations_create(
            requests=[ask(parker, world.visitor_policy, start, end)], source="portal", now=now
        )
    assert (type(caught.value), caught.value.code, caught.value.index, message(caught.value)) == (
        ReservationError,
        "invalid",
        0,
        expected,
    )
    assert nothing_written() == (0, 0)


@pytest.mark.django_db
def test_refused_outside_the_validity_in_local_days(world: World, parker: Parker) -> None:
    world.visitor_policy.valid_until = MONDAY
    world.visitor_policy.save(update_fields=["valid_until"])
    with pytest.raises(ReservationError) as caught:
        book(parker, world.visitor_policy, local(date(2026, 1, 13), 9), local(date(2026, 1, 13), 10))
    assert (
        message(caught.value) == "This time is outside the opening hours or the validity of “Acme visitors”."
    )
    book(parker, world.visitor_policy, local(MONDAY, 18), local(MONDAY, 19))
    world.visitor_policy.valid_from = date(2026, 1, 13)
    world.visitor_policy.valid_until = None
    world.visitor_policy.save(update_fields=["valid_from", "valid_until"])
    with pytest.raises(ReservationError):
        book(parker, world.visitor_policy, local(MONDAY, 9), local(MONDAY, 10))
    assert Reservation.objects.count() == 1


@pytest.mark.django_db
def test_a_reservation_already_started_but_not_over_is_accepted(world: World, parker: Parker) -> None:
    # A walk-in at the desk books "from now": the start may be a moment ago, the end may not.
    (walk_in,) = reservations_create(
        requests=[ask(parker, world.visitor_policy, *monday(9, 11))],
        source="control_room",
        now=utc(2026, 1, 12, 8, 30),
    )
    assert walk_in.status == ReservationStatus.CONFIRMED


@pytest.mark.django_db
def test_programming_errors_raise_value_error(world: World, parker: Parker) -> None:
    with pytest.raises(ValueError):
        reservations_create(requests=[], source="portal", now=NOW)
    with pytest.raises(ValueError):
        reservations_create(
            requests=[ask(parker, world.visitor_policy, datetime(2026, 1, 12, 9), datetime(2026, 1, 12, 10))],
            source="portal",
            now=NOW,
        )
    assert nothing_written() == (0, 0)


# --- clock changes ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_in_the_repeated_autumn_hour_are_compared_as_instants(world: World, parker: Parker) -> None:
    around_the_clock = f.AccessPolicyFactory(organisation=world.tenant, lot=world.lot, spot_cap=1)
    sunday = date(2026, 10, 25)
    first_pass = ask(parker, around_the_clock, local(sunday, 2, 30), local(sunday, 2, 45))
    second_pass = ask(parker, around_the_clock, local(sunday, 2, 30, fold=1), local(sunday, 2, 45, fold=1))
    # Same wall times, an hour apart: both fit under a cap of one.
    created = reservations_create(requests=[first_pass, second_pass], source="portal", now=NOW)
    assert [(r.start, r.end) for r in created] == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0, 45)),
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1, 45)),
    ]
    # From the first 02:45 to the second 02:15 is half an hour forward, not backwards.
    (across,) = reservations_create(
        requests=[ask(parker, around_the_clock, local(sunday, 2, 45), local(sunday, 2, 15, fold=1))],
        source="portal",
        now=NOW,
    )
    assert (across.start, across.end) == (utc(2026, 10, 25, 0, 45), utc(2026, 10, 25, 1, 15))


# --- keypad codes -----------------------------------------------------------------------------


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the keypad draws of the capacity module return a fixed sequence; records each draw."""
    sequence: Iterator[int] = iter([123456, 123456, 654321, 123456, 123456, 123456, 7, 7, 42])
    drawn: list[int] = []

    def randbelow(limit: int) -> int:
        assert limit == 1_000_000
        value = next(sequence)
        drawn.append(value)
        return value

    monkeypatch.setattr(capacity.secrets, "randbelow", randbelow)
    return drawn


@pytest.mark.django_db
def test_keypad_code_is_redrawn_when_an_overlapping_reservation_has_it(
    world: World, parker: Parker, draws: list[int]
) -> None:
    first = book(parker, world.visitor_policy, *monday(9, 12))
    second = book(parker, world.visitor_policy, *monday(11, 13))  # draws 123456 again, then 654321
    assert (first.keypad_code, second.keypad_code) == ("123456", "654321")
    # Days apart from the first: the same code is fine again, at this lot and at another.
    thursday = MONDAY + timedelta(days=3)
    third = book(parker, world.visitor_policy, local(thursday, 9, 0), local(thursday, 12, 0))
    f.AllocationFactory(lot=world.outsider_lot, organisation=world.tenant, spots=5)
    elsewhere = f.AccessPolicyFactory(organisation=world.tenant, lot=world.outsider_lot)
    fourth = book(parker, elsewhere, *monday(9, 12))
    assert (third.keypad_code, fourth.keypad_code) == ("123456", "123456")
    assert draws == [123456, 123456, 654321, 123456, 123456]


@pytest.mark.django_db
def test_keypad_code_is_not_shared_with_a_neighbour_inside_the_grace_margin(
    world: World, parker: Parker, draws: list[int]
) -> None:
    """Back to back on one day does not overlap, but both codes open during the grace periods."""
    first = book(parker, world.visitor_policy, *monday(9, 12))
    second = book(parker, world.visitor_policy, *monday(13, 14))
    assert (first.keypad_code, second.keypad_code) == ("123456", "654321")
    assert capacity.keypad_code_margin() == timedelta(minutes=30, days=1)


@pytest.mark.django_db
def test_keypad_codes_are_unique_inside_one_batch(world: World, parker: Parker, draws: list[int]) -> None:
    draws_before = len(draws)
    codes = [
        r.keypad_code
        for r in reservations_create(
            requests=[
                ask(parker, world.visitor_policy, *monday(9, 12)),
                ask(parker, world.visitor_policy, *monday(10, 11)),
            ],
            source="portal",
            now=NOW,
        )
    ]
    assert (codes, draws[draws_before:]) == (["123456", "654321"], [123456, 123456, 654321])


@pytest.mark.django_db
def test_keypad_code_of_a_cancelled_reservation_is_free_again(
    world: World, parker: Parker, draws: list[int]
) -> None:
    first = book(parker, world.visitor_policy, *monday(9, 12))
    reservation_cancel(reservation=first, now=NOW)
    again = book(parker, world.visitor_policy, *monday(9, 12))
    assert (first.keypad_code, again.keypad_code, draws) == ("123456", "123456", [123456, 123456])


# --- cancelling and expiring ------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_twice_is_harmless(world: World, parker: Parker) -> None:
    reservation = book(parker, world.visitor_policy, *monday(9, 10))
    assert reservation_cancel(reservation=reservation, actor=world.admin, now=NOW) is True
    assert (reservation.status, reservation.cancelled_at, reservation.cancelled_by) == (
        ReservationStatus.CANCELLED,
        NOW,
        world.admin,
    )
    assert (
        reservation_cancel(reservation=reservation, actor=world.owner, now=NOW + timedelta(hours=1)) is False
    )
    reservation.refresh_from_db()
    assert (reservation.status, reservation.cancelled_at, reservation.cancelled_by) == (
        ReservationStatus.CANCELLED,
        NOW,
        world.admin,
    )
    events = list(AuditEvent.objects.filter(action="access.reservation.cancelled"))
    assert [(e.object_id, e.actor_id, e.organisation_id) for e in events] == [
        (str(reservation.pk), world.admin.pk, world.tenant.pk)
    ]


@pytest.mark.django_db
def test_cancel_locks_the_lot_then_only_the_reservation_row(world: World, parker: Parker) -> None:
    """The lot first, as a booking does (tests/access/test_occupancy.py: the deadlock otherwise),
    then the reservation's row alone, not its policy's or organisation's."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    reservation = book(parker, world.visitor_policy, *monday(9, 10))
    with CaptureQueriesContext(connection) as queries:
        reservation_cancel(reservation=reservation, now=NOW)
    lot, row = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert 'FROM "parking_lot"' in lot and lot.endswith("FOR UPDATE")
    assert row.endswith('FOR UPDATE OF "access_reservation"')


@pytest.mark.django_db
def test_cancel_after_the_start_needs_allow_started(world: World, parker: Parker) -> None:
    reservation = book(parker, world.visitor_policy, *monday(9, 10))
    started = utc(2026, 1, 12, 8, 0)  # 09:00 local, the very start
    with pytest.raises(ReservationError) as caught:
        reservation_cancel(reservation=reservation, actor=world.admin, now=started)
    assert message(caught.value) == "This reservation has already started and can no longer be cancelled."
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONFIRMED
    assert not AuditEvent.objects.filter(action="access.reservation.cancelled").exists()
    # Staff can cancel it all the same.
    assert (
        reservation_cancel(reservation=reservation, actor=world.owner, now=started, allow_started=True)
        is True
    )
    assert AuditEvent.objects.filter(action="access.reservation.cancelled").count() == 1


@pytest.mark.django_db
def test_cancel_just_before_the_start(world: World, parker: Parker) -> None:
    reservation = book(parker, world.visitor_policy, *monday(9, 10))
    assert reservation_cancel(reservation=reservation, now=utc(2026, 1, 12, 8, 0) - timedelta(microseconds=1))


@pytest.mark.django_db
def test_expire_holds(world: World, parker: Parker) -> None:
    stale = book(parker, world.visitor_policy, *monday(9, 10), hold_for=timedelta(minutes=10))
    fresh = reservations_create(
        requests=[ask(parker, world.visitor_policy, *monday(10, 11))],
        source="portal",
        hold_for=timedelta(minutes=30),
        now=NOW,
    )[0]
    confirmed = book(parker, world.visitor_policy, *monday(11, 12))
    assert reservations_expire_holds(now=NOW + timedelta(minutes=10)) == 1
    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: ReservationStatus.EXPIRED,
        fresh.pk: ReservationStatus.HELD,
        confirmed.pk: ReservationStatus.CONFIRMED,
    }
    event = AuditEvent.objects.get(action="access.reservation.expired")
    assert (event.object_id, event.organisation_id, event.actor_id, event.actor_label) == (
        str(stale.pk),
        world.tenant.pk,
        None,
        "system",
    )
    assert reservations_expire_holds(now=NOW + timedelta(minutes=10)) == 0
    assert AuditEvent.objects.filter(action="access.reservation.expired").count() == 1
    # An expired hold cannot be cancelled any more: nothing to do.
    assert reservation_cancel(reservation=stale, now=NOW) is False


# --- availability -----------------------------------------------------------------------------


def loaded(policy: AccessPolicy) -> AccessPolicy:
    return AccessPolicy.objects.select_related("lot").prefetch_related("windows").get(pk=policy.pk)


@pytest.mark.django_db
def test_availability_per_hour_and_per_range_from_one_query(
    world: World, parker: Parker, django_assert_num_queries: Any
) -> None:
    policy = world.visitor_policy  # cap 10, Mon-Fri 07:00-19:00; the tenant holds 40 spots
    other = f.AccessPolicyFactory(organisation=world.tenant, lot=world.lot, spot_cap=40)
    Allocation.objects.filter(pk=world.allocation.pk).update(spots=12)
    for _ in range(3):
        book(parker, policy, *monday(9, 12))
    book(parker, policy, *monday(11.5, 13))
    held = book(parker, policy, *monday(14, 15), hold_for=timedelta(hours=1))
    cancelled = book(parker, policy, *monday(14, 16))
    reservation_cancel(reservation=cancelled, now=NOW)
    for _ in range(6):
        book(parker, other, *monday(16, 18))  # the organisation's allocation, not this policy's cap
    book(parker, other, *monday(7, 8))
    f.ReservationFactory(
        policy=f.AccessPolicyFactory(lot=world.lot, spot_cap=5), start=local(MONDAY, 9), end=local(MONDAY, 10)
    )

    policy = loaded(policy)
    ranges = [monday(9, 13), monday(13, 17)]
    with django_assert_num_queries(2):  # the allocation and the reservations, whatever the hours
        result = availability(policy=policy, day=MONDAY, ranges=ranges, now=NOW)
    assert result.day == MONDAY
    free = [
        (start.astimezone(BXL).hour, end.astimezone(BXL).hour, spots) for start, end, spots in result.hours
    ]
    assert free == [
        (7, 8, 10),  # the other policy takes one of 12, so 11 left by allocation, 10 by cap
        (8, 9, 10),
        (9, 10, 7),
        (10, 11, 7),
        (11, 12, 6),  # three from 09:00 plus one from 11:30
        (12, 13, 9),
        (13, 14, 10),
        (14, 15, 9),  # the hold still counts (until NOW + 1 h); the cancelled one does not
        (15, 16, 10),
        (16, 17, 6),  # six of the organisation's twelve spots are taken by the other policy
        (17, 18, 6),
        (18, 19, 10),
    ]
    assert result.ranges == [(*ranges[0], 6), (*ranges[1], 6)]
    with django_assert_num_queries(2):
        after_the_hold = availability(policy=policy, day=MONDAY, now=NOW + timedelta(hours=1))
    assert after_the_hold.ranges == []
    assert [spots for _s, _e, spots in after_the_hold.hours][7] == 10
    assert held.hold_expires_at == NOW + timedelta(hours=1)


@pytest.mark.django_db
def test_availability_of_a_closed_day_asks_nothing(world: World, django_assert_num_queries: Any) -> None:
    policy = loaded(world.visitor_policy)
    with django_assert_num_queries(0):
        result = availability(policy=policy, day=date(2026, 1, 17), now=NOW)
    assert (result.hours, result.ranges) == ([], [])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "first", "count"),
    [(date(2026, 3, 29), utc(2026, 3, 28, 23, 0), 23), (date(2026, 10, 25), utc(2026, 10, 24, 22, 0), 25)],
)
def test_availability_hours_are_real_hours_on_dst_days(
    world: World, parker: Parker, day: date, first: datetime, count: int
) -> None:
    around_the_clock = f.AccessPolicyFactory(organisation=world.tenant, lot=world.lot, spot_cap=3)
    reservations_create(
        requests=[ask(parker, around_the_clock, first + timedelta(hours=2), first + timedelta(hours=4))],
        source="portal",
        now=NOW,
    )
    result = availability(policy=loaded(around_the_clock), day=day, now=NOW)
    hours = [(start.astimezone(UTC), end.astimezone(UTC), spots) for start, end, spots in result.hours]
    assert hours == [
        (first + timedelta(hours=n), first + timedelta(hours=n + 1), 2 if n in (2, 3) else 3)
        for n in range(count)
    ]
    assert all(start.tzinfo is BXL for start, _e, _s in result.hours)  # ready to display
