"""Payment writes: connecting an organisation's Stripe account, its approval and fees.

Stripe calls never run inside a transaction or a lock: the account is created at Stripe first
(with a deterministic idempotency key, so two clicks create one account), then recorded.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import stripe
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parkgate.accounts.models import Organisation, User
from parkgate.core.audit import audit_log
from parkgate.payments import gateway
from parkgate.payments.documents import vat_number_normalise
from parkgate.payments.models import PaymentAccount, PaymentApproval, PaymentApprovalStatus


def payment_account_connect(
    *, organisation: Organisation, actor: User | None, refresh_url: str, return_url: str
) -> tuple[PaymentAccount, str]:
    """Create (once) the organisation's connected account and return a fresh onboarding link.

    The link is single-use and short-lived: call this again for a new one (``refresh_url``).
    """
    account = PaymentAccount.objects.filter(organisation=organisation).first()
    client = gateway.stripe_client()
    if account is None:
        params: stripe.params.AccountCreateParams = {
            "type": "standard",
            "business_profile": {"name": organisation.name},
            "metadata": {"organisation": str(organisation.pk)},
        }
        if organisation.email:
            params["email"] = organisation.email
        stripe_account = client.v1.accounts.create(
            params=params,
            options={"idempotency_key": gateway.account_idempotency_key(organisation.pk)},
        )
        try:
            with transaction.atomic():
                account = PaymentAccount.objects.create(
                    organisation=organisation,
                    stripe_account_id=stripe_account.id,
                    charges_enabled=bool(stripe_account.charges_enabled),
                    details_submitted=bool(stripe_account.details_submitted),
                )
                audit_log(
                    action="payments.account.connected",
                    organisation=organisation,
                    actor=actor,
                    obj=account,
                    data={"stripe_account": stripe_account.id},
                )
        except IntegrityError:
            # Another request recorded it first (same idempotency key, so the same account).
            account = PaymentAccount.objects.get(organisation=organisation)
    link = client.v1.account_links.create(
        params={
            "account": account.stripe_account_id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        }
    )
    return account, link.url


def payment_account_refresh(*, account: PaymentAccount) -> PaymentAccount:
    """Read the account's state from Stripe now (the owner is back from onboarding, and the
    ``account.updated`` webhook may still be on its way): the page then says what is true."""
    stripe_account = gateway.stripe_client().v1.accounts.retrieve(account.stripe_account_id)
    return payment_account_sync(stripe_account=stripe_account.to_dict()) or account


def payment_account_sync(*, stripe_account: Any) -> PaymentAccount | None:
    """Apply Stripe's view of a connected account (from ``account.updated``). None if unknown."""
    with transaction.atomic():
        account = (
            PaymentAccount.objects.select_for_update()
            .select_related("organisation")
            .filter(stripe_account_id=stripe_account["id"])
            .first()
        )
        if account is None:
            return None
        charges_enabled = bool(stripe_account.get("charges_enabled"))
        details_submitted = bool(stripe_account.get("details_submitted"))
        if (account.charges_enabled, account.details_submitted) != (charges_enabled, details_submitted):
            audit_log(
                action="payments.account.updated",
                organisation=account.organisation,
                actor_label="Stripe",
                obj=account,
                data={
                    "charges_enabled": charges_enabled,
                    "details_submitted": details_submitted,
                    "was_charges_enabled": account.charges_enabled,
                },
            )
            account.charges_enabled = charges_enabled
            account.details_submitted = details_submitted
            account.save(update_fields=["charges_enabled", "details_submitted", "updated_at"])
    return account


def _require_platform_staff(actor: User) -> None:
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Only platform staff can do this."))


def payment_approval_request(*, portal: Any, actor: User | None) -> None:
    """A portal switched on "authorise payment": ask platform staff to approve its organisation.

    Call inside the portal's transaction. Nothing changes while a request is pending or approved;
    a refused organisation asks again.
    """
    approval = PaymentApproval.objects.select_for_update().filter(organisation=portal.organisation).first()
    if approval is not None and approval.status in (
        PaymentApprovalStatus.PENDING,
        PaymentApprovalStatus.APPROVED,
    ):
        return
    now = timezone.now()
    if approval is None:
        approval = PaymentApproval.objects.create(
            organisation=portal.organisation, requested_at=now, requested_by=actor
        )
    else:  # refused before: asking again
        approval.status = PaymentApprovalStatus.PENDING
        approval.requested_at = now
        approval.requested_by = actor
        approval.decided_at = None
        approval.decided_by = None
        approval.save(update_fields=["status", "requested_at", "requested_by", "decided_at", "decided_by"])
    audit_log(
        action="portal.payment.requested",
        organisation=portal.organisation,
        actor=actor,
        obj=approval,
        data={"portal": portal.pk, "portal_name": portal.name},
    )


