"""``parkgate-site``: the site agent that keeps a car park's gates working without the server.

It runs on a small box at the car park and needs only the standard library, paho-mqtt,
cryptography and requests (defusedxml too for Hikvision cameras): no Django, no database server.
It imports the server's own pure modules, so it parses camera reads (``access.anpr``), applies the
plate rule (``parking.plates``), matches plates (``access.matching``), decides (``access.decisions``)
and builds relay payloads (``access.relay_payloads``) with the very same code.

* ``parkgate-site pair --server https://parkgate.example --code ABCD-EFGH-JKLM``: trades the
  owner's one-time code for this agent's own token and the server's public key (``agent.json``).
* ``parkgate-site run``: keeps the last verified snapshot (``snapshot.json``), long-polls the
  server for a new one (HTTPS), serves the cameras' and keypads' endpoints locally in the server's
  formats (``/access/anpr/<id>/``, ``/access/keypad/<id>/``), listens to MQTT keypads, commands
  the relays on the site's Mosquitto, records every attempt in SQLite (``events.sqlite3``) and
  uploads them, in order and exactly once, whenever the server answers.
* ``parkgate-site status``: what it holds (JSON). ``parkgate-site keygen``: a new server signing key.

See docs/site-agent.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import email.parser
import email.policy
import gc
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from parkgate.access.anpr import ParseError, PlateRead, load_json, parse_read
from parkgate.access.decisions import Decision, details_to_json
from parkgate.access.matching import PlateMatch, match_identity, plate_decision, shown_plate
from parkgate.access.mqtt import BrokerUnavailable, MqttLink
from parkgate.access.relay_payloads import render_payload, switch_set_request
from parkgate.parking.plates import usable_keys
from parkgate.sites.facts import SiteDevice, SiteFacts, SiteGate
from parkgate.sites.signing import SnapshotRefused, new_private_key_text, verify

logger = logging.getLogger("parkgate.site")

ANPR_MAX_BODY_BYTES = 2 * 1024 * 1024
KEYPAD_MAX_BODY_BYTES = 4096
UPLOAD_BATCH = 500
IGNORED_KEYPAD_VALUES = frozenset({"", "unknown", "unavailable", "none", "null"})


# -- Clock ---------------------------------------------------------------------------------------
class Clock:
    """The agent's "now": the system clock, or (tests) a given start that runs with real seconds."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        if self.start is None:
            return datetime.now(UTC)
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


def _freeze_heap() -> None:
    """Keep the snapshot's objects out of the cyclic garbage collector's full passes.

    A big lot's snapshot is hundreds of thousands of objects; a full collection walking them all
    would stall a decision for milliseconds. Frozen objects are still freed by reference counting
    when the next snapshot replaces them (they hold no cycles).
    """
    gc.freeze()


