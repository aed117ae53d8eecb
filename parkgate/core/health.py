"""What /healthz reports: each dependency checked for real, and the one that fails named.

``{"status": "ok" | "failing", "failing": [...], "checks": {"database": ..., "cache": ...,
"broker": ..., "tasks": {...}}}``, 200 when everything answers and 503 otherwise. Each check is
bounded in time (database connect timeout, cache socket timeout, broker connect timeout), so a
load balancer polling it gets an answer even when a dependency hangs.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone

from parkgate.core.taskqueue import queue_is_database

BROKER_TIMEOUT_SECONDS = 2.0


def _error(error: BaseException) -> dict[str, Any]:
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return {"ok": False, "error": f"{type(error).__name__}: {message}"[:300]}


def check_database() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return _error(error)
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_cache() -> dict[str, Any]:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, 1, 10)
        value = cache.get(key)
        cache.delete(key)
    except Exception as error:
        return _error(error)
    if value != 1:
        return {"ok": False, "error": "a value written to the cache could not be read back"}
    return {"ok": True, "backend": type(caches["default"]).__name__}


def check_broker(timeout: float = BROKER_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Connect to the MQTT broker as a client would (CONNECT, CONNACK), then leave."""
    parts = urlsplit(settings.MQTT_URL)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"parkgate-healthz-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5,
    )
    client.connect_timeout = timeout
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    if parts.scheme == "mqtts":
        client.tls_set()
    answered = threading.Event()
    outcome: dict[str, Any] = {}

    def on_connect(_client: Any, _userdata: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        outcome["reason"] = str(reason_code)
        outcome["ok"] = not reason_code.is_failure
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=10)
        client.loop_start()
        try:
            if not answered.wait(timeout):
                return {"ok": False, "error": f"no answer from {host}:{port} within {timeout:g} s"}
        finally:
            client.disconnect()
            client.loop_stop()
    except Exception as error:
        return _error(error)
    if not outcome.get("ok"):
        return {"ok": False, "error": f"the broker refused the connection: {outcome.get('reason')}"}
    return {"ok": True}


def check_tasks(*, now: Any = None) -> dict[str, Any]:
    """The task queue: how long the oldest task ready to run has waited (the worker is keeping up?)."""
    if not queue_is_database():
        backend = settings.TASKS["default"]["BACKEND"]
        return {"ok": True, "backend": backend.rsplit(".", 1)[-1], "pending": 0, "oldest_pending_seconds": 0}
    from django_tasks_db.models import DBTaskResult

    try:
        ready = DBTaskResult.objects.ready()
        pending = ready.count()
        oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    except Exception as error:
        return _error(error)
    age = 0.0 if oldest is None else max(0.0, ((now or timezone.now()) - oldest).total_seconds())
    limit = settings.HEALTHZ_TASK_MAX_AGE_SECONDS
    result: dict[str, Any] = {
        "ok": age <= limit,
        "backend": "database",
        "pending": pending,
        "oldest_pending_seconds": round(age, 1),
    }
    if age > limit:
        result["error"] = (
            f"the oldest pending task has waited {age:.0f} s (more than {limit} s): is the worker running?"
        )
    return result


def health_report() -> tuple[bool, dict[str, Any]]:
    checks = {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
    }
    if checks["database"]["ok"]:
        checks["tasks"] = check_tasks()
    else:
        checks["tasks"] = {"ok": None, "error": "not checked: the task queue lives in the database"}
    failing = [name for name, result in checks.items() if result["ok"] is False]
    body = {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}
    return not failing, body
