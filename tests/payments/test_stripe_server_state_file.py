"""Test server: with a state file, a restart keeps accounts, sessions, payments and idempotent results."""

from __future__ import annotations

from pathlib import Path

import stripe

from devtools.stripe_test_server import StripeTestServer
from tests.payments.conftest import API_KEY, http, onboarded_account, session_params


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe.json"
    first = StripeTestServer(api_key=API_KEY, state_file=str(state)).start()
    try:
        sdk = stripe.StripeClient(API_KEY, base_addresses={"api": first.url})
        account = onboarded_account(sdk)
        options: stripe.RequestOptions = {"stripe_account": account.id, "idempotency_key": "checkout-1"}
        params = session_params()  # once: expires_at is part of the idempotent request
        session = sdk.v1.checkout.sessions.create(params=params, options=options)
        http(session.url, {"action": "pay"})
        intent = str(
            sdk.v1.checkout.sessions.retrieve(
                session.id, options={"stripe_account": account.id}
            ).payment_intent
        )
        refund = sdk.v1.refunds.create(
            params={"payment_intent": intent, "amount": 1500}, options={"stripe_account": account.id}
        )
    finally:
        first.stop()
    assert state.exists()

    second = StripeTestServer(api_key=API_KEY, state_file=str(state)).start()
    try:
        sdk = stripe.StripeClient(API_KEY, base_addresses={"api": second.url})
        assert sdk.v1.accounts.retrieve(account.id).charges_enabled is True
        again = sdk.v1.checkout.sessions.create(params=params, options=options)
        assert again.id == session.id  # the idempotent result was kept
        assert again.last_response is not None
        assert again.last_response.headers["Idempotent-Replayed"] == "true"
        paid = sdk.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account.id})
        assert (paid.status, paid.payment_status) == ("complete", "paid")
        assert sdk.v1.refunds.retrieve(refund.id, options={"stripe_account": account.id}).amount == 1500
        events = sdk.v1.events.list(params={"limit": 100}, options={"stripe_account": account.id}).data
        assert "checkout.session.completed" in [e.type for e in events]
    finally:
        second.stop()
