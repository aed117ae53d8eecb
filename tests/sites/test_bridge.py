"""Remote control with a site broker: the server's command crosses the Mosquitto bridge of the
site (as in deploy/site-agent/mosquitto-site.conf, here without accounts) to the relay and its
answer comes back; with the site's broker gone the press times out and the relay does nothing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import time_machine

from parkgate.access.models import GateResult
from parkgate.access.mqtt import close_links
from parkgate.access.simulator import ShellySimulator
from parkgate.access.ways import remote_control_open
from tests.access.gate_support import fast_passwords, free_port, private_broker, use_shelly
from tests.polling import wait_for
from tests.sites.support import NOW, make_site

FIXTURES = (fast_passwords, private_broker)


class SiteBroker:
    """The site's Mosquitto with a bridge of one gate namespace to the central broker."""

    def __init__(self, workdir: Path, *, central_port: int, namespace: str) -> None:
        self.port = free_port()
        self.conf = workdir / "site-mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"connection parkgate-central\naddress 127.0.0.1:{central_port}\ncleansession true\n"
            f"restart_timeout 1\nstart_type automatic\ntopic {namespace}/# both 0\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> SiteBroker:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_for(listening, timeout=5, what="site mosquitto")
        return self

    def bridge_up(self) -> bool:
        """Mosquitto publishes the bridge's state, retained, on $SYS/broker/connection/<name>/state."""
        seen = threading.Event()
        state: list[bytes] = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.on_connect = lambda c, *a: c.subscribe("$SYS/broker/connection/+/state")
        client.on_message = lambda c, u, m: (state.append(bytes(m.payload)), seen.set())
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        seen.wait(1)
        client.loop_stop()
        client.disconnect()
        return state[-1:] == [b"1"]

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def central(private_broker, settings) -> Iterator[str]:
    settings.MQTT_URL = private_broker.url
    close_links()
    yield private_broker.url
    close_links()


def test_remote_control_reaches_the_relay_through_the_site_bridge(
    world, central, private_broker, tmp_path
) -> None:
    with time_machine.travel(NOW, tick=False):
        site = make_site(world)
    namespace = f"pg/gbridge{world.entry.pk}"
    use_shelly(world.entry, namespace, pulse_seconds=0.5)
    site_broker = SiteBroker(tmp_path, central_port=private_broker.port, namespace=namespace).start()
    relay = ShellySimulator(url=site_broker.url, device_id=namespace).start()
    try:
        wait_for(site_broker.bridge_up, timeout=10, what="the bridge to the central broker")
        with time_machine.travel(NOW, tick=False):
            event = remote_control_open(gate=world.entry, reservation=site.booking, now=NOW)
        assert (event.granted, event.result) == (True, GateResult.OPENED)
        assert len(relay.pulses) == 1

        site_broker.kill()  # the site is cut off: the command reaches no relay
        with time_machine.travel(NOW, tick=False):
            event = remote_control_open(gate=world.entry, reservation=site.booking, now=NOW)
        assert event.result in (GateResult.TIMED_OUT, GateResult.FAILED)
        assert len(relay.pulses) == 1
    finally:
        relay.stop()
        site_broker.kill()
