"""People services: organisations, invitations, members (keyword-only, in a transaction, audited).

An invitation's token travels only in its e-mail; the database keeps its SHA-256. Accepting it makes
the membership (or, for a tenant company, the organisation, its admin and its allocation) in one
transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from allauth.socialaccount.models import SocialApp
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from parkgate.access.capacity import reservation_cancel
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.accounts.models import Membership, Organisation, OrganisationSSO, Role, User
from parkgate.accounts.services import user_create
from parkgate.backoffice.models import Invitation, InvitationKind, InvitationStatus
from parkgate.core.audit import audit_log
from parkgate.core.mail import email_queue
from parkgate.parking.models import AccessPolicy, Lot, Parker
from parkgate.parking.services import allocation_set, policy_member_remove

INVITATION_DAYS = 14


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_by_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organisation", "lot", "invited_by")
        .filter(token_hash=_hash(token))
        .first()
    )


def invitation_is_open(invitation: Invitation, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return invitation.status == InvitationStatus.PENDING and invitation.expires_at > now


# --- Organisations (platform staff) ----------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organisation"
    slug = base
    while Organisation.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def organisation_create(*, name: str, email: str = "", actor: Any, actor_label: str = "") -> Organisation:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    with transaction.atomic():
        organisation = Organisation.objects.create(name=name, slug=_unique_slug(name), email=email.strip())
        audit_log(
            action="accounts.organisation.created",
            organisation=organisation,
            actor=actor,
            actor_label=actor_label,
            obj=organisation,
        )
    return organisation


def organisation_suspend(*, organisation: Organisation, suspend: bool, actor: Any) -> None:
    """Suspended: its members no longer reach the back office (their sessions stay, their access
    to this organisation does not). Resuming gives it back."""
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if bool(locked.suspended_at) == suspend:
            return
        locked.suspended_at = timezone.now() if suspend else None
        locked.save(update_fields=["suspended_at"])
        audit_log(
            action="accounts.organisation.suspended" if suspend else "accounts.organisation.resumed",
            organisation=locked,
            actor=actor,
            obj=locked,
        )
    organisation.suspended_at = locked.suspended_at


def organisation_require_mfa(*, organisation: Organisation, required: bool, actor: Any) -> None:
    with transaction.atomic():
        Organisation.objects.filter(pk=organisation.pk).update(require_mfa=required)
        audit_log(
            action="accounts.organisation.mfa_required" if required else "accounts.organisation.mfa_optional",
            organisation=organisation,
            actor=actor,
            obj=organisation,
        )
    organisation.require_mfa = required


# --- Invitations ------------------------------------------------------------------------------


def _send(invitation: Invitation, token: str) -> None:
    url = settings.SITE_URL + reverse("invitation_accept", kwargs={"token": token})
    template = (
        "backoffice/email/tenant_invitation"
        if invitation.kind == InvitationKind.TENANT
        else "backoffice/email/member_invitation"
    )
    email_queue(
        to=[invitation.email],
        template=template,
        context={
            "invitation": invitation,
            "organisation_name": invitation.organisation.name,
            "role": Role(invitation.role).label,  # lazy: translated in the invitee's language
            "url": url,
            "expires_at": invitation.expires_at,
            "lot_name": invitation.lot.name if invitation.lot else "",
        },
        language=invitation.language,
        kind="invitation",
        organisation=invitation.organisation,
        obj=invitation,
    )


def _validate_invitee(email: str, organisation: Organisation | None) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    if (
        organisation is not None
        and Membership.objects.filter(
            organisation=organisation, user__email__iexact=email, is_active=True
        ).exists()
    ):
        raise ValidationError({"email": _("This person is already a member of the organisation.")})
    return email


def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    language: str,
    actor: Any,
    now: datetime | None = None,
) -> Invitation:
    """Invite someone to join ``organisation`` with ``role``; the e-mail is in ``language``."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose a language.")})
    now = now or timezone.now()
    with transaction.atomic():
        email = _validate_invitee(email, organisation)
        # One open invitation per address and organisation: a new one replaces the old.
        Invitation.objects.filter(
            organisation=organisation,
            kind=InvitationKind.MEMBER,
            email__iexact=email,
            status=InvitationStatus.PENDING,
        ).update(status=InvitationStatus.REVOKED, decided_at=now)
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            kind=InvitationKind.MEMBER,
            organisation=organisation,
            email=email,
            role=role,
            language=language,
            token_hash=_hash(token),
            invited_by=actor if getattr(actor, "is_authenticated", False) else None,
            sent_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
        audit_log(
            action="accounts.invitation.created",
            organisation=organisation,
            actor=actor,
            obj=invitation,
            data={"email": email, "role": role, "language": language},
        )
        _send(invitation, token)
    return invitation


