"""The camera endpoint: authentication, formats, matching, repeated reads, and the gate command."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from parkgate.access.models import AccessEvent, AccessMethod, Camera, GateResult, Keypad
from parkgate.access.simulator import ShellySimulator
from parkgate.parking.models import PolicyKind
from tests import factories as f
from tests.access import anpr_samples as s
from tests.access.gate_support import TopicSpy, fast_passwords, mqtt_prefix, shelly, spy, use_shelly

FIXTURES = (fast_passwords, mqtt_prefix, shelly, spy)
KEY = "camera-key-0123456789-abcdefghijklmnop"


@pytest.fixture
def camera(world) -> Camera:
    return Camera.objects.create(gate=world.entry, name="Entry camera", public_id="cam-entry", secret_key=KEY)


@pytest.fixture
def member(world):
    policy = f.AccessPolicyFactory(
        organisation=world.tenant, lot=world.lot, kind=PolicyKind.MEMBER, name="Always"
    )
    parker = f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, plates=["1-ABC-123"])
    policy.members.add(parker)
    return parker


def _url(camera: Camera) -> str:
    return reverse("access:anpr_read", args=[camera.public_id])


def _post_json(client: Client, camera: Camera, body: dict, **headers: str):
    headers.setdefault("HTTP_X_PARKGATE_KEY", KEY)
    return client.post(_url(camera), data=json.dumps(body), content_type="application/json", **headers)


def _assert_nothing_opened(spy: TopicSpy | None = None, shelly: ShellySimulator | None = None) -> None:
    assert not AccessEvent.objects.filter(result=GateResult.OPENED).exists()
    if spy is not None:
        spy.barrier()
        assert spy.rpc_requests() == []
    if shelly is not None:
        assert shelly.pulses == []


def test_plate_recognizer_read_opens_the_shelly_relay(world, camera, member, client, shelly, spy) -> None:
    use_shelly(world.entry, shelly.prefix)
    response = _post_json(client, camera, s.plate_recognizer("1abc123", 0.902))
    assert response.status_code == 200
    event = AccessEvent.objects.get()
    assert response.json() == {
        "status": "decided",
        "granted": True,
        "reason": "granted_member",
        "event_id": event.pk,
        "message": event.message,
        "result": "opened",
        "plate": "1abc123",
        "match": "exact",
    }
    assert (event.method, event.parker, event.gate, event.plate_text) == (
        AccessMethod.ANPR,
        member,
        world.entry,
        "1abc123",
    )
    assert event.data["camera"] == camera.pk and event.data["format"] == "platerecognizer"
    [pulse] = shelly.pulses
    assert pulse.request_id == str(event.command_id) and pulse.toggle_after == 1.5
    spy.barrier()
    [request] = spy.rpc_requests()
    assert request["method"] == "Switch.Set" and request["params"]["toggle_after"] == 1.5


def test_reservation_plate_grants_the_reservation(world, camera, client, pinned_now) -> None:
    visitor = f.ParkerFactory(managed_by=world.tenant)
    reservation = f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=pinned_now - timedelta(minutes=5),
        plate_text="AB-123-CD",
        plate_key="AB123CD",
    )
    body = _post_json(client, camera, s.rekor_group("AB123CD", 93.0)).json()
    assert (body["granted"], body["reason"], body["result"]) == (True, "granted_reservation", "opened")
    event = AccessEvent.objects.get()
    assert (event.reservation, event.parker) == (reservation, visitor)


def test_reservation_outside_its_window_is_denied_with_the_reason(world, camera, client, pinned_now) -> None:
    visitor = f.ParkerFactory(managed_by=world.tenant)
    f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=pinned_now + timedelta(hours=5),
        plate_text="AB-123-CD",
        plate_key="AB123CD",
    )
    body = _post_json(client, camera, s.generic("AB-123-CD", 0.95, None)).json()
    assert (body["granted"], body["reason"], body["result"]) == (
        False,
        "reservation_not_started",
        "not_attempted",
    )
    assert body["message"].startswith("Booking starts at")


def test_one_look_alike_character_matches_a_single_valid_access(world, camera, member, client) -> None:
    body = _post_json(client, camera, s.generic("1A8C123", 0.9, None)).json()
    assert (body["granted"], body["match"], body["result"]) == (True, "look-alike", "opened")
    event = AccessEvent.objects.get()
    assert event.parker == member and event.plate_text == "1A8C123"
    assert event.data["matched_key"] == "1ABC123"


def test_two_look_alike_places_do_not_match(world, camera, member, client) -> None:
    body = _post_json(client, camera, s.generic("1A8C12Z", 0.9, None)).json()
    assert (body["granted"], body["reason"], body["match"]) == (False, "unknown_parker", "none")
    _assert_nothing_opened()


def test_look_alike_matching_two_valid_accesses_opens_nothing(world, camera, client) -> None:
    policy = f.AccessPolicyFactory(organisation=world.tenant, lot=world.lot, kind=PolicyKind.MEMBER)
    for plate in ("1ABC120", "1ABC12D"):
        policy.members.add(
            f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, plates=[plate])
        )
    body = _post_json(client, camera, s.generic("1ABC12O", 0.9, None)).json()
    assert (body["granted"], body["reason"], body["match"]) == (False, "unknown_parker", "ambiguous")
    _assert_nothing_opened()


def test_any_candidate_above_the_threshold_counts(world, camera, member, client) -> None:
    camera.min_confidence = 60
    camera.save()
    low = s.plate_recognizer("1abc128", 0.9, candidates=[("1abc123", 0.55)])
    assert _post_json(client, camera, low).json()["granted"] is False
    ok = s.plate_recognizer("1abc128", 0.9, candidates=[("1abc123", 0.65)])
    body = _post_json(client, camera, ok).json()
    assert (body["granted"], body["plate"], body["match"]) == (True, "1abc123", "exact")


def test_low_confidence_read_opens_nothing(world, camera, member, client) -> None:
    body = _post_json(client, camera, s.rekor_frame("1ABC123", 40.0)).json()
    assert (body["granted"], body["reason"], body["result"]) == (False, "unknown_parker", "not_attempted")
    _assert_nothing_opened()


def test_repeated_reads_of_the_same_car_open_once(world, camera, member, client) -> None:
    first = _post_json(client, camera, s.rekor_frame("1ABC123", 91.0)).json()
    again = _post_json(client, camera, s.rekor_frame("1ABC123", 92.0)).json()
    group = _post_json(client, camera, s.rekor_group("1ABC123", 94.0)).json()
    assert first["result"] == "opened"
    assert again == {
        "status": "repeat",
        "granted": True,
        "reason": "granted_member",
        "detail": "same car read again at this gate",
    }
    assert group["status"] == "repeat"
    assert AccessEvent.objects.count() == 1


def test_repeats_are_per_gate_and_a_failed_opening_may_be_retried(world, camera, member, client) -> None:
    exit_camera = Camera.objects.create(
        gate=world.exit, name="Exit camera", public_id="cam-exit", secret_key=KEY
    )
    assert _post_json(client, camera, s.generic("1ABC123", 0.9, None)).json()["result"] == "opened"
    assert _post_json(client, exit_camera, s.generic("1ABC123", 0.9, None)).json()["result"] == "opened"
    world.entry.driver_settings = {"outcome": "failed"}
    world.entry.save()
    other = f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, plates=["XX-999-X"])
    member.member_policies.first().members.add(other)
    assert _post_json(client, camera, s.generic("XX999X", 0.9, None)).json()["result"] == "failed"
    assert _post_json(client, camera, s.generic("XX999X", 0.9, None)).json()["result"] == "failed"
    assert AccessEvent.objects.filter(parker=other).count() == 2


def test_axis_direction_against_the_gate_direction(world, camera, member, client) -> None:
    files = {
        "event": SimpleUploadedFile(
            "event.json", json.dumps(s.axis_event(direction="out")).encode(), "application/json"
        ),
        "image": SimpleUploadedFile("plate.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
    }
    response = client.post(_url(camera), files, HTTP_AUTHORIZATION=f"Bearer {KEY}")
    body = response.json()
    assert (body["granted"], body["reason"]) == (False, "gate_direction")
    files = {
        "event": SimpleUploadedFile(
            "event.json", json.dumps(s.axis_event(direction="in")).encode(), "application/json"
        )
    }
    body = client.post(_url(camera), files, HTTP_AUTHORIZATION=f"Bearer {KEY}").json()
    assert (body["granted"], body["result"]) == (True, "opened")


def test_multipart_formats(world, camera, member, client) -> None:
    picture = SimpleUploadedFile("upload.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg")
    pr = client.post(
        _url(camera),
        {"json": json.dumps(s.plate_recognizer("1abc123")), "upload": picture},
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert pr.json()["result"] == "opened"
    AccessEvent.objects.all().delete()
    from django.core.cache import cache

    cache.clear()
    hik = {
        "anpr.xml": SimpleUploadedFile("anpr.xml", s.hikvision_xml("1ABC123"), "application/xml"),
        "licensePlatePicture.jpg": SimpleUploadedFile("licensePlatePicture.jpg", b"\xff\xd8", "image/jpeg"),
    }
    basic = base64.b64encode(f"admin:{KEY}".encode()).decode()
    body = client.post(_url(camera), hik, HTTP_AUTHORIZATION=f"Basic {basic}").json()
    assert (body["granted"], body["result"]) == (True, "opened")


def test_a_key_in_the_address_is_refused(world, camera, member, client) -> None:
    """Issue 11: keys in ``?key=`` end up in access logs; only headers carry keys now."""
    response = client.post(
        f"{_url(camera)}?key={KEY}", data=s.hikvision_xml("1ABC123"), content_type="application/xml"
    )
    assert (response.status_code, response.json()) == (401, {"error": "unknown device or wrong key"})
    assert not AccessEvent.objects.exists()
    keypad = Keypad.objects.create(gate=world.entry, name="K", public_id="kp", secret_key=KEY)
    refused = client.post(
        reverse("access:keypad_code", args=[keypad.public_id]) + f"?key={KEY}", {"code": "123456"}
    )
    assert refused.status_code == 401
    assert not AccessEvent.objects.exists()
    # The same read with the key in a header is accepted.
    response = client.post(
        _url(camera),
        data=s.hikvision_xml("1ABC123"),
        content_type="application/xml",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert response.json()["result"] == "opened"


def test_a_read_without_any_plate_is_ignored(world, camera, client) -> None:
    body = s.plate_recognizer()
    body["data"]["results"] = []
    assert _post_json(client, camera, body).json() == {
        "status": "ignored",
        "granted": False,
        "detail": "no plate in this read",
    }
    assert not AccessEvent.objects.exists()


def test_heartbeat_is_acknowledged_and_ignored(world, camera, client) -> None:
    assert _post_json(client, camera, s.REKOR_HEARTBEAT).json() == {
        "status": "ignored",
        "granted": False,
        "detail": "heartbeat",
    }
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_PARKGATE_KEY": "wrong"},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": "Basic !!!"},
    ],
)
def test_unauthenticated_reads_open_nothing(world, camera, member, shelly, spy, headers) -> None:
    use_shelly(world.entry, shelly.prefix)
    client = Client()
    response = client.post(
        _url(camera), data=json.dumps(s.plate_recognizer()), content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert response.json() == {"error": "unknown device or wrong key"}
    assert not AccessEvent.objects.exists()
    _assert_nothing_opened(spy, shelly)


def test_unknown_camera_and_disabled_camera(world, camera, member, client) -> None:
    response = client.post(
        reverse("access:anpr_read", args=["nope"]),
        data="{}",
        content_type="application/json",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert response.status_code == 401
    camera.is_active = False
    camera.save()
    response = _post_json(client, camera, s.plate_recognizer())
    assert response.status_code == 403
    assert not AccessEvent.objects.exists()


def test_malformed_and_oversized_reads_open_nothing(
    world, camera, member, client, settings, shelly, spy
) -> None:
    use_shelly(world.entry, shelly.prefix)
    bad = client.post(
        _url(camera),
        data=b'{"data": {"results": [{"plate": 5}]}}',
        content_type="application/json",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert (
        bad.status_code == 400
        and bad.json()["error"] == "malformed plate read: plate must be a non-empty string"
    )
    xml = client.post(
        _url(camera),
        data=b"<EventNotificationAlert>",
        content_type="application/xml",
        HTTP_X_PARKGATE_KEY=KEY,
    )
    assert xml.status_code == 400
    settings.ANPR_MAX_BODY_BYTES = 4096
    big = s.plate_recognizer()
    big["padding"] = "x" * 5000
    huge = _post_json(client, camera, big)
    assert huge.status_code == 413 and huge.json() == {"error": "body larger than 4096 bytes"}
    assert client.get(_url(camera), HTTP_X_PARKGATE_KEY=KEY).status_code == 405
    assert not AccessEvent.objects.exists()
    _assert_nothing_opened(spy, shelly)


def test_a_camera_only_opens_its_own_gate_at_its_own_lot(world, member, client) -> None:
    foreign_gate = f.GateFactory(lot=world.outsider_lot, name="Their entry")
    foreign = Camera.objects.create(gate=foreign_gate, name="Their camera", public_id="cam-x", secret_key=KEY)
    body = _post_json(client, foreign, s.generic("1ABC123", 0.95, None)).json()
    assert (body["granted"], body["reason"]) == (False, "unknown_parker")
    assert AccessEvent.objects.get().lot == world.outsider_lot


def test_member_outside_the_timetable_is_told_when_it_opens(world, camera, client, pinned_now) -> None:
    today = pinned_now.astimezone(world.lot.zone).weekday()
    other_day = (today + 3) % 7
    policy = f.AccessPolicyFactory(
        organisation=world.tenant,
        lot=world.lot,
        kind=PolicyKind.MEMBER,
        windows=[(other_day, 8 * 60, 12 * 60), (other_day, 13 * 60, 18 * 60)],
    )
    policy.members.add(
        f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, plates=["GH-456-JK"])
    )
    body = _post_json(client, camera, s.generic("GH456JK", 0.95, None)).json()
    assert (body["granted"], body["reason"], body["result"]) == (False, "outside_timetable", "not_attempted")
    assert body["message"].startswith("Outside the timetable: the next window opens at 08:00")
