"""The test server's memory: objects by id, who owns them, events, idempotent results, a clock.

Everything is guarded by one re-entrant lock: requests are handled one at a time, which makes
idempotency and "refund no more than remains" trivially race-free. Objects are plain JSON-shaped
dicts; lists embedded in objects (a charge's refunds) hold ids and are rendered on the way out,
so a refund that later succeeds shows its new status everywhere.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .data import API_VERSION
from .errors import NotFound

PLATFORM = ""  # owner key of the platform's own objects (no Stripe-Account header)

_ALPHABET = string.ascii_letters + string.digits

# id prefix → the object name used in "No such <name>" messages.
KIND_NAMES = {
    "acct": "account",
    "cs": "checkout.session",
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "fee": "application fee",
    "fr": "application fee refund",
    "txr": "tax_rate",
    "evt": "event",
    "in": "invoice",
    "we": "webhook_endpoint",
}
# Embedded lists, rendered from ids: (object type, field) → url template.
_EMBEDDED_LISTS = {
    ("charge", "refunds"): "/v1/charges/{id}/refunds",
    ("application_fee", "refunds"): "/v1/application_fees/{id}/refunds",
}


def new_id(prefix: str, length: int = 24) -> str:
    token = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return f"{prefix}_test_{token}" if prefix in ("cs",) else f"{prefix}_{token}"


@dataclass
class SavedResponse:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class Endpoint:
    """Where events go. ``connect`` endpoints get connected-account events, others the platform's."""

    url: str
    secret: str
    connect: bool | None = None  # None: both (an endpoint configured on the command line)
    enabled_events: tuple[str, ...] = ("*",)
    id: str = field(default_factory=lambda: new_id("we"))

    def wants(self, event: dict[str, Any]) -> bool:
        connected = "account" in event
        if self.connect is not None and self.connect != connected:
            return False
        return "*" in self.enabled_events or event["type"] in self.enabled_events


