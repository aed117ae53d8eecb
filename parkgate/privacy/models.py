"""How long an organisation keeps the personal data of people who never signed up.

One row per organisation that chose its own periods; without a row the platform defaults apply
(settings ``PRIVACY_*``: 30 days for visitors, 28 days for plate reads, as regional camera guidance
asks). Accounting records are kept for ``PRIVACY_ACCOUNTING_YEARS`` whatever an organisation sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation

MAX_DAYS = 365


class RetentionPolicy(models.Model):
    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="retention")
    visitor_days = models.PositiveSmallIntegerField(
        _("visitors' personal data (days after the visit)"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text=_("Names, e-mail addresses, plates, keypad codes and links of visitors."),
    )
    access_event_days = models.PositiveSmallIntegerField(
        _("plates and people in access events (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text=_("Camera reads and gate attempts keep their facts; the plate and the person go."),
    )
    email_days = models.PositiveSmallIntegerField(
        _("sent e-mails (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text=_("The text of e-mails sent on the organisation's behalf."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("retention policy")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.visitor_days}/{self.access_event_days}/{self.email_days}"


@dataclass(frozen=True)
class Periods:
    """The periods in force for one organisation (its own, else the platform's)."""

    visitor_days: int
    access_event_days: int
    email_days: int


def platform_periods() -> Periods:
    return Periods(
        visitor_days=settings.PRIVACY_VISITOR_DAYS,
        access_event_days=settings.PRIVACY_ACCESS_EVENT_DAYS,
        email_days=settings.PRIVACY_EMAIL_DAYS,
    )


def periods_for(organisation_id: int | None, policies: dict[int, RetentionPolicy] | None = None) -> Periods:
    if organisation_id is None:
        policy = None
    elif policies is None:
        policy = RetentionPolicy.objects.filter(organisation_id=organisation_id).first()
    else:
        policy = policies.get(organisation_id)
    if policy is None:
        return platform_periods()
    return Periods(
        visitor_days=policy.visitor_days,
        access_event_days=policy.access_event_days,
        email_days=policy.email_days,
    )


class ErasureRequest(models.Model):
    """A visitor asked, from their confirmation page, to have their data erased once the visit is over.

    The retention job erases the booking's visitors as soon as every reservation of the booking has
    ended (instead of waiting for the visitor period), then marks the request done.
    """

    booking = models.OneToOneField(
        "booking.Booking", on_delete=models.CASCADE, related_name="erasure_request"
    )
    requested_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"erasure of booking {self.booking_id}"
