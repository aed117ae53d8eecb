"""The generic MQTT relay driver (Tasmota / ESPHome style) against the real Mosquitto."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

from parkgate.access.drivers import GateCommand, driver_for
from parkgate.access.models import GateResult
from tests.access.gate_support import TopicSpy, fast_passwords, mqtt_prefix, spy, wait_until

FIXTURES = (fast_passwords, mqtt_prefix, spy)
pytestmark = pytest.mark.mqtt


class FakeTasmota:
    """Answers ``ON`` on ``cmnd/<t>/POWER1`` with ``ON`` on ``stat/<t>/POWER1``."""

    def __init__(self, prefix: str, *, answer: bool = True) -> None:
        self.prefix, self.answer, self.commands = prefix, answer, []
        self._ready = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-tasmota", protocol=mqtt.MQTTv5
        )
        client.on_connect = lambda c, *a: c.subscribe(f"{prefix}/cmnd/gate/POWER1", qos=1)
        client.on_subscribe = lambda *a: self._ready.set()
        client.on_message = self._on_message
        client.connect("127.0.0.1", int(settings.MQTT_URL.rsplit(":", 1)[1]))
        client.loop_start()
        self.client = client
        assert self._ready.wait(5)

    def _on_message(self, client, userdata, message) -> None:
        self.commands.append(message.payload.decode())
        if self.answer:
            client.publish(f"{self.prefix}/stat/gate/POWER1", "ON", qos=1)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _command(now: datetime) -> GateCommand:
    return GateCommand(uuid.uuid4(), "granted_member", now + timedelta(seconds=3))


def test_acknowledged_by_the_status_topic(world, mqtt_prefix: str, settings, pinned_now: datetime) -> None:
    settings.GATE_COMMAND_TIMEOUT_SECONDS = 1
    device = FakeTasmota(mqtt_prefix)
    try:
        world.entry.driver_kind = "mqtt-generic"
        world.entry.mqtt_namespace = mqtt_prefix  # the namespace Parkgate assigned to this gate
        world.entry.driver_settings = {
            "command_topic": "cmnd/gate/POWER1",
            "command_payload": "ON",
            "ack_topic": "stat/gate/POWER1",
            "ack_payload": "ON",
        }
        outcome = driver_for(world.entry).open(world.entry, _command(pinned_now))
        assert (outcome.result, outcome.detail) == (GateResult.OPENED, "acknowledged by the relay")
        assert device.commands == ["ON"]
        device.answer = False
        outcome = driver_for(world.entry).open(world.entry, _command(pinned_now))
        assert (outcome.result, outcome.detail) == (GateResult.TIMED_OUT, "no acknowledgement within 1 s")
    finally:
        device.stop()


def test_without_acknowledgement_the_payload_carries_id_and_expiry(
    world, mqtt_prefix: str, spy: TopicSpy, pinned_now: datetime
) -> None:
    world.entry.driver_kind = "mqtt-generic"
    world.entry.mqtt_namespace = mqtt_prefix
    world.entry.driver_settings = {
        "command_topic": "gate/open",
        "command_payload": '{"open": true, "id": "{command_id}", "expires": {expires_at}}',
    }
    command = _command(pinned_now)
    outcome = driver_for(world.entry).open(world.entry, command)
    assert (outcome.result, outcome.detail) == (
        GateResult.OPENED,
        "sent; this relay sends no acknowledgement",
    )
    wait_until(lambda: any(t == f"{mqtt_prefix}/gate/open" for t, _p in spy.messages), what="command")
    payload = next(p for t, p in spy.messages if t == f"{mqtt_prefix}/gate/open").decode()
    expires = int(command.expires_at.timestamp() * 1000)
    assert payload == f'{{"open": true, "id": "{command.command_id}", "expires": {expires}}}'
