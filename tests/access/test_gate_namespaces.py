"""Issue 11 (high): one organisation must not be able to open another organisation's gate.

The attack: an owner of organisation B sets their own gate's MQTT topic to organisation A's relay
topic; any grant at B's lot then pulses A's relay. Gate topics are now namespaces Parkgate assigns.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parkgate.access.broker import mosquitto_check
from parkgate.access.drivers import GateCommand, driver_for
from parkgate.access.models import GateResult, Keypad
from parkgate.core.models import AuditEvent
from parkgate.parking.models import Gate
from tests import factories as f
from tests.access.gate_support import TopicSpy, fast_passwords

FIXTURES = (fast_passwords,)

ASSIGNED = (
    "Parkgate assigns each gate its own MQTT topic prefix and broker account; it cannot be chosen. "
    "The gate's device page shows what to configure on the relay."
)
RELATIVE = (
    "Give the topic relative to the gate's own MQTT prefix (for example cmnd/POWER1): "
    "Parkgate puts the prefix in front itself."
)


def _command() -> GateCommand:
    # A deadline on the ticking clock (tests/clock.py pins it: autouse pinned_now), not a date.
    return GateCommand(uuid.uuid4(), "granted_member", timezone.now() + timedelta(seconds=1))


def test_every_gate_and_keypad_gets_its_own_unguessable_namespace(world) -> None:
    gates = [world.entry, world.exit, f.GateFactory(lot=world.outsider_lot, name="Other")]
    namespaces = [g.mqtt_namespace for g in gates]
    assert all(re.fullmatch(r"pg/g[0-9a-f]{24}", ns) for ns in namespaces), namespaces
    assert len(set(namespaces)) == 3
    keypad = Keypad.objects.create(gate=world.entry, name="K", public_id="k1", secret_key="x", uses_mqtt=True)
    assert re.fullmatch(r"pg/k[0-9a-f]{24}/code", keypad.mqtt_topic)
    assert world.entry.mqtt_username == world.entry.mqtt_namespace[3:]


@pytest.mark.mqtt
@pytest.mark.parametrize(
    ("kind", "settings_of", "message"),
    [
        ("shelly-gen2-mqtt", lambda victim: {"topic_prefix": victim}, ASSIGNED),
        (
            "mqtt-generic",
            lambda victim: {
                "command_topic": f"{victim}/rpc",
                "command_payload": '{"id":"x","src":"y","method":"Switch.Set","params":{"id":0,"on":true}}',
            },
            RELATIVE,
        ),
    ],
)
def test_an_owner_cannot_point_their_gate_at_another_organisations_relay(
    world, client_for, settings, kind, settings_of, message
) -> None:
    settings.GATE_COMMAND_TIMEOUT_SECONDS = 1
    victim = world.entry
    victim.driver_kind = "shelly-gen2-mqtt"
    victim.save(update_fields=["driver_kind"])
    spy = TopicSpy(victim.mqtt_namespace, settings.MQTT_URL).start()
    try:
        attacker_gate = f.GateFactory(lot=world.outsider_lot, name="Barrier", direction="entry")
        client = client_for(world.outsider_owner)
        response = client.post(
            reverse("backoffice:gate_edit", args=[attacker_gate.pk]),
            {
                "name": "Barrier",
                "direction": "entry",
                "driver_kind": kind,
                "driver_settings": json.dumps(settings_of(victim.mqtt_namespace)),
                "is_active": "on",
            },
        )
        assert response.status_code == 200
        assert html.escape(message) in response.content.decode()
        attacker_gate.refresh_from_db()
        assert (attacker_gate.driver_kind, attacker_gate.driver_settings) == ("simulated", {})
        assert not AuditEvent.objects.filter(action="parking.gate.updated").exists()
        # Even as an MQTT gate, a grant at the attacker's lot only reaches the attacker's namespace.
        attacker_gate.driver_kind = "shelly-gen2-mqtt"
        attacker_gate.save(update_fields=["driver_kind"])
        outcome = driver_for(attacker_gate).open(attacker_gate, _command())
        assert outcome.result == GateResult.TIMED_OUT  # nobody answers in the attacker's namespace
        spy.barrier()
        assert spy.rpc_requests() == []
        assert [t for t in spy.topics() if not t.endswith("/barrier")] == []
    finally:
        spy.stop()


def test_the_gate_page_tells_the_installer_what_to_configure(world, client_for, settings) -> None:
    settings.MQTT_DEVICE_SERVER = "mqtt.parkgate.example:8883"
    gate = world.entry
    client = client_for(world.owner)
    page = client.get(reverse("access:gate_device", args=[gate.pk])).content.decode()
    for fact in ("mqtt.parkgate.example:8883", gate.mqtt_namespace, gate.mqtt_username):
        assert fact in page
    assert "None yet: create one to connect the device." in page
    response = client.post(reverse("access:mqtt_password_rotate", args=["gate", gate.pk]))
    assert response["Cache-Control"] == "private, no-store"
    password = re.search(r'id="mqtt-password">([^<]+)<', response.content.decode()).group(1)
    gate.refresh_from_db()
    assert gate.mqtt_password_hash.startswith("$7$101$")
    assert password not in gate.mqtt_password_hash
    assert mosquitto_check(password, gate.mqtt_password_hash)
    # Shown once: the page afterwards says it is set, and never shows it again.
    again = client.get(reverse("access:gate_device", args=[gate.pk])).content.decode()
    assert password not in again and "Set (shown only when it was created)." in again
    event = AuditEvent.objects.get(action="access.gate.mqtt_credentials_rotated")
    assert event.data == {"username": gate.mqtt_username}


def test_another_organisation_cannot_see_or_rotate_a_gates_credentials(world, client_for) -> None:
    gate = world.entry
    client = client_for(world.outsider_owner)
    assert client.get(reverse("access:gate_device", args=[gate.pk])).status_code == 404
    assert client.post(reverse("access:mqtt_password_rotate", args=["gate", gate.pk])).status_code == 404
    keypad = Keypad.objects.create(gate=gate, name="K", public_id="k1", secret_key="x", uses_mqtt=True)
    assert client.post(reverse("access:mqtt_password_rotate", args=["keypad", keypad.pk])).status_code == 404
    assert Gate.objects.get(pk=gate.pk).mqtt_password_hash == ""
    assert Keypad.objects.get(pk=keypad.pk).mqtt_password_hash == ""
    assert not AuditEvent.objects.filter(action__contains="mqtt_credentials").exists()


def test_a_keypad_form_has_no_topic_to_type(world, client_for) -> None:
    client = client_for(world.owner)
    response = client.post(
        reverse("access:device_create", args=["keypad"]),
        {"gate": world.exit.pk, "name": "Exit keypad", "uses_mqtt": "on", "mqtt_topic": "victim/code"},
    )
    assert response.status_code == 302
    keypad = Keypad.objects.get()
    assert keypad.mqtt_topic == f"{keypad.mqtt_namespace}/code"
    assert "victim" not in keypad.mqtt_topic


def test_an_mqtt_keypad_gets_its_own_broker_password_once(world, client_for) -> None:
    client = client_for(world.owner)
    keypad = Keypad.objects.create(gate=world.entry, name="K", public_id="k1", secret_key="x", uses_mqtt=True)
    http_only = Keypad.objects.create(gate=world.entry, name="H", public_id="h1", secret_key="y")
    detail = client.get(reverse("access:device_detail", args=["keypad", keypad.pk])).content.decode()
    assert keypad.mqtt_topic in detail and keypad.mqtt_username in detail
    response = client.post(reverse("access:mqtt_password_rotate", args=["keypad", keypad.pk]))
    password = re.search(r'id="mqtt-password">([^<]+)<', response.content.decode()).group(1)
    keypad.refresh_from_db()
    assert mosquitto_check(password, keypad.mqtt_password_hash)
    again = client.get(reverse("access:device_detail", args=["keypad", keypad.pk])).content.decode()
    assert password not in again
    # A keypad that only speaks HTTP has no broker account to create.
    refused = client.post(reverse("access:mqtt_password_rotate", args=["keypad", http_only.pk]))
    assert refused.status_code == 404
    assert Keypad.objects.get(pk=http_only.pk).mqtt_password_hash == ""
