"""Every request example of docs/api/machine-endpoints.yaml is accepted by the real endpoints."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve

from parkgate.access.models import AccessEvent, Camera, Keypad
from parkgate.parking.models import PolicyKind
from tests import factories as f
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)
DOCUMENT = Path(settings.BASE_DIR) / "docs" / "api" / "machine-endpoints.yaml"
KEY = "openapi-example-key-0123456789abcdef"


def _examples() -> list[tuple[str, str, str, Any]]:
    spec = yaml.safe_load(DOCUMENT.read_text())
    found = []
    for path, operations in spec["paths"].items():
        for media_type, content in operations["post"]["requestBody"]["content"].items():
            for name, example in content["examples"].items():
                found.append((path, media_type, name, example["value"]))
    return found


def test_document_is_openapi_3_1_and_routes_exist() -> None:
    spec = yaml.safe_load(DOCUMENT.read_text())
    assert spec["openapi"] == "3.1.0"
    for path in spec["paths"]:
        match = resolve(path.replace("{public_id}", "abc"))
        assert match.url_name in ("anpr_read", "keypad_code")
    media = {(p, m) for p, m, _n, _v in _examples()}
    assert media == {
        ("/access/anpr/{public_id}/", "application/json"),
        ("/access/anpr/{public_id}/", "application/xml"),
        ("/access/anpr/{public_id}/", "multipart/form-data"),
        ("/access/keypad/{public_id}/", "application/json"),
        ("/access/keypad/{public_id}/", "application/x-www-form-urlencoded"),
    }
    assert len(_examples()) == 12


@pytest.mark.parametrize(
    ("path", "media_type", "name", "value"), _examples(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_example_is_accepted(
    world, client: Client, path: str, media_type: str, name: str, value: Any, pinned_now: datetime
) -> None:
    cache.clear()
    Camera.objects.create(gate=world.entry, name="Camera", public_id="cam-doc", secret_key=KEY)
    Keypad.objects.create(gate=world.entry, name="Keypad", public_id="kp-doc", secret_key=KEY)
    policy = f.AccessPolicyFactory(organisation=world.tenant, lot=world.lot, kind=PolicyKind.MEMBER)
    policy.members.add(
        f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, plates=["1-ABC-123"])
    )
    f.ReservationFactory(
        parker=f.ParkerFactory(managed_by=world.tenant),
        policy=world.visitor_policy,
        start=pinned_now - timedelta(minutes=5),
        keypad_code="482913",
    )
    url = path.replace("{public_id}", "cam-doc" if "anpr" in path else "kp-doc")
    headers = {"HTTP_X_PARKGATE_KEY": KEY}
    if media_type == "application/json":
        response = client.post(url, data=json.dumps(value), content_type=media_type, **headers)
    elif media_type == "application/xml":
        response = client.post(url, data=value.encode(), content_type=media_type, **headers)
    elif media_type == "application/x-www-form-urlencoded":
        response = client.post(url, data=urlencode(value), content_type=media_type, **headers)
    else:
        # Plate Recognizer sends `json` as a plain form field; the others are parts with a type.
        parts: dict[str, Any] = {
            field: text
            if field == "json"
            else SimpleUploadedFile(
                field, text.encode(), "application/xml" if field.endswith(".xml") else "application/json"
            )
            for field, text in value.items()
        }
        response = client.post(url, parts, **headers)
    assert response.status_code == 200, response.content
    body = response.json()
    if name in ("rekorHeartbeat", "unavailable"):
        assert body["status"] == "ignored" and not AccessEvent.objects.exists()
    else:
        assert (body["status"], body["granted"], body["result"]) == ("decided", True, "opened")
