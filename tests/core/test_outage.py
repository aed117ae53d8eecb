"""A database outage: translated 503 pages saying nothing was booked, and /healthz naming the dependency.

The outage is real: a separate process is pointed at a PostgreSQL port where nothing listens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from tests.booking.conftest import booking_post, portal_world  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.test import Client

client = Client(raise_request_exception=False)
out = {}
r = client.get("/healthz")
out["healthz"] = [r.status_code, r["Content-Type"], json.loads(r.content)]
r = client.get("/visit/acme/some-invitation-token/", HTTP_ACCEPT_LANGUAGE="fr")
out["visit_fr"] = [r.status_code, r.get("Retry-After"), r.content.decode()]
r = client.post("/visit/acme/some-invitation-token/", {"date": "2026-12-01"}, HTTP_ACCEPT_LANGUAGE="nl")
out["book_nl"] = [r.status_code, r.content.decode()]
client.cookies["sessionid"] = "x" * 32  # a signed-in user: the session is read in middleware
r = client.get("/office/", HTTP_ACCEPT_LANGUAGE="en")
out["office"] = [r.status_code, r.content.decode()]
print("PROBE" + json.dumps(out))
"""


def _probe_with_database_down() -> dict:  # type: ignore[type-arg]
    env = {
        **os.environ,
        "DEBUG": "false",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/parkgate_web",  # nothing listens on port 1
        "DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
        "CACHE_BACKEND": "redis",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "CACHE_KEY_PREFIX": "parkgate-web-test-outage",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("PROBE")), None)
    assert line is not None, result.stdout + result.stderr
    return json.loads(line[len("PROBE") :])


@pytest.fixture(scope="module")
def outage() -> dict:  # type: ignore[type-arg]
    return _probe_with_database_down()


def test_healthz_answers_503_json_naming_the_database(outage) -> None:  # type: ignore[no-untyped-def]
    status, content_type, body = outage["healthz"]
    assert (status, content_type) == (503, "application/json")
    assert body["status"] == "failing"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"].startswith("OperationalError")
    assert body["checks"]["cache"]["ok"] is True
    assert body["checks"]["tasks"]["ok"] is None  # lives in the database: not checked, not blamed


def test_a_visitor_gets_a_translated_503_saying_nothing_was_booked(outage) -> None:  # type: ignore[no-untyped-def]
    status, retry_after, html = outage["visit_fr"]
    assert (status, retry_after) == (503, "30")
    assert '<html lang="fr">' in html
    assert "Temporairement indisponible" in html
    assert "Rien n’a été réservé ni modifié." in html  # noqa: RUF001
    assert "Server Error" not in html
    status, html = outage["book_nl"]
    assert status == 503
    assert "Er is niets geboekt of gewijzigd." in html


def test_a_signed_in_page_fails_in_middleware_and_still_gets_the_503_page(outage) -> None:  # type: ignore[no-untyped-def]
    status, html = outage["office"]
    assert status == 503
    assert "Nothing was booked or changed." in html


@pytest.mark.django_db
@pytest.mark.mqtt
def test_healthz_is_200_when_every_dependency_answers(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
        "tasks": True,
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_names_a_cache_and_a_broker_that_do_not_answer(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.MQTT_URL = "mqtt://127.0.0.1:1"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache", "broker"]
    assert body["checks"]["cache"]["error"].startswith("ConnectionError")
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_names_a_task_queue_whose_worker_stopped(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    from parkgate.core.mail import email_send_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # not what this test is about: named, but not alone
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        email_send_task.enqueue("1")
        email_send_task.enqueue("2")
    with time_machine.travel(start + timedelta(seconds=299), tick=False):
        body = client.get("/healthz").json()
        assert body["checks"]["tasks"] == {
            "ok": True,
            "backend": "database",
            "pending": 2,
            "oldest_pending_seconds": 299.0,
        }
        assert body["failing"] == ["broker"]
    with time_machine.travel(start + timedelta(seconds=600), tick=False):
        body = client.get("/healthz").json()
    assert body["failing"] == ["broker", "tasks"]
    assert body["checks"]["tasks"]["oldest_pending_seconds"] == 600.0
    assert "is the worker running?" in body["checks"]["tasks"]["error"]


@pytest.mark.django_db
def test_healthz_answers_plain_http_probes_when_https_is_enforced(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_SSL_REDIRECT = True
    settings.MQTT_URL = "mqtt://127.0.0.1:1"
    assert client.get("/healthz").status_code == 503  # answered (the broker is named), not redirected
    assert client.get("/accounts/login/").status_code == 301


@pytest.mark.django_db
def test_a_failure_after_the_booking_committed_does_not_claim_nothing_was_booked(
    portal_world,  # noqa: F811 - the fixture imported above
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    """The connection drops after the booking's transaction, while the answer is being written."""
    from django.db import OperationalError
    from django.http import HttpResponse

    from parkgate.booking.models import Booking

    def lost(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(HttpResponse, "set_signed_cookie", lost)
    client = Client(raise_request_exception=False)
    response = client.post(portal_world.url, booking_post(portal_world))
    assert response.status_code == 503
    html = response.content.decode()
    assert "Your request was saved just before the interruption" in html
    assert "Nothing was booked" not in html
    assert Booking.objects.count() == 1


def test_a_broken_session_store_does_not_stop_a_visitor_booking(
    portal_world,  # noqa: F811 - the fixture imported above
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    """A visitor's booking writes no session row (its references live in a signed cookie)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError

    from parkgate.booking.models import Booking

    def lost(self, must_create=False):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "save", lost)
    response = Client(raise_request_exception=False).post(portal_world.url, booking_post(portal_world))
    assert response.status_code == 302
    assert Booking.objects.count() == 1
