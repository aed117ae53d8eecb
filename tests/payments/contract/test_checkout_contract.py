"""The Checkout calls of the paid-booking flow behave the same on the test server and on Stripe."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import stripe

from tests.payments.contract.conftest import Backend


def _vat(backend: Backend) -> stripe.TaxRate:
    return backend.client.v1.tax_rates.create(
        params={
            "display_name": "VAT",
            "inclusive": True,
            "percentage": "21",
            "country": "BE",
            "tax_type": "vat",
        },
        options=backend.options(),
    )


def _params(backend: Backend, *, unit_amount: int = 1210, quantity: int = 3, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": unit_amount,
                    "tax_behavior": "inclusive",
                    "product_data": {"name": "Parking spot"},
                },
                "quantity": quantity,
            }
        ],
        "metadata": {"payment": "42"},
        "client_reference_id": "payment-42",
        "customer_email": "visitor@example.com",
        "expires_at": int(time.time()) + 31 * 60,
        "success_url": "https://parkgate.example/visit/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://parkgate.example/visit/cancelled",
    }
    if backend.account:  # an application fee exists only on a connected account (direct charge)
        params["payment_intent_data"] = {"application_fee_amount": 150, "metadata": {"payment": "42"}}
    params.update(extra)
    return params


def test_inclusive_vat_is_part_of_the_price_and_reported_per_session(backend: Backend) -> None:
    vat = _vat(backend)
    assert (vat.object, vat.inclusive, vat.percentage) == ("tax_rate", True, 21.0)
    params = _params(backend)
    params["line_items"][0]["tax_rates"] = [vat.id]
    session = backend.client.v1.checkout.sessions.create(params=params, options=backend.options())
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.currency, session.amount_subtotal, session.amount_total) == ("eur", 3630, 3630)
    assert session.total_details.amount_tax == 630  # 3 x 1210 with 21 % included: 3 x 210
    assert session.metadata.to_dict() == {"payment": "42"}
    assert session.client_reference_id == "payment-42"
    assert session.customer_email == "visitor@example.com"
    assert session.expires_at == params["expires_at"]
    assert session.url


def test_a_total_under_stripes_minimum_charge_is_refused(backend: Backend) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        backend.client.v1.checkout.sessions.create(
            params=_params(backend, unit_amount=49, quantity=1, payment_intent_data={}),
            options=backend.options(),
        )
    assert error.value.http_status == 400


def test_same_idempotency_key_replays_and_a_changed_request_is_refused(backend: Backend) -> None:
    key = f"checkout-contract-{uuid.uuid4()}"
    params = _params(backend)
    first = backend.client.v1.checkout.sessions.create(
        params=params, options=backend.options(idempotency_key=key)
    )
    again = backend.client.v1.checkout.sessions.create(
        params=params, options=backend.options(idempotency_key=key)
    )
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        backend.client.v1.checkout.sessions.create(
            params=_params(backend, quantity=2), options=backend.options(idempotency_key=key)
        )


def test_an_expired_session_stays_expired_and_cannot_expire_twice(backend: Backend) -> None:
    session = backend.client.v1.checkout.sessions.create(params=_params(backend), options=backend.options())
    expired = backend.client.v1.checkout.sessions.expire(session.id, options=backend.options())
    assert (expired.id, expired.status, expired.payment_status) == (session.id, "expired", "unpaid")
    assert (
        backend.client.v1.checkout.sessions.retrieve(session.id, options=backend.options()).status
        == "expired"
    )
    with pytest.raises(stripe.InvalidRequestError):
        backend.client.v1.checkout.sessions.expire(session.id, options=backend.options())
