"""Money maths for payments, in integer minor units. Pure: no database, no Stripe, no floats.

Every amount is an ``int`` in the currency's minor unit as Stripe counts it (cents for EUR, yen
for JPY). Rates (VAT, platform percentage) are ``Decimal`` percentages such as ``Decimal("21")``
or ``Decimal("5.5")``; they are turned into exact fractions, never into floats. Rounding is half
up, on non-negative amounts only: a negative amount here is a bug upstream, so it raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from parkgate.core.errors import ParkgateError

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal): the amount
# is the number of whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
# Stripe's three-decimal currencies: amounts in thousandths, and Stripe requires the last digit
# to be 0 (the smallest chargeable step is 10 minor units).
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
DEFAULT_EXPONENT = 2


class MoneyError(ParkgateError, ValueError):
    """An amount, rate or currency that the money maths refuses."""


def currency_exponent(currency: str) -> int:
    """Decimal places of the minor unit Stripe uses for ``currency`` (any case)."""
    code = _currency_code(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return DEFAULT_EXPONENT


def amount_step(currency: str) -> int:
    """The smallest chargeable increment in minor units (10 for three-decimal currencies)."""
    return 10 if _currency_code(currency) in THREE_DECIMAL_CURRENCIES else 1


def _currency_code(currency: str) -> str:
    code = currency.upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code")
    return code


def _check_amount(amount: int, name: str = "amount") -> None:
    # bool is an int subclass; True is never a price.
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise MoneyError(f"{name} must be an integer number of minor units, not {amount!r}")
    if amount < 0:
        raise MoneyError(f"{name} must not be negative ({amount})")


def _rate(rate: Decimal | int | str, name: str) -> Fraction:
    """A percentage as an exact fraction of one (21 → 21/100)."""
    if isinstance(rate, float):
        raise MoneyError(f"{name} must be a Decimal, not a float")
    try:
        value = Decimal(rate)
    except ArithmeticError:
        raise MoneyError(f"{name} {rate!r} is not a number") from None
    if not value.is_finite() or value < 0 or value > 100:
        raise MoneyError(f"{name} must be between 0 and 100 percent ({rate})")
    return Fraction(value) / 100


def round_half_up(value: Fraction) -> int:
    """Nearest integer, halves going up. Only for non-negative values."""
    if value < 0:
        raise MoneyError("round_half_up is only defined here for non-negative values")
    return (value.numerator * 2 + value.denominator) // (value.denominator * 2)


# --- VAT --------------------------------------------------------------------------------------


def vat_included_part(gross: int, vat_rate: Decimal | int | str) -> int:
    """The VAT contained in a VAT-included price: gross * rate / (1 + rate), half up.

    ``vat_included_part(1210, Decimal("21")) == 210``.
    """
    _check_amount(gross, "gross")
    rate = _rate(vat_rate, "VAT rate")
    return round_half_up(gross * rate / (1 + rate))


def net_of_vat(gross: int, vat_rate: Decimal | int | str) -> int:
    """The price without VAT; with :func:`vat_included_part` it adds up to ``gross`` exactly."""
    return gross - vat_included_part(gross, vat_rate)


# --- Platform fee -----------------------------------------------------------------------------


def platform_fee(amount: int, *, fixed: int, percent: Decimal | int | str) -> int:
    """Platform fee on one payment: ``fixed`` + ``percent`` of ``amount`` (half up), capped below
    the amount.

    Stripe refuses an application fee that is not strictly below the charge, so the fee is capped
    at ``amount - 1``; for a free (0) amount there is no fee. Callers that must not charge an
    unprofitable payment compare the result with what they expected.
    """
    _check_amount(amount)
    _check_amount(fixed, "fixed fee")
    share = round_half_up(amount * _rate(percent, "fee percentage"))
    if amount == 0:
        return 0
    return min(fixed + share, amount - 1)


# --- Splitting --------------------------------------------------------------------------------


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` so the shares add up to ``total`` exactly.

    Each share starts at floor(total * weight / sum); the units left over go one each to the
    largest remainders, ties to the earliest position (deterministic: the same inputs always give
    the same split, so a refund computed today matches the one computed at payment time).
    Equal weights give shares that differ by at most one unit.
    """
    _check_amount(total, "total")
    if not weights:
        raise MoneyError("cannot split an amount across no parts")
    for weight in weights:
        _check_amount(weight, "weight")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise MoneyError("cannot split an amount across parts that all weigh zero")
    shares: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, weight in enumerate(weights):
        share, remainder = divmod(total * weight, weight_sum)
        shares.append(share)
        remainders.append((-remainder, index))
    left = total - sum(shares)
    for _remainder, index in sorted(remainders)[:left]:
        shares[index] += 1
    return shares


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` across ``parts`` equal parts (largest remainder: first parts get the extra unit)."""
    if not isinstance(parts, int) or parts < 1:
        raise MoneyError(f"parts must be a positive integer, not {parts!r}")
    return split_largest_remainder(total, [1] * parts)


def spot_refund(*, prices: Sequence[int], fee: int, index: int) -> tuple[int, int]:
    """What cancelling spot ``index`` of a paid booking gives back: (amount, platform fee share).

    The visitor gets that spot's price back; the platform gives back the spot's share of its fee,
    split by largest remainder in proportion to the spot prices, so refunding every spot returns
    exactly the fee that was taken. Stripe's own processing fee is never refunded.
    """
    if not 0 <= index < len(prices):
        raise MoneyError(f"no spot {index} in a booking of {len(prices)}")
    total = sum(prices)
    _check_amount(fee, "platform fee")
    if fee > total:
        raise MoneyError("the platform fee cannot exceed what was paid")
    if total == 0:
        return 0, 0
    return prices[index], split_largest_remainder(fee, list(prices))[index]


# --- Input ------------------------------------------------------------------------------------


def parse_amount(text: str, currency: str) -> int:
    """What a person typed ("12.50", "12,50", "12") as minor units of ``currency`` (1250).

    Refuses negative amounts, thousands separators, and more decimals than the currency has.
    """
    exponent = currency_exponent(currency)
    cleaned = text.strip().replace(",", ".")
    whole, _sep, fraction = cleaned.partition(".")
    if not whole.isdigit() or not (fraction == "" or fraction.isdigit()) or (_sep and not fraction):
        raise MoneyError(f"{text!r} is not an amount")
    if len(fraction) > exponent:
        raise MoneyError(f"{currency.upper()} amounts have at most {exponent} decimals")
    scale: int = 10**exponent
    return int(whole) * scale + (int(fraction.ljust(exponent, "0")) if exponent else 0)


def amount_as_text(amount: int, currency: str) -> str:
    """Minor units as a plain decimal for a form field (1250 EUR → "12.50"), read back by parse_amount."""
    _check_amount(amount)
    exponent = currency_exponent(currency)
    units, minor = divmod(amount, 10**exponent)
    return f"{units}.{minor:0{exponent}d}" if exponent else str(units)


# --- Display ----------------------------------------------------------------------------------

_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "CHF": "CHF"}
# (decimal separator, group separator, pattern) per language; {n} is the number, {s} the symbol.
_NARROW_NBSP = "\u202f"
_NBSP = "\u00a0"
_LOCALE_FORMATS = {
    "en": (".", ",", "{s}{n}"),
    "fr": (",", _NARROW_NBSP, "{n}" + _NBSP + "{s}"),
    "nl": (",", ".", "{s}" + _NBSP + "{n}"),
}


def format_amount(amount: int, currency: str, language: str = "en") -> str:
    """An amount for people to read, e.g. ``€12.50`` (en), ``12,50 €`` (fr), ``€ 12,50`` (nl).

    Spaces are non-breaking so a price never wraps. Unknown languages read as English; currencies
    without a symbol here show their ISO code. Negative amounts (a refund shown as such) get a
    leading minus sign.
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise MoneyError(f"amount must be an integer number of minor units, not {amount!r}")
    code = _currency_code(currency)
    exponent = currency_exponent(code)
    decimal_sep, group_sep, pattern = _LOCALE_FORMATS.get(
        language.split("-")[0].lower(), _LOCALE_FORMATS["en"]
    )
    units, minor = divmod(abs(amount), 10**exponent)
    whole = f"{units:,}".replace(",", group_sep)
    number = f"{whole}{decimal_sep}{minor:0{exponent}d}" if exponent else whole
    symbol = _SYMBOLS.get(code, code)
    if symbol == code and pattern.startswith("{s}") and not pattern.startswith("{s}" + _NBSP):
        pattern = "{s}" + _NBSP + "{n}"
    text = pattern.format(s=symbol, n=number)
    return f"-{text}" if amount < 0 else text
