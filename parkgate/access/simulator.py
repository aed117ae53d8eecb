"""A Shelly Gen2-like relay on MQTT, for tests, demos and the latency benchmark.

It answers ``Switch.Set`` (and ``Switch.GetStatus``) JSON-RPC requests on ``<prefix>/rpc`` with a
reply on ``<src>/rpc``, honours ``toggle_after`` (the pulse), publishes its state on
``<prefix>/status/switch:<n>`` with QoS 1 like the real device, refuses a command whose
``parkgate_expires_at`` has passed, and pulses once for a request id delivered twice.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from parkgate.access.mqtt import _nodelay


@dataclass(frozen=True)
class Pulse:
    request_id: str
    switch_id: int
    toggle_after: float | None
    received_at: float  # time.time()


@dataclass(frozen=True)
class Refusal:
    request_id: str
    reason: str


class ShellySimulator:
    def __init__(
        self,
        *,
        url: str,
        device_id: str,
        prefix: str | None = None,
        before_request: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """``before_request`` (tests) sees each request first; returning False drops it unanswered."""
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.device_id = device_id
        self.prefix = prefix or device_id
        self.pulses: list[Pulse] = []
        self.refusals: list[Refusal] = []
        self.requests = 0
        self.before_request = before_request
        self._state: dict[int, bool] = {}
        self._seen: deque[str] = deque(maxlen=1000)
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._timers: list[threading.Timer] = []
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"{device_id}-sim", protocol=mqtt.MQTTv5
        )
        if parts.username:
            client.username_pw_set(parts.username, parts.password)
        client.reconnect_delay_set(min_delay=0.25, max_delay=2)  # type: ignore[arg-type]
        client.will_set(f"{self.prefix}/online", "false", qos=1, retain=True)
        client.on_socket_open = _nodelay
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *args: self._subscribed.clear()
        client.on_subscribe = lambda *args: self._subscribed.set()
        client.on_message = self._on_message
        self._client = client

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, *, wait: float = 5.0) -> ShellySimulator:
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if wait and not self.wait_ready(wait):
            self.stop()
            raise TimeoutError(f"simulator could not reach the broker at {self.host}:{self.port}")
        return self

    def wait_ready(self, timeout: float) -> bool:
        """True once connected and subscribed (again, after a reconnect)."""
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._client.disconnect()
        self._client.loop_stop()

    def wait_for_pulses(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.pulses) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    # -- MQTT ---------------------------------------------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any
    ) -> None:
        if reason_code.is_failure:
            return
        client.publish(f"{self.prefix}/online", "true", qos=1, retain=True)
        client.subscribe(f"{self.prefix}/rpc", qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            request = json.loads(message.payload)
            request_id = request["id"]
            src = str(request["src"])
            method = str(request["method"])
        except (ValueError, KeyError, TypeError):
            return  # a real device drops frames it cannot parse
        self.requests += 1
        if self.before_request is not None and not self.before_request(request):
            return
        params = request.get("params") or {}
        if method == "Switch.GetStatus":
            switch_id = int(params.get("id", 0))
            self._reply(src, request_id, result=self._status(switch_id))
            return
        if method != "Switch.Set":
            self._reply(src, request_id, error={"code": 404, "message": f"No handler for {method}"})
            return
        expires_at = request.get("parkgate_expires_at")
        if isinstance(expires_at, int | float) and time.time() * 1000 > expires_at:
            self._refuse(src, request_id, "command expired")
            return
        key = str(request_id)
        with self._changed:
            duplicate = key in self._seen
            self._seen.append(key)
        switch_id = int(params.get("id", 0))
        was_on = self._state.get(switch_id, False)
        if duplicate:
            self._reply(src, request_id, result={"was_on": was_on})
            return
        toggle_after = params.get("toggle_after")
        on = bool(params.get("on", False))
        self._set(switch_id, on)
        if on:
            with self._changed:
                self.pulses.append(Pulse(key, switch_id, toggle_after, time.time()))
                self._changed.notify_all()
        if isinstance(toggle_after, int | float) and toggle_after > 0:
            timer = threading.Timer(float(toggle_after), self._set, args=(switch_id, not on))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        self._reply(src, request_id, result={"was_on": was_on})

    def _refuse(self, src: str, request_id: Any, reason: str) -> None:
        with self._changed:
            self.refusals.append(Refusal(str(request_id), reason))
            self._changed.notify_all()
        self._reply(src, request_id, error={"code": -103, "message": reason})

    def _status(self, switch_id: int) -> dict[str, Any]:
        return {"id": switch_id, "source": "MQTT", "output": self._state.get(switch_id, False)}

    def _set(self, switch_id: int, on: bool) -> None:
        self._state[switch_id] = on
        self._client.publish(
            f"{self.prefix}/status/switch:{switch_id}", json.dumps(self._status(switch_id)), qos=1
        )

    def _reply(self, src: str, request_id: Any, **body: Any) -> None:
        frame = {"id": request_id, "src": self.device_id, "dst": src, **body}
        self._client.publish(f"{src}/rpc", json.dumps(frame), qos=1)
