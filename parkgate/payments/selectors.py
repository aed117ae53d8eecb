"""Payment reads."""

from __future__ import annotations

from django.db.models import QuerySet

from parkgate.accounts.models import Organisation
from parkgate.payments.models import PaymentAccount


def payment_account_of(organisation: Organisation) -> PaymentAccount | None:
    return PaymentAccount.objects.filter(organisation=organisation).first()


def payment_accounts_for_staff() -> QuerySet[PaymentAccount]:
    """Every organisation's account, for platform staff only (callers check the user)."""
    return PaymentAccount.objects.select_related("organisation", "approved_by").order_by("organisation__name")
