"""Test server: refunds and application fee refunds, up to what is left and never beyond."""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_test_server import StripeTestServer
from tests.payments.conftest import WebhookReceiver, http, onboarded_account, session_params


class Paid:
    def __init__(self, sdk: stripe.StripeClient, refunds_fail: bool = False) -> None:
        self.account = onboarded_account(sdk)
        self.options: stripe.RequestOptions = {"stripe_account": self.account.id}
        session = sdk.v1.checkout.sessions.create(params=session_params(), options=self.options)
        http(session.url, {"action": "pay_refunds_fail" if refunds_fail else "pay"})
        paid = sdk.v1.checkout.sessions.retrieve(session.id, options=self.options)
        self.payment_intent = str(paid.payment_intent)
        intent = sdk.v1.payment_intents.retrieve(self.payment_intent, options=self.options)
        self.charge = str(intent.latest_charge)
        fee = sdk.v1.charges.retrieve(self.charge, options=self.options).application_fee
        self.fee = str(fee)


@pytest.fixture
def paid(sdk: stripe.StripeClient) -> Paid:
    return Paid(sdk)  # €30.00 for two spots, fee €1.00


def test_partial_refunds_up_to_the_amount_and_not_beyond(
    sdk: stripe.StripeClient, paid: Paid, receiver: WebhookReceiver
) -> None:
    first = sdk.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "amount": 1500, "metadata": {"reservation": "1"}},
        options={**paid.options, "idempotency_key": "refund-spot-1"},
    )
    assert (first.object, first.amount, first.status, first.currency) == ("refund", 1500, "pending", "eur")
    assert first.metadata.to_dict() == {"reservation": "1"}
    assert (first.charge, first.payment_intent) == (paid.charge, paid.payment_intent)
    charge = sdk.v1.charges.retrieve(paid.charge, options=paid.options)
    assert (charge.amount_refunded, charge.refunded) == (1500, False)

    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(
            params={"payment_intent": paid.payment_intent, "amount": 1501}, options=paid.options
        )
    assert (error.value.param, error.value.code) == ("amount", "amount_too_large")
    assert error.value.user_message == (
        "Refund amount (€15.01) is greater than unrefunded amount on charge (€15.00)"
    )
    assert sdk.v1.charges.retrieve(paid.charge, options=paid.options).amount_refunded == 1500

    sdk.v1.refunds.create(params={"charge": paid.charge, "amount": 1500}, options=paid.options)
    charge = sdk.v1.charges.retrieve(paid.charge, options=paid.options)
    assert (charge.amount_refunded, charge.refunded) == (3000, True)
    assert [r.amount for r in charge.refunds.data] == [1500, 1500]

    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(
            params={"payment_intent": paid.payment_intent, "amount": 1}, options=paid.options
        )
    assert error.value.code == "charge_already_refunded"

    refunded = receiver.wait_event("charge.refunded", 2)
    assert [e["data"]["object"]["amount_refunded"] for e in refunded] == [1500, 3000]
    assert refunded[0]["data"]["previous_attributes"]["amount_refunded"] == 0
    updated = receiver.wait_event("refund.updated", 2)
    assert {e["data"]["object"]["status"] for e in updated} == {"succeeded"}
    assert all(e["data"]["previous_attributes"] == {"status": "pending"} for e in updated)
    assert sdk.v1.refunds.retrieve(first.id, options=paid.options).status == "succeeded"


def test_refund_validation(sdk: stripe.StripeClient, paid: Paid) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(params={"amount": 100}, options=paid.options)
    assert (error.value.param, error.value.code) == ("payment_intent", "parameter_missing")
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(
            params={"payment_intent": paid.payment_intent, "amount": 0}, options=paid.options
        )
    assert error.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(params={"payment_intent": "pi_missing"}, options=paid.options)
    assert (error.value.param, error.value.code) == ("payment_intent", "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(
            params={"payment_intent": paid.payment_intent, "reason": "bored"}, options=paid.options
        )
    assert error.value.param == "reason"
    # On the platform (no Stripe-Account) the connected account's payment does not exist.
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.refunds.create(params={"payment_intent": paid.payment_intent})
    assert error.value.code == "resource_missing"
    assert sdk.v1.charges.retrieve(paid.charge, options=paid.options).amount_refunded == 0


def test_full_refund_by_default(sdk: stripe.StripeClient, paid: Paid) -> None:
    refund = sdk.v1.refunds.create(params={"payment_intent": paid.payment_intent}, options=paid.options)
    assert refund.amount == 3000


def test_refund_application_fee_is_proportional(sdk: stripe.StripeClient, paid: Paid) -> None:
    sdk.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "amount": 1000, "refund_application_fee": True},
        options=paid.options,
    )
    fee = sdk.v1.application_fees.retrieve(paid.fee)
    assert fee.amount_refunded == 33  # 100 x 1000 / 3000 = 33.3
    sdk.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "refund_application_fee": True}, options=paid.options
    )
    fee = sdk.v1.application_fees.retrieve(paid.fee)
    assert (fee.amount_refunded, fee.refunded) == (100, True)


def test_fee_refunds_repeat_until_used_up(
    sdk: stripe.StripeClient, paid: Paid, receiver: WebhookReceiver
) -> None:
    first = sdk.v1.application_fees.refunds.create(paid.fee, params={"amount": 34, "metadata": {"spot": "1"}})
    assert (first.object, first.amount, first.fee, first.currency) == ("fee_refund", 34, paid.fee, "eur")
    assert first.metadata.to_dict() == {"spot": "1"}
    sdk.v1.application_fees.refunds.create(paid.fee, params={"amount": 33})
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.application_fees.refunds.create(paid.fee, params={"amount": 34})
    assert (error.value.param, error.value.code) == ("amount", "amount_too_large")
    assert error.value.user_message == (
        "Refund amount (€0.34) is greater than the unrefunded amount of the application fee (€0.33)"
    )
    last = sdk.v1.application_fees.refunds.create(paid.fee)
    assert last.amount == 33
    fee = sdk.v1.application_fees.retrieve(paid.fee)
    assert (fee.amount_refunded, fee.refunded) == (100, True)
    assert [r.amount for r in fee.refunds.data] == [33, 33, 34]
    assert [r.amount for r in sdk.v1.application_fees.refunds.list(paid.fee).data] == [33, 33, 34]
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.application_fees.refunds.create(paid.fee, params={"amount": 1})
    events = receiver.wait_event("application_fee.refunded", 3)
    assert all("account" not in e for e in events)  # platform events
    assert [e["data"]["object"]["amount_refunded"] for e in events] == [34, 67, 100]


def test_connected_account_cannot_refund_the_platform_fee(sdk: stripe.StripeClient, paid: Paid) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.v1.application_fees.refunds.create(paid.fee, params={"amount": 10}, options=paid.options)
    assert error.value.http_status == 404
    assert sdk.v1.application_fees.retrieve(paid.fee).amount_refunded == 0


def test_a_refund_can_fail(
    sdk: stripe.StripeClient, receiver: WebhookReceiver, server: StripeTestServer
) -> None:
    paid = Paid(sdk, refunds_fail=True)
    refund = sdk.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "amount": 1500}, options=paid.options
    )
    [failed] = receiver.wait_event("refund.failed")
    assert failed["data"]["object"]["id"] == refund.id
    [updated] = receiver.wait_event("refund.updated")
    assert updated["data"]["object"]["status"] == "failed"
    assert updated["data"]["object"]["failure_reason"] == "expired_or_canceled_card"
    charge = sdk.v1.charges.retrieve(paid.charge, options=paid.options)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
