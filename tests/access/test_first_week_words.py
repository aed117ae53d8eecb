"""Issue 14 item 8: gate names per language; the camera page's decisions in the reader's language."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from parkgate.access.models import Camera
from tests.access import anpr_samples as s

pytestmark = pytest.mark.django_db
KEY = "camera-key-0123456789-abcdefghijklmnop"


def test_the_camera_page_shows_decisions_in_the_readers_language(client, client_for, world) -> None:  # type: ignore[no-untyped-def]
    camera = Camera.objects.create(
        gate=world.entry, name="Entry camera", public_id="cam-entry", secret_key=KEY
    )
    read = client.post(
        reverse("access:anpr_read", args=[camera.public_id]),
        data=json.dumps(s.generic("ZZ-999-ZZ", 0.95, None)),
        content_type="application/json",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert read.json()["reason"] == "unknown_parker"
    owner = client_for(world.owner)
    owner.post(reverse("set_language"), {"language": "fr"})
    page = owner.get(reverse("access:device_detail", args=["camera", camera.pk])).content.decode()
    assert "Usager inconnu : aucun profil, plaque ou code correspondant." in page
    assert "Unknown parker" not in page


def test_a_gate_has_a_name_per_language_and_falls_back_to_its_own(world) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    gate = world.entry
    gate.name, gate.name_fr, gate.name_nl = "Entry barrier", "Barrière d'entrée", ""
    gate.save()
    with translation.override("fr"):
        assert gate.label == "Barrière d'entrée"
    with translation.override("nl"):
        assert gate.label == "Entry barrier"  # none given: its own name, everywhere
    with translation.override("en"):
        assert gate.label == "Entry barrier"
