"""The HTTPS endpoints a site agent calls (its token in ``Authorization: Bearer``).

* ``POST /sites/api/v1/pair`` ``{"code": "ABCD-EFGH-JKLM"}``: the one-time code for the agent's
  token and the server's public key (rate limited per client address).
* ``POST /sites/api/v1/sync`` ``{"version": 7, "built_at": "...", "waiting": 0, "wait": 20}``:
  long polling. Answers at once with ``{"snapshot": <signed envelope>}`` when the agent's lot
  changed (or its snapshot is due a refresh); otherwise checks the lot's change log every
  ``_POLL_SECONDS`` (one small query) and answers
  ``{"snapshot": null}`` after ``wait`` seconds (at most ``SITE_SYNC_WAIT_SECONDS``).
* ``POST /sites/api/v1/events`` ``{"events": [{"seq": 1, ...}, ...]}``: idempotent upload; answers
  each event in the order sent: ``{"results": [{"seq": 1, "status": "accepted"}, {"seq": 2,
  "status": "duplicate"}, {"seq": 3, "status": "rejected", "reason": "unknown reason 'x'"}]}``.
  A rejected event never holds up the others (400 only for a call that is not a batch at all).
* ``POST /sites/api/v1/report`` ``{"kind": "snapshot_refused", "detail": "..."}``.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from parkgate.access.anpr import load_json
from parkgate.core.ratelimit import rate_hit
from parkgate.sites.models import SiteAgent
from parkgate.sites.services import (
    PairingError,
    UploadError,
    agent_for_token,
    site_agent_pair,
    site_agent_problem,
    site_agent_seen,
    site_events_upload,
)
from parkgate.sites.signing import key_id
from parkgate.sites.snapshot import snapshot_if_newer

_POLL_SECONDS = 0.5
_CHECKS_PER_TOKEN_CHECK = 10
MAX_BODY_BYTES = 2 * 1024 * 1024


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _body(request: HttpRequest) -> dict[str, Any]:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        raise ValueError("body too large")
    try:
        body = load_json(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("invalid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body


def _agent(request: HttpRequest) -> SiteAgent | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return agent_for_token(token.strip()) if scheme.lower() == "bearer" else None


@csrf_exempt
@require_POST
def pair(request: HttpRequest) -> JsonResponse:
    if rate_hit(request, scope="sites.pair", rate="10/h"):
        return _error(429, "too many pairing attempts; try again later")
    try:
        body = _body(request)
    except ValueError as error:
        return _error(400, str(error))
    try:
        pairing = site_agent_pair(code=str(body.get("code") or ""))
    except PairingError as error:
        return _error(400, str(error))
    return JsonResponse(
        {
            "agent_id": pairing.agent.pk,
            "lot_id": pairing.agent.lot_id,
            "name": pairing.agent.name,
            "token": pairing.token,
            "server_public_key": pairing.server_public_key,
            "key_id": key_id(pairing.server_public_key),
            # A re-paired (reinstalled) box numbers its events after the ones the server holds.
            "uploaded_through": pairing.agent.uploaded_through,
        }
    )


@csrf_exempt
@require_POST
def sync(request: HttpRequest) -> JsonResponse:
    agent = _agent(request)
    if agent is None:
        return _error(401, "unknown agent or wrong token")
    try:
        body = _body(request)
    except ValueError as error:
        return _error(400, str(error))
    have = body.get("version")
    have_version = have if isinstance(have, int) and not isinstance(have, bool) else 0
    wait = body.get("wait", settings.SITE_SYNC_WAIT_SECONDS)
    wait_seconds = min(float(wait), settings.SITE_SYNC_WAIT_SECONDS) if isinstance(wait, int | float) else 0.0
    site_agent_seen(agent=agent, status=body)
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    checks = 0
    while True:
        envelope = snapshot_if_newer(agent, have_version=have_version, now=timezone.now())
        if envelope is not None:
            return JsonResponse({"snapshot": envelope})
        if time.monotonic() >= deadline:
            return JsonResponse({"snapshot": None})
        time.sleep(_POLL_SECONDS)
        close_old_connections()
        checks += 1
        # Each check is one small query on the lot's change log; every 5 s the agent's row is read
        # again too, so a revoked token ends a waiting call within 5 s.
        if checks % _CHECKS_PER_TOKEN_CHECK == 0:
            current = SiteAgent.objects.select_related("lot__owner").filter(pk=agent.pk).first()
            if current is None or not current.is_active or current.token_hash != agent.token_hash:
                return _error(401, "unknown agent or wrong token")
            agent = current


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> JsonResponse:
    agent = _agent(request)
    if agent is None:
        return _error(401, "unknown agent or wrong token")
    try:
        body = _body(request)
        batch = body.get("events")
        if not isinstance(batch, list):
            raise UploadError('send {"events": [...]}')
        results = site_events_upload(agent=agent, events=batch)
    except (ValueError, UploadError) as error:
        return _error(400, str(error))
    return JsonResponse({"results": [r.as_json() for r in results]})


@csrf_exempt
@require_POST
def report(request: HttpRequest) -> JsonResponse:
    agent = _agent(request)
    if agent is None:
        return _error(401, "unknown agent or wrong token")
    try:
        body = _body(request)
    except ValueError as error:
        return _error(400, str(error))
    site_agent_problem(
        agent=agent, kind=str(body.get("kind") or "problem"), detail=str(body.get("detail") or "")
    )
    return JsonResponse({"ok": True})
