"""The test server's own money arithmetic, written apart from ``parkgate.payments.money`` on purpose.

The server plays Stripe: it computes taxes, fee refund shares and the amounts it shows from Stripe's
documented rules, so a rounding or exponent bug in Parkgate's money code shows up as a mismatch
instead of being copied into both sides. Standard library only.

- Minor units per currency: https://docs.stripe.com/currencies (zero-decimal and three-decimal
  lists; three-decimal amounts must be a multiple of 10).
- Tax and proportional fee refunds: nearest minor unit, halves rounded up (exact fractions, no floats).
"""

from __future__ import annotations

import math
from fractions import Fraction

ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])

# Symbols shown on the hosted pages; other currencies show their code.
_SYMBOL = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF"}


def decimals(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def step(currency: str) -> int:
    """Smallest chargeable increment in minor units."""
    return 10 if currency.upper() in THREE_DECIMAL else 1


def half_up(value: Fraction) -> int:
    """Nearest integer to a non-negative fraction, halves up: floor(value + 1/2)."""
    if value < 0:
        raise ValueError("half_up takes non-negative values only")
    return math.floor(value + Fraction(1, 2))


def show(amount: int, currency: str, language: str = "en") -> str:
    """``€12.50`` (en), ``12,50 €`` (fr), ``€ 12,50`` (nl), with non-breaking spaces."""
    code = currency.upper()
    places = decimals(code)
    sign = "-" if amount < 0 else ""
    text = str(abs(amount)).rjust(places + 1, "0")
    whole, fraction = (text[:-places], text[-places:]) if places else (text, "")
    language = language.split("-")[0].lower()
    if language == "fr":
        group, point = "\u202f", ","
    elif language == "nl":
        group, point = ".", ","
    else:
        group, point = ",", "."
    digits = ""
    while len(whole) > 3:
        whole, digits = whole[:-3], group + whole[-3:] + digits
    number = whole + digits + (point + fraction if fraction else "")
    symbol = _SYMBOL.get(code, code)
    if language == "fr":
        return f"{sign}{number}\u00a0{symbol}"
    if language == "nl" or symbol == code:
        return f"{sign}{symbol}\u00a0{number}"
    return f"{sign}{symbol}{number}"
