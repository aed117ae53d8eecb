"""The site agent as it runs: real processes on loopback.

The central server is Django's live server (the test database), reached through ``InternetLink``,
a TCP relay the test cuts to stand for "the server or the site's internet is down". The site has
its own Mosquitto (started here on a free port) with Shelly simulators as the gate relays. The
agent is a subprocess in which Django cannot be imported; its clock starts at the pinned instant
(``--clock-start``). Waits are deadline polls (tests/polling.py), never sleeps.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine

from parkgate.access.capacity import reservation_cancel
from parkgate.access.models import AccessEvent
from parkgate.access.simulator import ShellySimulator
from parkgate.sites.models import GateOfflineRule, SiteAgent, SiteUpload
from parkgate.sites.signing import new_private_key_text
from parkgate.sites.snapshot import server_public_key, snapshot_if_newer
from tests.access.gate_support import fast_passwords, free_port, private_broker, use_shelly
from tests.polling import wait_for
from tests.sites.processes import AgentProcess, InternetLink
from tests.sites.support import CAMERA_KEY, EXIT_CAMERA_KEY, KEYPAD_KEY, NOW, make_site

pytestmark = pytest.mark.postgres
FIXTURES = (fast_passwords, private_broker)


@pytest.fixture(autouse=True)
def _signing_key(settings) -> None:
    settings.SITE_SIGNING_KEY = new_private_key_text()


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def relays(world, private_broker, clock) -> Iterator[dict[str, ShellySimulator]]:
    sims = {}
    for name, gate in (("entry", world.entry), ("exit", world.exit)):
        prefix = f"pg/g{name}site{gate.pk}"
        use_shelly(gate, prefix, pulse_seconds=0.5)
        sims[name] = ShellySimulator(url=private_broker.url, device_id=prefix).start()
    yield sims
    for sim in sims.values():
        sim.stop()


@pytest.fixture
def site(world, clock):
    return make_site(world)


@pytest.fixture
def link(live_server) -> Iterator[InternetLink]:
    port = int(live_server.url.rsplit(":", 1)[1])
    relay = InternetLink(port)
    yield relay
    relay.close()


@pytest.fixture
def agent(tmp_path: Path, site, link, private_broker, relays) -> Iterator[AgentProcess]:
    process = AgentProcess(tmp_path / "state")
    process.state.mkdir()
    paired = process.command("pair", "--server", link.url, "--code", site.code)
    assert paired.returncode == 0, paired.stderr.decode()
    process.start(mqtt_url=private_broker.url, clock_start=NOW.isoformat())
    wait_for(lambda: process.status()["snapshot_version"] == 1, timeout=10, what="first snapshot")
    yield process
    process.stop()


def _site_events(world) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(lot=world.lot, data__site__agent__isnull=False).order_by("pk"))


def test_server_down_a_valid_bookings_plate_opens_the_gate(world, site, link, agent, relays) -> None:
    link.cut()
    wait_for(lambda: not agent.status()["online"], what="the agent to notice the server is gone")

    answer = agent.read("site-cam", CAMERA_KEY, "1-vis-123")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["granted"], body["reason"], body["result"]) == (True, "granted_reservation", "opened")
    assert [p.switch_id for p in relays["entry"].pulses] == [0]
    assert relays["exit"].pulses == []
    assert _site_events(world) == []  # the server has not heard of it yet
    # A plate nobody booked stays out, and the relay is not touched.
    refused = agent.read("site-cam", CAMERA_KEY, "9-XYZ-999").json()
    assert (refused["granted"], refused["reason"]) == (False, "unknown_parker")
    assert len(relays["entry"].pulses) == 1

    link.restore()
    events = wait_for(lambda: len(_site_events(world)) == 2 and _site_events(world), what="upload")
    opened, unknown = events
    assert (opened.granted, opened.result, opened.reservation_id, opened.gate_id) == (
        True,
        "opened",
        site.booking.pk,
        world.entry.pk,
    )
    assert opened.data["site"] == {"agent": site.agent.pk, "seq": 1, "snapshot": 1, "offline": True}
    assert opened.message == "Valid reservation until 14:15."
    assert (unknown.granted, unknown.result, unknown.data["site"]["seq"]) == (False, "not_attempted", 2)
    wait_for(lambda: SiteAgent.objects.get(pk=site.agent.pk).events_waiting == 0, what="health report")


def test_keypad_code_opens_offline(world, site, link, agent, relays) -> None:
    link.cut()
    wait_for(lambda: not agent.status()["online"], what="offline")
    assert agent.code("site-pad", KEYPAD_KEY, "000000").json()["granted"] is False
    body = agent.code("site-pad", KEYPAD_KEY, "482913").json()
    assert (body["granted"], body["result"]) == (True, "opened")
    assert agent.code("site-pad", "wrong-key", "482913").status_code == 401
    assert len(relays["entry"].pulses) == 1


def test_a_reservation_cancelled_online_is_refused_at_the_site_within_5_seconds(
    world, site, agent, relays
) -> None:
    assert agent.read("site-cam", CAMERA_KEY, "1-VIS-123").json()["granted"] is True
    assert len(relays["entry"].pulses) == 1

    reservation_cancel(reservation=site.booking, allow_started=True, now=NOW)
    started = time.monotonic()
    wait_for(lambda: agent.status()["snapshot_version"] == 2, timeout=5, what="the cancellation at the site")
    elapsed = time.monotonic() - started

    refused = agent.read("site-cam", CAMERA_KEY, "1-VIS-123").json()
    assert (refused["granted"], refused["reason"]) == (False, "reservation_cancelled")
    assert len(relays["entry"].pulses) == 1
    assert elapsed < 5
    print(f"cancellation reached the site in {elapsed:.2f} s")


def test_1000_events_recorded_offline_arrive_exactly_once(world, site, link, agent) -> None:
    link.cut()
    wait_for(lambda: not agent.status()["online"], what="offline")
    for n in range(1, 1001):
        answer = agent.read("site-cam", CAMERA_KEY, f"ZZ{n:04d}")
        assert answer.status_code == 200 and answer.json()["status"] == "decided"
    assert agent.status()["events_waiting"] == 1000
    assert _site_events(world) == []

    link.restore()
    started = time.monotonic()
    wait_for(lambda: agent.status()["events_waiting"] == 0, timeout=30, what="the backlog to drain")
    elapsed = time.monotonic() - started
    events = _site_events(world)
    assert [e.data["site"]["seq"] for e in events] == list(range(1, 1001))  # once each, in order
    assert [e.plate_text for e in events[:3]] == ["ZZ0001", "ZZ0002", "ZZ0003"]
    assert SiteUpload.objects.filter(agent=site.agent).count() == 1000
    assert all(not e.granted and e.result == "not_attempted" for e in events)
    print(f"1000 offline events uploaded in {elapsed:.2f} s")


def test_an_event_the_server_rejects_stays_at_the_site_and_the_next_ones_upload(
    world, site, link, agent
) -> None:
    link.cut()
    wait_for(lambda: not agent.status()["online"], what="offline")
    assert agent.read("site-cam", CAMERA_KEY, "ZZ0001").json()["status"] == "decided"
    # An event this server finds invalid (a reason a newer agent knows and this server does not),
    # recorded between two good ones.
    with sqlite3.connect(agent.state / "events.sqlite3") as db:
        bad = {
            "at": NOW.isoformat(),
            "gate_id": world.entry.pk,
            "method": "anpr",
            "granted": False,
            "reason": "open_sesame",
            "result": "not_attempted",
            "plate_text": "ZZ0002",
        }
        db.execute("INSERT INTO events (body, done) VALUES (?, 1)", (json.dumps(bad),))
    db.close()
    assert agent.read("site-cam", CAMERA_KEY, "ZZ0003").json()["status"] == "decided"
    assert agent.status()["events_waiting"] == 3

    link.restore()
    wait_for(lambda: len(_site_events(world)) == 2, what="the good events to upload")
    events = _site_events(world)
    assert [(e.data["site"]["seq"], e.plate_text) for e in events] == [(1, "ZZ0001"), (3, "ZZ0003")]
    # The server stores before it answers: the agent marks them once the answer is in.
    wait_for(lambda: agent.status()["events_waiting"] == 0, what="the agent to read the answer")
    assert agent.status()["events_rejected"] == 1
    # Kept at the site with the server's reason, and shown in the agent's health on the server.
    kept = json.loads(agent.command("status").stdout)["events_rejected"]
    assert [(e["seq"], e["plate_text"], e["rejected"]) for e in kept] == [
        (2, "ZZ0002", "unknown reason 'open_sesame'")
    ]
    wait_for(lambda: SiteAgent.objects.get(pk=site.agent.pk).events_rejected == 1, what="health report")
    assert SiteUpload.objects.filter(agent=site.agent).count() == 2
    # The next event is not held up by the rejected one.
    assert agent.read("site-cam", CAMERA_KEY, "ZZ0004").json()["status"] == "decided"
    wait_for(lambda: len(_site_events(world)) == 3, what="the next event")
    assert _site_events(world)[-1].data["site"]["seq"] == 4


def test_after_the_offline_limit_the_fallback_applies(
    world, site, link, agent, private_broker, relays
) -> None:
    GateOfflineRule.objects.create(gate=world.entry, keep_deciding_hours=2, language="fr")
    GateOfflineRule.objects.create(gate=world.exit, keep_deciding_hours=2)
    wait_for(lambda: agent.status()["snapshot_version"] >= 2, timeout=5, what="the rules at the site")
    link.cut()
    agent.stop()
    # Three hours later, the server still unreachable: the agent restarts on its stored snapshot.
    agent.start(mqtt_url=private_broker.url, clock_start=(NOW + timedelta(hours=3)).isoformat())
    assert agent.status()["snapshot_version"] == 2

    visitor = agent.read("site-cam", CAMERA_KEY, "1-VIS-123").json()
    member = agent.read("site-cam", CAMERA_KEY, "2-MEM-456").json()
    stranger_out = agent.read("site-exit-cam", EXIT_CAMERA_KEY, "7-OUT-777").json()

    assert (visitor["granted"], visitor["reason"]) == (False, "offline_members_only")
    # What the entry's keypad or display shows: the server's sentence, in the gate's language.
    assert (visitor["language"], visitor["message"]) == (
        "fr",
        "Le parking est hors ligne : seuls les membres peuvent entrer pour le moment."
        " Veuillez appeler l'accueil.",
    )
    assert stranger_out["message"] == "The car park is offline: the exit opens for everyone."
    assert (member["granted"], member["reason"], member["result"]) == (True, "granted_member", "opened")
    assert (stranger_out["granted"], stranger_out["reason"]) == (True, "granted_offline_exit")
    assert len(relays["entry"].pulses) == 1 and len(relays["exit"].pulses) == 1


# -- A tampered snapshot, served by a stand-in for the server ----------------------------------------
class _FakeCentral:
    """Answers the agent's calls with prepared snapshots; records what the agent reports."""

    def __init__(self) -> None:
        self.snapshots: list[Any] = []
        self.reports: list[dict[str, Any]] = []
        self.port = free_port()
        central = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path.endswith("/report"):
                    central.reports.append(body)
                    answer: dict[str, Any] = {"ok": True}
                elif self.path.endswith("/sync"):
                    answer = {"snapshot": central.snapshots.pop(0) if central.snapshots else None}
                    if answer["snapshot"] is None:
                        time.sleep(0.05)  # the stand-in's own long poll, in its thread
                else:
                    answer = {"results": [{"seq": e["seq"], "status": "accepted"} for e in body["events"]]}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_tampered_snapshot_is_refused_and_reported(world, site, tmp_path, private_broker, relays) -> None:
    site.agent.token_hash = "x"
    site.agent.save()
    genuine = snapshot_if_newer(site.agent, have_version=0, now=NOW)
    payload = json.loads(base64.b64decode(genuine["payload"]))
    payload["reservations"][0]["plate_key"] = "6TAMPER"  # someone slips their plate in
    tampered = genuine | {"payload": base64.b64encode(json.dumps(payload).encode()).decode()}
    central = _FakeCentral()
    central.snapshots = [tampered, genuine]
    state = tmp_path / "state"
    state.mkdir()
    (state / "agent.json").write_text(
        json.dumps(
            {
                "server": f"http://127.0.0.1:{central.port}",
                "agent_id": site.agent.pk,
                "lot_id": world.lot.pk,
                "token": "t",
                "server_public_key": server_public_key(),
            }
        )
    )
    agent = AgentProcess(state)
    try:
        agent.start(mqtt_url=private_broker.url, clock_start=NOW.isoformat())
        wait_for(lambda: agent.status()["snapshot_version"] == 1, what="the genuine snapshot")
        assert agent.status()["refused_snapshots"] == 1
        assert central.reports[0]["kind"] == "snapshot_refused"
        assert "bad signature" in central.reports[0]["detail"]
        slipped = agent.read("site-cam", CAMERA_KEY, "6-TAMPER").json()
        assert (slipped["granted"], slipped["reason"]) == (False, "unknown_parker")
        assert agent.read("site-cam", CAMERA_KEY, "1-VIS-123").json()["granted"] is True
        assert len(relays["entry"].pulses) == 1
    finally:
        agent.stop()
        central.close()