@dataclass
class Scheduled:
    due: float
    action: Callable[[], None]


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.objects: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}
        self.idempotent: dict[tuple[str, str, str], SavedResponse] = {}
        self.events: list[dict[str, Any]] = []
        self.endpoints: list[Endpoint] = []
        self.scheduled: list[Scheduled] = []
        # Called with (event, endpoints) for each new event: the webhook sender queues deliveries.
        self.on_event: Callable[[dict[str, Any], list[Endpoint]], None] = lambda event, endpoints: None
        # Hosted-page tokens: onboarding link token → account id.
        self.onboarding_links: dict[str, dict[str, Any]] = {}
        # Charges whose refunds will fail (paid on the hosted page with "refunds fail").
        self.failing_refund_charges: set[str] = set()
        # Set by every change; the server saves its state file when it is set.
        self.dirty = False

    # --- time ---------------------------------------------------------------------------------

    def now(self) -> int:
        """The server's clock in Unix seconds; tests move it forward with ``advance``."""
        return int(time.time() + self.clock_offset)

    # --- objects ------------------------------------------------------------------------------

    def put(self, obj: dict[str, Any], owner: str) -> dict[str, Any]:
        self.dirty = True
        self.objects[obj["id"]] = obj
        self.owners[obj["id"]] = owner
        return obj

    def get(self, object_id: str, owner: str | None, *, kind: str, param: str = "id") -> dict[str, Any]:
        """The object if it exists AND belongs to ``owner`` (None: any owner); else Stripe's 404."""
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind or (owner is not None and self.owners[object_id] != owner):
            prefix = object_id.split("_", 1)[0]
            raise NotFound(KIND_NAMES.get(prefix, kind), object_id, param=param)
        return obj

    def owner_of(self, object_id: str) -> str:
        return self.owners[object_id]

    def render(self, obj: dict[str, Any], expand: list[str] | None = None) -> dict[str, Any]:
        """A deep copy fit for the wire: embedded lists resolved, ``expand`` paths replaced."""
        out = _without_private(copy.deepcopy(obj))
        self._resolve_lists(out)
        for path in expand or []:
            self._expand(out, path.split("."))
        return out

    def _resolve_lists(self, out: dict[str, Any]) -> None:
        for (object_type, name), url in _EMBEDDED_LISTS.items():
            if out.get("object") == object_type and isinstance(out.get(name), list):
                ids = out[name]
                out[name] = {
                    "object": "list",
                    "data": [self.render(self.objects[i]) for i in reversed(ids)],
                    "has_more": False,
                    "total_count": len(ids),
                    "url": url.format(id=out["id"]),
                }

    def _expand(self, node: Any, path: list[str]) -> None:
        if not path or not isinstance(node, dict):
            return
        if node.get("object") == "list" and path[0] == "data":
            for item in node.get("data", []):
                self._expand(item, path[1:])
            return
        head, rest = path[0], path[1:]
        value = node.get(head)
        if isinstance(value, str) and value in self.objects:
            node[head] = value = self.render(self.objects[value])
        self._expand(value, rest)

    # --- events -------------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        owner: str,
        previous: dict[str, Any] | None = None,
        request: tuple[str | None, str | None] = (None, None),
    ) -> dict[str, Any]:
        """Record an event about ``obj`` (snapshot now) and hand it to the webhook sender."""
        data: dict[str, Any] = {"object": self.render(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event: dict[str, Any] = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": request[0], "idempotency_key": request[1]},
            "type": event_type,
        }
        if owner != PLATFORM:
            event["account"] = owner
        endpoints = [endpoint for endpoint in self.endpoints if endpoint.wants(event)]
        event["pending_webhooks"] = len(endpoints)
        self.put(event, owner)
        self.events.append(event)
        self.dirty = True
        self.on_event(event, endpoints)
        return event

    # --- deferred work (refunds settling, sessions expiring) -----------------------------------

    # --- persistence (optional: ``--state-file``) -----------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything worth keeping across a restart, as JSON-ready data (mutations are in-place on
        the objects, so the snapshot is taken whole, under the lock)."""
        return {
            "version": 1,
            "clock_offset": self.clock_offset,
            "objects": self.objects,
            "owners": self.owners,
            "events": [event["id"] for event in self.events],
            "idempotent": [
                [*key, saved.fingerprint, saved.status, saved.body] for key, saved in self.idempotent.items()
            ],
            "endpoints": [
                {
                    "url": e.url,
                    "secret": e.secret,
                    "connect": e.connect,
                    "events": list(e.enabled_events),
                    "id": e.id,
                }
                for e in self.endpoints
                if e.connect is not None  # those given on the command line are given again
            ],
            "onboarding_links": self.onboarding_links,
            "failing_refund_charges": sorted(self.failing_refund_charges),
        }

    def restore(self, data: dict[str, Any]) -> None:
        if data.get("version") != 1:
            raise ValueError("unknown state file version")
        self.clock_offset = float(data["clock_offset"])
        self.objects = data["objects"]
        self.owners = data["owners"]
        self.events = [self.objects[event_id] for event_id in data["events"]]
        self.idempotent = {
            (api_key, account, key): SavedResponse(fp, status, body)
            for api_key, account, key, fp, status, body in data["idempotent"]
        }
        self.endpoints.extend(
            Endpoint(
                url=e["url"],
                secret=e["secret"],
                connect=e["connect"],
                enabled_events=tuple(e["events"]),
                id=e["id"],
            )
            for e in data["endpoints"]
        )
        self.onboarding_links = data["onboarding_links"]
        self.failing_refund_charges = set(data["failing_refund_charges"])

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        self.scheduled.append(Scheduled(time.monotonic() + delay, action))

    def run_due(self) -> None:
        with self.lock:
            now = time.monotonic()
            due = [item for item in self.scheduled if item.due <= now]
            self.scheduled = [item for item in self.scheduled if item.due > now]
            for item in due:
                item.action()


def _without_private(obj: Any) -> Any:
    """Drop the server's own bookkeeping keys (leading underscore): they never go on the wire."""
    if isinstance(obj, dict):
        return {key: _without_private(value) for key, value in obj.items() if not key.startswith("_")}
    if isinstance(obj, list):
        return [_without_private(item) for item in obj]
    return obj


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    return json.dumps([method, path, params], sort_keys=True)
