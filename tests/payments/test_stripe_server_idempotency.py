"""Test server: idempotent replays, mismatches, and retries after failures never doing things twice."""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer
from tests.payments.conftest import API_KEY, control, http, onboarded_account, session_params


def test_same_key_same_parameters_replays_the_first_response(sdk: stripe.StripeClient) -> None:
    account = onboarded_account(sdk)
    options: stripe.RequestOptions = {"stripe_account": account.id, "idempotency_key": "checkout-42"}
    params = session_params()
    first = sdk.v1.checkout.sessions.create(params=params, options=options)
    second = sdk.v1.checkout.sessions.create(params=params, options=options)
    assert second.id == first.id
    assert second.to_dict() == first.to_dict()
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in (first.last_response.headers if first.last_response else {})


def test_same_key_different_parameters_is_an_idempotency_error(sdk: stripe.StripeClient) -> None:
    account = onboarded_account(sdk)
    options: stripe.RequestOptions = {"stripe_account": account.id, "idempotency_key": "checkout-42"}
    sdk.v1.checkout.sessions.create(params=session_params(), options=options)
    with pytest.raises(stripe.IdempotencyError) as error:
        sdk.v1.checkout.sessions.create(
            params=session_params(client_reference_id="payment-43"), options=options
        )
    assert error.value.http_status == 400
    assert error.value.user_message is not None
    assert "checkout-42" in error.value.user_message
    # The same key on another endpoint is a mismatch too.
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.tax_rates.create(
            params={"display_name": "VAT", "inclusive": True, "percentage": "21"}, options=options
        )


def test_keys_are_scoped_to_the_account(sdk: stripe.StripeClient) -> None:
    first, second = onboarded_account(sdk), onboarded_account(sdk)
    params = session_params()
    one = sdk.v1.checkout.sessions.create(
        params=params, options={"stripe_account": first.id, "idempotency_key": "checkout-1"}
    )
    two = sdk.v1.checkout.sessions.create(
        params=params, options={"stripe_account": second.id, "idempotency_key": "checkout-1"}
    )
    assert one.id != two.id


def test_validation_failures_are_not_saved(sdk: stripe.StripeClient) -> None:
    account = onboarded_account(sdk)
    options: stripe.RequestOptions = {"stripe_account": account.id, "idempotency_key": "checkout-7"}
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.checkout.sessions.create(params=session_params(expires_at=1), options=options)
    assert sdk.v1.checkout.sessions.create(params=session_params(), options=options).status == "open"


def _paid_intent(sdk: stripe.StripeClient) -> tuple[stripe.Account, str]:
    account = onboarded_account(sdk)
    session = sdk.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account.id})
    http(session.url, {"action": "pay"})
    paid = sdk.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account.id})
    return account, str(paid.payment_intent)


def _refunded(sdk: stripe.StripeClient, account: stripe.Account, intent: str) -> tuple[int, int]:
    """(amount refunded, number of refunds) of the payment's charge, as the API reports them."""
    charge = sdk.v1.payment_intents.retrieve(
        intent, params={"expand": ["latest_charge"]}, options={"stripe_account": account.id}
    ).latest_charge
    assert isinstance(charge, stripe.Charge)
    return charge.amount_refunded, charge.refunds.total_count or 0


def test_refund_replayed_with_its_key_refunds_once(sdk: stripe.StripeClient) -> None:
    account, intent = _paid_intent(sdk)
    options: stripe.RequestOptions = {"stripe_account": account.id, "idempotency_key": "refund-spot-5"}
    params: stripe.params.RefundCreateParams = {"payment_intent": intent, "amount": 1500}
    refunds = [sdk.v1.refunds.create(params=params, options=options) for _ in range(10)]
    assert {r.id for r in refunds} == {refunds[0].id}
    assert _refunded(sdk, account, intent) == (1500, 1)


def test_timeout_after_the_work_is_retried_by_the_sdk_and_refunds_once(server: StripeTestServer) -> None:
    sdk = stripe.StripeClient(API_KEY, base_addresses={"api": server.url}, max_network_retries=2)
    account, intent = _paid_intent(sdk)
    # The server refunds, then drops the connection before answering: the SDK sees a network error
    # and retries with the same Idempotency-Key, which replays the saved refund.
    control(server, "faults", {"method": "POST", "path": "/v1/refunds", "mode": "drop_after", "times": 1})
    refund = sdk.v1.refunds.create(
        params={"payment_intent": intent, "amount": 1500},
        options={"stripe_account": account.id, "idempotency_key": "refund-spot-9"},
    )
    assert refund.amount == 1500
    assert refund.last_response is not None
    assert refund.last_response.headers["Idempotent-Replayed"] == "true"
    assert _refunded(sdk, account, intent) == (1500, 1)


def test_server_error_before_the_work_is_retried_and_refunds_once(server: StripeTestServer) -> None:
    sdk = stripe.StripeClient(API_KEY, base_addresses={"api": server.url}, max_network_retries=2)
    account, intent = _paid_intent(sdk)
    control(server, "faults", {"method": "POST", "path": "/v1/refunds", "mode": "error_before", "times": 1})
    refund = sdk.v1.refunds.create(
        params={"payment_intent": intent, "amount": 1500},
        options={"stripe_account": account.id, "idempotency_key": "refund-spot-10"},
    )
    assert refund.amount == 1500
    assert _refunded(sdk, account, intent) == (1500, 1)


def test_without_retries_the_error_surfaces_and_nothing_is_done(server: StripeTestServer) -> None:
    sdk = stripe.StripeClient(API_KEY, base_addresses={"api": server.url}, max_network_retries=0)
    account, intent = _paid_intent(sdk)
    control(server, "faults", {"method": "POST", "path": "/v1/refunds", "mode": "error_before", "times": 1})
    with pytest.raises(stripe.APIError):
        sdk.v1.refunds.create(
            params={"payment_intent": intent, "amount": 1500},
            options={"stripe_account": account.id, "idempotency_key": "refund-spot-11"},
        )
    assert _refunded(sdk, account, intent) == (0, 0)
