"""Issue 11 (low): THE plate rule (parkgate/parking/plates.py), used by every form and endpoint.

Plates were stored as typed: a fullwidth 1ABC123 (U+FF11...) or an accented ``ÄBC-123`` never matched a
camera read of 1ABC123 / ABC123. Now NFKC, accents folded, one length bound everywhere.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from parkgate.access.models import AccessEvent, Camera
from parkgate.backoffice.forms import ParkerForm
from parkgate.booking.forms import VisitorForm
from parkgate.parking.models import Parker, Plate, PolicyKind
from parkgate.parking.plates import clean_plate, plate_display, plate_is_valid, plate_key
from parkgate.parking.services import parker_save
from tests import factories as f
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)
KEY = "camera-key-0123456789-abcdefghijklmnop"
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Brussels"))
FULLWIDTH = "\uff11\uff21\uff22\uff23\uff11\uff12\uff13"  # fullwidth 1ABC123


def test_the_canonical_key() -> None:
    assert plate_key(FULLWIDTH) == "1ABC123"
    assert plate_key("ÄBC-123") == "ABC123"
    assert plate_key("1-abc  123") == plate_key("1.ABC.123") == plate_key("1 abc/123") == "1ABC123"
    assert plate_key("Straße 1") == "STRASSE1"
    assert plate_display("1-abc  123") == "1-ABC 123"
    assert plate_display("ÄBC-123") == "ABC-123"
    assert plate_display(FULLWIDTH) == "1ABC123"


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (FULLWIDTH, True),
        ("ÄBC-123", True),
        ("AB", True),
        ("ABCDEF-123456", True),  # 12 letters and digits: the one bound
        ("ABCDEF-1234567", False),  # 13
        ("A", False),
        (" - ", False),
        ("Ж123", False),  # cameras read Latin letters and digits
        ("1ABC*23", False),
    ],
)
def test_every_form_applies_the_same_rule(world, text: str, valid: bool) -> None:
    assert plate_is_valid(text) is valid
    booking = VisitorForm(
        data={"first_name": "Ann", "last_name": "Lee", "plate": text, "email": "ann@example.com"}
    )
    office = ParkerForm(
        data={"first_name": "Ann", "last_name": "Lee", "email": "", "phone": "", "plates": text}
    )
    from parkgate.controlroom.forms import WalkInForm

    walk_in = WalkInForm(data={"plate": text}, lot=world.lot, now=MONDAY_9)
    walk_in.is_valid()
    assert booking.is_valid() is valid
    assert office.is_valid() is valid, office.errors
    assert ("plate" not in walk_in.errors) is valid
    if valid:
        assert booking.cleaned_data["plate"] == walk_in.cleaned_data["plate"] == clean_plate(text)
        assert [plate_key(p) for p in office.cleaned_data["plates"]] == [plate_key(text)]


@pytest.fixture
def camera(world) -> Camera:
    return Camera.objects.create(gate=world.entry, name="Entry camera", public_id="cam-entry", secret_key=KEY)


@pytest.mark.parametrize(("registered", "read"), [(FULLWIDTH, "1ABC123"), ("ÄBC-123", "ABC123")])
def test_a_plate_typed_in_any_form_matches_the_camera_read(world, camera, client, registered, read) -> None:
    cache.clear()
    policy = f.AccessPolicyFactory(
        organisation=world.tenant,
        lot=world.lot,
        kind=PolicyKind.MEMBER,
        name="Always",
        windows=[(d, 0, 1440) for d in range(7)],
    )
    parker = parker_save(
        parker=Parker(managed_by=world.tenant, organisation=world.tenant, first_name="Eva", last_name="Roos"),
        plates=[registered],
        actor=None,
    )
    policy.members.add(parker)
    assert parker.plates.get().key == read
    with time_machine.travel(MONDAY_9, tick=False):
        response = client.post(
            reverse("access:anpr_read", args=[camera.public_id]),
            data=json.dumps({"plate": read, "confidence": 0.95}),
            content_type="application/json",
            HTTP_X_PARKGATE_KEY=KEY,
        )
    body = response.json()
    assert (body["granted"], body["result"], body["match"]) == (True, "opened", "exact")
    assert AccessEvent.objects.get().parker_id == parker.pk


def test_the_data_migration_makes_stored_keys_canonical(world) -> None:
    from importlib import import_module

    from django.apps import apps

    parker = f.ParkerFactory(managed_by=world.tenant)
    Plate.objects.create(parker=parker, text=FULLWIDTH, key=FULLWIDTH)  # stored as typed, before
    Plate.objects.create(parker=parker, text="1-ABC-123", key="1ABC123")  # the same plate
    migration = import_module("parkgate.parking.migrations.0003_plates_canonical")
    migration.canonical_plates(apps, None)
    assert list(parker.plates.values_list("text", "key")) == [("1ABC123", "1ABC123")]
