from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

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
