"""Writes about portals, invitations and payment approval. Each runs in a transaction and is audited."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from parkgate.accounts.models import User
from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError
from parkgate.core.mail import Attachment, email_queue
from parkgate.core.models import OutboundEmail
from parkgate.parking.models import AccessPolicy, PolicyKind
from parkgate.payments.services import payment_approval_request
from parkgate.portal.models import (
    Invitation,
    PortalSlot,
    VisitorPortal,
)
from parkgate.portal.qr import qr_png
from parkgate.portal.selectors import invitation_url
from parkgate.portal.uploads import CleanImage

# 32 bytes = 256 bits from the OS's CSPRNG (the floor is 128 bits); 43 URL-safe characters.
TOKEN_BYTES = 32


class SlugTaken(ParkgateError):
    """Another portal already has this public address (lost a race with the form's check)."""


class Keep:
    """Leave an upload as it is (the default when the form did not touch it)."""


KEEP = Keep()
REMOVE = None  # remove the current upload


@dataclass(frozen=True)
class SlotSpec:
    start_minute: int
    duration_minutes: int
    price: int | None = None  # minor units, per spot


def _store_upload(portal: VisitorPortal, kind: str, upload: CleanImage | Keep | None) -> str | None:
    """Attach a new file (or none) to ``portal``; return the old file's name to delete after commit."""
    if isinstance(upload, Keep):
        return None
    field = getattr(portal, kind)
    old_name = field.name or None
    if upload is None:
        setattr(portal, kind, "")
    else:
        field.save(upload.generated_name(), ContentFile(upload.content), save=False)
    return old_name


def _slots_update(portal: VisitorPortal, slots: Sequence[SlotSpec]) -> None:
    """Keep each slot that stays (same start and duration) with its identity, its price updated in
    place: a visitor with the page open still books the slot they chose. Only slots that went are
    deleted; only new ones are created."""
    wanted = {(s.start_minute, s.duration_minutes): s for s in slots}
    for slot in list(portal.slots.all()):
        spec = wanted.pop((slot.start_minute, slot.duration_minutes), None)
        if spec is None:
            slot.delete()
        elif slot.price != spec.price:
            slot.price = spec.price
            slot.save(update_fields=["price"])
    PortalSlot.objects.bulk_create(
        PortalSlot(
            portal=portal, start_minute=s.start_minute, duration_minutes=s.duration_minutes, price=s.price
        )
        for s in wanted.values()
    )


def portal_save(
    *,
    portal: VisitorPortal,
    policies: Sequence[AccessPolicy],
    slots: Sequence[SlotSpec],
    logo: CleanImage | Keep | None = KEEP,
    banner: CleanImage | Keep | None = KEEP,
    actor: User,
) -> VisitorPortal:
    """Create or update a portal with its policies, slots and uploads (all validated by the form).

    Turning "authorise payment" on asks the platform for the organisation's first approval.
    """
    for policy in policies:
        # The form says why to the user; this guard keeps any other caller honest.
        if (
            policy.organisation_id != portal.organisation_id
            or policy.lot_id != portal.lot_id
            or policy.kind != PolicyKind.VISITOR
        ):
            raise ValueError(
                f"policy {policy.pk} is not a visitor policy of this portal's lot and organisation"
            )
    creating = portal.pk is None
    was_paid = (
        False if creating else VisitorPortal.objects.filter(pk=portal.pk, payment_enabled=True).exists()
    )
    with transaction.atomic():
        if creating:
            portal.created_by = actor
        try:
            with transaction.atomic():
                portal.save()
        except IntegrityError:
            if creating and VisitorPortal.objects.filter(slug=portal.slug).exists():
                raise SlugTaken(portal.slug) from None
            raise
        old_files = [_store_upload(portal, "logo", logo), _store_upload(portal, "banner", banner)]
        if not (isinstance(logo, Keep) and isinstance(banner, Keep)):
            portal.save(update_fields=["logo", "banner"])
        portal.policies.set(policies)
        _slots_update(portal, slots)
        audit_log(
            action="portal.portal.created" if creating else "portal.portal.updated",
            organisation=portal.organisation,
            actor=actor,
            obj=portal,
            data={
                "slug": portal.slug,
                "lot": portal.lot_id,
                "policies": [p.pk for p in policies],
                "slots": [
                    str(PortalSlot(start_minute=s.start_minute, duration_minutes=s.duration_minutes))
                    for s in slots
                ],
                "languages": portal.languages,
                "payment_enabled": portal.payment_enabled,
                "date_restricted": portal.date_restricted,
                "brand_colour": portal.brand_colour,
            },
        )
        if portal.payment_enabled and not was_paid:
            payment_approval_request(portal=portal, actor=actor)
        for name in old_files:
            if name:
                transaction.on_commit(lambda name=name: default_storage.delete(name))  # type: ignore[misc]
    return portal


def invitation_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def invitation_create(
    *,
    portal: VisitorPortal,
    language: str,
    date: date | None = None,
    date_from: date | None = None,
    date_until: date | None = None,
    visitor_name: str = "",
    visitor_email: str = "",
    message: str = "",
    max_bookings: int | None = None,
    send: bool = False,
    attach_qr: bool = False,
    actor: User | None,
    actor_label: str = "",
) -> Invitation:
    """Create an invitation (older ones stay valid) and, when asked, e-mail it to the visitor."""
    with transaction.atomic():
        invitation = Invitation.objects.create(
            portal=portal,
            token=invitation_token(),
            language=language,
            date=date,
            date_from=date_from,
            date_until=date_until,
            visitor_name=visitor_name,
            visitor_email=visitor_email,
            message=message,
            max_bookings=max_bookings,
            created_by=actor,
        )
        audit_log(
            action="portal.invitation.created",
            organisation=portal.organisation,
            actor=actor,
            actor_label=actor_label,
            obj=invitation,
            data={
                "portal": portal.pk,
                "language": language,
                "date": date,
                "date_from": date_from,
                "date_until": date_until,
                "max_bookings": max_bookings,
            },
        )
        if send and visitor_email:
            invitation_send(
                invitation=invitation,
                to=visitor_email,
                attach_qr=attach_qr,
                actor=actor,
                actor_label=actor_label,
            )
    return invitation


def invitation_send(
    *, invitation: Invitation, to: str, attach_qr: bool, actor: User | None, actor_label: str = ""
) -> OutboundEmail:
    """E-mail the invitation in its language, from the organisation's name, replies to its address."""
    portal = invitation.portal
    organisation = portal.organisation
    url = invitation_url(invitation)
    attachments = []
    if attach_qr:
        attachments.append(
            Attachment(
                filename="invitation-qr.png", mimetype="image/png", content=qr_png(url), content_id="qr"
            )
        )
    context: dict[str, Any] = {
        "invitation": invitation,
        "portal": portal,
        "organisation": organisation,
        "url": url,
        "with_qr": attach_qr,
        "brand_colour": portal.brand_colour,
    }
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at is not None:
            raise ValueError("a revoked invitation is not sent")
        context["invitation"] = invitation
        email = email_queue(
            to=[to],
            template="portal/email/invitation",
            context=context,
            language=invitation.language,
            kind="portal.invitation",
            organisation=organisation,
            sender_name=organisation.name,
            reply_to=[organisation.email] if organisation.email else [],
            attachments=attachments,
            obj=invitation,
        )
        invitation.sent_at = timezone.now()
        invitation.sent_to = to
        invitation.save(update_fields=["sent_at", "sent_to"])
        audit_log(
            action="portal.invitation.sent",
            organisation=organisation,
            actor=actor,
            actor_label=actor_label,
            obj=invitation,
            data={"to": to, "qr": attach_qr, "email": str(email.pk)},
        )
    return email


def invitation_self_service(*, portal: VisitorPortal, email: str, language: str) -> Invitation | None:
    """A visitor asks an open portal for an invitation: one booking, e-mailed to the address asked for
    (whoever reads that mailbox may book). None when the portal is closed or the domain not allowed."""
    if not portal.is_active or not portal.open_to_anyone or not portal.accepts_email(email):
        return None
    return invitation_create(
        portal=portal,
        language=language,
        visitor_email=email,
        max_bookings=1,
        send=True,
        actor=None,
        actor_label="visitor (open portal)",
    )


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Its link then shows a polite "no longer valid" page. Revoking twice changes nothing."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("portal").get(pk=invitation.pk)
        if invitation.revoked_at is not None:
            return invitation
        invitation.revoked_at = timezone.now()
        invitation.revoked_by = actor
        invitation.save(update_fields=["revoked_at", "revoked_by"])
        audit_log(
            action="portal.invitation.revoked",
            organisation=invitation.portal.organisation,
            actor=actor,
            obj=invitation,
        )
    return invitation
