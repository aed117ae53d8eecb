"""Issue 14 item 5: search by organisation finds its visitors; a day-early visitor is told when.

The day-early case goes through the camera endpoint (what the desk's live log then shows).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from parkgate.access.models import AccessEvent, Camera
from parkgate.parking.models import Parker
from parkgate.parking.services import parker_save
from tests import factories as f
from tests.access import anpr_samples as s

from .conftest import Desk

HTMX = {"HTTP_HX_REQUEST": "true"}
BRUSSELS = ZoneInfo("Europe/Brussels")
KEY = "camera-key-0123456789-abcdefghijklmnop"


def _visitor(managed_by, first: str, last: str) -> Parker:  # type: ignore[no-untyped-def]
    return parker_save(
        parker=Parker(managed_by=managed_by, organisation=None, first_name=first, last_name=last),
        plates=[],
        actor=None,
    )


def test_searching_an_organisation_finds_its_visitors(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    guest = _visitor(w.tenant, "Vera", "Bezoek")
    other_tenant = f.OrganisationFactory(name="Beta Works")
    f.AllocationFactory(lot=w.lot, organisation=other_tenant, spots=5)
    _visitor(other_tenant, "Bert", "Anders")
    _visitor(w.outsider, "Olga", "Buiten")  # another lot's organisation: never found here
    client = client_for(w.receptionist)
    response = client.get(reverse("controlroom:search", args=[w.lot.pk]), {"q": "acme"}, **HTMX)
    found = {r.parker.pk for r in response.context["results"]}
    assert guest.pk in found and desk.valid.pk in found
    assert {p.last_name for p in Parker.objects.filter(pk__in=found)} == {"Bezoek", "Lefèvre", "Vieux"}
    page = response.content.decode()
    assert "Visitor of Acme Consulting" in page
    assert "the app" not in page  # the advice for visitors names what they have: their e-mail


@pytest.mark.parametrize(
    ("visit_day", "reason", "message", "matched"),
    [
        (1, "reservation_not_started", "Booking starts at 09:00 tomorrow.", True),
        (9, "unknown_parker", "Unknown parker: no matching profile, plate or code.", False),
    ],
    ids=["tomorrow", "more-than-a-week-away"],
)
@time_machine.travel(datetime(2026, 11, 30, 7, 49, tzinfo=BRUSSELS), tick=False)
def test_an_early_visitor_is_told_when_the_booking_starts(  # type: ignore[no-untyped-def]
    desk: Desk, client, visit_day: int, reason: str, message: str, matched: bool
) -> None:
    """Monday 07:49; the visit is on 1 December (Tuesday, 25 hours ahead: not an 'unknown parker')
    or on 9 December (beyond the week the camera looks ahead)."""
    w = desk.world
    camera = Camera.objects.create(gate=w.entry, name="Entry camera", public_id="cam-entry", secret_key=KEY)
    visitor = _visitor(w.tenant, "Vera", "Vroeg")
    f.ReservationFactory(
        parker=visitor,
        policy=w.visitor_policy,
        start=datetime(2026, 12, visit_day, 9, 0, tzinfo=BRUSSELS),
        end=datetime(2026, 12, visit_day, 17, 0, tzinfo=BRUSSELS),
        plate_text="AB-123-CD",
        plate_key="AB123CD",
    )
    body = client.post(
        reverse("access:anpr_read", args=[camera.public_id]),
        data=json.dumps(s.generic("AB-123-CD", 0.95, None)),
        content_type="application/json",
        HTTP_X_PARKGATE_KEY=KEY,
    ).json()
    assert (body["granted"], body["reason"], body["message"]) == (False, reason, message)
    event = AccessEvent.objects.get()
    assert (event.parker_id, event.granted) == (visitor.pk if matched else None, False)
