"""An organisation's members page (its admins), invitations and their acceptance, deactivation,
the organisation's two-factor requirement, and tenant companies invited by a lot owner."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from parkgate.access.models import ReservationStatus
from parkgate.accounts.models import Membership, Organisation, Role, User
from parkgate.backoffice.models import Invitation, InvitationKind, InvitationStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.parking.models import Allocation
from tests import factories as f
from tests.factories import PASSWORD
from tests.people.conftest import with_totp

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_cache(db: None) -> None:
    cache.clear()


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link(email: OutboundEmail) -> str:
    found = re.search(r"http://testserver(/invitations/[^/\s]+/)", email.body_text)
    assert found
    return found.group(1)


def _invite(
    world, email: str = "rita@acme.example", role: str = "receptionist", language: str = "fr"
) -> Invitation:  # type: ignore[no-untyped-def]
    response = _as(world.admin).post("/office/members/", {"email": email, "role": role, "language": language})
    assert response.status_code == 302
    return Invitation.objects.get(email=email, status=InvitationStatus.PENDING)


def test_admin_invites_in_the_invitee_s_language_and_the_invitee_lands_on_their_home(world) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(world, role="receptionist", language="fr")
    assert (invitation.organisation, invitation.role, invitation.invited_by) == (
        world.tenant,
        Role.RECEPTIONIST,
        world.admin,
    )
    mail = OutboundEmail.objects.get(to=["rita@acme.example"])
    assert mail.subject == "Vous êtes invité à rejoindre Acme Consulting sur Parkgate"
    assert "Acme Consulting vous invite à rejoindre Parkgate en tant que Réceptionniste." in mail.body_text
    link = _link(mail)
    visitor = Client()
    assert visitor.get(link).status_code == 200
    response = visitor.post(
        link,
        {
            "first_name": "Rita",
            "last_name": "Desk",
            "password1": "a-long-desk-passphrase",
            "password2": "a-long-desk-passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/control-room/"
    user = User.objects.get(email="rita@acme.example")
    assert (user.first_name, user.language) == ("Rita", "fr")
    assert Membership.objects.get(user=user).role == Role.RECEPTIONIST
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.accepted_by == user
    # The link works once; the new account signs in by e-mail.
    assert Client().get(link).status_code == 404
    assert (
        Client()
        .post("/accounts/login/", {"login": "rita@acme.example", "password": "a-long-desk-passphrase"})
        .status_code
        == 302
    )


@pytest.mark.parametrize(("role", "home"), [("admin", "/office/"), ("owner", "/office/"), ("parker", "/me/")])
def test_each_role_lands_on_its_home(world, role: str, home: str) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(world, email=f"{role}@new.example", role=role, language="en")
    link = _link(OutboundEmail.objects.get(to=[invitation.email]))
    response = Client().post(
        link,
        {
            "first_name": "A",
            "last_name": "B",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response["Location"] == home


def test_a_weak_or_mismatched_password_creates_nothing(world) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(world)
    link = _link(OutboundEmail.objects.get(to=[invitation.email]))
    response = Client().post(
        link, {"first_name": "R", "last_name": "D", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 400
    response = Client().post(
        link,
        {
            "first_name": "R",
            "last_name": "D",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-2",
        },
    )
    assert response.status_code == 400 and "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(email=invitation.email).exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_resend_replaces_the_link_and_revoke_closes_it(world) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(world)
    first = _link(OutboundEmail.objects.get(to=[invitation.email]))
    assert _as(world.admin).post(f"/office/invitations/{invitation.pk}/resend/").status_code == 302
    mails = OutboundEmail.objects.filter(to=[invitation.email]).order_by("created_at", "id")
    assert mails.count() == 2
    second = _link(mails.last())
    assert second != first
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert _as(world.admin).post(f"/office/invitations/{invitation.pk}/revoke/").status_code == 302
    assert Client().get(second).status_code == 404
    actions = sorted(
        AuditEvent.objects.filter(
            object_id=str(invitation.pk), action__startswith="accounts.invitation"
        ).values_list("action", flat=True)
    )
    assert actions == [
        "accounts.invitation.created",
        "accounts.invitation.resent",
        "accounts.invitation.revoked",
    ]


def test_an_invitation_expires_after_14_days(world) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        invitation = _invite(world)
        link = _link(OutboundEmail.objects.get(to=[invitation.email]))
        traveller.move_to(NOW + timedelta(days=13, hours=23))
        assert Client().get(link).status_code == 200
        traveller.move_to(NOW + timedelta(days=14, seconds=1))
        assert Client().get(link).status_code == 404


def test_an_existing_user_signs_in_then_accepts(world) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(world, email=world.outsider_admin.email, role="parker")
    link = _link(OutboundEmail.objects.get(to=[invitation.email]))
    anonymous = Client().get(link)
    assert "sign in, then open this link again" in anonymous.content.decode()
    response = _as(world.outsider_admin).post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user=world.outsider_admin, organisation=world.tenant).role == Role.PARKER
    # Someone else signed in cannot take it.
    other = _invite(world, email="third@acme.example", role="parker")
    link = _link(OutboundEmail.objects.get(to=["third@acme.example"]))
    assert _as(world.owner).post(link).status_code == 200
    other.refresh_from_db()
    assert other.status == InvitationStatus.PENDING
    assert not Membership.objects.filter(user=world.owner, organisation=world.tenant).exists()


def test_change_role_and_the_last_admin_stays(world) -> None:  # type: ignore[no-untyped-def]
    parker = Membership.objects.get(user=world.parker_user, organisation=world.tenant)
    client = _as(world.admin)
    assert (
        client.post(f"/office/members/{parker.pk}/role/", {f"m{parker.pk}-role": "receptionist"}).status_code
        == 302
    )
    parker.refresh_from_db()
    assert parker.role == Role.RECEPTIONIST
    own = Membership.objects.get(user=world.admin, organisation=world.tenant)
    client.post(f"/office/members/{own.pk}/role/", {f"m{own.pk}-role": "parker"})
    own.refresh_from_db()
    assert own.role == Role.ADMIN
    event = AuditEvent.objects.get(action="accounts.membership.role_changed")
    assert event.data == {"from": "parker", "to": "receptionist", "user": world.parker_user.pk}


def test_deactivating_a_member_ends_sessions_access_and_keypad_codes_at_once(world) -> None:  # type: ignore[no-untyped-def]
    user = world.parker_user
    parker = f.ParkerFactory(managed_by=world.tenant, organisation=world.tenant, email=user.email)
    world.member_policy.members.add(parker)
    later = f.ReservationFactory(parker=parker, policy=world.visitor_policy, start=NOW + timedelta(days=1))
    past = f.ReservationFactory(parker=parker, policy=world.visitor_policy, start=NOW - timedelta(days=2))
    someone_else = f.ReservationFactory(policy=world.visitor_policy, start=NOW + timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        phone = Client()
        assert phone.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
        assert phone.get("/office/me/").status_code == 200
        membership = Membership.objects.get(user=user, organisation=world.tenant)
        assert _as(world.admin).post(f"/office/members/{membership.pk}/deactivate/").status_code == 302
        assert phone.get("/office/me/").status_code == 302  # signed out
    membership.refresh_from_db()
    assert membership.is_active is False
    assert not world.member_policy.members.filter(pk=parker.pk).exists()
    later.refresh_from_db()
    past.refresh_from_db()
    someone_else.refresh_from_db()
    assert later.status == ReservationStatus.CANCELLED
    assert past.status == ReservationStatus.CONFIRMED and someone_else.status == ReservationStatus.CONFIRMED
    event = AuditEvent.objects.get(action="accounts.membership.deactivated")
    assert (
        event.organisation,
        event.actor,
        event.data["reservations_cancelled"],
        event.data["policies_left"],
    ) == (world.tenant, world.admin, 1, 1)
    # Signing in again is refused (no other active membership): no session, no access.
    again = Client()
    response = again.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/inactive/"
    assert again.get("/office/me/").status_code == 302


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/office/members/{m}/role/"),
        ("post", "/office/members/{m}/deactivate/"),
        ("post", "/office/members/{m}/reactivate/"),
        ("post", "/office/invitations/{i}/resend/"),
        ("post", "/office/invitations/{i}/revoke/"),
    ],
)
def test_another_organisation_s_admin_gets_404_and_changes_nothing(world, method: str, url: str) -> None:  # type: ignore[no-untyped-def]
    invitation = _invite(world)
    membership = Membership.objects.get(user=world.parker_user, organisation=world.tenant)
    sent = OutboundEmail.objects.count()
    response = getattr(_as(world.outsider_admin), method)(
        url.format(m=membership.pk, i=invitation.pk), {f"m{membership.pk}-role": "admin"}
    )
    assert response.status_code == 404
    membership.refresh_from_db()
    invitation.refresh_from_db()
    assert (membership.role, membership.is_active) == (Role.PARKER, True)
    assert invitation.status == InvitationStatus.PENDING and OutboundEmail.objects.count() == sent


@pytest.mark.parametrize("who", ["parker_user", "owner", "receptionist"])
def test_only_admins_manage_members(world, who: str) -> None:  # type: ignore[no-untyped-def]
    client = _as(getattr(world, who))
    assert client.get("/office/members/").status_code == 403
    assert (
        client.post(
            "/office/members/", {"email": "x@example.com", "role": "admin", "language": "en"}
        ).status_code
        == 403
    )
    assert not Invitation.objects.exists()


def test_the_members_page_lists_only_this_organisation(world) -> None:  # type: ignore[no-untyped-def]
    body = _as(world.admin).get("/office/members/").content.decode()
    assert world.parker_user.email in body and world.outsider_admin.email not in body
    assert 'href="/office/members/"' in body  # in the navigation


def test_an_organisation_can_require_two_factor_for_its_staff_roles(world) -> None:  # type: ignore[no-untyped-def]
    assert _as(world.admin).post("/office/members/two-factor/", {"require_mfa": "on"}).status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.require_mfa is True
    response = _as(world.admin).get("/office/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
    assert _as(world.parker_user).get("/office/me/").status_code == 200  # parkers are not asked
    assert _as(world.owner).get("/office/").status_code == 200  # another organisation
    with_totp(world.admin)
    assert _as(world.admin).get("/office/").status_code == 200


# --- Tenant companies -------------------------------------------------------------------------


def test_a_lot_owner_lets_a_tenant_company_in(world) -> None:  # type: ignore[no-untyped-def]
    response = _as(world.owner).post(
        "/office/tenants/",
        {
            "lot": world.lot.pk,
            "company_name": "Globex",
            "email": "boss@globex.example",
            "spots": "12",
            "accepts_visitors": "on",
            "language": "nl",
        },
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(kind=InvitationKind.TENANT)
    assert (invitation.organisation, invitation.lot, invitation.spots) == (world.owner_org, world.lot, 12)
    assert not Organisation.objects.filter(name="Globex").exists()
    mail = OutboundEmail.objects.get(to=["boss@globex.example"])
    assert mail.subject == "Brussels Parking nodigt uw bedrijf uit om te parkeren via Parkgate"
    response = Client().post(
        _link(mail),
        {
            "first_name": "Bo",
            "last_name": "Ss",
            "password1": "globex-passphrase-1",
            "password2": "globex-passphrase-1",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/office/"
    globex = Organisation.objects.get(name="Globex")
    allocation = Allocation.objects.get(lot=world.lot, organisation=globex)
    assert (allocation.spots, allocation.accepts_visitors) == (12, True)
    assert Membership.objects.get(organisation=globex).user.email == "boss@globex.example"
    assert Membership.objects.get(organisation=globex).role == Role.ADMIN
    page = _as(world.owner).get("/office/tenants/").content.decode()
    assert "Globex" in page


def test_a_tenant_company_over_the_free_spots_is_refused_at_acceptance_and_nothing_is_made(world) -> None:  # type: ignore[no-untyped-def]
    _as(world.owner).post(
        "/office/tenants/",
        {
            "lot": world.lot.pk,
            "company_name": "Initech",
            "email": "peter@initech.example",
            "spots": "100",
            "language": "en",
        },
    )
    link = _link(OutboundEmail.objects.get(to=["peter@initech.example"]))
    response = Client().post(
        link,
        {
            "first_name": "P",
            "last_name": "G",
            "password1": "initech-passphrase-1",
            "password2": "initech-passphrase-1",
        },
    )
    assert response.status_code == 400
    assert "Only 80 of the lot&#x27;s 120 spots are not allocated yet." in response.content.decode()
    assert not Organisation.objects.filter(name="Initech").exists()
    assert not User.objects.filter(email="peter@initech.example").exists()


def test_tenant_invitations_are_scoped_to_the_lot_owner(world) -> None:  # type: ignore[no-untyped-def]
    # A tenant cannot invite into a lot it does not own (the lot is not offered: form error).
    response = _as(world.admin).post(
        "/office/tenants/",
        {"lot": world.lot.pk, "company_name": "X", "email": "x@x.example", "spots": "1", "language": "en"},
    )
    assert response.status_code == 400 and not Invitation.objects.exists()
    _as(world.owner).post(
        "/office/tenants/",
        {
            "lot": world.lot.pk,
            "company_name": "Globex",
            "email": "boss@globex.example",
            "spots": "5",
            "language": "en",
        },
    )
    invitation = Invitation.objects.get()
    for url in (
        f"/office/invitations/{invitation.pk}/revoke/",
        f"/office/invitations/{invitation.pk}/resend/",
    ):
        assert _as(world.outsider_owner).post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert "Globex" not in _as(world.outsider_owner).get("/office/tenants/").content.decode()
