"""Fixtures for the Stripe test server: the server, an SDK client on it, a webhook receiver.

The server is driven only through the official SDK (its API) and plain HTTP (its hosted pages),
as our own code and a visitor's browser will drive it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer
from parkgate.payments import gateway
from tests.polling import wait_for

API_KEY = "sk_test_pytest_0123456789"
T = TypeVar("T")


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class WebhookReceiver:
    """A local HTTP endpoint that records what it receives and answers the statuses it is told."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            events = [d.event for d in self.deliveries]
        return [e for e in events if event_type is None or e["type"] == event_type]

    def wait_event(self, event_type: str, count: int = 1) -> list[dict[str, Any]]:
        return wait_for(
            lambda: (found := self.events(event_type)) and len(found) >= count and found,
            what=f"{count} x {event_type}",
        )


@contextmanager
def running_receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver listening on a free local port until the block ends."""
    state = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.deliveries.append(Delivery(dict(self.headers.items()), body))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/webhook"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as state:
        yield state


WEBHOOK_SECRET = "whsec_pytest_secret"


@pytest.fixture
def server(receiver: WebhookReceiver) -> Iterator[StripeTestServer]:
    test_server = StripeTestServer(
        api_key=API_KEY,
        webhooks=[(receiver.url, WEBHOOK_SECRET)],
        webhook_max_attempts=3,
        webhook_retry_base=0.02,
    ).start()
    yield test_server
    test_server.stop()


@pytest.fixture
def sdk(server: StripeTestServer) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": server.url})


@pytest.fixture
def gateway_server(settings: Any) -> Iterator[StripeTestServer]:
    """The bundled server, in this process, with the gateway pointed at it (as in ``make run``).

    For webhooks into Django: ``gateway_server.add_webhook(live_server.url + "/payments/webhook/",
    settings.STRIPE_WEBHOOK_SECRET)``.
    """
    test_server = StripeTestServer(webhook_max_attempts=3, webhook_retry_base=0.02).start()
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    settings.STRIPE_API_BASE = test_server.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield test_server
    test_server.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(url: str, form: dict[str, str] | None = None, method: str | None = None) -> tuple[int, str, str]:
    """(status, Location header, body) of one plain HTTP request, redirects not followed."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    try:
        with _opener.open(request, timeout=5) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode()


def control(server: StripeTestServer, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call one of the server's /_test controls."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{server.url}/_test/{name}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def onboarded_account(client: stripe.StripeClient) -> stripe.Account:
    """A connected account whose owner finished the hosted onboarding (charges enabled)."""
    account = client.v1.accounts.create(
        params={"type": "standard", "country": "BE", "email": "owner@example.be"}
    )
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://parkgate.test/refresh",
            "return_url": "http://parkgate.test/return",
        }
    )
    status, location, _ = http(link.url, {"action": "complete"})
    assert (status, location) == (303, "http://parkgate.test/return")
    return client.v1.accounts.retrieve(account.id)


def session_params(**overrides: Any) -> dict[str, Any]:
    """A booking of two spots at €15.00 VAT included, as the checkout flow will send it."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1500,
                    "tax_behavior": "inclusive",
                    "product_data": {"name": f"Parking spot {n}"},
                },
                "quantity": 1,
            }
            for n in (1, 2)
        ],
        "payment_intent_data": {"application_fee_amount": 100, "metadata": {"payment": "42"}},
        "metadata": {"payment": "42"},
        "client_reference_id": "payment-42",
        "customer_email": "visitor@example.com",
        "expires_at": int(time.time()) + 30 * 60 + 60,
        "success_url": "http://parkgate.test/visit/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://parkgate.test/visit/cancelled",
    }
    params.update(overrides)
    return params
