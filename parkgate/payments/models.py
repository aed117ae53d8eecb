"""Payments: each organisation's Stripe account, and the Stripe events we have handled."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation
from parkgate.parking.models import Currency


class PaymentAccount(models.Model):
    """An organisation's connected Stripe account (direct charges land there).

    Payments stay off until Stripe reports ``charges_enabled`` AND platform staff approved the
    organisation (the account manager step). Staff also set the platform fee taken on each payment.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="payment_account"
    )
    stripe_account_id = models.CharField(_("Stripe account"), max_length=64, unique=True)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Platform fee on each payment: fixed part in minor units of ``currency`` + a percentage (half up).
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.EUR)
    fee_fixed = models.PositiveIntegerField(_("fixed fee"), default=0)
    fee_percent = models.DecimalField(
        _("fee percentage"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment account")
        verbose_name_plural = _("payment accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_percent__gte=0) & models.Q(fee_percent__lte=100),
                name="payment_account_fee_percent_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.stripe_account_id})"

    @property
    def can_take_payments(self) -> bool:
        return self.charges_enabled and self.approved_at is not None


class StripeEvent(models.Model):
    """A Stripe event we handled. Stored in the same transaction as its effect: the unique
    ``event_id`` makes a redelivered event a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # The connected account the event is about; empty for the platform's own events.
    account = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["type", "received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
