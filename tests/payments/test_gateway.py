"""The Stripe gateway: which Stripe the client talks to, its retries, and idempotency keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings as SettingsWrapper

import devtools.stripe_test_server.__main__ as stripe_test_server_main
from devtools.stripe_test_server import StripeTestServer
from parkgate.payments import gateway
from tests.payments.conftest import WebhookReceiver, control


@pytest.fixture
def test_server() -> Iterator[StripeTestServer]:
    server = StripeTestServer(api_key=gateway.TEST_SERVER_API_KEY).start()
    yield server
    server.stop()


def _base(client: stripe.StripeClient) -> str:
    return str(client._requestor._options.base_addresses["api"])


def test_in_development_without_a_secret_key_the_bundled_test_server_is_used(
    settings: SettingsWrapper,
) -> None:
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    assert gateway.uses_test_server() is True
    assert gateway.api_base() == "http://127.0.0.1:8111"
    client = gateway.stripe_client()
    assert _base(client) == "http://127.0.0.1:8111"
    assert client._requestor._options.api_key == gateway.TEST_SERVER_API_KEY
    settings.STRIPE_API_BASE = "http://127.0.0.1:9999/"
    assert _base(gateway.stripe_client()) == "http://127.0.0.1:9999"


def test_with_a_secret_key_the_real_stripe_is_used(settings: SettingsWrapper) -> None:
    settings.STRIPE_SECRET_KEY = "sk_live_abcdefghijklmnop"
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_real"
    assert gateway.uses_test_server() is False
    client = gateway.stripe_client()
    assert _base(client) == stripe.DEFAULT_API_BASE == "https://api.stripe.com"
    assert client._requestor._options.api_key == "sk_live_abcdefghijklmnop"
    assert gateway.webhook_secret() == "whsec_real"


def test_a_live_key_is_never_sent_to_another_address(settings: SettingsWrapper) -> None:
    settings.STRIPE_SECRET_KEY = "sk_live_abcdefghijklmnop"
    settings.STRIPE_API_BASE = "http://127.0.0.1:8111"
    with pytest.raises(ImproperlyConfigured):
        gateway.stripe_client()


def test_webhook_secret_falls_back_to_the_test_servers_in_development_only(settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert gateway.webhook_secret() == gateway.TEST_SERVER_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = "sk_live_abcdefghijklmnop"
    with pytest.raises(ImproperlyConfigured):
        gateway.webhook_secret()
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="STRIPE_WEBHOOK_SECRET must be set"):
        gateway.webhook_secret()
    settings.STRIPE_WEBHOOK_SECRET = "whsec_endpoint"
    assert gateway.webhook_secret() == "whsec_endpoint"


def test_outside_development_no_key_means_no_client(settings: SettingsWrapper) -> None:
    """Production without STRIPE_SECRET_KEY used to talk to 127.0.0.1:8111 with the public test key."""
    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    assert gateway.uses_test_server() is False
    with pytest.raises(ImproperlyConfigured, match="STRIPE_SECRET_KEY must be set"):
        gateway.stripe_client()
    # Tests (and only they) name the test server's key explicitly.
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    assert gateway.uses_test_server() is True
    assert _base(gateway.stripe_client()) == gateway.TEST_SERVER_URL


def test_timeout_and_retries_come_from_settings(settings: SettingsWrapper) -> None:
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    settings.STRIPE_TIMEOUT_SECONDS = 7
    settings.STRIPE_MAX_NETWORK_RETRIES = 3
    client = gateway.stripe_client()
    requestor = client._requestor
    assert requestor._options.max_network_retries == 3
    assert isinstance(requestor._client, stripe.RequestsClient)
    assert requestor._client._timeout == 7
    assert gateway.stripe_client() is client  # one client per configuration


def test_the_client_reaches_the_test_server_and_retries_server_errors(
    settings: SettingsWrapper, test_server: StripeTestServer
) -> None:
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    settings.STRIPE_API_BASE = test_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    control(
        test_server, "faults", {"method": "POST", "path": "/v1/accounts", "mode": "error_before", "times": 1}
    )
    account = gateway.stripe_client().v1.accounts.create(
        params={"type": "standard"}, options={"idempotency_key": gateway.account_idempotency_key(3)}
    )
    assert account.id.startswith("acct_")
    again = gateway.stripe_client().v1.accounts.create(
        params={"type": "standard"}, options={"idempotency_key": gateway.account_idempotency_key(3)}
    )
    assert again.id == account.id


def test_without_retries_a_server_error_surfaces(
    settings: SettingsWrapper, test_server: StripeTestServer
) -> None:
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    settings.STRIPE_API_BASE = test_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    control(
        test_server, "faults", {"method": "POST", "path": "/v1/accounts", "mode": "error_before", "times": 1}
    )
    with pytest.raises(stripe.APIError):
        gateway.stripe_client().v1.accounts.create(params={"type": "standard"})


def test_idempotency_keys_are_deterministic() -> None:
    assert gateway.checkout_idempotency_key(42) == "checkout-42"
    assert gateway.refund_idempotency_key(7) == "refund-spot-7"
    assert gateway.fee_refund_idempotency_key(7) == "fee-refund-spot-7"
    assert gateway.account_idempotency_key(3) == "account-organisation-3"


@pytest.mark.parametrize("bad", [0, -1, None, True, "7"])
def test_idempotency_keys_need_a_saved_id(bad: object) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        gateway.refund_idempotency_key(bad)  # type: ignore[arg-type]


def test_command_refuses_to_run_against_the_real_stripe(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        stripe_test_server_main.build(["--port", "0"], {"STRIPE_SECRET_KEY": "sk_live_abcdefghijklmnop"})
    assert exit_.value.code == 2
    assert "real Stripe" in capsys.readouterr().err


def test_command_refuses_a_bad_webhook_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        stripe_test_server_main.build(["--port", "0", "--webhook-url", "file:///etc/passwd"], {})
    assert exit_.value.code == 2
    assert "--webhook-url 'file:///etc/passwd' must be an http(s) address" in capsys.readouterr().err


def test_command_signs_with_the_given_secret_else_the_environments_else_the_default() -> None:
    def secrets(argv: list[str], environ: dict[str, str]) -> list[tuple[str, str]]:
        server, urls = stripe_test_server_main.build(["--port", "0", *argv], environ)
        server.httpd.server_close()
        assert urls == [url for url, _secret in [(e.url, e.secret) for e in server.store.endpoints]]
        return [(e.url, e.secret) for e in server.store.endpoints]

    hook = "http://127.0.0.1:9/payments/webhook/"
    env = {"STRIPE_WEBHOOK_SECRET": "whsec_env"}
    assert secrets(["--webhook-url", hook, "--webhook-secret", "whsec_arg"], env) == [(hook, "whsec_arg")]
    assert secrets(["--webhook-url", hook], env) == [(hook, "whsec_env")]
    assert secrets(["--webhook-url", hook], {}) == [(hook, stripe_test_server_main.DEFAULT_WEBHOOK_SECRET)]
    assert secrets([], {}) == []


def test_gateway_server_fixture_serves_the_gateway_client(
    gateway_server: StripeTestServer, receiver: WebhookReceiver
) -> None:
    gateway_server.add_webhook(receiver.url, gateway.webhook_secret())
    account = gateway.stripe_client().v1.accounts.create(params={"type": "standard"})
    gateway.stripe_client().v1.accounts.update(account.id, params={"metadata": {"organisation": "1"}})
    [event] = receiver.wait_event("account.updated")
    raw = receiver.deliveries[0]
    checked = stripe.Webhook.construct_event(
        raw.body.decode(), raw.headers["Stripe-Signature"], gateway.webhook_secret(), tolerance=300
    )
    assert checked.id == event["id"]
    assert checked.data.object.metadata.organisation == "1"
