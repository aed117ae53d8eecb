"""Owner pages for cameras and keypads: who may see and change them (tenancy and roles)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from parkgate.access.models import Camera, Keypad
from parkgate.core.models import AuditEvent
from tests import factories as f
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)


@pytest.fixture
def camera(world) -> Camera:
    return Camera.objects.create(
        gate=world.entry, name="Entry camera", public_id="cam-1", secret_key="k" * 43
    )


def _detail(kind: str, pk: int) -> str:
    return reverse("access:device_detail", args=[kind, pk])


def test_owner_creates_a_camera_and_sees_its_endpoint_and_key(world, client_for) -> None:
    client = client_for(world.owner)
    assert client.get(reverse("access:device_list")).status_code == 200
    response = client.post(
        reverse("access:device_create", args=["camera"]),
        {
            "gate": world.entry.pk,
            "name": "Lane 1",
            "format": "hikvision",
            "min_confidence": 80,
            "is_active": "on",
        },
    )
    camera = Camera.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail("camera", camera.pk)
    assert (camera.gate, camera.format, camera.min_confidence) == (world.entry, "hikvision", 80)
    assert len(camera.public_id) == 16 and len(camera.secret_key) == 43
    page = client.get(_detail("camera", camera.pk)).content.decode()
    assert f"http://testserver/access/anpr/{camera.public_id}/" in page and camera.secret_key in page
    assert (
        AuditEvent.objects.filter(action="access.camera.created", organisation=world.owner_org).count() == 1
    )
    assert camera.secret_key not in str(AuditEvent.objects.get(action="access.camera.created").data)


def test_admin_of_the_owner_organisation_creates_a_keypad(world, client_for) -> None:
    admin = f.MembershipFactory(organisation=world.owner_org, role="admin").user
    client = client_for(admin)
    response = client.post(
        reverse("access:device_create", args=["keypad"]),
        {"gate": world.exit.pk, "name": "Exit keypad", "uses_mqtt": "on", "is_active": "on"},
    )
    assert response.status_code == 302
    keypad = Keypad.objects.get()
    assert (keypad.uses_mqtt, keypad.mqtt_topic) == (True, f"{keypad.mqtt_namespace}/code")


def test_bad_input_is_shown_beside_the_field_and_changes_nothing(world, client_for) -> None:
    client = client_for(world.owner)
    response = client.post(
        reverse("access:device_create", args=["keypad"]),
        {"gate": world.exit.pk, "name": ""},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert not Keypad.objects.exists()


def test_gates_of_other_owners_are_not_a_choice(world, client_for) -> None:
    foreign_gate = f.GateFactory(lot=world.outsider_lot, name="Their gate")
    client = client_for(world.owner)
    response = client.post(
        reverse("access:device_create", args=["camera"]),
        {"gate": foreign_gate.pk, "name": "Sneaky", "format": "auto", "min_confidence": 70},
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Camera.objects.exists()
    assert "Their gate" not in client.get(reverse("access:device_create", args=["camera"])).content.decode()


def test_detail_lists_the_devices_latest_attempts(world, camera, client_for) -> None:
    from parkgate.access.anpr import PlateRead
    from parkgate.access.ways import anpr_read_handle
    from parkgate.parking.plates import Candidate

    other = Camera.objects.create(gate=world.entry, name="Other", public_id="cam-2", secret_key="o" * 43)
    anpr_read_handle(camera=camera, read=PlateRead("generic", (Candidate("9-ZZZ-999", 0.9),)))
    anpr_read_handle(camera=other, read=PlateRead("generic", (Candidate("8-YYY-888", 0.9),)))
    html = client_for(world.owner).get(_detail("camera", camera.pk)).content.decode()
    assert "9-ZZZ-999" in html and "8-YYY-888" not in html
    assert "Unknown parker: no matching profile, plate or code." in html


def test_rotate_key(world, camera, client_for) -> None:
    client = client_for(world.owner)
    old = camera.secret_key
    response = client.post(reverse("access:device_rotate", args=["camera", camera.pk]))
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.secret_key != old and camera.key_rotated_at is not None
    assert AuditEvent.objects.filter(action="access.camera.key_rotated").count() == 1
    # The old key stops working at once; the new one works.
    url = reverse("access:anpr_read", args=[camera.public_id])
    heartbeat = '{"data_type": "heartbeat"}'
    assert client.post(url, heartbeat, "application/json", HTTP_X_PARKGATE_KEY=old).status_code == 401
    ok = client.post(url, heartbeat, "application/json", HTTP_X_PARKGATE_KEY=camera.secret_key)
    assert ok.status_code == 200
    assert client.get(reverse("access:device_rotate", args=["camera", camera.pk])).status_code == 405


def test_edit_and_delete(world, camera, client_for) -> None:
    client = client_for(world.owner)
    response = client.post(
        _detail("camera", camera.pk),
        {"gate": world.exit.pk, "name": "Moved", "format": "axis", "min_confidence": 75},
    )
    assert response.status_code == 302
    camera.refresh_from_db()
    assert (camera.gate, camera.name, camera.is_active) == (world.exit, "Moved", False)
    client.post(reverse("access:device_remove", args=["camera", camera.pk]))
    assert not Camera.objects.exists()
    assert AuditEvent.objects.filter(action="access.camera.deleted").count() == 1


@pytest.mark.parametrize("who", ["outsider_owner", "outsider_admin"])
def test_other_organisations_get_404_and_change_nothing(world, camera, client_for, who: str) -> None:
    client = client_for(getattr(world, who))
    key = camera.secret_key
    assert client.get(_detail("camera", camera.pk)).status_code == 404
    assert (
        client.post(
            _detail("camera", camera.pk),
            {"gate": world.entry.pk, "name": "X", "format": "auto", "min_confidence": 70},
        ).status_code
        == 404
    )
    assert client.post(reverse("access:device_rotate", args=["camera", camera.pk])).status_code == 404
    assert client.post(reverse("access:device_remove", args=["camera", camera.pk])).status_code == 404
    assert "Entry camera" not in client.get(reverse("access:device_list")).content.decode()
    camera.refresh_from_db()
    assert (camera.name, camera.secret_key) == ("Entry camera", key)


def test_tenant_admin_sees_no_devices_of_the_lot_it_rents(world, camera, client_for) -> None:
    client = client_for(world.admin)
    html = client.get(reverse("access:device_list")).content.decode()
    assert "Entry camera" not in html and "It owns none." in html
    assert client.get(_detail("camera", camera.pk)).status_code == 404


@pytest.mark.parametrize("who", ["receptionist", "parker_user"])
def test_wrong_roles_get_403_and_change_nothing(world, camera, client_for, who: str) -> None:
    client = client_for(getattr(world, who))
    key = camera.secret_key
    assert client.get(reverse("access:device_list")).status_code == 403
    assert client.get(_detail("camera", camera.pk)).status_code == 403
    assert client.post(reverse("access:device_rotate", args=["camera", camera.pk])).status_code == 403
    assert client.post(reverse("access:device_remove", args=["camera", camera.pk])).status_code == 403
    camera.refresh_from_db()
    assert camera.secret_key == key


def test_anonymous_is_sent_to_login(world, camera, client) -> None:
    response = client.get(reverse("access:device_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_kind_is_404(world, client_for) -> None:
    client = client_for(world.owner)
    assert client.get(reverse("access:device_create", args=["toaster"])).status_code == 404
    assert client.get(_detail("toaster", 1)).status_code == 404


def test_two_keypads_never_share_a_topic(world, client_for) -> None:
    client = client_for(world.owner)
    for name in ("First", "Second"):
        client.post(
            reverse("access:device_create", args=["keypad"]),
            {"gate": world.exit.pk, "name": name, "uses_mqtt": "on", "is_active": "on"},
        )
    topics = {k.mqtt_topic for k in Keypad.objects.all()}
    assert len(topics) == 2 and all(t.startswith("pg/k") for t in topics)
