"""Issue 11 (high), the broker's side: a real Mosquitto with the shipped configuration
(deploy/mosquitto/parkgate.conf) and the password and ACL files ``manage.py mqtt_broker_config``
writes. Each device signs in with its own account and may use its own namespace only; Parkgate's
own client has its own account; anonymous clients and wrong passwords cannot connect.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from parkgate.access.broker import device_credentials_rotate
from parkgate.access.drivers import GateCommand, driver_for
from parkgate.access.models import GateResult
from parkgate.access.mqtt import close_links, mqtt_link
from parkgate.access.simulator import ShellySimulator
from tests import factories as f
from tests.access.gate_support import DEADLINE, fast_passwords, free_port, wait_until

FIXTURES = (fast_passwords,)
pytestmark = pytest.mark.mqtt

SHIPPED = Path(django_settings.BASE_DIR) / "deploy" / "mosquitto" / "parkgate.conf"
SERVICE_USER, SERVICE_PASSWORD = "parkgate", "service-" + uuid.uuid4().hex
NOT_AUTHORISED = 135  # MQTT v5 reason code "Not authorized"
BAD_CREDENTIALS = 134  # "Bad user name or password"
REFUSED = (BAD_CREDENTIALS, NOT_AUTHORISED)  # Mosquitto 2.0 answers a wrong password with 135
ACCEPTED = (0, 16)  # "Success", "No matching subscribers" (accepted, nobody listening)


class SecuredBroker:
    """Mosquitto started with the shipped configuration, on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.passwords = workdir / "passwords"
        self.acl = workdir / "acl"
        self.pid_file = workdir / "mosquitto.pid"
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> Path:
        text = SHIPPED.read_text()
        text = text.replace("/etc/mosquitto/parkgate/", f"{self.workdir}/")
        text = text.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        # No certificates in the test: the TLS listener for sites is left out.
        lines = [
            line
            for line in text.splitlines()
            if not line.startswith(("listener 8883", "certfile", "keyfile"))
        ]
        lines += [f"pid_file {self.pid_file}", "user root"]
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self) -> SecuredBroker:
        conf = self.write_config()
        self.process = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_until(listening, what="secured mosquitto to listen")
        return self

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=DEADLINE)


class Device:
    """A bare MQTT v5 client with synchronous connect, subscribe and publish answers."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connack = threading.Event()
        self.connect_code: int | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.suback: list[int] = []
        self.subscribed = threading.Event()
        self.pubacks: dict[int, int] = {}
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, bytes(m.payload)))
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()
        assert self.connack.wait(DEADLINE), "no CONNACK"

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, props: Any) -> None:
        self.connect_code = reason_code.value
        self.connack.set()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self.suback = [code.value for code in codes]
        self.subscribed.set()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, props: Any) -> None:
        self.pubacks[mid] = reason_code.value

    @property
    def connected(self) -> bool:
        return self.connect_code == 0

    def subscribe(self, topic: str) -> list[int]:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(DEADLINE)
        return self.suback

    def publish(self, topic: str, payload: str) -> int:
        """Publish with QoS 1; the PUBACK's reason code (0: accepted, 135: not authorised)."""
        info = self.client.publish(topic, payload, qos=1)
        wait_until(lambda: info.mid in self.pubacks, what="PUBACK")
        return self.pubacks[info.mid]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path, settings: Any) -> Iterator[SecuredBroker]:
    secured = SecuredBroker(tmp_path)
    settings.MQTT_USERNAME, settings.MQTT_PASSWORD = SERVICE_USER, SERVICE_PASSWORD
    # The service account must exist before the broker starts: write the files first.
    call_command("mqtt_broker_config", password_file=str(secured.passwords), acl_file=str(secured.acl))
    secured.start()
    settings.MQTT_URL = secured.url
    close_links()
    yield secured
    close_links()
    secured.stop()


def _sync(broker: SecuredBroker) -> None:
    """What an owner's new password triggers: rewrite both files and SIGHUP the broker."""
    call_command(
        "mqtt_broker_config",
        password_file=str(broker.passwords),
        acl_file=str(broker.acl),
        reload_pid_file=str(broker.pid_file),
    )


def _command() -> GateCommand:
    # A deadline on the ticking clock (tests/clock.py pins it: autouse pinned_now), not a date.
    return GateCommand(uuid.uuid4(), "granted_member", timezone.now() + timedelta(seconds=2))


def _wait_for_new_accounts(broker: SecuredBroker, username: str, password: str) -> None:
    """SIGHUP is asynchronous: wait until the broker accepts the new account."""

    def accepted() -> bool:
        probe = Device(broker.port, username, password)
        probe.stop()
        return probe.connected

    wait_until(accepted, what="broker to reload its accounts")


