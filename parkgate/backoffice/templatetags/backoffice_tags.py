from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.formats import number_format

from parkgate.backoffice.forms import currency_exponent, minor_to_major
from parkgate.parking.models import minute_label

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """Minor units to a localised amount with its currency: 250, "EUR" -> "2.50 EUR" (or "2,50 EUR")."""
    major = minor_to_major(amount, currency)
    if major is None:
        return ""
    return f"{number_format(major, currency_exponent(currency))} {currency}"


@register.filter
def hhmm(minute: int) -> str:
    return minute_label(minute)


@register.filter
def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) if data else ""
