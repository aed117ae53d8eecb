"""The Stripe webhook endpoint: signature on the raw body, each event once, retries for the unknown."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from devtools.stripe_test_server import sign
from parkgate.core.models import AuditEvent
from parkgate.payments.models import PaymentAccount, StripeEvent
from tests import factories as f

SECRET = "whsec_webhook_view_tests"
URL = "/payments/webhook/"


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def _event(event_type: str = "account.updated", **obj: Any) -> dict[str, Any]:
    return {
        "id": "evt_1TestEvent",
        "object": "event",
        "account": "acct_1Org",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "acct_1Org",
                "object": "account",
                "charges_enabled": True,
                "details_submitted": True,
                **obj,
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def _post(
    client: Client,
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    payload = body if body is not None else json.dumps(event, indent=2).encode()
    header = sign(payload, secret, timestamp if timestamp is not None else int(time.time()))
    return client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.fixture
def account(db: None) -> PaymentAccount:
    return PaymentAccount.objects.create(organisation=f.OrganisationFactory(), stripe_account_id="acct_1Org")


def test_url() -> None:
    assert reverse("payments:stripe_webhook") == URL


def test_signed_event_is_handled_and_stored(client: Client, account: PaymentAccount) -> None:
    response = _post(client, _event())
    assert (response.status_code, response.content) == (200, b"handled")
    account.refresh_from_db()
    assert (account.charges_enabled, account.details_submitted) == (True, True)
    stored = StripeEvent.objects.get()
    assert (stored.event_id, stored.type, stored.account) == (
        "evt_1TestEvent",
        "account.updated",
        "acct_1Org",
    )
    assert stored.payload["data"]["object"]["charges_enabled"] is True
    audit = AuditEvent.objects.get(action="payments.account.updated")
    assert audit.data == {"charges_enabled": True, "details_submitted": True, "was_charges_enabled": False}


def test_an_event_delivered_ten_times_has_one_effect(client: Client, account: PaymentAccount) -> None:
    responses = [_post(client, _event()) for _ in range(10)]
    assert [r.content for r in responses] == [b"handled"] + [b"duplicate"] * 9
    assert all(r.status_code == 200 for r in responses)
    assert StripeEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="payments.account.updated").count() == 1


@pytest.mark.parametrize(
    "tamper",
    ["other_secret", "stale", "body_changed", "no_header", "not_json"],
)
def test_a_bad_delivery_is_refused_and_changes_nothing(
    client: Client, account: PaymentAccount, tamper: str
) -> None:
    event = _event()
    if tamper == "other_secret":
        response = _post(client, event, secret="whsec_someone_else")
    elif tamper == "stale":
        response = _post(client, event, timestamp=int(time.time()) - 301)
    elif tamper == "body_changed":
        payload = json.dumps(event).encode()
        header = sign(payload, SECRET, int(time.time()))
        tampered = payload.replace(b'"charges_enabled": true', b'"charges_enabled": false')
        response = client.post(
            URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
    elif tamper == "no_header":
        response = client.post(URL, data=json.dumps(event), content_type="application/json")
    else:
        response = _post(client, event, body=b"this is not json")
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    account.refresh_from_db()
    assert account.charges_enabled is False
    assert not AuditEvent.objects.filter(action="payments.account.updated").exists()


def test_unknown_reference_asks_for_a_retry_and_stores_nothing(client: Client, db: None) -> None:
    response = _post(client, _event())
    assert response.status_code == 404
    assert StripeEvent.objects.count() == 0
    # Once we know the account (our own transaction committed), the retry succeeds.
    PaymentAccount.objects.create(organisation=f.OrganisationFactory(), stripe_account_id="acct_1Org")
    assert _post(client, _event()).content == b"handled"
    assert PaymentAccount.objects.get().charges_enabled is True


def test_event_types_we_do_not_act_on_are_stored_and_acknowledged(client: Client, db: None) -> None:
    response = _post(client, _event("customer.created"))
    assert (response.status_code, response.content) == (200, b"ignored")
    assert StripeEvent.objects.get().type == "customer.created"


def test_only_post(client: Client, db: None) -> None:
    assert client.get(URL).status_code == 405


def test_the_platforms_own_account_updates_are_acknowledged(client: Client, db: None) -> None:
    event = _event()
    del event["account"]
    assert _post(client, event).status_code == 200
    assert StripeEvent.objects.get().account == ""
