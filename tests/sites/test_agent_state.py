"""The agent's own checks on what it holds (in process, no network): disk, versions, another lot."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import time_machine

from parkgate.access.anpr import PlateRead
from parkgate.parking.plates import Candidate
from parkgate.sites.agent import Agent, Clock
from parkgate.sites.signing import dumps, new_private_key_text, private_key_from_text, sign
from parkgate.sites.snapshot import server_public_key, snapshot_if_newer
from tests.sites.support import NOW, make_site


@pytest.fixture(autouse=True)
def _signing_key(settings) -> None:
    settings.SITE_SIGNING_KEY = new_private_key_text()


@pytest.fixture
def envelopes(world):
    with time_machine.travel(NOW, tick=False):
        site = make_site(world)
    first = snapshot_if_newer(site.agent, have_version=0, now=NOW)
    second = snapshot_if_newer(site.agent, have_version=0, now=NOW)
    return site, first, second


def _state(tmp_path: Path, site, world) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    config = {
        "server": "http://127.0.0.1:9",
        "agent_id": site.agent.pk,
        "lot_id": world.lot.pk,
        "token": "t",
        "server_public_key": server_public_key(),
    }
    (state / "agent.json").write_text(json.dumps(config))
    return state


def _agent(state: Path) -> Agent:
    agent = Agent(state=state, mqtt_url=None, clock=Clock(NOW))
    agent.report = lambda kind, detail: None  # type: ignore[method-assign]  # no server here
    return agent


def test_a_snapshot_changed_on_disk_is_refused_at_start_and_nothing_opens(tmp_path, world, envelopes) -> None:
    site, first, _second = envelopes
    state = _state(tmp_path, site, world)
    payload = base64.b64decode(first["payload"]).replace(b'"1VIS123"', b'"6EVIL66"')
    (state / "snapshot.json").write_text(json.dumps(first | {"payload": base64.b64encode(payload).decode()}))
    agent = _agent(state)
    assert agent.facts is None and agent.refused == 1
    read = PlateRead("generic", (Candidate("6-EVIL-66", 0.99),))
    assert agent.handle_read(site.camera, read).status == 503
    agent.store.close()


def test_an_older_version_or_another_lots_snapshot_is_refused(tmp_path, world, envelopes) -> None:
    site, first, second = envelopes
    agent = _agent(_state(tmp_path, site, world))
    assert agent.accept(second) is True and agent.facts is not None and agent.facts.version == 2
    assert agent.accept(first) is False  # a replayed older snapshot
    assert agent.facts.version == 2
    payload = json.loads(base64.b64decode(second["payload"]))
    payload["version"] = 3
    payload["lot"]["id"] = world.outsider_lot.pk
    # Signed by the server's key, but for another car park: still refused.
    foreign = sign(dumps(payload), private_key_from_text(_server_key_text()))
    assert agent.accept(foreign) is False and agent.facts.version == 2
    assert agent.refused == 2
    assert json.loads((agent.state / "snapshot.json").read_text())["signature"] == second["signature"]
    agent.store.close()


def _server_key_text() -> str:
    from django.conf import settings

    return settings.SITE_SIGNING_KEY


def test_multipart_reads_are_split_like_the_servers_view() -> None:
    """Axis posts an ``event`` JSON part and a picture; Plate Recognizer a ``json`` field."""
    from urllib3 import encode_multipart_formdata

    from parkgate.access.anpr import parse_read
    from parkgate.sites.agent import multipart_parts
    from tests.access import anpr_samples as s

    body, content_type = encode_multipart_formdata(
        {
            "event": (
                "event.json",
                json.dumps(s.axis_event(plate="1-ABC-123", direction="out")),
                "application/json",
            ),
            "image": ("plate.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
        }
    )
    parts = multipart_parts(content_type, body)
    assert set(parts) == {"event"} and parts["event"][1] == "application/json"
    read = parse_read("auto", content_type=content_type, body=b"", parts=parts)
    assert (read.format, read.direction, read.best.key) == ("axis", "exit", "1ABC123")

    body, content_type = encode_multipart_formdata(
        {"json": json.dumps(s.plate_recognizer()), "upload": ("car.jpg", b"jpeg", "image/jpeg")}
    )
    parts = multipart_parts(content_type, body)
    assert set(parts) == {"json"} and parts["json"][1] == "text/plain"
    assert parse_read("auto", content_type=content_type, body=b"", parts=parts).format == "platerecognizer"


def test_a_reinstalled_box_numbers_its_events_after_what_the_server_holds(tmp_path, world, envelopes) -> None:
    """Re-pairing gives the box the server's highest sequence: a fresh store starts after it."""
    from parkgate.sites.agent import Store

    store = Store(tmp_path / "fresh.sqlite3", seq_start=41)
    assert store.record({"x": 1}, done=True) == 42
    store.close()
    again = Store(tmp_path / "fresh.sqlite3", seq_start=41)  # a restart does not move it back
    assert again.record({"x": 2}, done=True) == 43
    again.close()
    assert Store(tmp_path / "new.sqlite3").record({"x": 3}, done=True) == 1


def test_uploaded_events_leave_the_box_and_numbers_are_not_reused(tmp_path) -> None:
    from parkgate.sites.agent import Store

    store = Store(tmp_path / "events.sqlite3")
    first = [store.record({"n": n}, done=True) for n in range(3)]
    assert [e["seq"] for e in store.pending(10)] == first == [1, 2, 3]
    store.mark_uploaded(first[:2])
    assert [e["seq"] for e in store.pending(10)] == [3] and store.waiting() == 1
    store.mark_uploaded([3])
    assert store.record({"n": 4}, done=True) == 4
    store.close()
