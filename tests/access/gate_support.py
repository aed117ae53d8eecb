"""Fixtures and helpers for the gate, ANPR, keypad and remote control tests (real Mosquitto).

Import the fixtures you need into a test module. Every test uses its own topic prefix, so tests
of other engineers on the same broker never see our messages, nor we theirs.
"""

from __future__ import annotations

import functools
import json
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

from parkgate.access.mqtt import close_links, mqtt_link
from parkgate.access.simulator import ShellySimulator
from parkgate.parking.models import Gate
from tests.polling import wait_for

DEADLINE = 5.0


# The one polling helper (tests/polling.py), with the shorter deadline of the broker tests.
wait_until = functools.partial(wait_for, timeout=DEADLINE)


@dataclass
class TopicSpy:
    """Records every message under ``<prefix>/#``."""

    prefix: str
    url: str
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    _ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> TopicSpy:
        parts = self.url.split("://", 1)[1].split(":")
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{self.prefix}-spy", protocol=mqtt.MQTTv5
        )
        client.on_connect = lambda c, *a: c.subscribe(f"{self.prefix}/#", qos=1)
        client.on_subscribe = lambda *a: self._ready.set()
        client.on_message = lambda c, u, m: self.messages.append((m.topic, bytes(m.payload)))
        client.connect(parts[0], int(parts[1]) if len(parts) > 1 else 1883)
        client.loop_start()
        self._client = client
        assert self._ready.wait(DEADLINE), "spy could not subscribe"
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def topics(self) -> list[str]:
        return [topic for topic, _payload in self.messages]

    def rpc_requests(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p in self.messages if t == f"{self.prefix}/rpc"]

    def barrier(self) -> None:
        """Publish a marker through the server's own MQTT link and wait until it arrives.

        A broker keeps one client's messages in order: once the marker is here, anything the
        server published before it is here too. No marker-less waiting for "nothing happened".
        """
        marker = uuid.uuid4().hex
        mqtt_link().publish(f"{self.prefix}/barrier", marker, expires_in=5)
        wait_until(lambda: (f"{self.prefix}/barrier", marker.encode()) in self.messages, what="barrier")


@pytest.fixture
def mqtt_prefix() -> str:
    return f"pgtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def shelly(mqtt_prefix: str) -> Iterator[ShellySimulator]:
    simulator = ShellySimulator(url=settings.MQTT_URL, device_id=mqtt_prefix).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def spy(mqtt_prefix: str) -> Iterator[TopicSpy]:
    topic_spy = TopicSpy(mqtt_prefix, settings.MQTT_URL).start()
    yield topic_spy
    topic_spy.stop()


def use_shelly(gate: Gate, prefix: str, **extra: Any) -> Gate:
    """Drive ``gate`` through a Shelly whose topic prefix is ``prefix``: the test stands in for
    Parkgate's namespace assignment, so tests on the shared broker never see each other's messages."""
    gate.driver_kind = "shelly-gen2-mqtt"
    gate.driver_settings = {"pulse_seconds": 1.5, **extra}
    gate.mqtt_namespace = prefix
    gate.save(update_fields=["driver_kind", "driver_settings", "mqtt_namespace"])
    return gate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateBroker:
    """A Mosquitto of our own on a free loopback port, that a test may stop and start again."""

    def __init__(self) -> None:
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> PrivateBroker:
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_until(listening, what="private mosquitto to listen")
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=DEADLINE)
            self.process = None


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    broker = PrivateBroker().start()
    yield broker
    broker.kill()
    close_links()


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The world fixture hashes six passwords; PBKDF2 makes that seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