# -- Files ---------------------------------------------------------------------------------------
def _write_private(path: Path, data: bytes) -> None:
    """Write atomically (temporary file, fsync, rename), readable by this user only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Config:
    server: str
    agent_id: int
    lot_id: int
    token: str
    server_public_key: str
    seq_start: int = 0

    @classmethod
    def load(cls, state: Path) -> Config:
        data = json.loads((state / "agent.json").read_text())
        return cls(
            server=str(data["server"]).rstrip("/"),
            agent_id=int(data["agent_id"]),
            lot_id=int(data["lot_id"]),
            token=str(data["token"]),
            server_public_key=str(data["server_public_key"]),
            seq_start=int(data.get("seq_start") or 0),
        )


# -- The local record of attempts ---------------------------------------------------------------
class Store:
    """Every attempt, in SQLite (WAL): a sequence number, its JSON, whether the server has it."""

    def __init__(self, path: Path, *, seq_start: int = 0) -> None:
        """``seq_start``: the highest sequence the server already holds from this agent (given at
        pairing), so a reinstalled box never reuses a number the server would take as a repeat."""
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " body TEXT NOT NULL, done INTEGER NOT NULL, uploaded INTEGER NOT NULL DEFAULT 0)"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
            if "rejected" not in columns:  # a store made before the server answered per event
                self._db.execute("ALTER TABLE events ADD COLUMN rejected TEXT")
            fresh = self._db.execute("SELECT 1 FROM sqlite_sequence WHERE name = 'events'").fetchone() is None
            if fresh and seq_start > 0:
                self._db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", (seq_start,))
            # An attempt cut short by a stop (power cut) before the relay answered is recorded as such.
            for seq, raw in self._db.execute("SELECT seq, body FROM events WHERE done = 0").fetchall():
                body = json.loads(raw)
                body.update(result="failed", result_detail="the agent stopped before the relay answered")
                self._db.execute(
                    "UPDATE events SET body = ?, done = 1 WHERE seq = ?", (json.dumps(body), seq)
                )

    def record(self, body: dict[str, Any], *, done: bool) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO events (body, done) VALUES (?, ?)", (json.dumps(body), int(done))
            )
            return int(cursor.lastrowid or 0)

    def complete(self, seq: int, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("UPDATE events SET body = ?, done = 1 WHERE seq = ?", (json.dumps(body), seq))

    def pending_raw(self, limit: int) -> list[tuple[int, str]]:
        """The oldest events not uploaded yet (nor rejected), in order, up to the first one still
        in progress: (sequence, JSON as stored)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body, done FROM events WHERE uploaded = 0 AND rejected IS NULL"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        batch = []
        for seq, raw, done in rows:
            if not done:
                break
            batch.append((int(seq), str(raw)))
        return batch

    def pending(self, limit: int) -> list[dict[str, Any]]:
        return [json.loads(raw) | {"seq": seq} for seq, raw in self.pending_raw(limit)]

    def mark_uploaded(self, seqs: list[int]) -> None:
        """The server holds these: the box keeps no copy (plates read are personal data).

        AUTOINCREMENT never hands out a deleted number again, so the sequence keeps growing."""
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])

    def mark_rejected(self, reasons: dict[int, str]) -> None:
        """The server refused these for good (it says why): kept here, never sent again."""
        with self._lock:
            self._db.executemany(
                "UPDATE events SET rejected = ? WHERE seq = ?",
                [(reason or "rejected", seq) for seq, reason in reasons.items()],
            )

    def waiting(self) -> int:
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT count(*) FROM events WHERE uploaded = 0 AND rejected IS NULL"
                ).fetchone()[0]
            )

    def rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        """The events the server rejected, newest first, with its reason (``parkgate-site status``)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body, rejected FROM events WHERE rejected IS NOT NULL ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [json.loads(raw) | {"seq": seq, "rejected": reason} for seq, raw, reason in rows]

    def rejected_count(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT count(*) FROM events WHERE rejected IS NOT NULL").fetchone()[0]
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


# -- Relays --------------------------------------------------------------------------------------
class Relays:
    """Commands the site's relays on the site's Mosquitto, as the server's drivers do."""

    def __init__(self, link: MqttLink | None, clock: Clock) -> None:
        self.link = link
        self.clock = clock

    def open(self, gate: SiteGate, *, command_id: str, reason: str, timeout: float) -> tuple[str, str]:
        expires_at = self.clock.now() + timedelta(seconds=timeout)
        settings = gate.driver_settings
        if gate.driver_kind == "simulated":
            outcome = str(settings.get("outcome", "opened"))
            return outcome, "simulated gate"
        if self.link is None:
            return "failed", "no MQTT broker configured at the site"
        ns = gate.namespace
        try:
            if gate.driver_kind == "shelly-gen2-mqtt":
                src = f"{ns}/{self.link.client_id}"
                request = switch_set_request(
                    command_id=command_id,
                    expires_at=expires_at,
                    src=src,
                    switch_id=int(settings.get("switch_id", 0)),
                    pulse_seconds=float(settings.get("pulse_seconds", 1.0)),
                )

                def is_reply(_topic: str, payload: bytes) -> bool:
                    try:
                        return bool(json.loads(payload).get("id") == command_id)
                    except (ValueError, AttributeError):
                        return False

                reply = self.link.request(
                    topic=f"{ns}/rpc",
                    payload=json.dumps(request, separators=(",", ":")),
                    reply_topic=f"{src}/rpc",
                    match=is_reply,
                    timeout=timeout,
                    expires_in=timeout,
                )
                if reply is None:
                    return "timed_out", f"no answer from the relay within {timeout:g} s"
                answer = json.loads(reply)
                if "error" in answer:
                    return "failed", f"relay refused: {answer['error']}"[:300]
                return "opened", "acknowledged by the relay"
            if gate.driver_kind == "mqtt-generic":
                payload = render_payload(
                    str(settings.get("command_payload", "ON")),
                    command_id=command_id,
                    expires_at=expires_at,
                    reason=reason,
                )
                topic = f"{ns}/{settings['command_topic']}"
                ack_topic, expected = (
                    str(settings.get("ack_topic") or ""),
                    str(settings.get("ack_payload") or ""),
                )
                if not ack_topic:
                    self.link.publish(topic, payload, expires_in=timeout)
                    return "opened", "sent; this relay sends no acknowledgement"
                reply = self.link.request(
                    topic=topic,
                    payload=payload,
                    reply_topic=f"{ns}/{ack_topic}",
                    match=lambda _t, body: not expected or body.decode(errors="replace").strip() == expected,
                    timeout=timeout,
                    expires_in=timeout,
                )
                if reply is None:
                    return "timed_out", f"no acknowledgement within {timeout:g} s"
                return "opened", "acknowledged by the relay"
        except BrokerUnavailable as error:
            return "failed", str(error)
        return "failed", f"unknown driver {gate.driver_kind}"


