"""Back-office fixtures on top of the shared ``world``: tenant staff, a parker and a reservation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import pytest

from parkgate.access.models import Reservation
from parkgate.accounts.models import Role, User
from parkgate.parking.models import Parker
from tests import factories as f
from tests.conftest import World


@dataclass
class Office:
    world: World
    tenant_receptionist: User
    parker: Parker  # a member parker of the tenant, with two plates
    visitor: Parker  # a visitor parker managed by the tenant
    reservation: Reservation  # a future confirmed reservation of the tenant
    outsider_parker: Parker
    outsider_parker_user: User  # a parker of the outsider organisation
    now: datetime  # the pinned instant the office was built at

    @cached_property
    def own_reservation(self) -> Reservation:
        """A future reservation of the parker user (matched by e-mail), made on first use."""
        start = self.now + timedelta(days=3)
        return f.ReservationFactory(
            parker=self.parker, policy=self.world.member_policy, start=start, end=start + timedelta(hours=8)
        )


@pytest.fixture
def office(world: World, pinned_now: datetime) -> Office:
    parker = f.ParkerFactory(
        managed_by=world.tenant,
        organisation=world.tenant,
        first_name="Sophie",
        last_name="Martin",
        email=world.parker_user.email,
        plates=["1-ABC-123", "AB-123-CD"],
    )
    world.member_policy.members.add(parker)
    visitor = f.ParkerFactory(
        managed_by=world.tenant, first_name="Zoë", last_name="Dubois", plates=["GH-456-JK"]
    )
    start = pinned_now + timedelta(days=2)
    reservation = f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=start,
        end=start + timedelta(hours=2),
        plate_text="GH-456-JK",
    )
    return Office(
        world=world,
        tenant_receptionist=f.MembershipFactory(organisation=world.tenant, role=Role.RECEPTIONIST).user,
        parker=parker,
        visitor=visitor,
        reservation=reservation,
        outsider_parker=f.ParkerFactory(
            managed_by=world.outsider, organisation=world.outsider, plates=["ZZ-999"]
        ),
        outsider_parker_user=f.MembershipFactory(organisation=world.outsider, role=Role.PARKER).user,
        now=pinned_now,
    )


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The world creates several users per test: a fast hasher keeps the matrix quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def compiled_translations() -> None:
    """Compile the .po catalogues (as `make test` does) and drop Django's cached catalogues."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compile_translations", "--quiet")
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = trans_real.Local()
