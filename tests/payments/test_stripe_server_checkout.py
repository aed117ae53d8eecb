"""Test server: Checkout Sessions, their validation, the hosted checkout page and its events."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer
from tests.payments.conftest import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    control,
    http,
    onboarded_account,
    session_params,
    wait_for,
)


@pytest.fixture
def account(sdk: stripe.StripeClient) -> stripe.Account:
    return onboarded_account(sdk)


def _create(sdk: stripe.StripeClient, account: stripe.Account, **overrides: Any) -> stripe.checkout.Session:
    return sdk.v1.checkout.sessions.create(
        params=session_params(**overrides), options={"stripe_account": account.id}
    )


def _refused(
    sdk: stripe.StripeClient, account: stripe.Account, **overrides: Any
) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as error:
        _create(sdk, account, **overrides)
    return error.value


def test_session_created_with_exact_amounts_and_fields(
    sdk: stripe.StripeClient, account: stripe.Account, server: StripeTestServer
) -> None:
    params = session_params()
    session = sdk.v1.checkout.sessions.create(params=params, options={"stripe_account": account.id})
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.mode == "payment"
    assert session.currency == "eur"
    assert session.amount_total == 3000
    assert session.amount_subtotal == 3000
    assert session.total_details.amount_tax == 0
    assert session.metadata.to_dict() == {"payment": "42"}
    assert session.client_reference_id == "payment-42"
    assert session.customer_email == "visitor@example.com"
    assert session.expires_at == params["expires_at"]
    assert session.success_url == params["success_url"]
    assert session.cancel_url == "http://parkgate.test/visit/cancelled"
    assert session.payment_intent is None
    assert session.invoice_creation.enabled is False
    assert session.tax_id_collection.enabled is False
    assert session.url == f"{server.url}/pay/{session.id}"
    # Private bookkeeping never reaches the wire.
    assert not [key for key in session.to_dict() if key.startswith("_")]
    again = sdk.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account.id})
    assert again.to_dict() == session.to_dict()


def test_session_with_inclusive_vat_rates_invoice_and_tax_id(
    sdk: stripe.StripeClient, account: stripe.Account
) -> None:
    vat = sdk.v1.tax_rates.create(
        params={
            "display_name": "VAT",
            "inclusive": True,
            "percentage": "21",
            "country": "BE",
            "tax_type": "vat",
        },
        options={"stripe_account": account.id},
    )
    assert (vat.object, vat.inclusive, vat.percentage) == ("tax_rate", True, 21.0)
    line = {
        "price_data": {
            "currency": "eur",
            "unit_amount": 1210,
            "tax_behavior": "inclusive",
            "product_data": {"name": "Parking spot"},
        },
        "quantity": 3,
        "tax_rates": [vat.id],
    }
    session = _create(
        sdk,
        account,
        line_items=[line],
        invoice_creation={"enabled": True, "invoice_data": {"metadata": {"payment": "42"}}},
        tax_id_collection={"enabled": True},
        payment_intent_data={"application_fee_amount": 150, "metadata": {"payment": "42"}},
    )
    assert session.amount_total == 3630
    assert session.total_details.amount_tax == 630
    assert session.amount_subtotal == 3630  # the inclusive VAT is part of the prices
    assert session.invoice_creation.enabled is True
    assert session.invoice_creation.invoice_data.metadata.to_dict() == {"payment": "42"}
    assert session.tax_id_collection.enabled is True
    items = sdk.v1.checkout.sessions.line_items.list(session.id, options={"stripe_account": account.id})
    [item] = items.data
    assert (item.description, item.quantity, item.amount_total, item.amount_tax) == (
        "Parking spot",
        3,
        3630,
        630,
    )
    assert item.amount_subtotal == 3630
    assert item.price.unit_amount == 1210
    assert item.price.tax_behavior == "inclusive"
    assert item.taxes[0].rate.id == vat.id
    assert item.taxes[0].amount == 630


def test_exclusive_tax_is_added(sdk: stripe.StripeClient, account: stripe.Account) -> None:
    vat = sdk.v1.tax_rates.create(
        params={"display_name": "VAT", "inclusive": False, "percentage": "21"},
        options={"stripe_account": account.id},
    )
    line = {
        "price_data": {"currency": "eur", "unit_amount": 1000, "product_data": {"name": "Spot"}},
        "quantity": 1,
        "tax_rates": [vat.id],
    }
    session = _create(sdk, account, line_items=[line])
    assert (session.amount_subtotal, session.total_details.amount_tax, session.amount_total) == (
        1000,
        210,
        1210,
    )


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"mode": None}, "mode", "parameter_missing"),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"colour": "blue"}, "colour", "parameter_unknown"),
        ({"mode": "rental"}, "mode", None),
        ({"success_url": "parkgate.test/ok"}, "success_url", "url_invalid"),
        ({"customer_email": "nobody"}, "customer_email", "email_invalid"),
        ({"client_reference_id": "x" * 201}, "client_reference_id", None),
        ({"metadata": {"k": "v" * 501}}, "metadata[k]", None),
        ({"line_items": None}, "line_items", "parameter_missing"),
        ({"expires_at": "soon"}, "expires_at", "parameter_invalid_integer"),
        (
            {"invoice_creation": {"invoice_data": {"footer": "x"}}},
            "invoice_creation[enabled]",
            "parameter_missing",
        ),
        ({"tax_id_collection": {"enabled": "maybe"}}, "tax_id_collection[enabled]", None),
        (
            {"payment_intent_data": {"application_fee_amount": "1.5"}},
            "payment_intent_data[application_fee_amount]",
            "parameter_invalid_integer",
        ),
        (
            {"payment_intent_data": {"metadata": {}, "colour": "x"}},
            "payment_intent_data[colour]",
            "parameter_unknown",
        ),
    ],
)
def test_session_parameter_validation(
    sdk: stripe.StripeClient,
    account: stripe.Account,
    overrides: dict[str, Any],
    param: str,
    code: str | None,
) -> None:
    params = session_params()
    for key, value in overrides.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.checkout.sessions.create(params=params, options={"stripe_account": account.id})
    assert error.value.http_status == 400
    assert error.value.param == param
    assert error.value.code == code


def _line(**price: Any) -> dict[str, Any]:
    price_data = {"currency": "eur", "unit_amount": 1500, "product_data": {"name": "Spot"}} | price
    return {"price_data": {k: v for k, v in price_data.items() if v is not None}, "quantity": 1}


@pytest.mark.parametrize(
    ("line", "param", "code"),
    [
        (_line(currency="eurx"), "line_items[0][price_data][currency]", None),
        (_line(unit_amount="15.00"), "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
        (_line(unit_amount=-1), "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
        (_line(unit_amount=None), "line_items[0][price_data][unit_amount]", "parameter_missing"),
        (
            _line(product_data={"description": "no name"}),
            "line_items[0][price_data][product_data][name]",
            "parameter_missing",
        ),
        (_line(tax_behavior="sometimes"), "line_items[0][price_data][tax_behavior]", None),
        ({"price_data": _line()["price_data"]}, "line_items[0][quantity]", "parameter_missing"),
        (
            {"price_data": _line()["price_data"], "quantity": 0},
            "line_items[0][quantity]",
            "parameter_invalid_integer",
        ),
        ({"price": "price_123", "quantity": 1}, "line_items[0][price]", "resource_missing"),
    ],
)
def test_line_item_validation(
    sdk: stripe.StripeClient, account: stripe.Account, line: dict[str, Any], param: str, code: str | None
) -> None:
    error = _refused(sdk, account, line_items=[line], payment_intent_data={})
    assert (error.param, error.code) == (param, code)


def test_line_items_must_share_a_currency(sdk: stripe.StripeClient, account: stripe.Account) -> None:
    error = _refused(sdk, account, line_items=[_line(), _line(currency="usd")], payment_intent_data={})
    assert error.param == "line_items[1][price_data][currency]"


def test_total_must_reach_stripes_minimum_charge(sdk: stripe.StripeClient, account: stripe.Account) -> None:
    error = _refused(sdk, account, line_items=[_line(unit_amount=49)], payment_intent_data={})
    assert error.param == "line_items"
    assert error.user_message == "The Checkout Session's total amount due must add up to at least €0.50 eur"
    assert (
        _create(sdk, account, line_items=[_line(unit_amount=50)], payment_intent_data={}).amount_total == 50
    )


def test_three_decimal_currencies_need_a_final_zero(
    sdk: stripe.StripeClient, account: stripe.Account
) -> None:
    error = _refused(
        sdk, account, line_items=[_line(currency="kwd", unit_amount=1005)], payment_intent_data={}
    )
    assert error.param == "line_items[0][price_data][unit_amount]"
    session = _create(
        sdk, account, line_items=[_line(currency="kwd", unit_amount=1010)], payment_intent_data={}
    )
    assert (session.currency, session.amount_total) == ("kwd", 1010)


def test_tax_rate_must_exist_on_the_same_account_and_match_tax_behavior(
    sdk: stripe.StripeClient, account: stripe.Account
) -> None:
    platform_rate = sdk.v1.tax_rates.create(
        params={"display_name": "VAT", "inclusive": True, "percentage": "21"}
    )
    line = _line(tax_behavior="inclusive") | {"tax_rates": [platform_rate.id]}
    error = _refused(sdk, account, line_items=[line], payment_intent_data={})
    assert (error.param, error.code, error.http_status) == (
        "line_items[0][tax_rates][0]",
        "resource_missing",
        404,
    )
    exclusive = sdk.v1.tax_rates.create(
        params={"display_name": "VAT", "inclusive": False, "percentage": "21"},
        options={"stripe_account": account.id},
    )
    line = _line(tax_behavior="inclusive") | {"tax_rates": [exclusive.id]}
    error = _refused(sdk, account, line_items=[line], payment_intent_data={})
    assert error.param == "line_items[0][tax_rates][0]"


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (29 * 60, False),
        (30 * 60 + 60, True),
        (24 * 3600 - 60, True),
        (24 * 3600 + 60, False),
        (-60, False),
    ],
)
def test_expires_at_between_30_minutes_and_24_hours(
    sdk: stripe.StripeClient, account: stripe.Account, offset: int, accepted: bool
) -> None:
    expires_at = int(time.time()) + offset
    if accepted:
        assert _create(sdk, account, expires_at=expires_at).expires_at == expires_at
    else:
        error = _refused(sdk, account, expires_at=expires_at)
        assert error.param == "expires_at"


def test_default_expiry_is_24_hours(sdk: stripe.StripeClient, account: stripe.Account) -> None:
    params = session_params()
    del params["expires_at"]
    session = sdk.v1.checkout.sessions.create(params=params, options={"stripe_account": account.id})
    assert session.expires_at - session.created == 24 * 3600


@pytest.mark.parametrize("fee", [0, -5, 3000, 3001])
def test_application_fee_must_be_positive_and_below_the_amount(
    sdk: stripe.StripeClient, account: stripe.Account, fee: int
) -> None:
    error = _refused(sdk, account, payment_intent_data={"application_fee_amount": fee})
    assert error.param == "payment_intent_data[application_fee_amount]"


def test_application_fee_of_amount_minus_one_is_accepted(
    sdk: stripe.StripeClient, account: stripe.Account
) -> None:
    assert _create(sdk, account, payment_intent_data={"application_fee_amount": 2999}).amount_total == 3000


def test_application_fee_needs_a_connected_account(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.checkout.sessions.create(params=session_params())
    assert error.value.param == "payment_intent_data[application_fee_amount]"
    assert error.value.user_message is not None
    assert "Stripe-Account header" in error.value.user_message


def test_account_without_charges_enabled_cannot_sell(sdk: stripe.StripeClient) -> None:
    account = sdk.v1.accounts.create(params={"type": "standard"})
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account.id})
    assert error.value.code == "account_invalid"


def test_session_belongs_to_its_account(sdk: stripe.StripeClient, account: stripe.Account) -> None:
    session = _create(sdk, account)
    other = onboarded_account(sdk)
    for options in ({"stripe_account": other.id}, {}):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.v1.checkout.sessions.retrieve(session.id, options=options)  # type: ignore[arg-type]
        assert (error.value.http_status, error.value.code) == (404, "resource_missing")


def test_paying_completes_session_creates_payment_intent_charge_fee_and_signed_event(
    sdk: stripe.StripeClient, account: stripe.Account, receiver: WebhookReceiver
) -> None:
    session = _create(sdk, account)
    status, _, page = http(session.url)
    assert status == 200
    assert "€30.00" in page
    status, location, _ = http(session.url, {"action": "pay", "email": "visitor@example.com", "name": "Ann"})
    assert (status, location) == (303, f"http://parkgate.test/visit/paid?session={session.id}")

    [completed] = receiver.wait_event("checkout.session.completed")
    raw = next(d for d in receiver.deliveries if d.event["id"] == completed["id"])
    event = stripe.Webhook.construct_event(
        raw.body.decode(), raw.headers["Stripe-Signature"], WEBHOOK_SECRET, 300
    )
    assert event.account == account.id
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.status == "complete"
    assert event.data.object.metadata.to_dict() == {"payment": "42"}
    assert event.data.object.client_reference_id == "payment-42"

    paid = sdk.v1.checkout.sessions.retrieve(
        session.id,
        params={"expand": ["payment_intent.latest_charge"]},
        options={"stripe_account": account.id},
    )
    intent = paid.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 3000, 3000)
    assert intent.application_fee_amount == 100
    assert intent.metadata.to_dict() == {"payment": "42"}
    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert (charge.status, charge.paid, charge.amount, charge.amount_refunded) == ("succeeded", True, 3000, 0)
    assert paid.customer_details.email == "visitor@example.com"
    fee = sdk.v1.application_fees.retrieve(str(charge.application_fee))
    assert (fee.amount, fee.amount_refunded, fee.account, fee.charge) == (100, 0, account.id, charge.id)
    # The fee lives on the platform: the connected account does not see it.
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.application_fees.retrieve(fee.id, options={"stripe_account": account.id})
    # Paying twice is impossible.
    assert http(session.url, {"action": "pay"})[0] == 409
    assert len(receiver.events("checkout.session.completed")) == 1


def test_invoice_and_tax_id_reach_the_session(sdk: stripe.StripeClient, account: stripe.Account) -> None:
    session = _create(sdk, account, invoice_creation={"enabled": True}, tax_id_collection={"enabled": True})
    assert "VAT number" in http(session.url)[2]
    http(session.url, {"action": "pay", "email": "buyer@acme.example", "tax_id": "BE0123456789"})
    paid = sdk.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account.id})
    assert paid.customer_details.tax_ids[0].to_dict() == {"type": "eu_vat", "value": "BE0123456789"}
    assert paid.invoice is not None
    assert str(paid.invoice).startswith("in_")


def test_delayed_payment_succeeds_later(
    sdk: stripe.StripeClient, account: stripe.Account, receiver: WebhookReceiver
) -> None:
    session = _create(sdk, account)
    assert http(session.url, {"action": "delayed"})[0] == 303
    [completed] = receiver.wait_event("checkout.session.completed")
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert "The bank accepts the debit" in http(session.url)[2]
    assert http(session.url, {"action": "settle_succeed"})[0] == 303
    [succeeded] = receiver.wait_event("checkout.session.async_payment_succeeded")
    assert succeeded["data"]["object"]["payment_status"] == "paid"
    assert receiver.events("checkout.session.async_payment_failed") == []
    intent = sdk.v1.payment_intents.retrieve(
        str(succeeded["data"]["object"]["payment_intent"]), options={"stripe_account": account.id}
    )
    assert intent.status == "succeeded"


def test_delayed_payment_fails_later(
    sdk: stripe.StripeClient, account: stripe.Account, receiver: WebhookReceiver
) -> None:
    session = _create(sdk, account)
    http(session.url, {"action": "delayed"})
    http(session.url, {"action": "settle_fail"})
    [failed] = receiver.wait_event("checkout.session.async_payment_failed")
    assert failed["data"]["object"]["payment_status"] == "unpaid"
    assert receiver.events("checkout.session.async_payment_succeeded") == []
    intent = sdk.v1.payment_intents.retrieve(
        str(failed["data"]["object"]["payment_intent"]), options={"stripe_account": account.id}
    )
    assert intent.status == "requires_payment_method"
    charge = sdk.v1.charges.retrieve(str(intent.latest_charge), options={"stripe_account": account.id})
    assert charge.application_fee is None


def test_abandon_returns_to_cancel_url_and_keeps_the_session_open(
    sdk: stripe.StripeClient, account: stripe.Account, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    session = _create(sdk, account)
    assert http(session.url, {"action": "abandon"})[:2] == (303, "http://parkgate.test/visit/cancelled")
    assert (
        sdk.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account.id}).status == "open"
    )
    wait_for(server.settled, what="server settled")
    assert receiver.events("checkout.session.completed") == []


def test_expire_now(sdk: stripe.StripeClient, account: stripe.Account, receiver: WebhookReceiver) -> None:
    session = _create(sdk, account)
    expired = sdk.v1.checkout.sessions.expire(session.id, options={"stripe_account": account.id})
    assert expired.status == "expired"
    [event] = receiver.wait_event("checkout.session.expired")
    assert event["data"]["object"]["id"] == session.id
    assert event["account"] == account.id
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.checkout.sessions.expire(session.id, options={"stripe_account": account.id})
    assert http(session.url, {"action": "pay"})[0] == 409
    assert "expired" in http(session.url)[2]


def test_sessions_expire_when_their_time_comes(
    sdk: stripe.StripeClient, account: stripe.Account, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    early = _create(sdk, account, expires_at=int(time.time()) + 31 * 60)
    late = _create(sdk, account, expires_at=int(time.time()) + 2 * 3600)
    control(server, "clock", {"advance": 40 * 60})
    [event] = receiver.wait_event("checkout.session.expired")
    assert event["data"]["object"]["id"] == early.id
    assert sdk.v1.checkout.sessions.retrieve(late.id, options={"stripe_account": account.id}).status == "open"
