"""A member of the tenant with a parker profile, a booking-required policy, and a member of another
organisation (every tenancy test: 404 and nothing changed). "Now" is always pinned by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from parkgate.accounts.models import Role, User
from parkgate.parking.models import AccessPolicy, Parker, PolicyKind
from tests import factories as f
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)

# Monday 30 November 2026, 10:00 in Brussels (09:00 UTC); the Saturday before is "today".
MONDAY_10 = f.aware(2026, 11, 30, 10)
SATURDAY_10 = f.aware(2026, 11, 28, 10)


@dataclass
class Members:
    world: object
    parker: Parker  # the profile of world.parker_user (Acme staff member)
    flex: AccessPolicy  # booking required, one spot per day, weekdays 07:00-19:00
    colleague_user: User
    colleague: Parker  # another Acme member of the flex policy
    outsider_user: User
    outsider: Parker  # a parker of another organisation, member of its own policy


@pytest.fixture
def members(world) -> Members:  # type: ignore[no-untyped-def]
    parker = f.ParkerFactory(
        managed_by=world.tenant,
        organisation=world.tenant,
        first_name="Sophie",
        last_name="Martin",
        email=world.parker_user.email,
        plates=["1-ABC-123"],
    )
    world.member_policy.members.add(parker)
    flex = f.AccessPolicyFactory(
        organisation=world.tenant,
        lot=world.lot,
        name="Acme flex",
        kind=PolicyKind.MEMBER,
        spot_cap=1,
        booking_required=True,
        hourly_booking=False,
        windows=[(d, 7 * 60, 19 * 60) for d in range(5)],
    )
    colleague_user = f.MembershipFactory(organisation=world.tenant, role=Role.PARKER).user
    colleague = f.ParkerFactory(
        managed_by=world.tenant, organisation=world.tenant, first_name="Lucas", email=colleague_user.email
    )
    flex.members.add(parker, colleague)
    outsider_user = f.MembershipFactory(organisation=world.outsider, role=Role.PARKER).user
    outsider = f.ParkerFactory(
        managed_by=world.outsider,
        organisation=world.outsider,
        email=outsider_user.email,
        plates=["9-OUT-999"],
    )
    outsider_policy = f.AccessPolicyFactory(
        organisation=world.outsider, lot=world.outsider_lot, kind=PolicyKind.MEMBER, spot_cap=50
    )
    outsider_policy.members.add(outsider)
    return Members(world, parker, flex, colleague_user, colleague, outsider_user, outsider)
