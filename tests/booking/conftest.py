from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from parkgate.portal.models import Invitation, VisitorPortal
from tests.booking.factories import InvitationFactory, VisitorPortalFactory


def next_weekday(weekday: int, today: date | None = None) -> date:
    """The next given weekday (0 = Monday) at least two days ahead: never today, never over."""
    day = (today or date.today()) + timedelta(days=2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


@dataclass
class Booking:
    portal: VisitorPortal
    invitation: Invitation
    monday: date


@pytest.fixture
def portal_world(world):  # type: ignore[no-untyped-def]
    """The tenant's portal at the world's lot (weekdays 07:00-19:00, cap 10), slots 09-13 and 13-17."""
    portal = VisitorPortalFactory(
        organisation=world.tenant,
        lot=world.lot,
        name="Acme visitors",
        slug="acme",
        policies=[world.visitor_policy],
    )
    invitation = InvitationFactory(portal=portal)
    return Booking(portal=portal, invitation=invitation, monday=next_weekday(0))


def visitor_post(index: int, first: str, last: str, plate: str, email: str) -> dict[str, str]:
    return {
        f"v{index}-first_name": first,
        f"v{index}-last_name": last,
        f"v{index}-plate": plate,
        f"v{index}-email": email,
    }


def aware_now() -> datetime:
    from django.utils import timezone

    return timezone.now()
