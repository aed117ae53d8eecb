"""reservations_confirm: held reservations become confirmed when their payment succeeds; a hold
that ran out is checked again under the lot lock, and refused when the spots went to others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parkgate.access.capacity import (
    CapacityFull,
    reservations_confirm,
    reservations_create,
    reservations_expire_holds,
)
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.core.models import AuditEvent
from tests import factories as f
from tests.access.test_capacity import MONDAY, NOW, ask, local
from tests.conftest import World

pytestmark = pytest.mark.django_db
HOLD = timedelta(minutes=35)


def _hold(world: World, spots: int = 2) -> list[Reservation]:
    parkers = [f.ParkerFactory(managed_by=world.tenant, organisation=None) for _ in range(spots)]
    return reservations_create(
        requests=[ask(p, world.visitor_policy, local(MONDAY, 9), local(MONDAY, 13)) for p in parkers],
        source=ReservationSource.PORTAL,
        hold_for=HOLD,
        now=NOW,
    )


def _statuses(reservations: list[Reservation]) -> list[tuple[str, object]]:
    return [
        (r.status, r.hold_expires_at)
        for r in Reservation.objects.filter(pk__in=[x.pk for x in reservations]).order_by("pk")
    ]


def test_running_hold_is_confirmed_once_and_audited(world: World) -> None:
    held = _hold(world)
    confirmed = reservations_confirm(group_id=held[0].group_id, actor_label="payment", now=NOW + HOLD / 2)
    assert [r.pk for r in confirmed] == [r.pk for r in held]
    assert _statuses(held) == [("confirmed", None), ("confirmed", None)]
    assert AuditEvent.objects.filter(action="access.reservation.confirmed").count() == 2
    assert reservations_confirm(group_id=held[0].group_id, now=NOW + HOLD / 2) == []
    assert AuditEvent.objects.filter(action="access.reservation.confirmed").count() == 2


def test_lapsed_hold_with_free_spots_is_confirmed_after_a_recheck(world: World) -> None:
    held = _hold(world)
    later = NOW + HOLD + timedelta(minutes=5)
    assert reservations_expire_holds(now=later) == 2
    reservations_confirm(group_id=held[0].group_id, now=later)
    assert _statuses(held) == [("confirmed", None), ("confirmed", None)]
    event = AuditEvent.objects.filter(action="access.reservation.confirmed").first()
    assert event is not None and event.data["rechecked"] is True and event.data["was"] == "expired"


def test_lapsed_hold_whose_spots_were_taken_is_refused_and_nothing_changes(world: World) -> None:
    world.visitor_policy.spot_cap = 2
    world.visitor_policy.save()
    held = _hold(world)
    later = NOW + HOLD + timedelta(minutes=1)
    # The hold ran out; someone else took the last spot meanwhile.
    others = reservations_create(
        requests=[
            ask(
                f.ParkerFactory(managed_by=world.tenant, organisation=None),
                world.visitor_policy,
                local(MONDAY, 10),
                local(MONDAY, 11),
            )
        ],
        source=ReservationSource.PORTAL,
        now=later,
    )
    assert others[0].status == ReservationStatus.CONFIRMED
    before = _statuses(held)
    with pytest.raises(CapacityFull):
        reservations_confirm(group_id=held[0].group_id, now=later)
    assert _statuses(held) == before
    assert not AuditEvent.objects.filter(action="access.reservation.confirmed").exists()


def test_cancelled_reservations_stay_cancelled(world: World) -> None:
    held = _hold(world)
    Reservation.objects.filter(pk=held[1].pk).update(status=ReservationStatus.CANCELLED)
    reservations_confirm(group_id=held[0].group_id, now=NOW)
    assert [s for s, _h in _statuses(held)] == ["confirmed", "cancelled"]