def tenant_invitation_create(
    *,
    lot: Lot,
    company_name: str,
    email: str,
    spots: int,
    accepts_visitors: bool,
    language: str,
    actor: Any,
    now: datetime | None = None,
) -> Invitation:
    """A lot owner invites a tenant company by its admin's e-mail; the organisation and its
    allocation are made when the admin accepts."""
    now = now or timezone.now()
    company_name = company_name.strip()
    errors: dict[str, str] = {}
    if not company_name:
        errors["company_name"] = _("Enter the company's name.")
    if spots < 1 or spots > lot.total_spots:
        errors["spots"] = _("Enter between 1 and %(total)d spots.") % {"total": lot.total_spots}
    if language not in dict(settings.LANGUAGES):
        errors["language"] = _("Choose a language.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        email = _validate_invitee(email, None)
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            kind=InvitationKind.TENANT,
            organisation=lot.owner,
            email=email,
            role=Role.ADMIN,
            language=language,
            token_hash=_hash(token),
            invited_by=actor,
            sent_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
            company_name=company_name,
            lot=lot,
            spots=spots,
            accepts_visitors=accepts_visitors,
        )
        audit_log(
            action="accounts.tenant_invitation.created",
            organisation=lot.owner,
            actor=actor,
            obj=invitation,
            data={"email": email, "company": company_name, "lot": lot.pk, "spots": spots},
        )
        _send(invitation, token)
    return invitation


