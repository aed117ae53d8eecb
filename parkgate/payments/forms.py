from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from parkgate.payments.documents import vat_number_normalise
from parkgate.payments.money import MoneyError, currency_exponent, format_amount, parse_amount


class FeesForm(forms.Form):
    """Platform staff: the fee taken on each payment of one organisation."""

    fee_fixed = forms.CharField(
        label=_("Fixed fee per payment"), max_length=12, help_text=_("In the account's currency, e.g. 0.25.")
    )
    fee_percent = forms.DecimalField(
        label=_("Percentage of each payment"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_fee_fixed(self) -> int:
        text = self.cleaned_data["fee_fixed"]
        try:
            return parse_amount(text, self.currency)
        except MoneyError:
            raise forms.ValidationError(
                _("Enter an amount such as %(example)s."),
                params={
                    "example": format_amount(25 if currency_exponent(self.currency) else 1, self.currency)
                },
            ) from None


class LegalDetailsForm(forms.Form):
    """The organisation's own details printed on its invoices, receipts and credit notes."""

    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    legal_address = forms.CharField(
        label=_("Registered address"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    vat_number = forms.CharField(
        label=_("VAT number"), max_length=30, help_text=_("With its country code, for example BE0123456789.")
    )
    document_prefix = forms.CharField(
        label=_("Prefix of document numbers"),
        max_length=12,
        required=False,
        help_text=_(
            "Invoices and receipts are numbered ACME-2026-0001, credit notes ACME-CN-2026-0001,"
            " from 0001 each 1 January. Left empty, it is made from the organisation's short name."
        ),
    )

    def clean_legal_name(self) -> str:
        return " ".join(self.cleaned_data["legal_name"].split())

    def clean_legal_address(self) -> str:
        return "\n".join(
            line.strip() for line in self.cleaned_data["legal_address"].splitlines() if line.strip()
        )

    def clean_document_prefix(self) -> str:
        return str(self.cleaned_data["document_prefix"]).strip().upper()

    def clean_vat_number(self) -> str:
        vat = vat_number_normalise(self.cleaned_data["vat_number"])
        if vat is None:
            raise forms.ValidationError(
                _("This is not a VAT number: it starts with the country code, for example BE0123456789.")
            )
        return vat
