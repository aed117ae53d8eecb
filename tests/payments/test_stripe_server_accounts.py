"""Test server: authentication, connected accounts, account links and the hosted onboarding."""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer
from tests.payments.conftest import API_KEY, WEBHOOK_SECRET, WebhookReceiver, http, onboarded_account


def test_missing_or_wrong_key_is_refused(server: StripeTestServer) -> None:
    with pytest.raises(stripe.AuthenticationError) as error:
        stripe.StripeClient("sk_test_not_the_key", base_addresses={"api": server.url}).v1.accounts.create()
    assert error.value.http_status == 401
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_live_whatever", base_addresses={"api": server.url}).v1.accounts.create()
    assert not [o for o in server.store.objects.values() if o["object"] == "account"]


def test_create_account_is_not_charge_enabled(sdk: stripe.StripeClient) -> None:
    account = sdk.v1.accounts.create(
        params={
            "type": "standard",
            "country": "BE",
            "email": "owner@example.be",
            "business_profile": {"name": "Brussels Parking"},
            "metadata": {"organisation": "7"},
        }
    )
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert account.charges_enabled is False
    assert account.payouts_enabled is False
    assert account.details_submitted is False
    assert account.country == "BE"
    assert account.default_currency == "eur"
    assert account.email == "owner@example.be"
    assert account.business_profile.name == "Brussels Parking"
    assert account.metadata.to_dict() == {"organisation": "7"}
    assert sdk.v1.accounts.retrieve(account.id).id == account.id


def test_account_validation(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.accounts.create(params={"type": "platinum"})
    assert error.value.param == "type"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.accounts.create(params={"email": "not-an-address"})
    assert error.value.param == "email"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.accounts.create(params={"colour": "blue"})  # type: ignore[typeddict-unknown-key]
    assert (error.value.param, error.value.code) == ("colour", "parameter_unknown")
    assert error.value.user_message == "Received unknown parameter: colour"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.accounts.create(params={"metadata": {"k" * 41: "v"}})
    assert error.value.param == f"metadata[{'k' * 41}]"


def test_unknown_account_is_404_with_stripe_shape(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.accounts.retrieve("acct_nope")
    assert error.value.http_status == 404
    assert error.value.code == "resource_missing"
    assert error.value.param == "id"
    assert error.value.json_body == {
        "error": {
            "type": "invalid_request_error",
            "message": "No such account: 'acct_nope'",
            "param": "id",
            "code": "resource_missing",
        }
    }


def test_stripe_account_header_must_name_a_connected_account(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.PermissionError) as error:
        sdk.v1.tax_rates.create(
            params={"display_name": "VAT", "inclusive": True, "percentage": "21"},
            options={"stripe_account": "acct_unknown"},
        )
    assert error.value.http_status == 403


def test_account_link_requires_its_parameters(sdk: stripe.StripeClient) -> None:
    account = sdk.v1.accounts.create(params={"type": "standard"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.account_links.create(
            params={"account": account.id, "type": "account_onboarding", "return_url": "http://x.test/r"}
        )  # type: ignore[typeddict-item]
    assert (error.value.param, error.value.code) == ("refresh_url", "parameter_missing")
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.account_links.create(
            params={
                "account": "acct_missing",
                "type": "account_onboarding",
                "refresh_url": "http://x.test/f",
                "return_url": "http://x.test/r",
            }
        )
    assert (error.value.param, error.value.code) == ("account", "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.account_links.create(
            params={
                "account": account.id,
                "type": "account_onboarding",
                "refresh_url": "not a url",
                "return_url": "http://x.test/r",
            }
        )
    assert error.value.param == "refresh_url"


def test_onboarding_enables_charges_and_emits_signed_account_updated(
    sdk: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    account = sdk.v1.accounts.create(params={"type": "standard", "country": "BE"})
    link = sdk.v1.account_links.create(
        params={
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "http://parkgate.test/refresh",
            "return_url": "http://parkgate.test/return",
        }
    )
    assert link.object == "account_link"
    assert link.expires_at == link.created + 300
    status, _location, page = http(link.url)
    assert status == 200
    assert "Complete onboarding" in page
    assert account.id in page
    assert sdk.v1.accounts.retrieve(account.id).charges_enabled is False

    assert http(link.url, {"action": "complete"})[:2] == (303, "http://parkgate.test/return")

    assert sdk.v1.accounts.retrieve(account.id).charges_enabled is True
    [delivery] = [d for d in receiver.wait_event("account.updated") if d["account"] == account.id]
    raw = next(d for d in receiver.deliveries if d.event["id"] == delivery["id"])
    event = stripe.Webhook.construct_event(
        raw.body.decode(), raw.headers["Stripe-Signature"], WEBHOOK_SECRET, tolerance=300
    )
    assert event.type == "account.updated"
    assert event.account == account.id
    assert event.data.object.charges_enabled is True
    assert event.data.previous_attributes.charges_enabled is False
    # The link is single-use: visiting it again sends the owner to refresh_url for a new one.
    assert http(link.url)[:2] == (303, "http://parkgate.test/refresh")


def test_onboarded_helper_account(sdk: stripe.StripeClient) -> None:
    account = onboarded_account(sdk)
    assert account.charges_enabled is True
    assert account.capabilities.to_dict() == {"card_payments": "active", "transfers": "active"}
    assert account.requirements.currently_due == []


def test_unknown_route_is_stripe_shaped(server: StripeTestServer) -> None:
    sdk = stripe.StripeClient(API_KEY, base_addresses={"api": server.url})
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.raw_request("get", "/v1/subscriptions")
    assert error.value.user_message is not None
    assert error.value.user_message.startswith("Unrecognized request URL (GET: /v1/subscriptions).")