def invitation_resend(*, invitation: Invitation, actor: Any, now: datetime | None = None) -> None:
    """A fresh link (the old one stops working) and a fresh expiry."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("organisation", "lot")
            .get(pk=invitation.pk)
        )
        if locked.status != InvitationStatus.PENDING:
            raise ValidationError(_("This invitation is no longer open."))
        token = secrets.token_urlsafe(32)
        locked.token_hash = _hash(token)
        locked.sent_at = now
        locked.expires_at = now + timedelta(days=INVITATION_DAYS)
        locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
        audit_log(
            action="accounts.invitation.resent", organisation=locked.organisation, actor=actor, obj=locked
        )
        _send(locked, token)


def invitation_revoke(*, invitation: Invitation, actor: Any, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != InvitationStatus.PENDING:
            raise ValidationError(_("This invitation is no longer open."))
        locked.status = InvitationStatus.REVOKED
        locked.decided_at = now
        locked.save(update_fields=["status", "decided_at"])
        audit_log(
            action="accounts.invitation.revoked", organisation=locked.organisation_id, actor=actor, obj=locked
        )


@dataclass(frozen=True)
class Accepted:
    user: User
    membership: Membership
    created_user: bool


def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
    now: datetime | None = None,
) -> Accepted:
    """Accept: with ``user`` (already signed in with the invited address) or by creating the
    account with ``password``. A tenant invitation creates the company and its allocation."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("organisation", "lot")
            .get(pk=invitation.pk)
        )
        if not invitation_is_open(locked, now):
            raise ValidationError(_("This invitation has expired or was withdrawn. Ask for a new one."))
        created_user = False
        if user is None:
            user = user_create(
                email=locked.email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                language=locked.language,
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            created_user = True
        elif user.email.lower() != locked.email.lower():
            raise ValidationError(_("This invitation is for another e-mail address."))
        if locked.kind == InvitationKind.TENANT:
            assert locked.lot is not None and locked.spots is not None
            organisation = organisation_create(
                name=locked.company_name, email=locked.email, actor=user, actor_label="invitation"
            )
            allocation_set(
                lot=locked.lot,
                organisation=organisation,
                spots=locked.spots,
                accepts_visitors=locked.accepts_visitors,
                actor=user,
            )
            locked.created_organisation = organisation
        else:
            organisation = locked.organisation
        membership, _created = Membership.objects.update_or_create(
            user=user,
            organisation=organisation,
            defaults={"role": locked.role, "is_active": True, "deactivated_at": None},
        )
        locked.status = InvitationStatus.ACCEPTED
        locked.decided_at = now
        locked.accepted_by = user
        locked.save(update_fields=["status", "decided_at", "accepted_by", "created_organisation"])
        audit_log(
            action="accounts.invitation.accepted",
            organisation=organisation,
            actor=user,
            obj=locked,
            data={"role": locked.role, "kind": locked.kind},
        )
        if organisation.pk != locked.organisation_id:
            audit_log(
                action="accounts.tenant_invitation.accepted",
                organisation=locked.organisation,
                actor=user,
                obj=locked,
                data={"organisation": organisation.pk, "spots": locked.spots},
            )
    return Accepted(user=user, membership=membership, created_user=created_user)


# --- Members ----------------------------------------------------------------------------------


def _other_active_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(organisation_id=membership.organisation_id, role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_role_change(*, membership: Membership, role: str, actor: Any) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == role:
            return
        if locked.role == Role.ADMIN and not _other_active_admins(locked):
            raise ValidationError(_("An organisation keeps at least one active admin."))
        audit_log(
            action="accounts.membership.role_changed",
            organisation=locked.organisation_id,
            actor=actor,
            obj=locked,
            data={"from": locked.role, "to": role, "user": locked.user_id},
        )
        locked.role = role
        locked.save(update_fields=["role"])
    membership.role = role


def membership_deactivate(*, membership: Membership, actor: Any, now: datetime | None = None) -> int:
    """The member stops reaching the organisation at once: their sessions end, their parker
    profiles leave every access policy and their coming reservations (keypad codes) are cancelled.

    Returns how many reservations were cancelled.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("user", "organisation")
            .get(pk=membership.pk)
        )
        if not locked.is_active:
            return 0
        if locked.role == Role.ADMIN and not _other_active_admins(locked):
            raise ValidationError(_("An organisation keeps at least one active admin."))
        locked.is_active = False
        locked.deactivated_at = now
        locked.save(update_fields=["is_active", "deactivated_at"])
        parkers = list(
            Parker.objects.filter(managed_by=locked.organisation, email__iexact=locked.user.email).exclude(
                email=""
            )
        )
        policies_left = 0
        for parker in parkers:
            for policy in AccessPolicy.objects.filter(members=parker):
                policy_member_remove(policy=policy, parker=parker, actor=actor)
                policies_left += 1
        cancelled = 0
        for reservation in Reservation.objects.filter(
            parker__in=parkers,
            status__in=[ReservationStatus.CONFIRMED, ReservationStatus.HELD],
            end__gt=now,
        ).order_by("lot_id", "start", "pk"):  # each cancellation locks its lot: always in one order
            if reservation_cancel(reservation=reservation, actor=actor, allow_started=True, now=now):
                cancelled += 1
        audit_log(
            action="accounts.membership.deactivated",
            organisation=locked.organisation,
            actor=actor,
            obj=locked,
            data={
                "user": locked.user_id,
                "email": locked.user.email,
                "policies_left": policies_left,
                "reservations_cancelled": cancelled,
            },
        )
        # Database sessions: ending them is part of this transaction (rolled back with it).
        _end_sessions(locked.user)
    return cancelled


def _end_sessions(user: User) -> None:
    for session in UserSession.objects.filter(user=user):
        session.end()


def membership_reactivate(*, membership: Membership, actor: Any) -> None:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.is_active:
            return
        locked.is_active = True
        locked.deactivated_at = None
        locked.save(update_fields=["is_active", "deactivated_at"])
        audit_log(
            action="accounts.membership.reactivated",
            organisation=locked.organisation_id,
            actor=actor,
            obj=locked,
        )


def fee_percent_text(value: Decimal) -> str:
    return f"{value:.2f}"


# --- Single sign-on ---------------------------------------------------------------------------

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


def sso_configure(
    *,
    organisation: Organisation,
    issuer: str,
    client_id: str,
    secret: str,
    domains: str,
    default_role: str,
    actor: Any,
) -> OrganisationSSO:
    """Create or change the organisation's OpenID Connect provider and the domains it covers.

    An empty ``secret`` on a change keeps the stored one."""
    wanted = sorted({d.strip().lower().lstrip("@") for d in re.split(r"[\s,;]+", domains) if d.strip()})
    errors: dict[str, str] = {}
    issuer = issuer.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", issuer):
        errors["issuer"] = _("Enter the issuer's address, such as https://login.example.com.")
    if not client_id.strip():
        errors["client_id"] = _("Enter the client id.")
    if not wanted or not all(_DOMAIN.match(d) for d in wanted):
        errors["domains"] = _("Enter one or more domains, such as example.com.")
    if default_role not in Role.values:
        errors["default_role"] = _("Choose a role.")
    with transaction.atomic():
        current = (
            OrganisationSSO.objects.select_for_update()
            .select_related("app")
            .filter(organisation=organisation)
            .first()
        )
        if current is None and not secret:
            errors["secret"] = _("Enter the client secret.")
        taken = [
            d
            for other in OrganisationSSO.objects.exclude(organisation=organisation)
            for d in other.domain_list()
            if d in wanted
        ]
        if taken:
            errors["domains"] = _("Another organisation already signs in %(domains)s.") % {
                "domains": ", ".join(taken)
            }
        if errors:
            raise ValidationError(errors)
        app = (
            current.app
            if current
            else SocialApp(provider="openid_connect", provider_id=f"org-{organisation.slug}")
        )
        app.name = organisation.name
        app.client_id = client_id.strip()
        if secret:
            app.secret = secret
        app.settings = {"server_url": issuer, "oauth_pkce_enabled": True}
        app.save()
        if current is None:
            current = OrganisationSSO(organisation=organisation, app=app)
        current.domains = "\n".join(wanted)
        current.default_role = default_role
        current.save()
        audit_log(
            action="accounts.sso.configured",
            organisation=organisation,
            actor=actor,
            obj=current,
            data={
                "issuer": issuer,
                "client_id": app.client_id,
                "domains": wanted,
                "default_role": default_role,
            },
        )
    return current
