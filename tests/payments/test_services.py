"""Payment account services: connecting to Stripe, onboarding by webhook, staff approval and fees."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from devtools.stripe_test_server import StripeTestServer
from parkgate.core.models import AuditEvent
from parkgate.payments import gateway
from parkgate.payments.models import PaymentAccount, PaymentApproval, StripeEvent
from parkgate.payments.services import (
    payment_account_approve,
    payment_account_connect,
    payment_account_fees_set,
    payment_approval_decide,
)
from tests import factories as f
from tests.payments.conftest import http, wait_for

REFRESH = "http://parkgate.test/office/payments/refresh"
RETURN = "http://parkgate.test/office/payments/return"


@pytest.fixture
def organisation(db: None) -> Any:
    return f.OrganisationFactory(name="Brussels Parking", email="billing@brussels-parking.example")


def test_connect_creates_one_account_and_fresh_links(
    gateway_server: StripeTestServer, organisation: Any
) -> None:
    admin = f.MembershipFactory(organisation=organisation).user
    account, url = payment_account_connect(
        organisation=organisation, actor=admin, refresh_url=REFRESH, return_url=RETURN
    )
    assert url.startswith(f"{gateway_server.url}/setup/")
    assert account.stripe_account_id.startswith("acct_")
    assert (account.charges_enabled, account.can_take_payments) == (False, False)
    remote = gateway.stripe_client().v1.accounts.retrieve(account.stripe_account_id)
    assert remote.metadata.to_dict() == {"organisation": str(organisation.pk)}
    assert remote.email == "billing@brussels-parking.example"
    assert remote.business_profile.name == "Brussels Parking"
    audit = AuditEvent.objects.get(action="payments.account.connected")
    assert (audit.organisation, audit.actor, audit.data) == (
        organisation,
        admin,
        {"stripe_account": account.stripe_account_id},
    )

    again, second_url = payment_account_connect(
        organisation=organisation, actor=admin, refresh_url=REFRESH, return_url=RETURN
    )
    assert again.pk == account.pk
    assert second_url != url
    assert PaymentAccount.objects.count() == 1
    assert AuditEvent.objects.filter(action="payments.account.connected").count() == 1


def test_connect_after_a_lost_save_reuses_the_same_stripe_account(
    gateway_server: StripeTestServer, organisation: Any
) -> None:
    # The account was created at Stripe but our row was lost (crash before commit): the same
    # idempotency key brings back the same account instead of a second one.
    first = gateway.stripe_client().v1.accounts.create(
        params={
            "type": "standard",
            "business_profile": {"name": organisation.name},
            "metadata": {"organisation": str(organisation.pk)},
            "email": organisation.email,
        },
        options={"idempotency_key": gateway.account_idempotency_key(organisation.pk)},
    )
    account, _url = payment_account_connect(
        organisation=organisation, actor=None, refresh_url=REFRESH, return_url=RETURN
    )
    assert account.stripe_account_id == first.id


@pytest.mark.django_db(transaction=True)
def test_onboarding_completes_through_the_webhook(gateway_server: StripeTestServer, live_server: Any) -> None:
    organisation = f.OrganisationFactory(name="Acme")
    gateway_server.add_webhook(live_server.url + reverse("payments:stripe_webhook"), gateway.webhook_secret())
    account, url = payment_account_connect(
        organisation=organisation, actor=None, refresh_url=REFRESH, return_url=RETURN
    )
    assert http(url, {"action": "complete"})[:2] == (303, RETURN)

    def enabled() -> bool:
        account.refresh_from_db()
        return account.charges_enabled

    wait_for(enabled, what="charges enabled by account.updated")
    assert account.details_submitted is True
    assert account.can_take_payments is False  # staff approval still missing
    event = StripeEvent.objects.get(type="account.updated")
    assert event.account == account.stripe_account_id
    assert (
        AuditEvent.objects.filter(action="payments.account.updated", organisation=organisation).count() == 1
    )


def test_only_platform_staff_approve(organisation: Any) -> None:
    account = PaymentAccount.objects.create(
        organisation=organisation, stripe_account_id="acct_x", charges_enabled=True
    )
    owner = f.MembershipFactory(organisation=organisation).user
    with pytest.raises(PermissionDenied):
        payment_account_approve(payment_account=account, actor=owner)
    account.refresh_from_db()
    assert account.approved_at is None
    assert not PaymentApproval.objects.exists()
    assert not AuditEvent.objects.filter(action="portal.payment.approved").exists()

    staff = f.UserFactory(is_superuser=True)
    assert payment_account_approve(payment_account=account, actor=staff) is True
    account.refresh_from_db()
    assert account.approved_by == staff
    assert account.can_take_payments is True
    assert payment_account_approve(payment_account=account, actor=staff) is False
    # One approval for the platform: the organisation's PaymentApproval, audited once.
    approval = PaymentApproval.objects.get()
    assert (approval.organisation, approval.status, approval.decided_by) == (organisation, "approved", staff)
    assert AuditEvent.objects.filter(action="portal.payment.approved").count() == 1


def test_approval_on_the_portal_page_is_the_same_approval(organisation: Any, pinned_now: datetime) -> None:
    """A portal toggled to paid asks; staff approve it there; the payment account agrees."""
    account = PaymentAccount.objects.create(
        organisation=organisation, stripe_account_id="acct_p", charges_enabled=True
    )
    staff = f.UserFactory(is_superuser=True)
    approval = PaymentApproval.objects.create(organisation=organisation, requested_at=pinned_now)
    assert account.can_take_payments is False
    payment_approval_decide(approval=approval, approve=True, note="", actor=staff)
    assert (account.can_take_payments, account.approved_by) == (True, staff)
    assert payment_account_approve(payment_account=account, actor=staff) is False
    payment_approval_decide(approval=approval, approve=False, note="fraud", actor=staff)
    assert account.can_take_payments is False
    assert PaymentApproval.objects.count() == 1


def test_approval_alone_does_not_enable_payments(organisation: Any) -> None:
    account = PaymentAccount.objects.create(organisation=organisation, stripe_account_id="acct_y")
    payment_account_approve(payment_account=account, actor=f.UserFactory(is_superuser=True))
    assert account.can_take_payments is False


def test_fees_are_set_by_staff_and_validated(organisation: Any) -> None:
    account = PaymentAccount.objects.create(organisation=organisation, stripe_account_id="acct_z")
    staff = f.UserFactory(is_superuser=True)
    payment_account_fees_set(payment_account=account, actor=staff, fee_fixed=25, fee_percent=Decimal("2.50"))
    account.refresh_from_db()
    assert (account.fee_fixed, account.fee_percent) == (25, Decimal("2.50"))
    audit = AuditEvent.objects.get(action="payments.account.fees_set")
    assert audit.data == {
        "fee_fixed": 25,
        "fee_percent": "2.50",
        "was_fee_fixed": 0,
        "was_fee_percent": "0.00",
    }


@pytest.mark.parametrize(
    ("fee_fixed", "fee_percent", "field"),
    [
        (-1, Decimal("1"), "fee_fixed"),
        (10, Decimal("100.01"), "fee_percent"),
        (10, Decimal("-0.5"), "fee_percent"),
        (10, Decimal("1.234"), "fee_percent"),
    ],
)
def test_bad_fees_change_nothing(organisation: Any, fee_fixed: int, fee_percent: Decimal, field: str) -> None:
    account = PaymentAccount.objects.create(organisation=organisation, stripe_account_id="acct_w")
    with pytest.raises(ValidationError) as error:
        payment_account_fees_set(
            payment_account=account,
            actor=f.UserFactory(is_superuser=True),
            fee_fixed=fee_fixed,
            fee_percent=fee_percent,
        )
    assert list(error.value.message_dict) == [field]
    account.refresh_from_db()
    assert (account.fee_fixed, account.fee_percent) == (0, Decimal("0.00"))
    assert not AuditEvent.objects.filter(action="payments.account.fees_set").exists()


def test_fees_refused_to_non_staff(organisation: Any) -> None:
    account = PaymentAccount.objects.create(organisation=organisation, stripe_account_id="acct_v")
    with pytest.raises(PermissionDenied):
        payment_account_fees_set(
            payment_account=account,
            actor=f.MembershipFactory(organisation=organisation).user,
            fee_fixed=99,
            fee_percent=Decimal("9"),
        )
    account.refresh_from_db()
    assert account.fee_fixed == 0


def test_back_from_onboarding_the_page_tells_the_truth_without_a_reload(
    gateway_server: StripeTestServer, organisation: Any, client: Any
) -> None:
    """Issue 14 item 10: the owner returns from Stripe before the account.updated webhook; the
    return address reads the account from Stripe, so the page no longer says "setup not finished"."""
    admin = f.MembershipFactory(organisation=organisation, role="admin").user
    account, url = payment_account_connect(
        organisation=organisation, actor=admin, refresh_url=REFRESH, return_url=RETURN
    )
    status, _location, _ = http(url, {"action": "complete"})
    assert status == 303
    account.refresh_from_db()
    assert account.charges_enabled is False  # no webhook reached us
    client.force_login(admin)
    response = client.get(reverse("payments:account_return"))
    assert response.status_code == 302 and response["Location"] == reverse("payments:account_overview")
    account.refresh_from_db()
    assert (account.charges_enabled, account.details_submitted) == (True, True)