@pytest.mark.django_db(transaction=True)
def test_each_device_may_use_its_own_namespace_only(world, broker: SecuredBroker, client_for) -> None:
    victim = world.entry
    victim.driver_kind = "shelly-gen2-mqtt"
    victim.save(update_fields=["driver_kind"])
    attacker_gate = f.GateFactory(lot=world.outsider_lot, name="Barrier", direction="entry")
    victim_password = device_credentials_rotate(device=victim, actor=world.owner)
    attacker_password = device_credentials_rotate(device=attacker_gate, actor=world.outsider_owner)
    _sync(broker)
    _wait_for_new_accounts(broker, attacker_gate.mqtt_username, attacker_password)
    victim_url = f"mqtt://{victim.mqtt_username}:{victim_password}@127.0.0.1:{broker.port}"
    relay = ShellySimulator(url=victim_url, device_id="shelly-victim", prefix=victim.mqtt_namespace).start()
    try:
        # Parkgate's own account opens the victim's gate through its relay: the legitimate path works.
        outcome = driver_for(victim).open(victim, _command())
        assert (outcome.result, len(relay.pulses)) == (GateResult.OPENED, 1)

        # The attack through the settings form is refused with a clear message...
        response = client_for(world.outsider_owner).post(
            reverse("backoffice:gate_edit", args=[attacker_gate.pk]),
            {
                "name": "Barrier",
                "direction": "entry",
                "driver_kind": "shelly-gen2-mqtt",
                "driver_settings": json.dumps({"topic_prefix": victim.mqtt_namespace}),
                "is_active": "on",
            },
        )
        assert "Parkgate assigns each gate its own MQTT topic prefix" in response.content.decode()
        # ...and a grant at the attacker's gate only reaches the attacker's namespace.
        attacker_gate.driver_kind = "shelly-gen2-mqtt"
        attacker_gate.save(update_fields=["driver_kind"])
        assert driver_for(attacker_gate).open(attacker_gate, _command()).result == GateResult.TIMED_OUT

        # The attacker's own relay account cannot write to nor read the victim's topics.
        attacker = Device(broker.port, attacker_gate.mqtt_username, attacker_password)
        spy = Device(broker.port, SERVICE_USER, SERVICE_PASSWORD)
        try:
            assert attacker.connected and spy.connected
            assert spy.subscribe(f"{victim.mqtt_namespace}/#") == [1]
            assert spy.subscribe(f"{attacker_gate.mqtt_namespace}/#") == [1]
            forged = {"id": "forged", "src": "x", "method": "Switch.Set", "params": {"id": 0, "on": True}}
            assert attacker.publish(f"{victim.mqtt_namespace}/rpc", json.dumps(forged)) == NOT_AUTHORISED
            # Mosquitto's acl_file grants the SUBSCRIBE but never delivers what the account may not read.
            attacker.subscribe(f"{victim.mqtt_namespace}/#")
            attacker.subscribe("pg/#")
            assert attacker.subscribe(f"{attacker_gate.mqtt_namespace}/#") == [1]
            # Its own namespace works; once its marker arrives, anything it sent before would have.
            assert attacker.publish(f"{attacker_gate.mqtt_namespace}/marker", "m") == 0
            marker = (f"{attacker_gate.mqtt_namespace}/marker", b"m")
            wait_until(lambda: marker in spy.messages, what="marker")
            assert [p for t, p in spy.messages if t == f"{victim.mqtt_namespace}/rpc"] == []
            assert relay.requests == 1 and len(relay.pulses) == 1  # only Parkgate's own command
            # Parkgate talks to the victim's relay, then to the attacker's: the attacker sees only its own.
            link = mqtt_link()
            link.publish(f"{victim.mqtt_namespace}/status/switch:0", "victim", expires_in=5, qos=1)
            link.publish(f"{attacker_gate.mqtt_namespace}/after", "own", expires_in=5, qos=1)
            wait_until(lambda: any(t.endswith("/after") for t, _p in attacker.messages), what="own message")
            assert [t for t, _p in attacker.messages if not t.startswith(attacker_gate.mqtt_namespace)] == []
        finally:
            attacker.stop()
            spy.stop()
    finally:
        relay.stop()


