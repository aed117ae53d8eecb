"""Users, organisations (tenants) and the memberships that give users a role in them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. Platform staff (``is_superuser``) act as account managers."""

    email = models.EmailField(_("e-mail address"), unique=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Organisation(models.Model):
    """A tenant. Parking owners and the organisations that rent spots from them alike."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    # The organisation's own privacy notice; without one, visitors see the notice Parkgate writes
    # from the organisation's retention periods and contact e-mail (parkgate/privacy).
    privacy_notice_url = models.URLField(_("privacy notice"), blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # A suspended organisation's members cannot use the back office (platform staff decide).
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    # Admins, owners and receptionists must sign in with a second factor (TOTP).
    require_mfa = models.BooleanField(_("require two-factor authentication"), default=False, db_default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def privacy_notice(self) -> str:
        """The address of the privacy notice visitors see: the organisation's own, else Parkgate's for it."""
        return self.privacy_notice_url or reverse("privacy_public:notice", args=[self.slug])

    @property
    def has_privacy_notice(self) -> bool:
        """A notice can be shown: the organisation's own, or Parkgate's, which needs a contact e-mail."""
        return bool(self.privacy_notice_url or self.email)


class Role(models.TextChoices):
    ADMIN = "admin", _("Organisation admin")
    OWNER = "owner", _("Parking owner")
    RECEPTIONIST = "receptionist", _("Receptionist")
    PARKER = "parker", _("Parker")


# Roles allowed to manage an organisation's parking configuration.
MANAGER_ROLES = frozenset({Role.ADMIN, Role.OWNER})
# Roles that assist parkers at the gate (the control room).
DESK_ROLES = frozenset({Role.OWNER, Role.RECEPTIONIST})
# Roles that see an organisation's parkers and reservations.
STAFF_ROLES = frozenset({Role.ADMIN, Role.OWNER, Role.RECEPTIONIST})


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # A deactivated member keeps their history but no longer reaches the organisation.
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_unique_user_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


# Roles that must use a second factor when their organisation requires it.
MFA_ROLES = frozenset({Role.ADMIN, Role.OWNER, Role.RECEPTIONIST})


class OrganisationSSO(models.Model):
    """An organisation's OpenID Connect provider (an allauth ``SocialApp``) and the e-mail domains
    it vouches for: an address of those domains signs in there, and a first sign-in makes the
    membership with ``default_role``."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="sso")
    app = models.OneToOneField("socialaccount.SocialApp", on_delete=models.CASCADE, related_name="+")
    # Lower-case domains, one per line.
    domains = models.TextField(_("e-mail domains"))
    default_role = models.CharField(
        _("role of new members"), max_length=20, choices=Role.choices, default=Role.PARKER
    )

    def __str__(self) -> str:
        return f"{self.organisation} SSO"

    def domain_list(self) -> list[str]:
        return [d for d in self.domains.split() if d]