def test_an_mqtt_keypad_code_opens_at_the_site_offline(
    world, site, link, agent, private_broker, relays
) -> None:
    import paho.mqtt.client as mqtt

    from parkgate.access.models import Keypad

    keypad = Keypad.objects.create(
        gate=world.entry, name="MQTT keypad", public_id="site-mqtt-pad", secret_key="k" * 32, uses_mqtt=True
    )
    wait_for(lambda: agent.status()["snapshot_version"] == 2, timeout=5, what="the keypad at the site")
    link.cut()
    wait_for(lambda: not agent.status()["online"], what="offline")
    answers: list[dict[str, Any]] = []
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="keypad-test", protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, *a: c.subscribe(f"{keypad.mqtt_topic}/result", qos=1)
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_message = lambda c, u, m: answers.append(json.loads(m.payload))
    client.connect("127.0.0.1", private_broker.port)
    client.loop_start()
    try:
        assert subscribed.wait(5)

        def typed() -> bool:
            # Until the agent has subscribed, a code is lost; the first one it sees is decided and
            # the same code again within the repeat window is ignored.
            if not answers:
                client.publish(keypad.mqtt_topic, json.dumps({"code": "482913"}), qos=1)
            return any(a.get("status") == "decided" for a in answers)

        wait_for(typed, timeout=5, what="the keypad's answer")
    finally:
        client.loop_stop()
        client.disconnect()
    decided = next(a for a in answers if a.get("status") == "decided")
    assert (decided["granted"], decided["result"]) == (True, "opened")
    assert decided["message"] == "Valid reservation until 14:15."
    assert len(relays["entry"].pulses) == 1


def test_pairing_refuses_a_wrong_code_and_plain_http_to_another_host(tmp_path, site, link) -> None:
    process = AgentProcess(tmp_path / "state")
    process.state.mkdir()
    wrong = process.command("pair", "--server", link.url, "--code", "AAAA-BBBB-CCCC")
    assert wrong.returncode == 1 and b"pairing refused" in wrong.stderr
    plain = process.command("pair", "--server", "http://parkgate.example", "--code", site.code)
    assert plain.returncode != 0 and b"must be https" in plain.stderr
    assert not (process.state / "agent.json").exists()
    assert SiteAgent.objects.get(pk=site.agent.pk).token_hash == ""  # the right code is still unused
    good = process.command("pair", "--server", link.url, "--code", site.code)
    assert good.returncode == 0 and (process.state / "agent.json").stat().st_mode & 0o077 == 0
