"""One long-lived MQTT connection per process and broker, shared by every gate command and listener.

The connection is opened lazily on first use, reconnects by itself (paho's network thread), and
turns Nagle's algorithm off: a gate command is one small packet and must not wait 40 ms for an ACK.
``request()`` publishes a command and waits for the reply that carries the same correlation key,
which is how Shelly Gen2 JSON-RPC (reply on ``<src>/rpc``) and acknowledgement topics work.

Commands are published with QoS 0 and an MQTT v5 message expiry: paho never queues a QoS 0
message while disconnected, and the broker drops an expired one, so a command is never delivered
late after an outage. The devices also receive the expiry in the payload and refuse late commands.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parkgate.core.errors import ParkgateError

logger = logging.getLogger(__name__)

Handler = Callable[[str, bytes, bool], None]  # topic, payload, retained


class BrokerUnavailable(ParkgateError):
    """The broker could not be reached in time: nothing was published."""


@dataclass
class _Waiter:
    event: threading.Event
    match: Callable[[str, bytes], bool]
    reply: bytes | None = None
    lost: bool = False


def _nodelay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    # A Unix or TLS-wrapped socket may lack the option.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttLink:
    """A thread-safe MQTT v5 client with topic handlers and request/response correlation."""

    def __init__(
        self, url: str, *, client_id: str | None = None, username: str = "", password: str = ""
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"unsupported MQTT URL scheme: {parts.scheme!r}")
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.client_id = client_id or f"parkgate-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._started = False
        self._handlers: dict[str, list[Handler]] = {}
        self._waiters: dict[str, list[_Waiter]] = {}
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
        )
        if parts.username:
            client.username_pw_set(parts.username, parts.password)
        elif username:
            client.username_pw_set(username, password)
        if parts.scheme == "mqtts":
            client.tls_set()
        client.reconnect_delay_set(min_delay=0.25, max_delay=4)  # type: ignore[arg-type]
        client.on_socket_open = _nodelay
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    # -- connection --------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            self._client.connect_async(self.host, self.port, keepalive=30, clean_start=True)
            self._client.loop_start()

    def stop(self) -> None:
        with self._lock:
            if not self._started:
                return
            self._started = False
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def wait_connected(self, timeout: float) -> bool:
        self.start()
        return self._connected.wait(max(timeout, 0))

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any
    ) -> None:
        if reason_code.is_failure:
            logger.warning("MQTT broker %s:%s refused the connection: %s", self.host, self.port, reason_code)
            return
        with self._lock:
            topics = set(self._handlers) | set(self._waiters)
        for topic in topics:  # a clean session forgets subscriptions: subscribe again
            client.subscribe(topic, qos=1)
        self._connected.set()
        # A topic added while we were subscribing saw us disconnected: subscribe it now.
        with self._lock:
            late = (set(self._handlers) | set(self._waiters)) - topics
        for topic in late:
            client.subscribe(topic, qos=1)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any
    ) -> None:
        self._connected.clear()
        with self._lock:
            waiters = [w for topic_waiters in self._waiters.values() for w in topic_waiters]
        for waiter in waiters:  # their answer can no longer come on this connection
            waiter.lost = True
            waiter.event.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic, payload = message.topic, bytes(message.payload)
        with self._lock:
            handlers = list(self._handlers.get(topic, ()))
            waiters = list(self._waiters.get(topic, ()))
        for waiter in waiters:
            # A retained message is old news (the last state), never the answer to this command.
            if not message.retain and waiter.reply is None and waiter.match(topic, payload):
                waiter.reply = payload
                waiter.event.set()
        for handler in handlers:
            try:
                handler(topic, payload, bool(message.retain))
            except Exception:  # a bad handler must not kill the network thread
                logger.exception("MQTT handler for %s failed", topic)

    # -- subscriptions -----------------------------------------------------------------------
    def subscribe(self, topic: str, handler: Handler) -> None:
        with self._lock:
            first = topic not in self._handlers and topic not in self._waiters
            self._handlers.setdefault(topic, []).append(handler)
        self.start()
        if first and self.is_connected:
            self._client.subscribe(topic, qos=1)

    def unsubscribe(self, topic: str) -> None:
        with self._lock:
            self._handlers.pop(topic, None)
            still_needed = topic in self._waiters
        if not still_needed and self.is_connected:
            self._client.unsubscribe(topic)

    def _ensure_reply_subscription(self, topic: str) -> bool:
        """Subscribe to a reply topic once (and again after each reconnect).

        No need to wait for the SUBACK: the broker handles one connection's packets in order, so
        the subscription is in place before the command that follows it is even routed.
        """
        with self._lock:
            if topic in self._handlers or topic in self._waiters:
                return True
            self._waiters[topic] = []
        result, _mid = self._client.subscribe(topic, qos=1)
        if result != mqtt.MQTT_ERR_SUCCESS:
            with self._lock:
                if not self._waiters.get(topic):
                    self._waiters.pop(topic, None)
            return False
        return True

    # -- publishing --------------------------------------------------------------------------
    def publish(self, topic: str, payload: bytes | str, *, expires_in: float, qos: int = 0) -> None:
        """Publish a command now or not at all: raises BrokerUnavailable when not connected in time."""
        if expires_in <= 0:
            raise BrokerUnavailable("the command expired before it could be sent")
        if not self.wait_connected(expires_in):
            raise BrokerUnavailable(f"MQTT broker {self.host}:{self.port} unreachable")
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho is untyped here
        properties.MessageExpiryInterval = max(1, math.ceil(expires_in))
        info = self._client.publish(topic, payload, qos=qos, retain=False, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerUnavailable(f"MQTT publish failed: {mqtt.error_string(info.rc)}")

    def request(
        self,
        *,
        topic: str,
        payload: bytes | str,
        reply_topic: str,
        match: Callable[[str, bytes], bool],
        timeout: float,
        expires_in: float,
    ) -> bytes | None:
        """Publish and wait for the first message on ``reply_topic`` that ``match`` accepts.

        Returns the reply, or None when none came within ``timeout``. Raises BrokerUnavailable when
        the command could not be published.
        """
        if not self.wait_connected(min(timeout, expires_in)):
            raise BrokerUnavailable(f"MQTT broker {self.host}:{self.port} unreachable")
        waiter = _Waiter(threading.Event(), match)
        self._ensure_reply_subscription(reply_topic)
        with self._lock:
            self._waiters.setdefault(reply_topic, []).append(waiter)
        try:
            self.publish(topic, payload, expires_in=expires_in)
            waiter.event.wait(timeout)
            if waiter.reply is None and waiter.lost:
                raise BrokerUnavailable("connection to the MQTT broker lost before the gate answered")
            return waiter.reply
        finally:
            with self._lock:
                remaining = self._waiters.get(reply_topic)
                if remaining is not None and waiter in remaining:
                    remaining.remove(waiter)


_links: dict[str, MqttLink] = {}
_links_lock = threading.Lock()


def mqtt_link(url: str | None = None) -> MqttLink:
    """The process's link to a broker (``settings.MQTT_URL`` by default), created on first use.

    On ``settings.MQTT_URL`` it signs in with Parkgate's own account (``MQTT_USERNAME`` /
    ``MQTT_PASSWORD``) unless the URL carries a user name itself.
    """
    from django.conf import settings  # the site agent uses MqttLink without Django

    url = url or settings.MQTT_URL
    username, password = "", ""
    if url == settings.MQTT_URL:
        username, password = settings.MQTT_USERNAME, settings.MQTT_PASSWORD
    key = f"{url} {username}"
    with _links_lock:
        link = _links.get(key)
        if link is None:
            link = _links[key] = MqttLink(url, username=username, password=password)
        return link


def close_links() -> None:
    """Disconnect every link (tests and management commands on exit)."""
    with _links_lock:
        links = list(_links.values())
        _links.clear()
    for link in links:
        link.stop()
