"""A desk world: the shared ``world`` with timetables open all day, and three kinds of parker.

* Chloé Lefèvre (Acme, plate 1-ABC-123) holds a member access valid now (case 1);
* Marc Vieux (Acme, plate 2-OLD-222) holds an access whose validity ended yesterday (case 2);
* Chloé Dehors belongs to the outsider organisation (never found from this lot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from parkgate.access.drivers.simulated import STATE
from parkgate.parking.models import AccessPolicy, Parker, PolicyKind, TimetableWindow
from parkgate.parking.services import parker_save
from tests import factories as f
from tests.conftest import World

ALL_DAY = [(d, 0, 1440) for d in range(7)]


@dataclass
class Desk:
    world: World
    valid: Parker
    ended: Parker
    stranger: Parker
    ended_policy: AccessPolicy


def _all_day(policy: AccessPolicy) -> None:
    policy.windows.all().delete()
    TimetableWindow.objects.bulk_create(
        TimetableWindow(policy=policy, weekday=d, start_minute=s, end_minute=e) for d, s, e in ALL_DAY
    )


def _parker(managed_by, first: str, last: str, plate: str) -> Parker:  # type: ignore[no-untyped-def]
    return parker_save(
        parker=Parker(managed_by=managed_by, organisation=managed_by, first_name=first, last_name=last),
        plates=[plate],
        actor=None,
    )


@pytest.fixture
def desk(world: World, pinned_now: datetime) -> Desk:
    STATE.reset()
    _all_day(world.member_policy)
    _all_day(world.visitor_policy)
    today = pinned_now.astimezone(world.lot.zone).date()
    ended_policy = f.AccessPolicyFactory(
        organisation=world.tenant,
        lot=world.lot,
        name="Acme former staff",
        kind=PolicyKind.MEMBER,
        spot_cap=5,
        valid_until=today - timedelta(days=1),
    )
    valid = _parker(world.tenant, "Chloé", "Lefèvre", "1-ABC-123")
    world.member_policy.members.add(valid)
    ended = _parker(world.tenant, "Marc", "Vieux", "2-OLD-222")
    ended_policy.members.add(ended)
    stranger = _parker(world.outsider, "Chloé", "Dehors", "1-ABC-999")
    return Desk(world=world, valid=valid, ended=ended, stranger=stranger, ended_policy=ended_policy)
