"""The platform console: staff only, with a second factor; organisations, members, payment approvals
with fees."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from parkgate.accounts.models import Membership, Organisation, Role
from parkgate.backoffice.models import Invitation, InvitationStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.payments.models import PaymentAccount, PaymentApproval, PaymentApprovalStatus
from tests import factories as f
from tests.people.conftest import with_totp

CONSOLE_PAGES = ["/platform/", "/platform/organisations/", "/platform/payments/"]


def _staff_client(staff) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize("url", CONSOLE_PAGES)
def test_staff_without_a_second_factor_are_sent_to_set_it_up(db: None, url: str) -> None:
    staff = f.UserFactory(is_superuser=True, is_staff=True, totp=False)
    response = _staff_client(staff).get(url)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
    # Setting it up is reachable (allauth first asks a force_login()ed session for the password).
    response = _staff_client(staff).get("/accounts/2fa/totp/activate/")
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"


@pytest.mark.parametrize("url", [*CONSOLE_PAGES, "/payments/staff/accounts/", "/office/staff/payments/"])
def test_every_staff_page_answers_and_the_navigation_reaches_it(world, staff, url: str) -> None:  # type: ignore[no-untyped-def]
    response = _staff_client(staff).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    for link in [*CONSOLE_PAGES, "/payments/staff/accounts/", "/office/staff/payments/"]:
        assert f'href="{link}"' in body


@pytest.mark.parametrize("url", CONSOLE_PAGES)
def test_organisation_users_cannot_open_the_console(world, url: str) -> None:  # type: ignore[no-untyped-def]
    with_totp(world.admin)
    client = Client()
    client.force_login(world.admin)
    assert client.get(url).status_code == 403


def test_the_old_approvals_page_no_longer_fails_and_leads_to_the_console(world, staff, pinned_now) -> None:  # type: ignore[no-untyped-def]
    PaymentApproval.objects.create(
        organisation=world.tenant, requested_at=pinned_now, requested_by=world.admin
    )
    client = _staff_client(staff)
    response = client.get("/portals/platform/payments/")
    assert response.status_code == 301 and response["Location"] == "/platform/payments/"
    page = client.get("/platform/payments/")
    assert page.status_code == 200 and "Acme Consulting" in page.content.decode()


def test_staff_create_an_organisation_and_its_admin_is_invited_in_their_language(staff) -> None:  # type: ignore[no-untyped-def]
    client = _staff_client(staff)
    response = client.post(
        "/platform/organisations/",
        {
            "name": "Northwind Parking",
            "email": "hello@northwind.example",
            "admin_email": "Nora@Northwind.example",
            "language": "nl",
        },
    )
    organisation = Organisation.objects.get(name="Northwind Parking")
    assert (
        response.status_code == 302 and response["Location"] == f"/platform/organisations/{organisation.pk}/"
    )
    invitation = Invitation.objects.get(organisation=organisation)
    assert (invitation.email, invitation.role, invitation.language, invitation.status) == (
        "nora@northwind.example",
        Role.ADMIN,
        "nl",
        InvitationStatus.PENDING,
    )
    mail = OutboundEmail.objects.get(to=["nora@northwind.example"])
    assert mail.subject == "U bent uitgenodigd om lid te worden van Northwind Parking op Parkgate"
    assert "/invitations/" in mail.body_text
    assert (
        AuditEvent.objects.filter(action="accounts.organisation.created", organisation=organisation).count()
        == 1
    )


def test_a_bad_organisation_form_changes_nothing(staff) -> None:  # type: ignore[no-untyped-def]
    response = _staff_client(staff).post(
        "/platform/organisations/",
        {"name": "", "admin_email": "not-an-address", "language": "fr"},
        headers={"accept-language": "fr"},
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Organisation.objects.exists() and not Invitation.objects.exists()


def test_search_finds_organisations_by_name_and_member_e_mail(world, staff) -> None:  # type: ignore[no-untyped-def]
    client = _staff_client(staff)
    body = client.get("/platform/organisations/", {"q": "acme"}).content.decode()
    assert "Acme Consulting" in body and "Other Corp" not in body
    body = client.get("/platform/organisations/", {"q": world.outsider_admin.email}).content.decode()
    assert "Other Corp" in body and "Acme Consulting" not in body


def test_a_suspended_organisation_s_members_cannot_use_the_back_office(world, staff) -> None:  # type: ignore[no-untyped-def]
    admin = Client()
    admin.force_login(world.admin)
    assert admin.get("/office/policies/").status_code == 200
    response = _staff_client(staff).post(
        f"/platform/organisations/{world.tenant.pk}/suspend/", {"suspend": "1"}
    )
    assert response.status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.suspended_at is not None
    assert admin.get("/office/policies/").status_code == 403
    assert admin.get("/office/").status_code == 403
    # Other organisations are not affected.
    outsider = Client()
    outsider.force_login(world.outsider_admin)
    assert outsider.get("/office/policies/").status_code == 200
    _staff_client(staff).post(f"/platform/organisations/{world.tenant.pk}/suspend/", {"suspend": "0"})
    assert admin.get("/office/policies/").status_code == 200
    actions = list(
        AuditEvent.objects.filter(
            organisation=world.tenant, action__startswith="accounts.organisation."
        ).values_list("action", flat=True)
    )
    assert sorted(actions) == ["accounts.organisation.resumed", "accounts.organisation.suspended"]


def _account(organisation: Organisation) -> PaymentAccount:
    return PaymentAccount.objects.create(
        organisation=organisation, stripe_account_id=f"acct_{organisation.pk}test", charges_enabled=True
    )


def test_approving_payments_asks_for_the_fees(world, staff, pinned_now) -> None:  # type: ignore[no-untyped-def]
    approval = PaymentApproval.objects.create(
        organisation=world.tenant, requested_at=pinned_now, requested_by=world.admin
    )
    account = _account(world.tenant)
    client = _staff_client(staff)
    # The page asks for the fees: empty fields, no 0.00 + 0 % filled in for staff.
    page = client.get("/platform/payments/").content.decode()
    assert f'name="a{approval.pk}-fee_fixed"' in page and f'name="a{approval.pk}-fee_percent"' in page
    assert f'name="a{approval.pk}-fee_fixed" value=' not in page
    assert "Approve with these fees" in page
    # Without fees, or with half of them: a clear error on each missing field; nothing changed.
    for data in ({}, {f"a{approval.pk}-fee_fixed": "0.30"}, {f"a{approval.pk}-fee_percent": "1.5"}):
        response = client.post(f"/platform/payments/{approval.pk}/", {"decision": "approve", **data})
        assert response.status_code == 400
        body = response.content.decode()
        assert body.count("This field is required.") == 2 - len(data)
        approval.refresh_from_db()
        account.refresh_from_db()
        assert approval.status == PaymentApprovalStatus.PENDING and approval.decided_by is None
        assert (account.fee_fixed, account.fee_percent) == (0, Decimal("0.00"))
        assert not AuditEvent.objects.filter(
            action__in=["payments.account.fees_set", "portal.payment.approved"]
        ).exists()
    # A fee that is not an amount: said in the staff member's language.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    response = client.post(
        f"/platform/payments/{approval.pk}/",
        {"decision": "approve", f"a{approval.pk}-fee_fixed": "trente", f"a{approval.pk}-fee_percent": "1"},
    )
    assert response.status_code == 400
    assert "Saisissez un montant comme" in response.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        f"/platform/payments/{approval.pk}/",
        {
            "decision": "approve",
            f"a{approval.pk}-fee_fixed": "0.30",
            f"a{approval.pk}-fee_percent": "1.5",
            f"a{approval.pk}-note": "contract 2026-11",
        },
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    account.refresh_from_db()
    assert approval.status == PaymentApprovalStatus.APPROVED and approval.decided_by == staff
    assert (account.fee_fixed, account.fee_percent) == (30, Decimal("1.50"))
    assert approval.note == "contract 2026-11"
    assert AuditEvent.objects.filter(action="payments.account.fees_set").count() == 1
    assert AuditEvent.objects.filter(action="portal.payment.approved").count() == 1


def test_approval_waits_for_a_connected_account(world, staff, pinned_now) -> None:  # type: ignore[no-untyped-def]
    approval = PaymentApproval.objects.create(organisation=world.tenant, requested_at=pinned_now)
    response = _staff_client(staff).post(
        f"/platform/payments/{approval.pk}/",
        {"decision": "approve", f"a{approval.pk}-fee_fixed": "0.30", f"a{approval.pk}-fee_percent": "1"},
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == PaymentApprovalStatus.PENDING


def test_refusing_needs_no_fees(world, staff, pinned_now) -> None:  # type: ignore[no-untyped-def]
    approval = PaymentApproval.objects.create(organisation=world.tenant, requested_at=pinned_now)
    response = _staff_client(staff).post(
        f"/platform/payments/{approval.pk}/", {"decision": "refuse", f"a{approval.pk}-note": "no contract"}
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert (approval.status, approval.note) == (PaymentApprovalStatus.REFUSED, "no contract")


def test_the_old_decide_endpoint_no_longer_approves_without_fees(world, staff, pinned_now) -> None:  # type: ignore[no-untyped-def]
    approval = PaymentApproval.objects.create(organisation=world.tenant, requested_at=pinned_now)
    response = _staff_client(staff).post(
        f"/portals/platform/payments/{approval.pk}/", {"decision": "approve"}
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == PaymentApprovalStatus.PENDING


def test_staff_invite_and_withdraw_on_an_organisation(world, staff) -> None:  # type: ignore[no-untyped-def]
    client = _staff_client(staff)
    response = client.post(
        f"/platform/organisations/{world.outsider.pk}/",
        {"email": "new.admin@other.example", "role": "admin", "language": "fr"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new.admin@other.example")
    assert invitation.organisation == world.outsider
    page = client.get(f"/platform/organisations/{world.outsider.pk}/").content.decode()
    assert "new.admin@other.example" in page and world.outsider_admin.email in page
    assert client.post(f"/platform/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    assert Membership.objects.filter(organisation=world.outsider).count() == 2
