"""Test server: webhook signatures, retries with backoff, endpoint routing, and the events API."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer, sign
from tests.payments.conftest import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    control,
    onboarded_account,
    running_receiver,
    wait_for,
)


def test_signature_matches_stripes_scheme() -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    header = sign(payload, "whsec_abc", 1700000000)
    expected = hmac.new(b"whsec_abc", b"1700000000." + payload, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_deliveries_verify_with_the_sdk_and_fail_with_another_secret(
    sdk: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    onboarded_account(sdk)
    wait_for(lambda: receiver.deliveries, what="a delivery")
    delivery = receiver.deliveries[0]
    assert delivery.headers["Content-Type"] == "application/json; charset=utf-8"
    event = stripe.Webhook.construct_event(
        delivery.body.decode(), delivery.headers["Stripe-Signature"], WEBHOOK_SECRET, tolerance=300
    )
    assert event.object == "event"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body.decode(), delivery.headers["Stripe-Signature"], "whsec_wrong", tolerance=300
        )
    tampered = delivery.body.decode().replace('"livemode": false', '"livemode": true')
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            tampered, delivery.headers["Stripe-Signature"], WEBHOOK_SECRET, tolerance=300
        )
    timestamp = int(delivery.headers["Stripe-Signature"].split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 60


def test_non_2xx_is_retried_until_accepted(
    sdk: stripe.StripeClient, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    receiver.statuses = [500, 400]
    account = onboarded_account(sdk)
    wait_for(lambda: len(receiver.deliveries) >= 3, what="three attempts")
    wait_for(server.settled, what="server settled")
    ids = [d.event["id"] for d in receiver.deliveries]
    assert len(ids) == 3
    assert len(set(ids)) == 1
    attempts = control(server, "deliveries")["data"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 400), (3, 200)]
    event = sdk.v1.events.retrieve(ids[0], options={"stripe_account": account.id})
    assert event.pending_webhooks == 0


def test_delivery_gives_up_after_the_last_attempt(
    sdk: stripe.StripeClient, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    receiver.statuses = [503] * 10
    account = onboarded_account(sdk)
    wait_for(lambda: len(receiver.deliveries) >= 3, what="three attempts")
    wait_for(server.settled, what="server settled")
    assert len(receiver.deliveries) == 3  # webhook_max_attempts
    event = sdk.v1.events.retrieve(receiver.deliveries[0].event["id"], options={"stripe_account": account.id})
    assert event.pending_webhooks == 1


def test_endpoints_created_through_the_api_split_platform_and_connect_events(
    sdk: stripe.StripeClient, server: StripeTestServer
) -> None:
    with running_receiver() as platform, running_receiver() as connect:
        platform_endpoint = sdk.v1.webhook_endpoints.create(
            params={"url": platform.url, "enabled_events": ["application_fee.created", "account.updated"]}
        )
        connect_endpoint = sdk.v1.webhook_endpoints.create(
            params={"url": connect.url, "enabled_events": ["*"], "connect": True}
        )
        assert platform_endpoint.secret is not None
        assert platform_endpoint.secret.startswith("whsec_")
        assert platform_endpoint.secret != connect_endpoint.secret
        account = onboarded_account(sdk)
        wait_for(server.settled, what="server settled")
        connect_events = connect.events()
        assert [e["type"] for e in connect_events] == ["account.updated"]
        assert connect_events[0]["account"] == account.id
        assert platform.events() == []  # account.updated of a connected account is a Connect event
        raw = connect.deliveries[0]
        stripe.Webhook.construct_event(
            raw.body.decode(), raw.headers["Stripe-Signature"], str(connect_endpoint.secret), tolerance=300
        )
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(
                raw.body.decode(),
                raw.headers["Stripe-Signature"],
                str(platform_endpoint.secret),
                tolerance=300,
            )


def test_webhook_endpoint_validation(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.webhook_endpoints.create(params={"url": "ftp://x", "enabled_events": ["*"]})
    assert error.value.param == "url"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.webhook_endpoints.create(params={"url": "http://x.test/hook"})  # type: ignore[typeddict-item]
    assert (error.value.param, error.value.code) == ("enabled_events", "parameter_missing")


def test_events_api_lists_newest_first_per_account(
    sdk: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    first = onboarded_account(sdk)
    second = onboarded_account(sdk)
    listed = sdk.v1.events.list(params={"limit": 10}, options={"stripe_account": first.id})
    assert [(e.type, e.account) for e in listed.data] == [("account.updated", first.id)]
    assert sdk.v1.events.list(options={"stripe_account": second.id}).data[0].account == second.id
    assert sdk.v1.events.list(params={"type": "checkout.*"}, options={"stripe_account": first.id}).data == []
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.events.retrieve(listed.data[0].id, options={"stripe_account": second.id})
    assert error.value.code == "resource_missing"


def test_held_deliveries_can_be_released_in_reverse_order(
    sdk: stripe.StripeClient, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    account = onboarded_account(sdk)
    wait_for(server.settled, what="server settled")
    receiver.deliveries.clear()
    control(server, "webhooks", {"action": "pause"})
    sdk.v1.accounts.update(account.id, params={"metadata": {"step": "1"}})
    sdk.v1.accounts.update(account.id, params={"metadata": {"step": "2"}})
    assert control(server, "settled") == {"settled": False}
    assert receiver.deliveries == []
    control(server, "webhooks", {"action": "resume", "order": "reverse"})
    wait_for(server.settled, what="server settled")
    assert [e["data"]["object"]["metadata"]["step"] for e in receiver.events("account.updated")] == ["2", "1"]


def test_an_event_can_be_replayed(
    sdk: stripe.StripeClient, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    onboarded_account(sdk)
    [event] = receiver.wait_event("account.updated")
    control(server, "replay", {"event": event["id"], "times": 10})
    wait_for(lambda: len(receiver.events("account.updated")) == 11, what="ten replays")
    assert {e["id"] for e in receiver.events("account.updated")} == {event["id"]}
