"""Invitations: people invited into an organisation with a role, and tenant companies invited by a
lot owner (the organisation is created on acceptance, with the allocation the owner chose)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation, Role, User


class InvitationKind(models.TextChoices):
    MEMBER = "member", _("Member")
    TENANT = "tenant", _("Tenant company")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    """An e-mail invitation: to join an organisation with a role, or (``TENANT``) to create a
    tenant company that gets spots in the inviting owner's lot.

    Only the SHA-256 of the token is stored; the token itself travels in the e-mail.
    """

    kind = models.CharField(max_length=10, choices=InvitationKind.choices, default=InvitationKind.MEMBER)
    # MEMBER: the organisation to join. TENANT: the lot owner's organisation that invites.
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PARKER)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # TENANT only: the company to create and its allocation in the owner's lot.
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    lot = models.ForeignKey(
        "parking.Lot", on_delete=models.CASCADE, null=True, blank=True, related_name="tenant_invitations"
    )
    spots = models.PositiveIntegerField(_("spots"), null=True, blank=True)
    accepts_visitors = models.BooleanField(_("accepts visitors"), default=False)
    created_organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_kind_display()})"
