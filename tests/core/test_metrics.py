"""Prometheus metrics: who may read them, and exact figures for what happened."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from parkgate.access.models import AccessEvent, AccessMethod, Camera, GateResult
from parkgate.core.models import OutboundEmail, OutboundEmailStatus
from tests.access import anpr_samples as s
from tests.booking.conftest import booking_post, portal_world  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-0123456789abcdef"
KEY = "camera-key-0123456789-abcdefghijklmnop"


def _metrics(client: Client, **headers: str):  # type: ignore[no-untyped-def]
    return client.get("/metrics", **headers)


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_are_off_without_a_token_or_an_allow_list(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert _metrics(client).status_code == 404


def test_a_bearer_token_is_needed(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert _metrics(client).status_code == 401
    assert _metrics(client, HTTP_AUTHORIZATION="Bearer wrong-token-0123456789abcdef").status_code == 401
    assert _metrics(client, HTTP_AUTHORIZATION=TOKEN).status_code == 401  # not a bearer header
    response = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


def test_an_allowed_address_is_the_client_behind_the_proxy_not_a_spoofed_header(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["10.9.0.0/16"]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert _metrics(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.1.2").status_code == 200
    assert _metrics(client, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 401
    # The attack: an outside peer claims to be the monitoring host.
    assert _metrics(client, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.9.1.2").status_code == 401


def _event(world, result: str, duration_ms: int | None) -> None:  # type: ignore[no-untyped-def]
    AccessEvent.objects.create(
        lot=world.lot,
        gate=world.entry,
        method=AccessMethod.REMOTE_CONTROL,
        granted=True,
        reason="reservation",
        result=result,
        command_id=uuid.uuid4() if result != GateResult.NOT_ATTEMPTED else None,
        duration_ms=duration_ms,
        requested_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
    )


def test_figures_are_exact(client, world, portal_world, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.METRICS_TOKEN = TOKEN
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    # Two bookings made.
    client.post(portal_world.url, booking_post(portal_world))
    client.post(portal_world.url, booking_post(portal_world, **{"v0-email": "other@example.com"}))
    # Gate commands: three opened (40 ms, 300 ms, 2.5 s), one timed out (3 s), one never sent.
    for result, ms in [("opened", 40), ("opened", 300), ("opened", 2500), ("timed_out", 3000)]:
        _event(world, result, ms)
    _event(world, GateResult.NOT_ATTEMPTED, None)
    # ANPR: a read decided, the same car again (repeat), a malformed read (rejected).
    camera = Camera.objects.create(gate=world.entry, name="Cam", public_id="cam-metrics", secret_key=KEY)
    url = reverse("access:anpr_read", args=[camera.public_id])
    body = json.dumps(s.plate_recognizer("9zzz999", 0.95))
    for payload in (body, body, "{not json"):
        client.post(url, data=payload, content_type="application/json", HTTP_X_PARKGATE_KEY=KEY)
    # Webhooks: a forged delivery.
    client.post(
        "/payments/webhook/", data=b"{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x"
    )
    # E-mails: everything sent so far, plus one queued 10 minutes before the scrape.
    OutboundEmail.objects.update(status=OutboundEmailStatus.SENT)
    with time_machine.travel(now - timedelta(minutes=10), tick=False):
        OutboundEmail.objects.create(
            kind="test",
            to=["a@example.com"],
            from_email="x@example.com",
            subject="s",
            body_text="b",
            language="en",
        )
    with time_machine.travel(now, tick=False):
        response = _metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    m = _samples(response.content.decode())
    assert m['parkgate_bookings_total{status="confirmed"}'] == 2
    assert m['parkgate_bookings_total{status="cancelled"}'] == 0
    assert m['parkgate_gate_command_seconds_bucket{le="0.05",result="opened"}'] == 1
    assert m['parkgate_gate_command_seconds_bucket{le="0.5",result="opened"}'] == 2
    assert m['parkgate_gate_command_seconds_bucket{le="3",result="opened"}'] == 3
    assert m['parkgate_gate_command_seconds_bucket{le="+Inf",result="opened"}'] == 3
    assert m['parkgate_gate_command_seconds_count{result="opened"}'] == 3
    assert m['parkgate_gate_command_seconds_sum{result="opened"}'] == 2.84
    assert m['parkgate_gate_command_seconds_bucket{le="2",result="timed_out"}'] == 0
    assert m['parkgate_gate_command_seconds_count{result="timed_out"}'] == 1
    assert not any('result="not_attempted"' in key for key in m)
    assert m['parkgate_anpr_reads_total{outcome="decided"}'] == 1
    assert m['parkgate_anpr_reads_total{outcome="repeat"}'] == 1
    assert m['parkgate_anpr_reads_total{outcome="rejected"}'] == 1
    assert m['parkgate_webhook_events_total{outcome="bad"}'] == 1
    assert m['parkgate_webhook_events_total{outcome="handled"}'] == 0
    assert m["parkgate_emails_pending"] == 1
    assert m["parkgate_emails_oldest_pending_seconds"] == 600
    assert m['parkgate_booking_refused_total{reason="rate_limited"}'] == 0


def test_refused_bookings_are_counted_by_reason(client, portal_world, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from parkgate.booking import views

    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr(views, "SUBMIT_RATE_PER_ADDRESS", "1/h")
    assert client.post(portal_world.url, booking_post(portal_world)).status_code == 302
    assert client.post(portal_world.url, booking_post(portal_world)).status_code == 429
    m = _samples(_metrics(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())
    assert m['parkgate_booking_refused_total{reason="rate_limited"}'] == 1
    assert m['parkgate_booking_refused_total{reason="full"}'] == 0
    assert m['parkgate_bookings_total{status="confirmed"}'] == 1


def test_signing_in_does_not_open_the_metrics(world, settings) -> None:  # type: ignore[no-untyped-def]
    """Figures of every organisation: only the operator's scraper reads them, never a tenant's session."""
    from tests.factories import PASSWORD

    settings.METRICS_TOKEN = TOKEN
    for user in (world.admin, world.outsider_admin, world.owner):
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        response = _metrics(client)
        assert response.status_code == 401
        assert b"parkgate_" not in response.content