# -- Short-lived state: repeated reads, keypad lockouts ----------------------------------------
class Expiring:
    """Keys that expire (monotonic seconds): ``add`` is False while the key is still there."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: str, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._until.get(key, 0) > now:
                return False
            if len(self._until) > 10_000:
                self._until = {k: v for k, v in self._until.items() if v > now}
            self._until[key] = now + seconds
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._until.pop(key, None)


class KeypadLockout:
    """At most ``burst`` wrong codes in ``burst_s`` and ``per_hour`` in an hour, per keypad."""

    def __init__(self) -> None:
        self._wrong: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keypad: str, *, burst: int, burst_s: int, per_hour: int) -> int:
        now = time.monotonic()
        with self._lock:
            wrong = self._wrong.setdefault(keypad, deque())
            while wrong and wrong[0] <= now - 3600:
                wrong.popleft()
            recent = [t for t in wrong if t > now - burst_s]
            if len(wrong) >= per_hour:
                return int(wrong[0] + 3600 - now) + 1
            if len(recent) >= burst:
                return int(recent[0] + burst_s - now) + 1
            return 0

    def wrong(self, keypad: str) -> None:
        with self._lock:
            self._wrong.setdefault(keypad, deque()).append(time.monotonic())


# -- The agent -----------------------------------------------------------------------------------
@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Agent:
    def __init__(
        self,
        *,
        state: Path,
        mqtt_url: str | None,
        clock: Clock,
        sync_wait: float = 20.0,
        ca_bundle: str | None = None,
    ) -> None:
        self.state = state
        self.config = Config.load(state)
        self.clock = clock
        self.sync_wait = sync_wait
        self.verify_tls: str | bool = ca_bundle or True
        self.store = Store(state / "events.sqlite3", seq_start=self.config.seq_start)
        self.link = (
            MqttLink(mqtt_url, client_id=f"parkgate-site-{self.config.agent_id}") if mqtt_url else None
        )
        self.relays = Relays(self.link, clock)
        self.facts: SiteFacts | None = None
        self.online = False
        self.last_contact: datetime | None = None
        self.refused = 0
        self._repeat = Expiring()
        self._keypad_repeat = Expiring()
        self._lockout = KeypadLockout()
        self._new_events = threading.Event()
        self._stop = threading.Event()
        # One HTTP session per thread that calls the server (requests sessions are not thread-safe).
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {self.config.token}"
        self._upload_session = requests.Session()
        self._upload_session.headers["Authorization"] = f"Bearer {self.config.token}"
        self._subscribed: set[str] = set()
        self._load_snapshot_from_disk()

    # -- snapshots ---------------------------------------------------------------------------
    def _verify(self, envelope: Any) -> SiteFacts:
        payload = json.loads(verify(envelope, self.config.server_public_key))
        facts = SiteFacts(payload)
        if facts.agent_id != self.config.agent_id or facts.lot.lot_id != self.config.lot_id:
            raise SnapshotRefused("the snapshot is for another agent or car park")
        return facts

    def _load_snapshot_from_disk(self) -> None:
        path = self.state / "snapshot.json"
        if not path.exists():
            return
        try:
            self.facts = self._verify(json.loads(path.read_bytes()))
        except (SnapshotRefused, ValueError, KeyError, TypeError) as error:
            self.refused += 1
            logger.error("refused the snapshot on disk: %s", error)
            self._pending_report = f"snapshot on disk refused: {error}"
        else:
            _freeze_heap()
            self._subscribe_keypads()

    _pending_report = ""

    def accept(self, envelope: Any) -> bool:
        """Verify, keep and use a snapshot; a bad one is refused (and reported), the old one stays."""
        try:
            facts = self._verify(envelope)
            if self.facts is not None and facts.version < self.facts.version:
                raise SnapshotRefused(f"older snapshot version {facts.version} < {self.facts.version}")
        except (SnapshotRefused, ValueError, KeyError, TypeError) as error:
            self.refused += 1
            logger.error("refused a snapshot: %s", error)
            self.report("snapshot_refused", str(error))
            return False
        _write_private(self.state / "snapshot.json", json.dumps(envelope).encode())
        self.facts = facts
        _freeze_heap()
        self._subscribe_keypads()
        logger.info("snapshot version %s (%s reservations)", facts.version, len(facts.reservations))
        return True

    def report(self, kind: str, detail: str) -> None:
        try:
            self._session.post(
                f"{self.config.server}/sites/api/v1/report",
                json={"kind": kind, "detail": detail[:300]},
                timeout=10,
                verify=self.verify_tls,
            )
        except requests.RequestException:
            self._pending_report = f"{kind}: {detail}"

    # -- sync and upload threads --------------------------------------------------------------
    def sync_once(self, wait: float) -> None:
        facts = self.facts
        response = self._session.post(
            f"{self.config.server}/sites/api/v1/sync",
            json={
                "version": facts.version if facts else 0,
                "built_at": facts.built_at.isoformat() if facts else None,
                "waiting": self.store.waiting(),
                "rejected_events": self.store.rejected_count(),
                "refused": self.refused,
                "wait": wait,
            },
            timeout=wait + 15,
            verify=self.verify_tls,
        )
        response.raise_for_status()
        self.online, self.last_contact = True, self.clock.now()
        if self._pending_report:
            report, self._pending_report = self._pending_report, ""
            self.report("problem", report)
        envelope = response.json().get("snapshot")
        if envelope is not None:
            self.accept(envelope)

    def _sync_loop(self) -> None:
        backoff = 0.25
        while not self._stop.is_set():
            try:
                self.sync_once(self.sync_wait)
                backoff = 0.25
            except (requests.RequestException, ValueError) as error:
                if self.online:
                    logger.warning("server unreachable: %s", error)
                self.online = False
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def upload_once(self) -> int:
        batch = self.store.pending_raw(UPLOAD_BATCH)
        if not batch:
            return 0
        # The stored JSON objects with their sequence put in front, without parsing them again: a
        # backlog retried while the server is away must not hold the interpreter from the gates.
        events = ",".join(
            f'{{"seq":{seq},{raw[1:]}' if raw != "{}" else f'{{"seq":{seq}}}' for seq, raw in batch
        )
        response = self._upload_session.post(
            f"{self.config.server}/sites/api/v1/events",
            data=f'{{"events":[{events}]}}'.encode(),
            headers={"Content-Type": "application/json"},
            timeout=30,
            verify=self.verify_tls,
        )
        response.raise_for_status()
        sent = {seq for seq, _raw in batch}
        held: list[int] = []
        rejected: dict[int, str] = {}
        results = response.json().get("results")
        if not isinstance(results, list):
            raise ValueError("the server did not answer per event")
        for result in results:
            seq = result.get("seq") if isinstance(result, dict) else None
            if not isinstance(seq, int) or seq not in sent:
                continue
            if result.get("status") in ("accepted", "duplicate"):
                held.append(seq)
            elif result.get("status") == "rejected":
                rejected[seq] = str(result.get("reason") or "rejected")[:300]
        if rejected:
            logger.error("the server rejected %d event(s), kept here: %s", len(rejected), rejected)
            self.store.mark_rejected(rejected)
        self.store.mark_uploaded(held)
        if not held and not rejected:
            raise ValueError("the server answered none of the events sent")
        return len(held) + len(rejected)

    def _upload_loop(self) -> None:
        backoff = 0.25
        while not self._stop.is_set():
            self._new_events.wait(1.0)
            self._new_events.clear()
            try:
                while self.upload_once():
                    backoff = 0.25
            except (requests.RequestException, ValueError) as error:
                logger.info("upload postponed: %s", error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                self._new_events.set()

    # -- deciding and recording ----------------------------------------------------------------
    def _attempt(
        self,
        facts: SiteFacts,
        gate: SiteGate,
        *,
        method: str,
        decision: Decision,
        at: datetime,
        parker_id: int | None,
        reservation_id: int | None,
        plate_text: str,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        will_open = decision.granted
        command_id = str(uuid.uuid4()) if will_open else None
        body: dict[str, Any] = {
            "at": at.isoformat(),
            "gate_id": gate.facts.gate_id,
            "method": method,
            "parker_id": parker_id,
            "reservation_id": reservation_id,
            "policy_id": decision.policy_id,
            "plate_text": plate_text,
            "granted": decision.granted,
            "reason": decision.reason.value,
            "details": details_to_json(decision.details),
            "result": "pending" if will_open else "not_attempted",
            "command_id": command_id,
            "snapshot_version": facts.version,
            "offline": not self.online,
            "data": data,
        }
        seq = self.store.record(body, done=not will_open)
        if will_open:
            assert command_id is not None
            started = time.monotonic()
            timeout = float(facts.settings.get("command_timeout_s", 3))
            result, detail = self.relays.open(
                gate, command_id=command_id, reason=decision.reason.value, timeout=timeout
            )
            body.update(
                result=result,
                result_detail=detail,
                completed_at=self.clock.now().isoformat(),
                duration_ms=int((time.monotonic() - started) * 1000),
            )
            self.store.complete(seq, body)
        self._new_events.set()
        # Said to the visitor (keypad display, camera answer) as the server words it, after the
        # relay command; the server words the uploaded event again for its own log.
        message = facts.sentence(gate, decision, at=at)
        return body | {"seq": seq, "message": message, "language": gate.language}

    def handle_read(self, camera: SiteDevice, read: PlateRead) -> Outcome:
        facts = self.facts
        if facts is None:
            return Outcome(503, {"error": "the site agent has no snapshot yet"})
        if read.ignored:
            return Outcome(200, {"status": "ignored", "granted": False, "detail": read.ignored})
        if not read.candidates:
            return Outcome(200, {"status": "ignored", "granted": False, "detail": "no plate in this read"})
        gate = facts.gates.get(camera.gate_id)
        if gate is None:
            return Outcome(503, {"error": "the camera's gate is not active"})
        now = self.clock.now()
        keys = usable_keys(read.candidates, min_confidence=camera.min_confidence / 100)

        def lookup(wanted: Any) -> list[PlateMatch]:
            return facts.plate_matches(wanted, at=now)

        decision, match, how = plate_decision(
            keys, lookup=lookup, decide_for=lambda acc: facts.decide(gate, acc, at=now, travel=read.direction)
        )
        best = read.best
        identity = (
            match_identity(match)
            if match is not None
            else "plate:" + (keys[0] if keys else (best.key if best else "-"))
        )
        repeat_key = f"{gate.facts.gate_id}:{identity}:{decision.reason.value}"
        if not self._repeat.add(repeat_key, float(facts.settings.get("anpr_repeat_s", 30))):
            return Outcome(
                200,
                {
                    "status": "repeat",
                    "granted": decision.granted,
                    "reason": decision.reason.value,
                    "detail": "same car read again at this gate",
                },
            )
        event = self._attempt(
            facts,
            gate,
            method="anpr",
            decision=decision,
            at=now,
            parker_id=match.parker_id if match else None,
            reservation_id=decision.reservation_id,
            plate_text=shown_plate(read, match),
            data={
                "format": read.format,
                "match": how,
                "matched_key": match.key if match else "",
                "candidates": [[c.text, round(c.confidence, 3)] for c in read.candidates[:10]],
                "source_ref": read.source_ref,
                "direction": read.direction or "",
                "camera_public_id": camera.public_id,
            },
        )
        if decision.granted and event["result"] != "opened":
            self._repeat.delete(repeat_key)  # the gate did not open: the next read may try again
        return Outcome(200, self._answer(event, extra={"match": how}))

    @staticmethod
    def _answer(event: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "status": "decided",
            "granted": event["granted"],
            "reason": event["reason"],
            "event_id": f"site-{event['seq']}",
            "message": event["message"],
            "language": event["language"],
            "result": event["result"],
            "plate": event["plate_text"],
            "command_id": event["command_id"],
        } | (extra or {})

    def handle_code(self, keypad: SiteDevice, code: Any) -> Outcome:
        facts = self.facts
        if facts is None:
            return Outcome(503, {"error": "the site agent has no snapshot yet"})
        if not isinstance(code, str):
            return Outcome(400, {"error": 'send {"code": "123456"}'})
        value = code.strip()
        if value.lower() in IGNORED_KEYPAD_VALUES:
            return Outcome(200, {"status": "ignored", "granted": False, "detail": "no code"})
        if not value.isdigit() or not value.isascii() or not 4 <= len(value) <= 8:
            return Outcome(400, {"error": "a code is 4 to 8 digits"})
        window = float(facts.settings.get("keypad_repeat_s", 10))
        if window and not self._keypad_repeat.add(f"{keypad.public_id}:{value}", window):
            return Outcome(200, {"status": "ignored", "granted": False, "detail": "same code sent again"})
        retry = self._lockout.retry_after(
            keypad.public_id,
            burst=int(facts.settings.get("keypad_burst_failures", 5)),
            burst_s=int(facts.settings.get("keypad_burst_s", 120)),
            per_hour=int(facts.settings.get("keypad_max_wrong_per_hour", 20)),
        )
        if retry:
            return Outcome(
                429,
                {
                    "status": "locked_out",
                    "granted": False,
                    "detail": "too many wrong codes; try again later, or use the link in your booking e-mail",
                    "retry_after": retry,
                },
                {"Retry-After": str(retry)},
            )
        gate = facts.gates.get(keypad.gate_id)
        if gate is None:
            return Outcome(503, {"error": "the keypad's gate is not active"})
        now = self.clock.now()
        found = facts.keypad_reservations(value, at=now)
        decision = facts.decide(gate, [r.access for r in found] or None, at=now, travel=None)
        if not decision.granted:
            self._lockout.wrong(keypad.public_id)
        chosen = next((r for r in found if r.access.reservation_id == decision.reservation_id), None)
        event = self._attempt(
            facts,
            gate,
            method="keypad",
            decision=decision,
            at=now,
            parker_id=chosen.parker_id if chosen else None,
            reservation_id=decision.reservation_id,
            plate_text=chosen.plate_text if chosen else "",
            data={"keypad_public_id": keypad.public_id},
        )
        return Outcome(200, self._answer(event))

    # -- MQTT keypads --------------------------------------------------------------------------
    def _subscribe_keypads(self) -> None:
        if self.link is None or self.facts is None:
            return
        for keypad in self.facts.keypads.values():
            topic = keypad.mqtt_topic
            if not topic or topic in self._subscribed:
                continue
            self._subscribed.add(topic)
            self.link.subscribe(topic, self._keypad_message(keypad.public_id, topic))

    def _keypad_message(self, public_id: str, topic: str) -> Callable[[str, bytes, bool], None]:
        def handle(_topic: str, payload: bytes, retained: bool) -> None:
            # Off paho's network thread: the relay's answer arrives on that thread, so deciding and
            # waiting for it there would wait out the command's time-out every time.
            threading.Thread(target=decide_code, args=(payload, retained), daemon=True).start()

        def decide_code(payload: bytes, retained: bool) -> None:
            facts = self.facts
            keypad = facts.keypads.get(public_id) if facts else None
            if retained or keypad is None or self.link is None:
                return
            text = payload.decode(errors="replace").strip()
            try:
                body = load_json(text)
                code = body.get("code") if isinstance(body, dict) else str(body)
            except ValueError:
                code = text
            outcome = self.handle_code(keypad, code)
            try:
                self.link.publish(f"{topic}/result", json.dumps(outcome.body), expires_in=10)
            except BrokerUnavailable:
                logger.warning("could not answer keypad %s", public_id)

        return handle

    # -- status and life cycle -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        facts = self.facts
        now = self.clock.now()
        return {
            "agent_id": self.config.agent_id,
            "lot_id": self.config.lot_id,
            "online": self.online,
            "last_contact": self.last_contact.isoformat() if self.last_contact else None,
            "snapshot_version": facts.version if facts else None,
            "snapshot_built_at": facts.built_at.isoformat() if facts else None,
            "snapshot_age_s": round(facts.age(now).total_seconds(), 1) if facts else None,
            "events_waiting": self.store.waiting(),
            "events_rejected": self.store.rejected_count(),
            "refused_snapshots": self.refused,
            "now": now.isoformat(),
        }

    def start(self, *, sync: bool = True) -> None:
        if self.link is not None:
            self.link.start()
        threads = [self._upload_loop] + ([self._sync_loop] if sync else [])
        for target in threads:
            threading.Thread(target=target, daemon=True, name=target.__name__).start()

    def stop(self) -> None:
        self._stop.set()
        self._new_events.set()
        if self.link is not None:
            self.link.stop()


# -- The local HTTP endpoints (the server's formats) ----------------------------------------------
def presented_key(headers: Any) -> str:
    """The device key as ``access.devices.presented_key`` reads it: Bearer, Basic password, header."""
    header = headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return str(value.strip())
    if scheme.lower() == "basic" and value.strip():
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return str(headers.get("X-Parkgate-Key", "")).strip()


def multipart_parts(content_type: str, body: bytes) -> dict[str, tuple[bytes, str]]:
    """Non-picture parts by name, as the server's view hands them to ``parse_read``."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts: dict[str, tuple[bytes, str]] = {}
    if not message.is_multipart():
        raise ParseError("no plate read in the multipart body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if part.get_filename() is None:
            parts[str(name)] = (payload, "text/plain")
            continue
        ctype = part.get_content_type()
        if ctype.startswith("image/"):
            continue
        parts[str(name)] = (payload, ctype)
    return parts


def make_handler(agent: Agent) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "parkgate-site"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s " + format, self.client_address[0], *args)

        def _send(self, outcome: Outcome) -> None:
            data = json.dumps(outcome.body).encode()
            self.send_response(outcome.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in outcome.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _read_body(self, limit: int) -> bytes | None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = limit + 1
            if length > limit:
                self._send(Outcome(413, {"error": f"body larger than {limit} bytes"}))
                self.close_connection = True
                return None
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/healthz":
                self._send(Outcome(200, agent.status()))
            else:
                self._send(Outcome(404, {"error": "not found"}))

        def do_POST(self) -> None:
            parts = urlsplit(self.path).path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "access" or parts[1] not in ("anpr", "keypad"):
                self._send(Outcome(404, {"error": "not found"}))
                return
            kind, public_id = parts[1], parts[2]
            body = self._read_body(ANPR_MAX_BODY_BYTES if kind == "anpr" else KEYPAD_MAX_BODY_BYTES)
            if body is None:
                return
            facts = agent.facts
            if facts is None:
                self._send(Outcome(503, {"error": "the site agent has no snapshot yet"}))
                return
            device = facts.device(kind, public_id, presented_key(self.headers))
            if device is None:
                self._send(Outcome(401, {"error": "unknown device or wrong key"}))
                return
            content_type = self.headers.get("Content-Type", "")
            if kind == "anpr":
                try:
                    if content_type.startswith("multipart/"):
                        read = parse_read(
                            device.format,
                            content_type=content_type,
                            body=b"",
                            parts=multipart_parts(content_type, body),
                        )
                    else:
                        read = parse_read(device.format, content_type=content_type, body=body, parts=None)
                except ParseError as error:
                    self._send(Outcome(400, {"error": f"malformed plate read: {error}"}))
                    return
                except ImportError:  # Hikvision XML needs defusedxml, optional on the box
                    self._send(Outcome(501, {"error": "install defusedxml on the site box for XML reads"}))
                    return
                self._send(agent.handle_read(device, read))
                return
            if content_type.endswith("json"):
                try:
                    payload = load_json(body)
                except (ValueError, UnicodeDecodeError):
                    self._send(Outcome(400, {"error": "invalid JSON"}))
                    return
                if not isinstance(payload, dict):
                    self._send(Outcome(400, {"error": 'send {"code": "123456"}'}))
                    return
                code = payload.get("code", "")
            else:
                code = (parse_qs(body.decode(errors="replace")).get("code") or [""])[0]
            self._send(agent.handle_code(device, code))

    return Handler


def serve(agent: Agent, listen: str) -> ThreadingHTTPServer:
    host, _sep, port = listen.rpartition(":")
    server = _Server((host or "0.0.0.0", int(port)), make_handler(agent))  # noqa: S104
    return server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog (5) resets connections when several cameras post at once on a busy box.
    request_queue_size = 128


# -- Command line --------------------------------------------------------------------------------
def _check_server_url(url: str, *, insecure: bool) -> str:
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and (local or insecure)):
        raise SystemExit("the server address must be https:// (http only on this machine)")
    return url.rstrip("/")


def cmd_pair(args: argparse.Namespace) -> int:
    server = _check_server_url(args.server, insecure=args.insecure_http)
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    response = requests.post(
        f"{server}/sites/api/v1/pair", json={"code": args.code}, timeout=30, verify=args.ca or True
    )
    if response.status_code != 200:
        print(f"pairing refused: {response.text[:300]}", file=sys.stderr)
        return 1
    data = response.json()
    config = {
        "server": server,
        "agent_id": data["agent_id"],
        "lot_id": data["lot_id"],
        "token": data["token"],
        "server_public_key": data["server_public_key"],
        "seq_start": int(data.get("uploaded_through") or 0),
    }
    _write_private(state / "agent.json", json.dumps(config, indent=2).encode())
    print(f"paired as agent {data['agent_id']} ({data.get('name', '')}); server key {data['key_id']}")
    return 0


def _clock(args: argparse.Namespace) -> Clock:
    return Clock(datetime.fromisoformat(args.clock_start) if args.clock_start else None)


def cmd_run(args: argparse.Namespace) -> int:
    # A thread that holds the interpreter (an upload, a new snapshot) lets a gate's request run
    # after 1 ms rather than Python's default 5 ms.
    sys.setswitchinterval(0.001)
    agent = Agent(
        state=Path(args.state),
        mqtt_url=args.mqtt or None,
        clock=_clock(args),
        sync_wait=args.sync_wait,
        ca_bundle=args.ca,
    )
    server = serve(agent, args.listen)
    # systemd stops with SIGTERM: finish the request in hand, then close the store cleanly.
    signal.signal(signal.SIGTERM, lambda *_args: threading.Thread(target=server.shutdown).start())
    agent.start(sync=not args.no_sync)
    print(f"parkgate-site listening on {args.listen} (port {server.server_port})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        agent.stop()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = Path(args.state)
    config = Config.load(state)
    out: dict[str, Any] = {"agent_id": config.agent_id, "lot_id": config.lot_id, "server": config.server}
    path = state / "snapshot.json"
    if path.exists():
        try:
            facts = SiteFacts(json.loads(verify(json.loads(path.read_bytes()), config.server_public_key)))
            out |= {"snapshot_version": facts.version, "snapshot_built_at": facts.built_at.isoformat()}
        except (SnapshotRefused, ValueError, KeyError) as error:
            out["snapshot_refused"] = str(error)
    store = Store(state / "events.sqlite3")
    out["events_waiting"] = store.waiting()
    out["events_rejected"] = store.rejected()
    store.close()
    print(json.dumps(out, indent=2))
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    print(new_private_key_text())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parkgate-site", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", default=os.environ.get("PARKGATE_SITE_STATE", "/var/lib/parkgate-site"))
    parser.add_argument("--log-level", default=os.environ.get("PARKGATE_SITE_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)
    pair = sub.add_parser("pair", help="pair with the server using the owner's one-time code")
    pair.add_argument("--server", required=True)
    pair.add_argument("--code", required=True)
    pair.add_argument("--ca", help="CA bundle for the server's certificate")
    pair.add_argument("--insecure-http", action="store_true", help=argparse.SUPPRESS)
    run = sub.add_parser("run", help="serve the site's cameras and keypads and sync with the server")
    run.add_argument("--listen", default=os.environ.get("PARKGATE_SITE_LISTEN", "0.0.0.0:8080"))
    run.add_argument("--mqtt", default=os.environ.get("PARKGATE_SITE_MQTT", "mqtt://127.0.0.1:1883"))
    run.add_argument("--sync-wait", type=float, default=20.0, help="long-poll wait in seconds")
    run.add_argument("--ca", help="CA bundle for the server's certificate")
    run.add_argument("--no-sync", action="store_true", help="never call the server (bench)")
    run.add_argument(
        "--clock-start", help="tests only: the agent's clock starts at this ISO instant and runs in real time"
    )
    sub.add_parser("status", help="what the agent holds")
    sub.add_parser("keygen", help="print a new server signing key (SITE_SIGNING_KEY)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "pair": cmd_pair,
        "run": cmd_run,
        "status": cmd_status,
        "keygen": cmd_keygen,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
