"""Payments: each organisation's Stripe account, and the Stripe events we have handled."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation
from parkgate.parking.models import Currency


class PaymentApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class PaymentApproval(models.Model):
    """Whether an organisation may take payments on its portals.

    The first portal with "authorise payment" asks for it; a platform staff member decides. Every
    request and decision is also in the audit log (``portal.payment.*``, names kept from when the
    record lived in the portal app).
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="payment_approval"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PaymentApprovalStatus.choices,
        default=PaymentApprovalStatus.PENDING,
    )
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        db_table = "portal_paymentapproval"  # the table it had in the portal app (kept, not renamed)
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.status}"


class PaymentAccount(models.Model):
    """An organisation's connected Stripe account (direct charges land there).

    Payments stay off until Stripe reports ``charges_enabled`` AND platform staff approved the
    organisation (the account manager step). That approval is ONE record for the whole platform:
    the organisation's ``PaymentApproval`` (requested by the first portal with "authorise
    payment", decided on the portal approvals page or on the payment accounts page: same record,
    same audit trail). Staff also set the platform fee taken on each payment.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="payment_account"
    )
    stripe_account_id = models.CharField(_("Stripe account"), max_length=64, unique=True)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
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
    # What invoices and receipts print as the seller (the organisation's own legal details).
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    legal_address = models.TextField(_("registered address"), max_length=500, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    # The first part of every document number (ACME-2026-0001); empty: made from the organisation's slug.
    document_prefix = models.CharField(_("document number prefix"), max_length=12, blank=True)
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
    def approval(self) -> PaymentApproval | None:
        """The organisation's payment approval (read fresh: staff may decide at any moment)."""
        return PaymentApproval.objects.filter(organisation_id=self.organisation_id).first()

    @property
    def approved_at(self) -> datetime | None:
        approval = self.approval
        return approval.decided_at if approval and approval.status == PaymentApprovalStatus.APPROVED else None

    @property
    def approved_by(self) -> Any:
        approval = self.approval
        return approval.decided_by if approval and approval.status == PaymentApprovalStatus.APPROVED else None

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


class PaymentAnomalyReason(models.TextChoices):
    ACCOUNT = "account", _("Stripe account")
    SESSION = "session", _("Checkout Session")
    AMOUNT = "amount", _("Amount")
    CURRENCY = "currency", _("Currency")


