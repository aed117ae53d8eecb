"""HTTP front of the test server: Stripe's API under /v1, hosted pages, and test controls under /_test.

``StripeTestServer`` runs it in background threads (tests, ``python -m devtools.stripe_test_server``):

    server = StripeTestServer(port=0, webhooks=[("http://127.0.0.1:8000/payments/webhook/", secret)])
    server.start()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url})
    ...
    server.stop()
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import secrets
import threading
from dataclasses import asdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import api, pages
from .data import API_VERSION
from .errors import ParamError, StripeError, Unauthorized
from .params import decode
from .state import PLATFORM, Endpoint, SavedResponse, Store, fingerprint
from .webhooks import WebhookSender

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.1


# Test controls (plain JSON over HTTP, not part of Stripe's API):
#   POST /_test/clock {"advance": seconds}          move the server clock (sessions expire)
#   POST /_test/faults {"method", "path", "mode": "error_before"|"drop_after", "times"}
#   POST /_test/webhooks {"action": "pause"} | {"action": "resume", "order": "reverse"}
#   POST /_test/replay {"event": "evt_...", "times": n}   deliver an event again
#   GET  /_test/deliveries                           every delivery attempt and its status
#   GET  /_test/settled                              {"settled": true} when nothing is pending


class Fault:
    """A failure injected by a test: ``error_before`` answers 500 without doing anything;
    ``drop_after`` does the work, then closes the connection without answering (a timeout)."""

    def __init__(self, method: str, path: str, mode: str, times: int) -> None:
        self.method, self.path, self.mode, self.times = method.upper(), path, mode, times


class StripeTestServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        webhooks: list[tuple[str, str]] | None = None,
        webhook_max_attempts: int = 5,
        webhook_retry_base: float = 1.0,
        public_url: str | None = None,
        state_file: str | None = None,
    ) -> None:
        self.store = Store()
        self.state_file = Path(state_file) if state_file else None
        self._save_lock = threading.Lock()
        if self.state_file is not None and self.state_file.exists():
            self.store.restore(json.loads(self.state_file.read_text()))
            for obj in self.store.objects.values():
                if obj["object"] == "refund" and obj["status"] == "pending":
                    self.store.schedule(0, functools.partial(api.refund_settle, self.store, obj["id"]))
        self.api_key = api_key
        self.faults: list[Fault] = []
        for url, secret in webhooks or []:
            self.store.endpoints.append(Endpoint(url=url, secret=secret, connect=None))
        self.sender = WebhookSender(
            self.store, max_attempts=webhook_max_attempts, retry_base=webhook_retry_base
        )
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        bound_port = self.httpd.server_address[1]
        self.url = public_url or f"http://{host}:{bound_port}"
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self.httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="stripe-test-http",
                daemon=True,
            ),
            threading.Thread(target=self._tick, name="stripe-test-clock", daemon=True),
        ]

    def start(self) -> StripeTestServer:
        self.sender.start()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.sender.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    def serve_forever(self) -> None:
        self.start()
        try:
            self._stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.sweep()

    def sweep(self) -> None:
        """Run what is due: refunds settling, sessions expiring."""
        with self.store.lock:
            self.store.run_due()
            api.sessions_expire_due(self.store)
        self.save()

    def save(self) -> None:
        """Write the state file if anything changed (atomically: a crash leaves the old one)."""
        if self.state_file is None:
            return
        # One writer at a time (the clock thread and request threads both save), and the
        # snapshot taken under the store lock so it is consistent.
        with self._save_lock:
            with self.store.lock:
                if not self.store.dirty:
                    return
                payload = json.dumps(self.store.snapshot())
                self.store.dirty = False
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.state_file.with_suffix(".tmp")
            temporary.write_text(payload)
            os.replace(temporary, self.state_file)

    # --- test controls ------------------------------------------------------------------------

    def add_webhook(self, url: str, secret: str) -> None:
        """Deliver every event (platform and connected accounts) to ``url``, signed with ``secret``."""
        with self.store.lock:
            self.store.endpoints.append(Endpoint(url=url, secret=secret, connect=None))

    def advance_clock(self, seconds: float) -> int:
        with self.store.lock:
            self.store.clock_offset += seconds
        self.sweep()
        return self.store.now()

    def settled(self) -> bool:
        """No deferred work and no webhook waiting: what a test waits for."""
        with self.store.lock:
            pending = bool(self.store.scheduled)
        return not pending and self.sender.idle()


def _handler_for(server: StripeTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        app = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    app: StripeTestServer
    protocol_version = "HTTP/1.1"
    server_version = "ParkgateStripeTest/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing -----------------------------------------------------------------------------

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, indent=2).encode(), "application/json", headers)

    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": location})

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        try:
            if path.startswith("/v1/"):
                self._api(method, path, parts.query)
            elif path.startswith("/setup/"):
                self._onboarding(method, path.removeprefix("/setup/"))
            elif path.startswith("/pay/"):
                self._checkout(method, path.removeprefix("/pay/"))
            elif path.startswith("/_test/"):
                self._control(method, path.removeprefix("/_test/"))
            elif path == "/":
                self._html(200, pages.message("Stripe test server", f"API at {self.app.url}/v1."))
            else:
                self._html(404, pages.message("Not found", f"Nothing at {path}."))
        except Exception:
            logger.exception("stripe test server: %s %s", method, self.path)
            self._json(
                500, {"error": {"type": "api_error", "message": "The test server failed; see its log."}}
            )
        finally:
            if method != "GET":
                self.app.save()

    # --- API ----------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: str) -> None:
        request_id = "req_" + secrets.token_hex(7)
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION,
        }
        idempotency_key = self.headers.get("Idempotency-Key")
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = self._body() if method == "POST" else query
        try:
            api_key = self._authenticate()
            account = self.headers.get("Stripe-Account") or PLATFORM
            route = next(
                (
                    (spec, handler, match.groups())
                    for m, pattern, spec, handler in api.ROUTES
                    if m == method and (match := pattern.match(path))
                ),
                None,
            )
            if route is None:
                raise StripeError(
                    f"Unrecognized request URL ({method}: {path}). "
                    "Please see https://stripe.com/docs or we can "
                    "help at https://support.stripe.com/."
                ) from None
            spec, handler, args = route
            raw = decode(body)
            if method != "POST":
                idempotency_key = None
            with self.app.store.lock:
                if account != PLATFORM:
                    self._check_account(account, api_key)
                status, payload, replayed = self._run(
                    method, path, spec, handler, args, raw, api_key, account, request_id, idempotency_key
                )
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        except StripeError as error:
            status, payload = error.status, error.body()
        fault = self._fault(method, path)
        if fault == "drop_after":
            self.close_connection = True
            return
        self._json(status, payload, headers)

    def _run(
        self,
        method: str,
        path: str,
        spec: Any,
        handler: Any,
        args: tuple[str, ...],
        raw: dict[str, Any],
        api_key: str,
        account: str,
        request_id: str,
        idempotency_key: str | None,
    ) -> tuple[int, dict[str, Any], bool]:
        store = self.app.store
        saved_key = (api_key, account, idempotency_key or "")
        marker = fingerprint(method, path, raw)
        if idempotency_key:
            saved = store.idempotent.get(saved_key)
            if saved is not None:
                if saved.fingerprint != marker:
                    from .errors import IdempotencyMismatch

                    raise IdempotencyMismatch(idempotency_key)
                return saved.status, saved.body, True
        if self._fault_before(method, path):
            return (
                500,
                {"error": {"type": "api_error", "message": "Injected test failure (nothing was done)."}},
                False,
            )
        params = spec.check(raw, "")
        call = api.Call(store, self.app.url, account, params, request_id, idempotency_key)
        try:
            status, payload = handler(call, *args)
        except ParamError:
            raise
        except StripeError as error:
            status, payload = error.status, error.body()
        if idempotency_key:
            store.idempotent[saved_key] = SavedResponse(marker, status, payload)
        return status, payload, False

    def _authenticate(self) -> str:
        header = self.headers.get("Authorization") or ""
        key = ""
        if header.startswith("Bearer "):
            key = header.removeprefix("Bearer ").strip()
        elif header.startswith("Basic "):
            key = base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)[0]
        if not key:
            raise Unauthorized(
                "You did not provide an API key. "
                "You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
        if not key.startswith("sk_test_") or (self.app.api_key is not None and key != self.app.api_key):
            raise Unauthorized(f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
        return key

    def _check_account(self, account: str, api_key: str) -> None:
        obj = self.app.store.objects.get(account)
        if obj is None or obj["object"] != "account":
            from .errors import Forbidden

            raise Forbidden(
                f"The provided key '{api_key[:8]}****{api_key[-4:]}' does not have access to account "
                f"'{account}' (or that account does not exist). Application access may have been revoked.",
                code="account_invalid",
            )

    def _fault_before(self, method: str, path: str) -> bool:
        return self._take_fault(method, path, "error_before")

    def _fault(self, method: str, path: str) -> str | None:
        return "drop_after" if self._take_fault(method, path, "drop_after") else None

    def _take_fault(self, method: str, path: str, mode: str) -> bool:
        with self.app.store.lock:
            for fault in self.app.faults:
                if fault.mode == mode and fault.method == method and fault.path == path and fault.times > 0:
                    fault.times -= 1
                    return True
        return False

    # --- hosted onboarding --------------------------------------------------------------------

    def _onboarding(self, method: str, token: str) -> None:
        store = self.app.store
        with store.lock:
            link = store.onboarding_links.get(token)
            if link is None:
                self._html(404, pages.message("Link not found", "This onboarding link does not exist."))
                return
            if link["used"] or link["expires_at"] < store.now():
                self._redirect(link["refresh_url"])
                return
            account = store.objects[link["account"]]
            if method == "GET":
                self._html(200, pages.onboarding(account, link["refresh_url"]))
                return
            self._body()
            link["used"] = True
            api.account_complete_onboarding(store, account["id"])
        self._redirect(link["return_url"])

    # --- hosted checkout ----------------------------------------------------------------------

    def _checkout(self, method: str, session_id: str) -> None:
        store = self.app.store
        form = dict(parse_qsl(self._body(), keep_blank_values=True)) if method == "POST" else {}
        with store.lock:
            session = store.objects.get(session_id)
            if session is None or session["object"] != "checkout.session":
                self._html(404, pages.message("Checkout not found", "This checkout session does not exist."))
                return
            if session["status"] == "open" and session["expires_at"] <= store.now():
                api.session_mark_expired(store, session)
            language = (session.get("locale") or "en").split("-")[0]
            if method == "GET":
                self._html(200, pages.checkout(session, language if language in ("en", "fr", "nl") else "en"))
                return
            action = form.get("action", "")
            success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
            try:
                if action in ("pay", "pay_refunds_fail", "delayed"):
                    api.session_pay(
                        store,
                        session,
                        method="delayed" if action == "delayed" else "card",
                        email=form.get("email") or session.get("customer_email"),
                        name=form.get("name", "").strip(),
                        tax_id=form.get("tax_id", "").strip(),
                        refunds_fail=action == "pay_refunds_fail",
                    )
                    target = success_url
                elif action in ("settle_succeed", "settle_fail"):
                    api.session_settle_delayed(store, session, succeed=action == "settle_succeed")
                    target = f"/pay/{session_id}"
                elif action == "abandon":
                    target = session["cancel_url"] or f"/pay/{session_id}"
                else:
                    self._html(400, pages.message("Unknown action", f"No such action: {action!r}."))
                    return
            except StripeError as error:
                self._html(409, pages.message("Checkout", error.message))
                return
        self._redirect(target)

    # --- test controls (JSON) -----------------------------------------------------------------

    def _control(self, method: str, name: str) -> None:
        body = self._body() if method == "POST" else ""
        data = json.loads(body) if body else {}
        if name == "clock" and method == "POST":
            self._json(200, {"now": self.app.advance_clock(float(data.get("advance", 0)))})
        elif name == "faults" and method == "POST":
            with self.app.store.lock:
                self.app.faults.append(
                    Fault(data.get("method", "POST"), data["path"], data["mode"], int(data.get("times", 1)))
                )
            self._json(200, {"ok": True})
        elif name == "webhooks" and method == "POST":
            if data.get("action") == "pause":
                self.app.sender.pause()
            else:
                self.app.sender.resume(reverse=data.get("order") == "reverse")
            self._json(200, {"ok": True})
        elif name == "replay" and method == "POST":
            with self.app.store.lock:
                event = self.app.store.objects.get(str(data.get("event")))
            if event is None or event["object"] != "event":
                self._json(404, {"error": {"type": "invalid_request_error", "message": "No such event."}})
                return
            self.app.sender.replay(event, int(data.get("times", 1)))
            self._json(200, {"ok": True})
        elif name == "deliveries" and method == "GET":
            self._json(200, {"data": [asdict(attempt) for attempt in self.app.sender.attempts]})
        elif name == "settled" and method == "GET":
            self._json(200, {"settled": self.app.settled()})
        elif name == "sweep" and method == "POST":
            self.app.sweep()
            self._json(200, {"ok": True})
        else:
            self._json(
                404, {"error": {"type": "invalid_request_error", "message": f"No test control {name!r}."}}
            )
