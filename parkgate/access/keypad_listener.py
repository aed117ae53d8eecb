"""Keypads that publish codes on MQTT (ESPHome ``key_collector`` with an MQTT text sensor).

The listener subscribes to the topic of every active keypad, ignores retained messages (the last
state, re-sent on every subscription), empty / ``unknown`` / ``unavailable`` values and repeats,
acts on each code like the HTTP endpoint does, and publishes the decision as JSON on
``<topic>/result`` so the keypad can beep or light up. A keypad's topic is
``<Keypad.mqtt_namespace>/code``, assigned by Parkgate; the broker's ACL (parkgate/access/broker.py)
lets only the keypad's own account publish there.

Codes are handled on worker threads, never on the MQTT network thread: opening the gate waits for
the relay's answer, which arrives on that very thread.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import close_old_connections, connections

from parkgate.access.anpr import load_json
from parkgate.access.models import Keypad
from parkgate.access.mqtt import BrokerUnavailable, MqttLink, mqtt_link
from parkgate.access.ways import KeypadInputError, WayOutcome, keypad_code_enter

logger = logging.getLogger(__name__)


def code_from_payload(payload: bytes) -> str:
    text = payload.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            body = load_json(text)
        except ValueError:
            return text
        if isinstance(body, dict):
            value = body.get("code", body.get("state", ""))
            return value if isinstance(value, str) else str(value)
    return text


def _log_failure(topic: str, future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        logger.error("keypad %s: %s", topic, error, exc_info=error)


class KeypadListener:
    def __init__(self, link: MqttLink | None = None, *, workers: int = 4) -> None:
        self.link = link or mqtt_link()
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keypad")
        self.topics: dict[str, int] = {}  # topic -> keypad id
        self._lock = threading.Lock()
        self.handled: list[tuple[str, WayOutcome | None]] = []
        self._handled_changed = threading.Condition()

    def refresh(self) -> None:
        """Follow the keypads in the database: subscribe to new topics, drop removed ones."""
        wanted = {
            f"{namespace}/code": pk
            for namespace, pk in Keypad.objects.filter(
                is_active=True, gate__is_active=True, uses_mqtt=True
            ).values_list("mqtt_namespace", "pk")
        }
        with self._lock:
            added = [t for t in wanted if t not in self.topics]
            removed = [t for t in self.topics if t not in wanted]
            self.topics = wanted
        for topic in removed:
            self.link.unsubscribe(topic)
        for topic in added:
            self.link.subscribe(topic, self._on_message)

    def stop(self) -> None:
        for topic in list(self.topics):
            self.link.unsubscribe(topic)
        self.executor.shutdown(wait=True)

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if retained:
            return
        with self._lock:
            keypad_id = self.topics.get(topic)
        if keypad_id is None:
            return
        future: Future[None] = self.executor.submit(self._handle, topic, keypad_id, payload)
        future.add_done_callback(lambda f: _log_failure(topic, f))

    def _handle(self, topic: str, keypad_id: int, payload: bytes) -> None:
        close_old_connections()
        outcome: WayOutcome | None = None
        try:
            keypad = (
                Keypad.objects.select_related("gate__lot__owner").filter(pk=keypad_id, is_active=True).first()
            )
            if keypad is None:
                return
            try:
                outcome = keypad_code_enter(keypad=keypad, code=code_from_payload(payload))
                answer = outcome.as_json()
            except KeypadInputError as error:
                answer = {"status": "error", "granted": False, "error": str(error)}
            if outcome is None or outcome.status != "ignored":
                try:
                    self.link.publish(f"{topic}/result", json.dumps(answer), expires_in=10)
                except BrokerUnavailable:
                    logger.warning("keypad %s: could not publish the result", topic)
        finally:
            # Codes are rare: a worker thread does not keep a database connection between them.
            connections.close_all()
            with self._handled_changed:
                self.handled.append((topic, outcome))
                self._handled_changed.notify_all()

    def wait_handled(self, count: int, timeout: float) -> bool:
        """For tests: wait until ``count`` messages were handled."""
        with self._handled_changed:
            return self._handled_changed.wait_for(lambda: len(self.handled) >= count, timeout)
