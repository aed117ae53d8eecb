"""The facts the decision engine gets from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from parkgate.access.decisions import MemberAccess, Reason, ReservationAccess, Window, decide
from parkgate.access.models import ReservationStatus
from parkgate.access.selectors import accesses_for_parker, accesses_for_parkers, lot_facts
from parkgate.parking.models import PolicyKind
from tests import factories as f
from tests.conftest import World

AT = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # Monday 10:00 in Brussels
HORIZON = timedelta(days=31)
US = timedelta(microseconds=1)


@pytest.mark.django_db
def test_member_policies_and_nearby_reservations(world: World, django_assert_num_queries: Any) -> None:
    ann = f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant)
    bob = f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant)
    visitor = f.ParkerFactory(managed_by=world.tenant)
    seasonal = f.AccessPolicyFactory(
        organisation=world.outsider,
        lot=world.outsider_lot,
        name="Other Corp staff",
        kind=PolicyKind.MEMBER,
        windows=[(0, 8 * 60, 17 * 60), (2, 8 * 60, 12 * 60)],
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 6, 30),
    )
    seasonal.members.add(ann)
    world.member_policy.members.add(ann, bob)
    world.visitor_policy.members.add(ann)  # a visitor policy grants nothing by membership

    def reserve(
        parker: Any, start: datetime, end: datetime, status: str = ReservationStatus.CONFIRMED
    ) -> Any:
        return f.ReservationFactory(
            parker=parker, policy=world.visitor_policy, start=start, end=end, status=status
        )

    tomorrow = reserve(
        ann, AT + timedelta(days=1), AT + timedelta(days=1, hours=2), ReservationStatus.CANCELLED
    )
    just_in_past = reserve(ann, AT - HORIZON - timedelta(hours=2), AT - HORIZON + US)
    reserve(ann, AT - HORIZON - timedelta(hours=2), AT - HORIZON)  # ended 31 days ago: left out
    just_in_future = reserve(ann, AT + HORIZON - US, AT + HORIZON + timedelta(hours=1))
    reserve(ann, AT + HORIZON, AT + HORIZON + timedelta(hours=1))  # starts in 31 days: left out
    visit = reserve(visitor, AT - timedelta(hours=1), AT + timedelta(hours=1), ReservationStatus.HELD)

    with django_assert_num_queries(5):  # memberships, shared days, policies, their windows, reservations
        found = accesses_for_parkers([ann.pk, bob.pk, visitor.pk], at=AT)

    staff = MemberAccess(
        policy_id=world.member_policy.pk,
        lot_id=world.lot.pk,
        name="Acme staff",
        windows=tuple(Window(day, 6 * 60, 21 * 60) for day in range(5)),
    )
    other_corp = MemberAccess(
        policy_id=seasonal.pk,
        lot_id=world.outsider_lot.pk,
        name="Other Corp staff",
        windows=(Window(0, 8 * 60, 17 * 60), Window(2, 8 * 60, 12 * 60)),
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 6, 30),
    )

    def access(reservation: Any, status: str) -> ReservationAccess:
        return ReservationAccess(
            reservation_id=reservation.pk,
            lot_id=world.lot.pk,
            policy_id=world.visitor_policy.pk,
            name="Acme visitors",
            start=reservation.start,
            end=reservation.end,
            status=status,
        )

    assert found == {
        ann.pk: [
            staff,  # policies by id: the world's policy was made first
            other_corp,
            access(just_in_past, "confirmed"),
            access(tomorrow, "cancelled"),
            access(just_in_future, "confirmed"),
        ],
        bob.pk: [staff],
        visitor.pk: [access(visit, "held")],
    }

    decision = decide(lot=lot_facts(world.lot), at=AT, accesses=found[ann.pk])
    assert (decision.reason, decision.policy_id) == (Reason.GRANTED_MEMBER, world.member_policy.pk)
    assert decide(lot=lot_facts(world.lot), at=AT, accesses=found[visitor.pk]).reason == (
        Reason.RESERVATION_NOT_CONFIRMED
    )


@pytest.mark.django_db
def test_parkers_without_anything(world: World, django_assert_num_queries: Any) -> None:
    nobody = f.ParkerFactory(managed_by=world.tenant)
    with django_assert_num_queries(0):
        assert accesses_for_parkers([], at=AT) == {}
    with django_assert_num_queries(2):  # no membership: no policy to read
        assert accesses_for_parkers([nobody.pk], at=AT) == {nobody.pk: []}
    assert accesses_for_parker(nobody, at=AT) == []
    assert decide(lot=lot_facts(world.lot), at=AT, accesses=accesses_for_parker(nobody, at=AT)).reason == (
        Reason.NO_POLICY_AT_LOT
    )


@pytest.mark.django_db
def test_query_count_does_not_grow_with_parkers(world: World, django_assert_num_queries: Any) -> None:
    parkers = [f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant) for _ in range(5)]
    world.member_policy.members.add(*parkers)
    for parker in parkers:
        f.ReservationFactory(
            parker=parker, policy=world.visitor_policy, start=AT, end=AT + timedelta(hours=1)
        )
    with django_assert_num_queries(5):
        found = accesses_for_parkers([p.pk for p in parkers], at=AT)
    assert [len(found[p.pk]) for p in parkers] == [2, 2, 2, 2, 2]
