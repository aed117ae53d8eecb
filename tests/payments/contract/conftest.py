"""The payment contract: the Stripe calls Parkgate makes, run against the bundled test server and,
when a Stripe test-mode key is given, against Stripe itself, with the same assertions.

    STRIPE_TEST_SECRET_KEY=sk_test_...        # a Stripe account's test-mode secret key
    STRIPE_TEST_CONNECTED_ACCOUNT=acct_...    # optional: a connected test account with charges
                                              # enabled (direct charges with an application fee)
    .venv/bin/python -m pytest tests/payments/contract -q -rs

Without the key, the ``stripe`` cases are reported as skipped with that reason (an external account
this checkout cannot have, not a missing feature). Nothing here pays: paying a Checkout Session on
Stripe takes a browser; the paid and refund flows run against the test server in the other
tests/payments/test_stripe_server_*.py files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer
from tests.payments.conftest import API_KEY, onboarded_account


@dataclass(frozen=True)
class Backend:
    name: str
    client: stripe.StripeClient
    account: str | None  # the connected account the calls are made on, None for the platform

    def options(self, **extra: str) -> stripe.RequestOptions:
        options: stripe.RequestOptions = {}
        if self.account:
            options["stripe_account"] = self.account
        options.update(extra)  # type: ignore[typeddict-item]
        return options


NO_KEY = (
    "STRIPE_TEST_SECRET_KEY is not set: the payment contract ran against the bundled test server "
    "only (set a Stripe test-mode key, sk_test_..., to run it against Stripe too)"
)


@pytest.fixture(params=["test_server", "stripe"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "test_server":
        server = StripeTestServer(api_key=API_KEY).start()
        client = stripe.StripeClient(API_KEY, base_addresses={"api": server.url})
        try:
            yield Backend("test_server", client, onboarded_account(client).id)
        finally:
            server.stop()
        return
    key = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
    if not key:
        pytest.skip(NO_KEY)
    if not key.startswith(("sk_test_", "rk_test_")):
        pytest.fail(
            "STRIPE_TEST_SECRET_KEY must be a test-mode key (sk_test_...): never run this with live keys"
        )
    client = stripe.StripeClient(key, max_network_retries=2)
    yield Backend("stripe", client, os.environ.get("STRIPE_TEST_CONNECTED_ACCOUNT") or None)
