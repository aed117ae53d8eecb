from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from django.urls import reverse

from parkgate.access.devices import device_save
from parkgate.access.models import Camera, Keypad
from parkgate.portal.models import Invitation, VisitorPortal
from tests import clock
from tests.booking.factories import InvitationFactory, VisitorPortalFactory


def next_weekday(now: datetime, weekday: int) -> date:
    """The next given weekday (0 = Monday) at least four days after ``now`` in Brussels: never today,
    never over, and never the day the booking page opens on (its first open day is at most three days
    ahead: Friday evening -> Monday), so choosing it on the page is a change htmx acts on."""
    return clock.next_weekday(clock.lot_date(now), weekday, at_least=4)


@dataclass
class PortalWorld:
    portal: VisitorPortal
    invitation: Invitation
    monday: date

    @property
    def url(self) -> str:
        return reverse("booking:invitation", args=[self.portal.slug, self.invitation.token])

    def slot(self, hour: int) -> str:
        return str(self.portal.slots.get(start_minute=hour * 60).pk)


@pytest.fixture
def portal_world(world, pinned_now):  # type: ignore[no-untyped-def]
    """The tenant's portal at the world's lot (weekdays 07:00-19:00, cap 10), slots 09-13 and 13-17."""
    portal = VisitorPortalFactory(
        organisation=world.tenant,
        lot=world.lot,
        name="Acme visitors",
        slug="acme",
        policies=[world.visitor_policy],
    )
    invitation = InvitationFactory(portal=portal)
    # The lot's entry has a plate camera and a keypad, so every way in is promised to visitors.
    device_save(device=Camera(gate=world.entry, name="Entry camera"), actor=None)
    device_save(device=Keypad(gate=world.entry, name="Entry keypad"), actor=None)
    return PortalWorld(portal=portal, invitation=invitation, monday=next_weekday(pinned_now, 0))


def visitor_post(index: int, first: str, last: str, plate: str, email: str) -> dict[str, str]:
    return {
        f"v{index}-first_name": first,
        f"v{index}-last_name": last,
        f"v{index}-plate": plate,
        f"v{index}-email": email,
    }


def booking_post(
    pw: PortalWorld, *, day: date | None = None, hour: int = 9, spots: int = 1, **extra: str
) -> dict[str, str]:
    data = {"date": (day or pw.monday).isoformat(), "time": pw.slot(hour), "spots": str(spots), **extra}
    people = [
        ("Jeanne", "Dupont", "1-abc-123", "jeanne@example.com"),
        ("Piet", "Peeters", "2 xyz 987", "piet@example.com"),
        ("Anna", "Smit", "XX-999-X", "anna@example.com"),
    ]
    for index in range(spots):
        data |= visitor_post(index, *people[index])
    return data


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    """The world fixture creates six users; the production hasher would dominate these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
