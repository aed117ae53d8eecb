"""Signed webhook delivery, in a background thread, retried with backoff like Stripe does.

The signature is Stripe's scheme: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``,
so ``stripe.Webhook.construct_event(payload, header, secret)`` accepts it. A delivery that does
not get a 2xx (or cannot connect) is retried after ``retry_base * 2**(attempt - 1)`` seconds, up to
``max_attempts`` in all; Stripe retries for three days, the test server for seconds.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .state import Endpoint, Store

logger = logging.getLogger(__name__)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Attempt:
    event_id: str
    event_type: str
    url: str
    attempt: int
    status: int | None  # None: could not connect
    at: float


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    event: dict[str, Any] = field(compare=False)
    endpoint: Endpoint = field(compare=False)
    attempt: int = field(compare=False, default=1)


class WebhookSender:
    def __init__(
        self, store: Store, *, max_attempts: int = 5, retry_base: float = 1.0, timeout: float = 10.0
    ) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.timeout = timeout
        self.attempts: list[Attempt] = []
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._busy = False
        self._paused = False
        self._thread = threading.Thread(target=self._run, name="stripe-test-webhooks", daemon=True)
        store.on_event = self.enqueue

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._thread.join(timeout=5)

    def enqueue(self, event: dict[str, Any], endpoints: list[Endpoint]) -> None:
        with self._wake:
            for endpoint in endpoints:
                heapq.heappush(self._queue, _Delivery(time.monotonic(), next(self._seq), event, endpoint))
            self._wake.notify_all()

    def pause(self) -> None:
        """Hold every delivery (new and retried) until :meth:`resume`: lets a test order events."""
        with self._wake:
            self._paused = True

    def resume(self, *, reverse: bool = False) -> None:
        """Send what was held, in the order it was queued or (``reverse``) the other way round."""
        with self._wake:
            held = sorted(self._queue)
            if reverse:
                held.reverse()
            now = time.monotonic()
            self._queue = []
            for delivery in held:
                delivery.due, delivery.seq = now, next(self._seq)
                heapq.heappush(self._queue, delivery)
            self._paused = False
            self._wake.notify_all()

    def replay(self, event: dict[str, Any], times: int) -> None:
        """Deliver an already sent event again, ``times`` times (Stripe may send an event twice)."""
        endpoints = [endpoint for endpoint in self.store.endpoints if endpoint.wants(event)]
        for _ in range(times):
            self.enqueue(event, endpoints)

    def idle(self) -> bool:
        """Nothing queued and nothing being sent (retries still waiting count as queued)."""
        with self._wake:
            return not self._queue and not self._busy

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (
                    self._paused or not self._queue or self._queue[0].due > time.monotonic()
                ):
                    timeout = (
                        (self._queue[0].due - time.monotonic()) if self._queue and not self._paused else None
                    )
                    self._wake.wait(timeout=timeout)
                if self._stopping:
                    return
                delivery = heapq.heappop(self._queue)
                self._busy = True
            try:
                self._deliver(delivery)
            finally:
                with self._wake:
                    self._busy = False

    def _deliver(self, delivery: _Delivery) -> None:
        # Stripe sends the event as it was when it happened, pretty-printed.
        payload = json.dumps(delivery.event, indent=2).encode()
        header = sign(payload, delivery.endpoint.secret, int(time.time()))
        # Endpoint URLs are checked to be http(s) when configured (Url spec, command line).
        request = urllib.request.Request(  # noqa: S310
            delivery.endpoint.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        status: int | None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            logger.info("webhook %s to %s: %s", delivery.event["id"], delivery.endpoint.url, error)
            status = None
        self.attempts.append(
            Attempt(
                delivery.event["id"],
                delivery.event["type"],
                delivery.endpoint.url,
                delivery.attempt,
                status,
                time.time(),
            )
        )
        if status is not None and 200 <= status < 300:
            with self.store.lock:
                delivery.event["pending_webhooks"] = max(0, delivery.event["pending_webhooks"] - 1)
            return
        if delivery.attempt >= self.max_attempts:
            logger.warning(
                "webhook %s to %s gave up after %d attempts",
                delivery.event["id"],
                delivery.endpoint.url,
                delivery.attempt,
            )
            return
        retry = _Delivery(
            time.monotonic() + self.retry_base * 2 ** (delivery.attempt - 1),
            next(self._seq),
            delivery.event,
            delivery.endpoint,
            delivery.attempt + 1,
        )
        with self._wake:
            heapq.heappush(self._queue, retry)
            self._wake.notify_all()