class PaymentAnomaly(models.Model):
    """A genuine (signed) Stripe event about one of our payments that is not about the money we asked for.

    Another Checkout Session, another connected account, another amount or currency: the booking is
    left as it was, the event is stored (so a redelivery is a no-op) and this row tells platform
    staff what differed. ``expected`` and ``received`` hold only the fields that differ.
    """

    event = models.OneToOneField(StripeEvent, on_delete=models.PROTECT, related_name="anomaly")
    payment = models.ForeignKey("Payment", on_delete=models.PROTECT, related_name="anomalies")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="payment_anomalies")
    reasons = models.JSONField(default=list)  # PaymentAnomalyReason values, in a fixed order
    expected = models.JSONField(default=dict)
    received = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment anomaly")
        verbose_name_plural = _("payment anomalies")

    def __str__(self) -> str:
        return f"anomaly {', '.join(self.reasons)} on payment-{self.payment_id}"


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    OPEN = "open", _("Awaiting payment")
    PROCESSING = "processing", _("Processing")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class Payment(models.Model):
    """What a visitor pays for one booking: created (with its lines) in the same transaction as the
    held reservations, before the Checkout Session that names it."""

    booking = models.OneToOneField("booking.Booking", on_delete=models.PROTECT, related_name="payment")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="payments")
    # Copied: the connected account the payment is made on, even if the organisation reconnects.
    stripe_account_id = models.CharField(_("Stripe account"), max_length=64)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    amount = models.PositiveIntegerField(_("amount"), help_text="Total, VAT included, minor units.")
    vat_amount = models.PositiveIntegerField(_("VAT"))
    platform_fee = models.PositiveIntegerField(_("platform fee"))
    status = models.CharField(
        _("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    application_fee_id = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    invoice_requested = models.BooleanField(_("invoice requested"), default=False)
    # The payer's company, for the invoice (only with invoice_requested).
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    company_address = models.TextField(_("company address"), max_length=500, blank=True)
    company_vat_number = models.CharField(_("company VAT number"), max_length=20, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(platform_fee__lt=models.F("amount")) | models.Q(platform_fee=0),
                name="payment_fee_below_amount",
            )
        ]

    def __str__(self) -> str:
        return f"payment-{self.pk}"

    @property
    def client_reference(self) -> str:
        return f"payment-{self.pk}"


class PaymentLine(models.Model):
    """One paid spot on one day: one reservation."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="lines")
    reservation = models.OneToOneField(
        "access.Reservation", on_delete=models.PROTECT, related_name="payment_line"
    )
    description = models.CharField(max_length=250)
    amount = models.PositiveIntegerField(_("amount"))
    vat_amount = models.PositiveIntegerField(_("VAT"))
    # This spot's part of the payment's platform fee (largest remainder, fixed at creation).
    fee_share = models.PositiveIntegerField(_("platform fee share"))

    class Meta:
        ordering = ["payment", "id"]

    def __str__(self) -> str:
        return self.description


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class FeeRefundStatus(models.TextChoices):
    NONE = "none", _("Nothing to give back")
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Given back")


class Refund(models.Model):
    """The refund of one cancelled spot: its price from the organisation, its fee share from us."""

    line = models.OneToOneField(PaymentLine, on_delete=models.PROTECT, related_name="refund")
    amount = models.PositiveIntegerField(_("amount"))
    fee_share = models.PositiveIntegerField(_("platform fee share"))
    status = models.CharField(
        _("status"), max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    fee_status = models.CharField(
        _("platform fee"), max_length=20, choices=FeeRefundStatus.choices, default=FeeRefundStatus.PENDING
    )
    stripe_fee_refund_id = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")

    def __str__(self) -> str:
        return f"refund of {self.line}"


class StripeTaxRate(models.Model):
    """The inclusive TaxRate created once per connected account and VAT rate (reused by sessions)."""

    stripe_account_id = models.CharField(max_length=64)
    percentage = models.DecimalField(max_digits=5, decimal_places=2)
    tax_rate_id = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stripe_account_id", "percentage"], name="one_tax_rate_per_rate")
        ]

    def __str__(self) -> str:
        return self.tax_rate_id


class DocumentKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    # Cancels a credit note whose refund failed at Stripe: the money did not go back.
    DEBIT_NOTE = "debit_note", _("Debit note")


class DocumentSeries(models.TextChoices):
    """Receipts and invoices share one series (the organisation's sales); credit notes have their own."""

    SALE = "sale", _("Receipts and invoices")
    CREDIT = "credit", _("Credit notes")


class DocumentCounter(models.Model):
    """The last number given in one series of one organisation's billing documents, for one year.

    Locked (``select_for_update``) by the transaction that issues a document and incremented in it:
    a rolled-back issue rolls the number back too, so the numbers of the committed documents of a
    series and year are 1..N with no gap and no duplicate. A new year starts a new row at 1.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="document_counters")
    series = models.CharField(max_length=10, choices=DocumentSeries.choices, default=DocumentSeries.SALE)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "series", "year"], name="one_counter_per_series_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.series} {self.year}: {self.last_number}"


class BillingDocument(models.Model):
    """A receipt, invoice or credit note issued by an organisation for a payment or a refund.

    ``data`` is the snapshot of everything printed (seller, buyer, lines, totals), taken when the
    document is issued: later changes to the organisation's details or the booking never change an
    issued document. ``pdf`` keeps the first rendering, so the payer downloads again exactly the
    PDF they were e-mailed.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="billing_documents")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="documents")
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_note"
    )
    kind = models.CharField(_("document"), max_length=20, choices=DocumentKind.choices)
    # The number is PREFIX-YEAR-0001 (credit notes PREFIX-CN-YEAR-0001): ``number`` counts from 1 in
    # each series and calendar year (in the lot's time zone); ``prefix`` is the organisation's, as
    # it was when the document was issued.
    series = models.CharField(max_length=10, choices=DocumentSeries.choices, default=DocumentSeries.SALE)
    year = models.PositiveSmallIntegerField()
    prefix = models.CharField(max_length=12, blank=True, default="")
    number = models.PositiveIntegerField(_("number"))
    # The receipt or invoice a credit note corrects.
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    issued_at = models.DateTimeField(_("issued at"))
    language = models.CharField(max_length=8)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    total = models.IntegerField(_("total"), help_text="VAT included, minor units; negative on a credit note.")
    vat_total = models.IntegerField(_("VAT"))
    access_token = models.CharField(max_length=64, unique=True)
    data = models.JSONField(default=dict)
    pdf = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organisation", "series", "year", "number"]
        verbose_name = _("billing document")
        verbose_name_plural = _("billing documents")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "series", "year", "number"], name="one_document_per_number"
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(kind__in=["receipt", "invoice"]),
                name="one_receipt_or_invoice_per_payment",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="credit_note", refund__isnull=False, total__lte=0)
                | (~models.Q(kind="credit_note") & models.Q(refund__isnull=True, total__gt=0)),
                name="credit_note_iff_refund_and_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.display_number}"

    @property
    def display_number(self) -> str:
        """``ACME-2026-0001``; a credit note ``ACME-CN-2026-0001``; before the prefix existed, ``000001``."""
        if not self.prefix:
            return f"{self.number:06d}"
        series = "-CN" if self.series == DocumentSeries.CREDIT else ""
        return f"{self.prefix}{series}-{self.year}-{self.number:04d}"

    @property
    def filename(self) -> str:
        return f"{self.kind.replace('_', '-')}-{self.display_number}.pdf"
