"""Keypads over HTTP and MQTT: codes valid in the reservation window at that lot, lockout, repeats."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from parkgate.access.keypad_listener import KeypadListener, code_from_payload
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Keypad, KeypadGuess
from parkgate.access.mqtt import mqtt_link
from parkgate.access.simulator import ShellySimulator
from parkgate.core.models import AuditEvent
from tests import factories as f
from tests.access.gate_support import (
    TopicSpy,
    fast_passwords,
    mqtt_prefix,
    shelly,
    spy,
    use_shelly,
    wait_until,
)

FIXTURES = (fast_passwords, mqtt_prefix, shelly, spy)
KEY = "keypad-key-0123456789-abcdefghijklmnop"


@pytest.fixture
def keypad(world) -> Keypad:
    return Keypad.objects.create(gate=world.entry, name="Entry keypad", public_id="kp-entry", secret_key=KEY)


@pytest.fixture
def reservation(world, pinned_now):
    visitor = f.ParkerFactory(managed_by=world.tenant)
    return f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=pinned_now - timedelta(minutes=5),
        keypad_code="482913",
    )


def _enter(client: Client, keypad: Keypad, code: object, **headers: str):
    headers.setdefault("HTTP_X_PARKGATE_KEY", KEY)
    return client.post(
        reverse("access:keypad_code", args=[keypad.public_id]),
        data=json.dumps({"code": code}),
        content_type="application/json",
        **headers,
    )


def test_valid_code_opens_the_shelly_relay(
    world, keypad, reservation, client, shelly: ShellySimulator
) -> None:
    use_shelly(world.entry, shelly.prefix)
    response = _enter(client, keypad, "482913")
    assert response.status_code == 200
    event = AccessEvent.objects.get()
    assert response.json() == {
        "status": "decided",
        "granted": True,
        "reason": "granted_reservation",
        "event_id": event.pk,
        "message": event.message,
        "result": "opened",
        "plate": "",
    }
    assert (event.method, event.reservation, event.parker) == (
        AccessMethod.KEYPAD,
        reservation,
        reservation.parker,
    )
    assert "482913" not in json.dumps(event.data)
    [pulse] = shelly.pulses
    assert pulse.request_id == str(event.command_id) and pulse.toggle_after == 1.5


def test_form_encoded_code(world, keypad, reservation, client) -> None:
    response = client.post(
        reverse("access:keypad_code", args=[keypad.public_id]),
        {"code": "482913"},
        HTTP_AUTHORIZATION=f"Bearer {KEY}",
    )
    assert response.json()["result"] == "opened"


def test_code_only_valid_in_the_window_and_at_that_lot(world, keypad, client, settings, pinned_now) -> None:
    settings.ACCESS_GRACE_BEFORE_MINUTES = 15
    visitor = f.ParkerFactory(managed_by=world.tenant)
    f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=pinned_now + timedelta(minutes=30),
        keypad_code="111222",
    )
    body = _enter(client, keypad, "111222").json()
    assert (body["granted"], body["reason"], body["result"]) == (
        False,
        "reservation_not_started",
        "not_attempted",
    )
    other_policy = f.AccessPolicyFactory(organisation=world.outsider, lot=world.outsider_lot)
    f.ReservationFactory(
        parker=visitor, policy=other_policy, start=pinned_now - timedelta(minutes=5), keypad_code="333444"
    )
    body = _enter(client, keypad, "333444").json()
    assert (body["granted"], body["reason"]) == (False, "unknown_parker")
    assert not AccessEvent.objects.filter(result=GateResult.OPENED).exists()


def test_empty_unknown_unavailable_and_repeats_are_ignored(world, keypad, reservation, client) -> None:
    for value in ("", "unknown", "unavailable", " Unavailable "):
        assert _enter(client, keypad, value).json() == {
            "status": "ignored",
            "granted": False,
            "detail": "no code",
        }
    assert _enter(client, keypad, "482913").json()["result"] == "opened"
    assert _enter(client, keypad, "482913").json() == {
        "status": "ignored",
        "granted": False,
        "detail": "same code sent again",
    }
    assert AccessEvent.objects.count() == 1


def test_malformed_and_unauthenticated_input(world, keypad, reservation, client, shelly, spy) -> None:
    use_shelly(world.entry, shelly.prefix)
    url = reverse("access:keypad_code", args=[keypad.public_id])
    assert _enter(client, keypad, "48a913").status_code == 400
    assert _enter(client, keypad, 482913).status_code == 400
    assert (
        client.post(url, data=b"{nope", content_type="application/json", HTTP_X_PARKGATE_KEY=KEY).status_code
        == 400
    )
    assert _enter(client, keypad, "482913", HTTP_X_PARKGATE_KEY="wrong").status_code == 401
    assert (
        client.post(
            url,
            data=json.dumps({"code": "1" * 5000}),
            content_type="application/json",
            HTTP_X_PARKGATE_KEY=KEY,
        ).status_code
        == 413
    )
    assert client.get(url, HTTP_X_PARKGATE_KEY=KEY).status_code == 405
    assert not AccessEvent.objects.exists()
    spy.barrier()
    assert spy.rpc_requests() == [] and shelly.pulses == []


def test_lockout_after_repeated_failures(world, keypad, reservation, client, settings, pinned_now) -> None:
    settings.KEYPAD_BURST_FAILURES = 3
    settings.KEYPAD_REPEAT_WINDOW_SECONDS = 0
    for code in ("000001", "000002", "000003"):
        assert _enter(client, keypad, code).json()["granted"] is False
    locked = _enter(client, keypad, "482913")
    assert locked.status_code == 429
    assert locked.json() == {
        "status": "locked_out",
        "granted": False,
        "detail": "too many wrong codes; try again later, or use the link in your booking e-mail",
        "retry_after": settings.KEYPAD_BURST_SECONDS,
    }
    assert AccessEvent.objects.count() == 3
    assert not AccessEvent.objects.filter(result=GateResult.OPENED).exists()
    audit = AuditEvent.objects.get(action="access.keypad.locked_out")
    assert audit.data["reason"] == "burst"
    # The lockout lifts when the burst is old enough (see test_keypad_lockout.py for the timing).
    KeypadGuess.objects.update(at=pinned_now - timedelta(seconds=settings.KEYPAD_BURST_SECONDS + 1))
    assert _enter(client, keypad, "482913").json()["result"] == "opened"


def test_a_success_does_not_reset_the_count(world, keypad, reservation, client, settings) -> None:
    settings.KEYPAD_BURST_FAILURES = 3
    settings.KEYPAD_REPEAT_WINDOW_SECONDS = 0
    _enter(client, keypad, "000001")
    _enter(client, keypad, "000002")
    assert _enter(client, keypad, "482913").json()["result"] == "opened"
    _enter(client, keypad, "000003")
    assert _enter(client, keypad, "000004").status_code == 429
    assert _enter(client, keypad, "482913").status_code == 429


def test_code_from_payload() -> None:
    assert code_from_payload(b"482913") == "482913"
    assert code_from_payload(b' {"code": "482913"} ') == "482913"
    assert code_from_payload(b'{"state": "unknown"}') == "unknown"
    assert code_from_payload(b"{oops") == "{oops"


@pytest.mark.mqtt
@pytest.mark.django_db(transaction=True)
def test_mqtt_keypad_listener_opens_and_answers(
    world, mqtt_prefix: str, shelly: ShellySimulator, spy: TopicSpy, pinned_now: datetime
) -> None:
    cache.clear()
    use_shelly(world.entry, shelly.prefix)
    # The test stands in for Parkgate's namespace assignment (unique per test on the shared broker).
    keypad = Keypad.objects.create(
        gate=world.entry,
        name="MQTT keypad",
        public_id="kp-mqtt",
        secret_key=KEY,
        uses_mqtt=True,
        mqtt_namespace=f"{mqtt_prefix}/keypad",
    )
    topic = f"{mqtt_prefix}/keypad/code"
    assert keypad.mqtt_topic == topic
    visitor = f.ParkerFactory(managed_by=world.tenant)
    reservation = f.ReservationFactory(
        parker=visitor,
        policy=world.visitor_policy,
        start=pinned_now - timedelta(minutes=5),
        keypad_code="482913",
    )
    link = mqtt_link()
    assert link.wait_connected(5)
    # A retained value is the last state, re-sent on every subscription: never a new code.
    link._client.publish(topic, "000000", qos=1, retain=True).wait_for_publish(5)
    listener = KeypadListener()
    try:
        listener.refresh()
        assert listener.topics == {topic: keypad.pk}
        link.publish(topic, "unavailable", expires_in=5)
        link.publish(topic, "482913", expires_in=5)
        assert listener.wait_handled(2, 10)
        assert sorted(o.status for _t, o in listener.handled if o) == ["decided", "ignored"]
        event = AccessEvent.objects.get()
        assert (event.method, event.reservation_id, event.result) == (
            AccessMethod.KEYPAD,
            reservation.pk,
            GateResult.OPENED,
        )
        [pulse] = shelly.pulses
        assert pulse.request_id == str(event.command_id)
        wait_until(lambda: any(t == f"{topic}/result" for t, _p in spy.messages), what="result message")
        result = json.loads(next(p for t, p in spy.messages if t == f"{topic}/result"))
        assert (result["granted"], result["result"]) == (True, "opened")
    finally:
        mqtt_link()._client.publish(topic, b"", qos=1, retain=True)  # clear the retained value
        listener.stop()