def payment_approval_decide(
    *, approval: PaymentApproval, approve: bool, note: str, actor: User
) -> PaymentApproval:
    """A platform staff member approves (or refuses) an organisation's payments."""
    if not actor.is_superuser:
        raise PermissionError("only platform staff decide payment approvals")
    with transaction.atomic():
        approval = PaymentApproval.objects.select_for_update().get(pk=approval.pk)
        approval.status = PaymentApprovalStatus.APPROVED if approve else PaymentApprovalStatus.REFUSED
        approval.decided_at = timezone.now()
        approval.decided_by = actor
        approval.note = note
        approval.save(update_fields=["status", "decided_at", "decided_by", "note"])
        audit_log(
            action="portal.payment.approved" if approve else "portal.payment.refused",
            organisation=approval.organisation,
            actor=actor,
            obj=approval,
            data={"note": note},
        )
    return approval


def payment_account_approve(*, payment_account: PaymentAccount, actor: User) -> bool:
    """Platform staff allow the organisation to take payments. False if already approved.

    The one approval is the organisation's ``PaymentApproval`` (the account manager step):
    approving here decides that same record, audited as ``portal.payment.approved``. When
    no portal has asked yet (the organisation connected Stripe first), the record is created.
    """
    _require_platform_staff(actor)
    organisation = payment_account.organisation
    with transaction.atomic():
        approval = PaymentApproval.objects.select_for_update().filter(organisation=organisation).first()
        if approval is not None and approval.status == PaymentApprovalStatus.APPROVED:
            return False
        if approval is None:
            approval = PaymentApproval.objects.create(
                organisation=organisation, requested_at=timezone.now(), requested_by=actor
            )
        payment_approval_decide(approval=approval, approve=True, note="", actor=actor)
    return True


def payment_account_fees_set(
    *, payment_account: PaymentAccount, actor: User, fee_fixed: int, fee_percent: Decimal
) -> None:
    """Platform staff set the fee taken on each of the organisation's payments."""
    _require_platform_staff(actor)
    errors: dict[str, str] = {}
    if not isinstance(fee_fixed, int) or isinstance(fee_fixed, bool) or fee_fixed < 0:
        errors["fee_fixed"] = _("Enter a whole amount of at least 0.")
    if not isinstance(fee_percent, Decimal) or not Decimal(0) <= fee_percent <= Decimal(100):
        errors["fee_percent"] = _("Enter a percentage between 0 and 100.")
    elif fee_percent.as_tuple().exponent < -2:  # type: ignore[operator]
        errors["fee_percent"] = _("Use at most two decimals.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        account = (
            PaymentAccount.objects.select_for_update()
            .select_related("organisation")
            .get(pk=payment_account.pk)
        )
        audit_log(
            action="payments.account.fees_set",
            organisation=account.organisation,
            actor=actor,
            obj=account,
            data={
                "fee_fixed": fee_fixed,
                "fee_percent": str(fee_percent),
                "was_fee_fixed": account.fee_fixed,
                "was_fee_percent": str(account.fee_percent),
            },
        )
        account.fee_fixed = fee_fixed
        account.fee_percent = fee_percent
        account.save(update_fields=["fee_fixed", "fee_percent", "updated_at"])
    payment_account.fee_fixed, payment_account.fee_percent = fee_fixed, fee_percent


DOCUMENT_PREFIX = re.compile(r"^[A-Z0-9]{2,12}$")


def payment_account_legal_details_set(
    *,
    organisation: Organisation,
    actor: User,
    legal_name: str,
    legal_address: str,
    vat_number: str,
    document_prefix: str = "",
) -> PaymentAccount:
    """An organisation admin/owner sets what its invoices print as the seller (audited), and the
    prefix of its document numbers (empty: made from the organisation's slug).

    Documents already issued keep the details and the number they were issued with.
    """
    vat = vat_number_normalise(vat_number)
    prefix = document_prefix.strip().upper()
    errors: dict[str, str] = {}
    if prefix and not DOCUMENT_PREFIX.match(prefix):
        errors["document_prefix"] = _("Use 2 to 12 letters or digits, for example ACME.")
    if not legal_name.strip():
        errors["legal_name"] = _("Enter the organisation's legal name.")
    if not legal_address.strip():
        errors["legal_address"] = _("Enter the organisation's registered address.")
    if vat is None:
        errors["vat_number"] = _(
            "This is not a VAT number: it starts with the country code, for example BE0123456789."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        account = PaymentAccount.objects.select_for_update().get(organisation=organisation)
        audit_log(
            action="payments.account.legal_details_set",
            organisation=organisation,
            actor=actor,
            obj=account,
            data={
                "legal_name": legal_name,
                "vat_number": vat,
                "was_legal_name": account.legal_name,
                "was_vat_number": account.vat_number,
                "document_prefix": prefix,
                "was_document_prefix": account.document_prefix,
            },
        )
        account.legal_name = legal_name.strip()[:200]
        account.legal_address = legal_address.strip()[:500]
        account.vat_number = vat or ""
        account.document_prefix = prefix
        account.save(
            update_fields=["legal_name", "legal_address", "vat_number", "document_prefix", "updated_at"]
        )
    return account
