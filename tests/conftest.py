"""Shared fixtures: a small world with three organisations and one user per role.

``world.owner_org`` owns the lot; ``world.tenant`` holds spots in it; ``world.outsider`` is another
organisation with its own lot, used by every tenancy test (404 and nothing changed).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import translation

from parkgate.accounts.models import Organisation, Role, User
from parkgate.parking.models import AccessPolicy, Allocation, Gate, Lot, PolicyKind
from tests import factories as f

pytest_plugins = ["tests.clock", "tests.browser"]


@dataclass
class World:
    owner_org: Organisation
    tenant: Organisation
    outsider: Organisation
    lot: Lot
    entry: Gate
    exit: Gate
    allocation: Allocation
    visitor_policy: AccessPolicy
    member_policy: AccessPolicy
    outsider_lot: Lot
    owner: User  # parking owner of owner_org
    receptionist: User  # receptionist of owner_org
    admin: User  # organisation admin of tenant
    parker_user: User  # parker (employee) of tenant
    outsider_admin: User  # organisation admin of outsider
    outsider_owner: User  # parking owner of outsider


def _member(org: Organisation, role: Role, **kwargs: object) -> User:
    membership = f.MembershipFactory(organisation=org, role=role, **kwargs)
    return membership.user


@pytest.fixture(autouse=True)
def _default_language() -> object:
    """Every test starts in the default language: a view that activated the visitor's language
    (portal pages, remote control) must not leave it active for the next test in this thread."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache_after_a_database_test(request: pytest.FixtureRequest, django_db_blocker: object) -> object:
    """The cache is a table that test flushes leave alone, and every test starts at the same pinned
    instant: rate-limit counters of one test would count in the next one's window. Emptied after
    each test that used the test database."""
    yield
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if uses_db:
        from django.core.cache import caches

        with django_db_blocker.unblock():  # type: ignore[attr-defined]
            caches["default"].clear()


@pytest.fixture
def world(db: None) -> World:
    owner_org = f.OrganisationFactory(name="Brussels Parking", slug="brussels-parking")
    tenant = f.OrganisationFactory(name="Acme Consulting", slug="acme")
    outsider = f.OrganisationFactory(name="Other Corp", slug="other")
    lot = f.LotFactory(owner=owner_org, name="Central Garage", total_spots=120)
    outsider_lot = f.LotFactory(owner=outsider, name="Other Garage", total_spots=50)
    f.AllocationFactory(lot=outsider_lot, organisation=outsider, spots=50)
    weekdays = [(d, 7 * 60, 19 * 60) for d in range(5)]
    return World(
        owner_org=owner_org,
        tenant=tenant,
        outsider=outsider,
        lot=lot,
        entry=f.GateFactory(lot=lot, name="Entry", direction="entry"),
        exit=f.GateFactory(lot=lot, name="Exit", direction="exit"),
        allocation=f.AllocationFactory(lot=lot, organisation=tenant, spots=40, accepts_visitors=True),
        visitor_policy=f.AccessPolicyFactory(
            organisation=tenant,
            lot=lot,
            name="Acme visitors",
            kind=PolicyKind.VISITOR,
            spot_cap=10,
            windows=weekdays,
        ),
        member_policy=f.AccessPolicyFactory(
            organisation=tenant,
            lot=lot,
            name="Acme staff",
            kind=PolicyKind.MEMBER,
            spot_cap=40,
            windows=[(d, 6 * 60, 21 * 60) for d in range(5)],
        ),
        outsider_lot=outsider_lot,
        owner=_member(owner_org, Role.OWNER),
        receptionist=_member(owner_org, Role.RECEPTIONIST),
        admin=_member(tenant, Role.ADMIN),
        parker_user=_member(tenant, Role.PARKER),
        outsider_admin=_member(outsider, Role.ADMIN),
        outsider_owner=_member(outsider, Role.OWNER),
    )


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def client_for(client: Client):  # type: ignore[no-untyped-def]
    """``client_for(user)`` returns the test client logged in as that user."""

    def make(user: User) -> Client:
        client.logout()
        return login(client, user)

    return make
