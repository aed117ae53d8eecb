"""Payment pages: an organisation's Stripe account and platform staff approval and fees.

Every view: anonymous, wrong role, another organisation, and the right user; and that nothing
changed when access is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from devtools.stripe_test_server import StripeTestServer
from parkgate.core.models import AuditEvent
from parkgate.payments import gateway
from parkgate.payments.models import PaymentAccount
from parkgate.payments.services import payment_account_approve
from tests import factories as f
from tests.conftest import World

OVERVIEW = reverse("payments:account_overview")
CONNECT = reverse("payments:account_connect")
REFRESH = reverse("payments:account_refresh")
STAFF = reverse("payments:staff_accounts")


def _approve_url(account: PaymentAccount) -> str:
    return reverse("payments:staff_account_approve", args=[account.pk])


def _fees_url(account: PaymentAccount) -> str:
    return reverse("payments:staff_account_fees", args=[account.pk])


@pytest.fixture
def tenant_account(world: World) -> PaymentAccount:
    return PaymentAccount.objects.create(organisation=world.tenant, stripe_account_id="acct_tenant")


@pytest.fixture
def staff(db: None) -> Any:
    return f.UserFactory(is_superuser=True, is_staff=True)


def test_overview_needs_a_manager(client: Any, client_for: Any, world: World) -> None:
    assert client.get(OVERVIEW).status_code == 302  # to the login page
    assert client_for(world.parker_user).get(OVERVIEW).status_code == 403
    assert client_for(world.receptionist).get(OVERVIEW).status_code == 403
    response = client_for(world.admin).get(OVERVIEW)
    assert response.status_code == 200
    assert "Connect Stripe" in response.content.decode()


@pytest.mark.parametrize(
    ("charges_enabled", "approved", "badge"),
    [
        (False, False, "Stripe setup not finished"),
        (True, False, "Waiting for approval"),
        (True, True, "Payments active"),
    ],
)
def test_overview_states(
    client_for: Any,
    world: World,
    tenant_account: PaymentAccount,
    staff: Any,
    charges_enabled: bool,
    approved: bool,
    badge: str,
) -> None:
    tenant_account.charges_enabled = charges_enabled
    tenant_account.fee_fixed, tenant_account.fee_percent = 25, Decimal("2.50")
    tenant_account.save()
    if approved:
        payment_account_approve(payment_account=tenant_account, actor=staff)
    page = client_for(world.admin).get(OVERVIEW).content.decode()
    assert badge in page
    assert "acct_tenant" in page
    assert "€0.25 + 2.50%" in page


def test_another_organisation_never_sees_the_account(
    client_for: Any, world: World, tenant_account: PaymentAccount
) -> None:
    page = client_for(world.outsider_admin).get(OVERVIEW).content.decode()
    assert "acct_tenant" not in page
    assert "Connect Stripe" in page


def test_overview_in_french(client_for: Any, world: World, tenant_account: PaymentAccount) -> None:
    tenant_account.fee_fixed, tenant_account.fee_percent = 25, Decimal("2.50")
    tenant_account.save()
    client = client_for(world.admin)
    client.post(reverse("set_language"), {"language": "fr", "next": OVERVIEW})
    page = client.get(OVERVIEW).content.decode()
    assert "Configuration Stripe non terminée" in page
    assert "0,25\u00a0€ + 2,50 %" in page


def test_connect_starts_onboarding_at_stripe(
    client_for: Any, world: World, gateway_server: StripeTestServer
) -> None:
    response = client_for(world.admin).post(CONNECT)
    assert response.status_code == 303
    assert response["Location"].startswith(f"{gateway_server.url}/setup/")
    account = PaymentAccount.objects.get()
    assert account.organisation == world.tenant
    assert (
        AuditEvent.objects.filter(action="payments.account.connected", organisation=world.tenant).count() == 1
    )


def test_connect_is_refused_to_the_wrong_role_and_changes_nothing(
    client_for: Any, world: World, gateway_server: StripeTestServer
) -> None:
    assert client_for(world.parker_user).post(CONNECT).status_code == 403
    assert client_for(world.receptionist).post(CONNECT).status_code == 403
    assert client_for(world.admin).get(CONNECT).status_code == 405
    assert PaymentAccount.objects.count() == 0


def test_connect_by_another_organisation_only_touches_its_own(
    client_for: Any, world: World, tenant_account: PaymentAccount, gateway_server: StripeTestServer
) -> None:
    assert client_for(world.outsider_admin).post(CONNECT).status_code == 303
    assert PaymentAccount.objects.get(organisation=world.outsider).stripe_account_id != "acct_tenant"
    tenant_account.refresh_from_db()
    assert tenant_account.stripe_account_id == "acct_tenant"


def test_stripe_unreachable_is_said_and_changes_nothing(client_for: Any, world: World, settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = gateway.TEST_SERVER_API_KEY
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    response = client_for(world.admin).post(CONNECT, follow=True)
    assert response.redirect_chain == [(OVERVIEW, 302)]
    assert "Stripe could not be reached" in response.content.decode()
    assert PaymentAccount.objects.count() == 0


def test_refresh_makes_a_new_link(client_for: Any, world: World, gateway_server: StripeTestServer) -> None:
    client = client_for(world.admin)
    assert client.get(REFRESH)["Location"] == OVERVIEW  # nothing to refresh yet
    first = client.post(CONNECT)["Location"]
    second = client.get(REFRESH)
    assert second.status_code == 303
    assert second["Location"].startswith(f"{gateway_server.url}/setup/")
    assert second["Location"] != first
    assert PaymentAccount.objects.count() == 1
    assert client_for(world.parker_user).get(REFRESH).status_code == 403


def test_staff_pages_are_for_platform_staff_only(
    client: Any, client_for: Any, world: World, tenant_account: PaymentAccount
) -> None:
    assert client.get(STAFF).status_code == 302
    for user in (world.owner, world.admin, world.outsider_admin):
        member = client_for(user)
        assert member.get(STAFF).status_code == 403
        assert member.post(_approve_url(tenant_account)).status_code == 403
        assert (
            member.post(
                _fees_url(tenant_account),
                {
                    f"a{tenant_account.pk}-fee_fixed": "9.99",
                    f"a{tenant_account.pk}-fee_percent": "50",
                },
            ).status_code
            == 403
        )
    tenant_account.refresh_from_db()
    assert (tenant_account.approved_at, tenant_account.fee_fixed, tenant_account.fee_percent) == (
        None,
        0,
        Decimal("0.00"),
    )
    assert not AuditEvent.objects.filter(action__startswith="payments.account.").exists()
    assert not AuditEvent.objects.filter(action__startswith="portal.payment.").exists()


def test_staff_approve(client_for: Any, staff: Any, tenant_account: PaymentAccount) -> None:
    client = client_for(staff)
    page = client.get(STAFF).content.decode()
    assert "Acme Consulting" in page
    assert "Approve payments" in page
    # Approving asks for the fees on the platform console: this old endpoint approves nothing.
    response = client.post(_approve_url(tenant_account))
    assert response.status_code == 302 and response["Location"] == "/platform/payments/"
    tenant_account.refresh_from_db()
    assert tenant_account.approved_by is None
    assert client.post(reverse("payments:staff_account_approve", args=[999999])).status_code == 404
    assert client.get(_approve_url(tenant_account)).status_code == 405


def test_staff_set_fees(client_for: Any, staff: Any, tenant_account: PaymentAccount) -> None:
    client = client_for(staff)
    prefix = f"a{tenant_account.pk}"
    response = client.post(
        _fees_url(tenant_account), {f"{prefix}-fee_fixed": "0,25", f"{prefix}-fee_percent": "2.5"}
    )
    assert response.status_code == 302
    tenant_account.refresh_from_db()
    assert (tenant_account.fee_fixed, tenant_account.fee_percent) == (25, Decimal("2.50"))
    assert 'value="0.25"' in client.get(STAFF).content.decode()


@pytest.mark.parametrize(
    ("fee_fixed", "fee_percent", "message"),
    [
        ("abc", "2", "Enter an amount such as €0.25."),
        ("0.255", "2", "Enter an amount such as €0.25."),
        ("-1", "2", "Enter an amount such as €0.25."),
        ("0.25", "101", "Ensure this value is less than or equal to 100."),
        ("0.25", "1.234", "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_bad_fees_are_shown_beside_the_field_and_change_nothing(
    client_for: Any,
    staff: Any,
    tenant_account: PaymentAccount,
    fee_fixed: str,
    fee_percent: str,
    message: str,
) -> None:
    prefix = f"a{tenant_account.pk}"
    response = client_for(staff).post(
        _fees_url(tenant_account), {f"{prefix}-fee_fixed": fee_fixed, f"{prefix}-fee_percent": fee_percent}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    tenant_account.refresh_from_db()
    assert (tenant_account.fee_fixed, tenant_account.fee_percent) == (0, Decimal("0.00"))


LEGAL = reverse("payments:account_legal_details")


def test_invoice_details_saved_normalised_and_audited(
    client_for: Any, world: World, tenant_account: PaymentAccount
) -> None:
    page = client_for(world.admin).get(OVERVIEW).content.decode()
    assert "Invoice details" in page and "Not set yet: invoices show only your organisation" in page
    response = client_for(world.admin).post(
        LEGAL,
        {
            "legal_name": " Acme  Consulting SA ",
            "legal_address": "Avenue Louise 54\r\n\r\n1050 Ixelles",
            "vat_number": "be 0999.888.777",
        },
    )
    assert response.status_code == 302
    tenant_account.refresh_from_db()
    assert (tenant_account.legal_name, tenant_account.legal_address, tenant_account.vat_number) == (
        "Acme Consulting SA",
        "Avenue Louise 54\n1050 Ixelles",
        "BE0999888777",
    )
    event = AuditEvent.objects.get(action="payments.account.legal_details_set")
    assert event.organisation_id == world.tenant.pk and event.data["vat_number"] == "BE0999888777"


def test_the_prefix_of_document_numbers_is_saved_in_capitals(
    client_for: Any, world: World, tenant_account: PaymentAccount
) -> None:
    data = {"legal_name": "Acme SA", "legal_address": "Avenue Louise 54", "vat_number": "BE0999888777"}
    response = client_for(world.admin).post(LEGAL, {**data, "document_prefix": " acme2 "})
    assert response.status_code == 302
    tenant_account.refresh_from_db()
    assert tenant_account.document_prefix == "ACME2"
    event = AuditEvent.objects.get(action="payments.account.legal_details_set")
    assert (event.data["document_prefix"], event.data["was_document_prefix"]) == ("ACME2", "")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Use 2 to 12 letters or digits, for example ACME."),
        ("fr", "Utilisez de 2 à 12 lettres ou chiffres, par exemple ACME."),
        ("nl", "Gebruik 2 tot 12 letters of cijfers, bijvoorbeeld ACME."),
    ],
)
def test_a_bad_prefix_of_document_numbers_changes_nothing(
    client_for: Any, world: World, tenant_account: PaymentAccount, language: str, message: str
) -> None:
    client = client_for(world.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    data = {"legal_name": "Acme SA", "legal_address": "Avenue Louise 54", "vat_number": "BE0999888777"}
    response = client.post(LEGAL, {**data, "document_prefix": "AC-ME"})
    assert response.status_code == 400
    assert message in response.content.decode()
    tenant_account.refresh_from_db()
    assert (tenant_account.legal_name, tenant_account.document_prefix) == ("", "")
    assert not AuditEvent.objects.filter(action="payments.account.legal_details_set").exists()


def test_bad_invoice_details_change_nothing(
    client_for: Any, world: World, tenant_account: PaymentAccount
) -> None:
    response = client_for(world.admin).post(
        LEGAL, {"legal_name": "Acme SA", "legal_address": "Somewhere", "vat_number": "0999888777"}
    )
    assert response.status_code == 400
    assert "This is not a VAT number: it starts with the country code" in response.content.decode()
    tenant_account.refresh_from_db()
    assert (tenant_account.legal_name, tenant_account.vat_number) == ("", "")
    assert not AuditEvent.objects.filter(action="payments.account.legal_details_set").exists()


def test_invoice_details_only_for_managers_of_their_own_account(
    client_for: Any, world: World, tenant_account: PaymentAccount
) -> None:
    data = {"legal_name": "Evil SA", "legal_address": "Nowhere 1", "vat_number": "BE0123456789"}
    assert client_for(world.receptionist).post(LEGAL, data).status_code == 403
    assert client_for(world.parker_user).post(LEGAL, data).status_code == 403
    # Another organisation's admin (no account of its own) changes nothing of the tenant's.
    assert client_for(world.outsider_admin).post(LEGAL, data).status_code == 302
    tenant_account.refresh_from_db()
    assert (tenant_account.legal_name, tenant_account.vat_number) == ("", "")
    assert not AuditEvent.objects.filter(action="payments.account.legal_details_set").exists()