@pytest.mark.django_db(transaction=True)
def test_keypads_are_confined_too(world, broker: SecuredBroker) -> None:
    from parkgate.access.models import Keypad

    mine = Keypad.objects.create(gate=world.entry, name="A", public_id="ka", secret_key="x", uses_mqtt=True)
    other = Keypad.objects.create(gate=world.exit, name="B", public_id="kb", secret_key="y", uses_mqtt=True)
    password = device_credentials_rotate(device=mine, actor=world.owner)
    device_credentials_rotate(device=other, actor=world.owner)
    _sync(broker)
    _wait_for_new_accounts(broker, mine.mqtt_username, password)
    keypad = Device(broker.port, mine.mqtt_username, password)
    try:
        assert keypad.publish(mine.mqtt_topic, "482913") in ACCEPTED
        assert keypad.publish(other.mqtt_topic, "482913") == NOT_AUTHORISED
        keypad.subscribe(f"{other.mqtt_topic}/result")
        assert keypad.subscribe(f"{mine.mqtt_topic}/result") == [1]
        link = mqtt_link()
        link.publish(f"{other.mqtt_topic}/result", '{"granted": true}', expires_in=5, qos=1)
        link.publish(f"{mine.mqtt_topic}/result", '{"granted": false}', expires_in=5, qos=1)
        wait_until(lambda: len(keypad.messages) >= 1, what="own result")
        assert keypad.messages == [(f"{mine.mqtt_topic}/result", b'{"granted": false}')]
    finally:
        keypad.stop()


@pytest.mark.django_db(transaction=True)
def test_wrong_or_missing_credentials_cannot_connect(world, broker: SecuredBroker) -> None:
    gate = world.entry
    password = device_credentials_rotate(device=gate, actor=world.owner)
    _sync(broker)
    _wait_for_new_accounts(broker, gate.mqtt_username, password)
    for username, secret in (
        (gate.mqtt_username, "wrong"),
        (gate.mqtt_username, password[:-1]),
        ("nobody", password),
        (SERVICE_USER, "wrong"),
    ):
        device = Device(broker.port, username, secret)
        device.stop()
        assert device.connect_code in REFUSED and not device.connected, username
    anonymous = Device(broker.port, None, None)
    anonymous.stop()
    assert anonymous.connect_code in REFUSED
    # A new password replaces the old one once the broker has reloaded.
    new_password = device_credentials_rotate(device=gate, actor=world.owner)
    _sync(broker)
    _wait_for_new_accounts(broker, gate.mqtt_username, new_password)
    old = Device(broker.port, gate.mqtt_username, password)
    old.stop()
    assert old.connect_code in REFUSED
    # Parkgate's own link signs in with MQTT_USERNAME / MQTT_PASSWORD.
    assert mqtt_link().wait_connected(DEADLINE)


def test_the_broker_files_hold_hashes_and_one_namespace_per_device(world, tmp_path: Path, settings) -> None:
    settings.MQTT_USERNAME, settings.MQTT_PASSWORD = SERVICE_USER, SERVICE_PASSWORD
    password = device_credentials_rotate(device=world.entry, actor=world.owner)
    call_command("mqtt_broker_config", password_file=str(tmp_path / "p"), acl_file=str(tmp_path / "a"))
    passwords = (tmp_path / "p").read_text()
    assert password not in passwords and SERVICE_PASSWORD not in passwords
    users = [line.split(":")[0] for line in passwords.splitlines()]
    assert users == [SERVICE_USER, world.entry.mqtt_username]
    acl = (tmp_path / "a").read_text()
    assert f"user {SERVICE_USER}\ntopic readwrite pg/#\n" in acl
    assert f"user {world.entry.mqtt_username}\ntopic readwrite {world.entry.mqtt_namespace}/#\n" in acl
    assert world.exit.mqtt_namespace not in acl  # no password yet: no account
    assert oct(os.stat(tmp_path / "p").st_mode & 0o777) == "0o640"


def test_a_new_password_rewrites_the_broker_files_when_configured(
    world, tmp_path: Path, settings, django_capture_on_commit_callbacks
) -> None:
    settings.MQTT_USERNAME, settings.MQTT_PASSWORD = SERVICE_USER, SERVICE_PASSWORD
    settings.MQTT_BROKER_PASSWORD_FILE = str(tmp_path / "passwords")
    settings.MQTT_BROKER_ACL_FILE = str(tmp_path / "acl")
    with django_capture_on_commit_callbacks(execute=True):
        device_credentials_rotate(device=world.entry, actor=world.owner)
    assert f"{world.entry.mqtt_username}:$7$" in (tmp_path / "passwords").read_text()
    assert f"topic readwrite {world.entry.mqtt_namespace}/#" in (tmp_path / "acl").read_text()
    # A broker that cannot be reloaded does not undo the new password (it is logged).
    settings.MQTT_BROKER_PID_FILE = str(tmp_path / "missing.pid")
    with django_capture_on_commit_callbacks(execute=True):
        device_credentials_rotate(device=world.exit, actor=world.owner)
    world.exit.refresh_from_db()
    assert world.exit.mqtt_password_hash.startswith("$7$")
