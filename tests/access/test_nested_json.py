"""Issue 11 (low): a camera or keypad POST of deeply nested JSON with a valid key is a 400, not a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from parkgate.access.models import AccessEvent, Camera, Keypad
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)
KEY = "camera-key-0123456789-abcdefghijklmnop"
NESTED = "[" * 100_000 + "]" * 100_000
NESTED_OBJECT = '{"plate": ' * 50_000 + "1" + "}" * 50_000


@pytest.fixture
def camera(world) -> Camera:
    return Camera.objects.create(gate=world.entry, name="Entry camera", public_id="cam-entry", secret_key=KEY)


@pytest.fixture
def raising_client() -> Client:
    # A 500 must fail the test as the server error it is, not as a re-raised exception.
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT])
def test_a_deeply_nested_plate_read_is_refused_with_a_clear_error(camera, raising_client, body) -> None:
    response = raising_client.post(
        reverse("access:anpr_read", args=[camera.public_id]),
        data=body,
        content_type="application/json",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "malformed plate read: invalid JSON: nested too deeply"}
    assert not AccessEvent.objects.exists()


def test_a_deeply_nested_multipart_part_is_refused_too(camera, raising_client) -> None:
    response = raising_client.post(
        reverse("access:anpr_read", args=[camera.public_id]),
        data={"json": SimpleUploadedFile("read.json", NESTED.encode(), content_type="application/json")},
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "malformed plate read: invalid JSON: nested too deeply"}
    assert not AccessEvent.objects.exists()


def test_a_deeply_nested_keypad_body_is_refused(world, raising_client, settings) -> None:
    keypad = Keypad.objects.create(gate=world.entry, name="K", public_id="kp", secret_key=KEY)
    response = raising_client.post(
        reverse("access:keypad_code", args=[keypad.public_id]),
        data=NESTED[:2000] + NESTED[-2000:],  # within the keypad's 4 KB body limit
        content_type="application/json",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid JSON: nested too deeply"}
    assert not AccessEvent.objects.exists()


def test_a_deeply_nested_mqtt_keypad_payload_is_not_a_code() -> None:
    from parkgate.access.keypad_listener import code_from_payload

    assert code_from_payload(('{"code": ' * 5000 + "1" + "}" * 5000).encode()).startswith('{"code"')
