"""Visitor portals (branded public booking sites) and the invitations that open them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation
from parkgate.parking.models import AccessPolicy, Lot


class VisitorPortal(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="portals")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="portals")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("public address"), max_length=80, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    date_restricted = models.BooleanField(
        _("by date"),
        default=False,
        help_text=_("Invitations then carry the date; otherwise visitors choose."),
    )
    payment_enabled = models.BooleanField(_("authorise payment"), default=False)
    # Open to anyone with the portal's address: a visitor asks for an invitation by e-mail (the
    # e-mail proves the address), optionally only for addresses of these domains.
    open_to_anyone = models.BooleanField(_("open to anyone with the address"), default=False)
    open_email_domains = models.CharField(_("only for e-mail domains"), max_length=500, blank=True)
    languages = models.JSONField(_("languages"), default=list)
    default_language = models.CharField(_("default language"), max_length=8, default="en")
    logo = models.FileField(_("logo"), upload_to="portal/logos/", blank=True)
    banner = models.FileField(_("banner"), upload_to="portal/banners/", blank=True)
    brand_colour = models.CharField(_("brand colour"), max_length=6, default="1F4E79")
    max_spots_per_booking = models.PositiveSmallIntegerField(
        _("spots per booking"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    policies = models.ManyToManyField(AccessPolicy, related_name="portals", verbose_name=_("access policies"))
    allow_slots = models.BooleanField(_("predefined time slots"), default=True)
    allow_custom_time = models.BooleanField(_("custom time picker"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("visitor portal")
        verbose_name_plural = _("visitor portals")

    def __str__(self) -> str:
        return self.name

    @property
    def open_domains(self) -> list[str]:
        """The e-mail domains allowed to ask for an invitation (empty: any)."""
        words = self.open_email_domains.replace(",", " ").replace(";", " ").split()
        return [w.strip().lstrip("@").lower() for w in words if w.strip().lstrip("@")]

    def accepts_email(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        domains = self.open_domains
        return not domains or any(domain == d or domain.endswith("." + d) for d in domains)

    @property
    def logo_url(self) -> str:
        """Where the logo is served (with headers that stop it running as a page), or ""."""
        return _asset_url(self, "logo")

    @property
    def banner_url(self) -> str:
        return _asset_url(self, "banner")


def _asset_url(portal: VisitorPortal, kind: str) -> str:
    from django.urls import reverse

    field = getattr(portal, kind)
    if not field:
        return ""
    filename = field.name.rsplit("/", 1)[-1]
    return reverse("portal:asset", kwargs={"slug": portal.slug, "kind": kind, "filename": filename})


class PortalSlot(models.Model):
    """A predefined time slot: a start (local time) and a duration (09:00 + 4 h = 09:00-13:00)."""

    portal = models.ForeignKey(VisitorPortal, on_delete=models.CASCADE, related_name="slots")
    start_minute = models.PositiveSmallIntegerField(_("start"), validators=[MaxValueValidator(1439)])
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration"), validators=[MinValueValidator(15), MaxValueValidator(1440)]
    )
    # Optional: the price of this slot per spot, VAT included, in minor units of the policy currency.
    price = models.PositiveIntegerField(_("price"), null=True, blank=True)

    class Meta:
        ordering = ["portal", "start_minute", "duration_minutes"]

    def __str__(self) -> str:
        end = self.start_minute + self.duration_minutes
        return f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d}-{end // 60:02d}:{end % 60:02d}"


class Invitation(models.Model):
    portal = models.ForeignKey(VisitorPortal, on_delete=models.CASCADE, related_name="invitations")
    # At least 128 bits from `secrets`; never derived from ids.
    token = models.CharField(max_length=64, unique=True)
    language = models.CharField(_("language"), max_length=8)
    date = models.DateField(_("date"), null=True, blank=True)
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_until = models.DateField(_("until"), null=True, blank=True)
    visitor_name = models.CharField(_("visitor name"), max_length=200, blank=True)
    visitor_email = models.EmailField(_("visitor e-mail"), blank=True)
    message = models.TextField(_("personal message"), blank=True, max_length=2000)
    max_bookings = models.PositiveSmallIntegerField(
        _("maximum bookings"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_from__isnull=True)
                | models.Q(date_until__isnull=True)
                | models.Q(date_until__gte=models.F("date_from")),
                name="invitation_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.portal} → {self.visitor_name or self.visitor_email or self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
