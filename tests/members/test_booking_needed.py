"""A member policy that requires a booked day: the decision engine, and the cameras that use it."""

from __future__ import annotations

from datetime import timedelta

from parkgate.access.decisions import (
    LotFacts,
    MemberAccess,
    Reason,
    ReservationAccess,
    Window,
    decide,
    sentence,
)
from parkgate.access.selectors import plate_matches
from tests import factories as f
from tests.members.conftest import MONDAY_10

LOT = LotFacts(lot_id=1, timezone="Europe/Brussels")
FLEX = MemberAccess(
    policy_id=7, lot_id=1, name="Flex", windows=(Window(0, 7 * 60, 19 * 60),), booking_required=True
)


def test_inside_the_window_a_booking_is_needed() -> None:
    decision = decide(lot=LOT, at=MONDAY_10, accesses=[FLEX])
    assert (decision.granted, decision.reason) == (False, Reason.BOOKING_NEEDED)
    assert (
        sentence(decision.reason, decision.details, zone=LOT.zone, now=MONDAY_10)
        == "Booking needed for this day."
    )


def test_outside_the_window_the_next_opening_is_told() -> None:
    decision = decide(lot=LOT, at=MONDAY_10.replace(hour=20), accesses=[FLEX])
    assert decision.reason == Reason.OUTSIDE_TIMETABLE


def test_the_booked_day_grants() -> None:
    booked = ReservationAccess(
        reservation_id=3,
        lot_id=1,
        policy_id=7,
        name="Flex",
        start=MONDAY_10.replace(hour=7),
        end=MONDAY_10.replace(hour=19),
        status="confirmed",
    )
    decision = decide(lot=LOT, at=MONDAY_10, accesses=[FLEX, booked])
    assert (decision.reason, decision.reservation_id) == (Reason.GRANTED_RESERVATION, 3)


def test_without_the_flag_the_member_enters_as_before() -> None:
    plain = MemberAccess(policy_id=8, lot_id=1, name="Staff", windows=(Window(0, 7 * 60, 19 * 60),))
    assert decide(lot=LOT, at=MONDAY_10, accesses=[plain]).reason == Reason.GRANTED_MEMBER


def test_cameras_carry_the_flag(members) -> None:  # type: ignore[no-untyped-def]
    members.world.member_policy.members.remove(members.parker)
    [match] = plate_matches(members.world.lot, ["1ABC123"], at=MONDAY_10)
    assert isinstance(match.access, MemberAccess) and match.access.booking_required is True
    decision = decide(
        lot=LotFacts(members.world.lot.pk, "Europe/Brussels"), at=MONDAY_10, accesses=[match.access]
    )
    assert decision.reason == Reason.BOOKING_NEEDED
    f.ReservationFactory(
        parker=members.parker,
        policy=members.flex,
        start=MONDAY_10 - timedelta(hours=3),
        end=MONDAY_10 + timedelta(hours=9),
    )
    accesses = [m.access for m in plate_matches(members.world.lot, ["1ABC123"], at=MONDAY_10)]
    assert decide(
        lot=LotFacts(members.world.lot.pk, "Europe/Brussels"), at=MONDAY_10, accesses=accesses
    ).granted
