"""Gate drivers against the real Mosquitto and a simulated Shelly Gen2 relay."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from parkgate.access.decisions import Decision, Reason
from parkgate.access.drivers import GateCommand, driver_for, validate_driver_settings
from parkgate.access.gates import access_attempt
from parkgate.access.models import AccessEvent, AccessMethod, GateResult
from parkgate.access.mqtt import mqtt_link
from parkgate.access.simulator import ShellySimulator
from tests.access.gate_support import (
    PrivateBroker,
    TopicSpy,
    fast_passwords,
    mqtt_prefix,
    private_broker,
    shelly,
    spy,
    use_shelly,
    wait_until,
)

FIXTURES = (fast_passwords, mqtt_prefix, private_broker, shelly, spy)  # pytest finds them by name here
pytestmark = pytest.mark.mqtt


def granted(now: datetime) -> Decision:
    return Decision(Reason.GRANTED_MEMBER, details={"until": now + timedelta(hours=1)})


def _command(now: datetime, seconds: float = 3) -> GateCommand:
    return GateCommand(uuid.uuid4(), "granted_member", now + timedelta(seconds=seconds))


def test_switch_set_with_toggle_after_is_acknowledged(
    world, shelly: ShellySimulator, spy: TopicSpy, pinned_now: datetime
) -> None:
    gate = use_shelly(world.entry, shelly.prefix)
    event = access_attempt(
        lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
    )

    assert event.result == GateResult.OPENED
    assert event.result_detail == "acknowledged by the relay"
    assert event.duration_ms is not None and event.completed_at is not None
    assert [p.request_id for p in shelly.pulses] == [str(event.command_id)]
    assert shelly.pulses[0].toggle_after == 1.5
    spy.barrier()
    [request] = spy.rpc_requests()
    assert request["method"] == "Switch.Set"
    assert request["params"] == {"id": 0, "on": True, "toggle_after": 1.5}
    assert request["id"] == str(event.command_id)
    assert request["src"] == f"{shelly.prefix}/{mqtt_link().client_id}"  # answers stay in the namespace
    assert request["parkgate_expires_at"] > int(event.requested_at.timestamp() * 1000)
    # The relay reports its state on <prefix>/status/switch:0 like a real Shelly.
    wait_until(lambda: f"{shelly.prefix}/status/switch:0" in spy.topics(), what="status")
    status = json.loads(next(p for t, p in spy.messages if t == f"{shelly.prefix}/status/switch:0"))
    assert status == {"id": 0, "source": "MQTT", "output": True}


def test_relay_refuses_an_expired_command(world, shelly: ShellySimulator, pinned_now: datetime) -> None:
    gate = use_shelly(world.entry, shelly.prefix)
    command = GateCommand(uuid.uuid4(), "granted_member", pinned_now - timedelta(milliseconds=1))
    # Publish the late command directly, as a broker that queued it would deliver it.
    link = mqtt_link()
    reply = link.request(
        topic=f"{shelly.prefix}/rpc",
        payload=json.dumps(
            {
                "id": str(command.command_id),
                "src": f"{shelly.prefix}/{link.client_id}",
                "method": "Switch.Set",
                "params": {"id": 0, "on": True, "toggle_after": 1},
                "parkgate_expires_at": int(command.expires_at.timestamp() * 1000),
            }
        ),
        reply_topic=f"{shelly.prefix}/{link.client_id}/rpc",
        match=lambda _t, body: json.loads(body).get("id") == str(command.command_id),
        timeout=3,
        expires_in=3,
    )
    assert reply is not None and json.loads(reply)["error"] == {"code": -103, "message": "command expired"}
    assert shelly.pulses == []
    assert [r.request_id for r in shelly.refusals] == [str(command.command_id)]
    # Through the driver, an already-expired command is not even sent.
    outcome = driver_for(gate).open(gate, command)
    assert outcome.result == GateResult.FAILED
    assert outcome.detail == "command expired before it was sent"


def test_a_command_delivered_twice_opens_once(world, shelly: ShellySimulator, pinned_now: datetime) -> None:
    gate = use_shelly(world.entry, shelly.prefix)
    command = _command(pinned_now)
    first = driver_for(gate).open(gate, command)
    second = driver_for(gate).open(gate, command)
    assert (first.result, second.result) == (GateResult.OPENED, GateResult.OPENED)
    assert len(shelly.pulses) == 1
    assert shelly.requests == 2


def test_no_device_means_timed_out_and_no_late_opening(
    world, mqtt_prefix: str, settings, pinned_now: datetime
) -> None:
    settings.GATE_COMMAND_TIMEOUT_SECONDS = 1
    gate = use_shelly(world.entry, mqtt_prefix)
    event = access_attempt(
        lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
    )
    assert event.result == GateResult.TIMED_OUT
    assert event.result_detail == "no answer from the relay within 1 s"
    # The relay comes online after we gave up: the command was not kept for it.
    late = ShellySimulator(url=settings.MQTT_URL, device_id=mqtt_prefix).start()
    try:
        fresh = access_attempt(
            lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
        )
        assert fresh.result == GateResult.OPENED
        assert [p.request_id for p in late.pulses] == [str(fresh.command_id)]
    finally:
        late.stop()


def test_relay_number_and_custom_prefix(world, mqtt_prefix: str, settings, pinned_now: datetime) -> None:
    simulator = ShellySimulator(
        url=settings.MQTT_URL, device_id="shellypro4pm-test", prefix=f"{mqtt_prefix}/site/gate"
    ).start()
    try:
        gate = use_shelly(world.entry, f"{mqtt_prefix}/site/gate", switch_id=2, pulse_seconds=0.5)
        outcome = driver_for(gate).open(gate, _command(pinned_now))
        assert outcome.result == GateResult.OPENED
        [pulse] = simulator.pulses
        assert (pulse.switch_id, pulse.toggle_after) == (2, 0.5)
    finally:
        simulator.stop()


def test_broker_stopped_mid_way_records_a_failure_and_never_opens_late(
    world, private_broker: PrivateBroker, mqtt_prefix: str, settings, pinned_now: datetime
) -> None:
    settings.MQTT_URL = private_broker.url
    settings.GATE_COMMAND_TIMEOUT_SECONDS = 2
    dropped: list[str] = []

    def kill_broker_on_second(request: dict) -> bool:
        # The second command reaches the relay just as the broker dies: the relay drops it.
        if len(dropped) == 0 and shelly_sim.requests == 2:
            dropped.append(request["id"])
            private_broker.kill()
            return False
        return True

    shelly_sim = ShellySimulator(
        url=private_broker.url, device_id=mqtt_prefix, before_request=kill_broker_on_second
    ).start()
    try:
        gate = use_shelly(world.entry, mqtt_prefix)
        first = access_attempt(
            lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
        )
        assert first.result == GateResult.OPENED

        second = access_attempt(
            lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
        )
        assert second.result == GateResult.FAILED
        assert second.result_detail == "connection to the MQTT broker lost before the gate answered"
        assert dropped == [str(second.command_id)]

        # While the broker is down, an attempt fails clearly instead of queueing a command.
        wait_until(lambda: not mqtt_link().is_connected, what="link to notice the outage")
        third = access_attempt(
            lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
        )
        assert third.result == GateResult.FAILED
        assert third.result_detail == f"MQTT broker 127.0.0.1:{private_broker.port} unreachable"

        private_broker.start()  # same port
        assert shelly_sim.wait_ready(10)
        assert mqtt_link().wait_connected(10)
        fourth = access_attempt(
            lot=world.lot, gate=gate, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
        )
        assert fourth.result == GateResult.OPENED
        # Only the acknowledged commands ever pulsed: nothing late from the outage.
        assert [p.request_id for p in shelly_sim.pulses] == [str(first.command_id), str(fourth.command_id)]
        results = dict(AccessEvent.objects.values_list("command_id", "result"))
        assert results[second.command_id] == GateResult.FAILED
        assert results[third.command_id] == GateResult.FAILED
    finally:
        shelly_sim.stop()


def test_validate_driver_settings() -> None:
    assert validate_driver_settings("shelly-gen2-mqtt", {}) == {"switch_id": 0, "pulse_seconds": 1.0}
    with pytest.raises(ValidationError) as error:
        validate_driver_settings("shelly-gen2-mqtt", {"switch_id": 9, "pulse_seconds": 60})
    assert error.value.message_dict == {
        "switch_id": ["Enter a number from 0 to 3."],
        "pulse_seconds": ["Enter a number from 0.2 to 10."],
    }
    with pytest.raises(ValidationError) as error:
        validate_driver_settings("shelly-gen2-mqtt", {"topic_prefix": "shellyplus1-abc"})
    assert list(error.value.message_dict) == ["topic_prefix"]
    with pytest.raises(ValidationError) as error:
        validate_driver_settings("shelly-gen2-mqtt", {"colour": "red"})
    assert error.value.messages == ["Unknown settings: colour."]
    with pytest.raises(ValidationError) as error:
        validate_driver_settings("teleport", {})
    assert error.value.message_dict == {"driver_kind": ["Unknown gate driver teleport."]}
    assert validate_driver_settings("simulated", {}) == {}
    with pytest.raises(ValidationError):
        validate_driver_settings("simulated", {"outcome": "exploded"})
    assert validate_driver_settings("mqtt-generic", {"command_topic": "cmnd/gate/POWER1"}) == {
        "command_topic": "cmnd/gate/POWER1",
        "command_payload": "ON",
        "ack_topic": "",
        "ack_payload": "",
    }
    for foreign in ("pg/gabc/rpc", "/cmnd/POWER1", "site/+/relay"):
        with pytest.raises(ValidationError) as error:
            validate_driver_settings("mqtt-generic", {"command_topic": foreign})
        assert list(error.value.message_dict) == ["command_topic"]
    with pytest.raises(ValidationError) as error:
        validate_driver_settings("mqtt-generic", {"command_topic": "a/b", "ack_payload": "ON"})
    assert error.value.message_dict == {
        "ack_topic": ["An expected acknowledgement needs an acknowledgement topic."]
    }
    with pytest.raises(ValidationError) as error:
        validate_driver_settings("mqtt-generic", [1, 2])
    assert error.value.message_dict == {"driver_settings": ["Driver settings must be a JSON object."]}


def test_access_attempt_refuses_to_run_inside_a_transaction(world, pinned_now) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError, match="outside any transaction"), transaction.atomic():
        access_attempt(
            lot=world.lot, gate=world.entry, method=AccessMethod.CONTROL_ROOM, decision=granted(pinned_now)
        )
    assert not AccessEvent.objects.exists()
