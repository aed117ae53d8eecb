"""Events and webhook endpoints."""

from __future__ import annotations

import re
import secrets
from typing import Any

from .. import params as p
from ..data import API_VERSION
from ..errors import NotFound, ParamError
from ..state import Endpoint
from .common import (
    Call,
    platform_only,
)

# --- Events and webhook endpoints -------------------------------------------------------------

EVENT_LIST = p.request(
    {
        "limit": p.Int(minimum=1, maximum=100),
        "type": p.Str(),
        "types": p.Arr(p.Str()),
        "starting_after": p.Str(),
        "created": p.Obj({"gt": p.Int(), "gte": p.Int(), "lt": p.Int(), "lte": p.Int()}),
        "delivery_success": p.Bool(),
    }
)


def event_list(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.params
    events = [e for e in reversed(call.store.events) if call.store.owner_of(e["id"]) == call.account]
    if "type" in params:
        pattern = re.compile("^" + re.escape(params["type"]).replace(r"\*", ".*") + "$")
        events = [e for e in events if pattern.match(e["type"])]
    if "types" in params:
        events = [e for e in events if e["type"] in params["types"]]
    for op, test in (("gt", int.__gt__), ("gte", int.__ge__), ("lt", int.__lt__), ("lte", int.__le__)):
        if op in params.get("created", {}):
            events = [e for e in events if test(e["created"], params["created"][op])]
    if "starting_after" in params:
        ids = [e["id"] for e in events]
        if params["starting_after"] not in ids:
            raise NotFound("event", params["starting_after"], param="starting_after")
        events = events[ids.index(params["starting_after"]) + 1 :]
    limit = params.get("limit", 10)
    return 200, {
        "object": "list",
        "data": [call.store.render(e) for e in events[:limit]],
        "has_more": len(events) > limit,
        "url": "/v1/events",
    }


def event_retrieve(call: Call, event_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(call.store.get(event_id, call.account, kind="event"))


WEBHOOK_ENDPOINT_CREATE = p.request(
    {
        "url": p.Url(),
        "enabled_events": p.Arr(p.Str(allow_empty=False)),
        "connect": p.Bool(),
        "description": p.Str(),
        "metadata": p.Metadata(),
        "api_version": p.Str(),
    },
    required=("url", "enabled_events"),
)


def webhook_endpoint_create(call: Call) -> tuple[int, dict[str, Any]]:
    platform_only(call, "Webhook endpoints")
    params = call.params
    if not params["enabled_events"]:
        raise ParamError(
            "Missing required param: enabled_events.", param="enabled_events", code="parameter_missing"
        )
    endpoint = Endpoint(
        url=params["url"],
        secret="whsec_" + secrets.token_urlsafe(24),
        connect=params.get("connect", False),
        enabled_events=tuple(params["enabled_events"]),
    )
    call.store.endpoints.append(endpoint)
    return 200, {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": params.get("api_version", API_VERSION),
        "application": None,
        "created": call.store.now(),
        "description": params.get("description"),
        "enabled_events": list(endpoint.enabled_events),
        "livemode": False,
        "metadata": params.get("metadata", {}),
        "secret": endpoint.secret,
        "status": "enabled",
        "url": endpoint.url,
    }


def webhook_endpoint_delete(call: Call, endpoint_id: str) -> tuple[int, dict[str, Any]]:
    platform_only(call, "Webhook endpoints")
    for endpoint in call.store.endpoints:
        if endpoint.id == endpoint_id:
            call.store.endpoints.remove(endpoint)
            return 200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
    raise NotFound("webhook_endpoint", endpoint_id)
