"""Money maths: exponents, VAT, platform fee, largest-remainder splits, refunds, display."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest

from parkgate.payments.money import (
    MoneyError,
    amount_as_text,
    amount_step,
    currency_exponent,
    format_amount,
    net_of_vat,
    parse_amount,
    platform_fee,
    round_half_up,
    split_evenly,
    split_largest_remainder,
    spot_refund,
    vat_included_part,
)

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("EUR", 2),
        ("eur", 2),
        ("USD", 2),
        ("GBP", 2),
        ("CHF", 2),
        ("JPY", 0),
        ("jpy", 0),
        ("KRW", 0),
        ("CLP", 0),
        ("VND", 0),
        ("XOF", 0),
        ("UGX", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("TND", 3),
        ("JOD", 3),
        ("OMR", 3),
    ],
)
def test_currency_exponent(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


def test_three_decimal_currencies_charge_in_steps_of_ten() -> None:
    assert amount_step("KWD") == 10
    assert amount_step("EUR") == 1
    assert amount_step("JPY") == 1


@pytest.mark.parametrize("currency", ["", "EU", "EURO", "€€€", "E1R"])
def test_malformed_currency_is_refused(currency: str) -> None:
    with pytest.raises(MoneyError):
        currency_exponent(currency)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(0), 0),
        (Fraction(1, 2), 1),
        (Fraction(3, 2), 2),
        (Fraction(5, 2), 3),
        (Fraction(49, 100), 0),
        (Fraction(51, 100), 1),
        (Fraction(2499, 1000), 2),
        (Fraction(7, 1), 7),
    ],
)
def test_round_half_up(value: Fraction, expected: int) -> None:
    assert round_half_up(value) == expected


def test_round_half_up_refuses_negative() -> None:
    with pytest.raises(MoneyError):
        round_half_up(Fraction(-1, 2))


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [
        (1210, "21", 210),  # exact
        (1000, "21", 174),  # 173.55 → 174
        (100, "21", 17),  # 17.355 → 17
        (1, "21", 0),  # 0.1736 → 0
        (3, "21", 1),  # 0.5207 → 1
        (0, "21", 0),
        (1060, "6", 60),
        (1055, "5.5", 55),
        (1200, "20", 200),
        (1000, "0", 0),
        (1000, "100", 500),
        (500, "0.01", 0),  # 0.04999 → 0
        (10001, "0.01", 1),  # 1.0000 → 1
        (15, "0.05", 0),
    ],
)
def test_vat_included_part(gross: int, rate: str, vat: int) -> None:
    assert vat_included_part(gross, Decimal(rate)) == vat
    assert vat_included_part(gross, Decimal(rate)) + net_of_vat(gross, Decimal(rate)) == gross


def test_vat_exact_half_rounds_up() -> None:
    # At 20% the VAT part is gross / 6: odd multiples of 3 land exactly on a half.
    assert vat_included_part(3, Decimal("20")) == 1  # 0.5 → 1
    assert vat_included_part(9, Decimal("20")) == 2  # 1.5 → 2
    assert vat_included_part(15, Decimal("20")) == 3  # 2.5 → 3
    assert vat_included_part(2, Decimal("20")) == 0  # 0.333 → 0
    assert vat_included_part(4, Decimal("20")) == 1  # 0.667 → 1
    # At 100% it is gross / 2.
    assert vat_included_part(5, Decimal("100")) == 3  # 2.5 → 3


@pytest.mark.parametrize("rate", ["-1", "100.01", "NaN", "Infinity", "abc"])
def test_vat_rate_out_of_range_is_refused(rate: str) -> None:
    with pytest.raises(MoneyError):
        vat_included_part(1000, rate)


def test_floats_are_refused() -> None:
    with pytest.raises(MoneyError):
        vat_included_part(1000, 21.0)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        vat_included_part(10.0, Decimal("21"))  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        platform_fee(1000, fixed=25, percent=2.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        vat_included_part(True, Decimal("21"))  # type: ignore[arg-type]


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(MoneyError):
        vat_included_part(-1, Decimal("21"))
    with pytest.raises(MoneyError):
        platform_fee(-100, fixed=0, percent=Decimal("1"))
    with pytest.raises(MoneyError):
        platform_fee(100, fixed=-1, percent=Decimal("1"))


@pytest.mark.parametrize(
    ("amount", "fixed", "percent", "fee"),
    [
        (1000, 25, "2.5", 50),  # 25 + 25
        (1000, 0, "1.5", 15),
        (1010, 0, "1.5", 15),  # 15.15 → 15
        (1030, 0, "1.5", 15),  # 15.45 → 15
        (1034, 0, "1.5", 16),  # 15.51 → 16
        (100, 0, "2.5", 3),  # 2.5 → 3 (half up)
        (300, 0, "2.5", 8),  # 7.5 → 8
        (20, 0, "2.5", 1),  # 0.5 → 1
        (19, 0, "2.5", 0),  # 0.475 → 0
        (1999, 30, "0", 30),
        (4500, 50, "3", 185),
        (100, 150, "0", 99),  # capped strictly below the amount
        (1, 10, "10", 0),  # capped at amount - 1
        (0, 25, "2.5", 0),
        (123456789, 0, "1.25", 1543210),  # 1543209.8625 → 1543210
    ],
)
def test_platform_fee(amount: int, fixed: int, percent: str, fee: int) -> None:
    assert platform_fee(amount, fixed=fixed, percent=Decimal(percent)) == fee


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (101, [1, 1, 1], [34, 34, 33]),
        (102, [1, 1, 1], [34, 34, 34]),
        (7, [1, 1, 1, 1, 1], [2, 2, 1, 1, 1]),
        (0, [1, 1], [0, 0]),
        (1, [1, 1, 1], [1, 0, 0]),
        (10, [1, 2, 3, 4], [1, 2, 3, 4]),
        (10, [3, 3, 4], [3, 3, 4]),
        (100, [1, 2], [33, 67]),  # 33.3 / 66.7
        (10, [0, 1], [0, 10]),
        (5, [2, 1, 1], [3, 1, 1]),  # 2.5, 1.25, 1.25: the half goes to the largest remainder
    ],
)
def test_split_largest_remainder(total: int, weights: list[int], shares: list[int]) -> None:
    assert split_largest_remainder(total, weights) == shares


def test_split_always_adds_up_exactly() -> None:
    for total, weights in itertools.product(
        [0, 1, 2, 7, 99, 100, 101, 997, 123457],
        [[1], [1, 1], [1, 2, 3], [5, 5, 5, 5, 5], [1, 1000], [3, 0, 7]],
    ):
        shares = split_largest_remainder(total, weights)
        assert sum(shares) == total, (total, weights)
        for share, weight in zip(shares, weights, strict=True):
            exact = Fraction(total * weight, sum(weights))
            assert abs(share - exact) < 1


def test_split_evenly_differs_by_at_most_one() -> None:
    for total in range(0, 60):
        for parts in range(1, 8):
            shares = split_evenly(total, parts)
            assert sum(shares) == total
            assert max(shares) - min(shares) <= 1
            assert shares == sorted(shares, reverse=True)


def test_split_refuses_nonsense() -> None:
    with pytest.raises(MoneyError):
        split_largest_remainder(100, [])
    with pytest.raises(MoneyError):
        split_largest_remainder(100, [0, 0])
    with pytest.raises(MoneyError):
        split_largest_remainder(100, [1, -1])
    with pytest.raises(MoneyError):
        split_evenly(100, 0)


def test_five_spots_one_cancelled_refunds_exactly_its_fifth() -> None:
    prices = [1500] * 5
    fee = platform_fee(sum(prices), fixed=25, percent=Decimal("2.5"))  # 25 + 187.5 → 213
    assert fee == 213
    refunds = [spot_refund(prices=prices, fee=fee, index=i) for i in range(5)]
    assert refunds == [(1500, 43), (1500, 43), (1500, 43), (1500, 42), (1500, 42)]
    assert refunds[2] == (1500, 43)
    assert sum(amount for amount, _ in refunds) == 7500
    assert sum(share for _, share in refunds) == fee


def test_spot_refunds_follow_prices_when_spots_differ() -> None:
    prices = [1000, 2000, 3000]
    refunds = [spot_refund(prices=prices, fee=100, index=i) for i in range(3)]
    assert refunds == [(1000, 17), (2000, 33), (3000, 50)]
    assert sum(share for _, share in refunds) == 100


def test_spot_refund_refuses_a_missing_spot_or_an_impossible_fee() -> None:
    with pytest.raises(MoneyError):
        spot_refund(prices=[100, 100], fee=10, index=2)
    with pytest.raises(MoneyError):
        spot_refund(prices=[100, 100], fee=10, index=-1)
    with pytest.raises(MoneyError):
        spot_refund(prices=[100], fee=101, index=0)


def test_spot_refund_of_free_spots_is_zero() -> None:
    assert spot_refund(prices=[0, 0], fee=0, index=1) == (0, 0)


@pytest.mark.parametrize(
    ("amount", "currency", "language", "text"),
    [
        (1250, "EUR", "en", "€12.50"),
        (1250, "EUR", "fr", f"12,50{NBSP}€"),
        (1250, "EUR", "nl", f"€{NBSP}12,50"),
        (1250, "eur", "fr-be", f"12,50{NBSP}€"),
        (5, "EUR", "en", "€0.05"),
        (0, "EUR", "en", "€0.00"),
        (123456789, "EUR", "en", "€1,234,567.89"),
        (123456789, "EUR", "fr", f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        (123456789, "EUR", "nl", f"€{NBSP}1.234.567,89"),
        (-1250, "EUR", "en", "-€12.50"),
        (1200, "JPY", "en", "¥1,200"),
        (1200, "JPY", "fr", f"1{NNBSP}200{NBSP}¥"),
        (999, "GBP", "en", "£9.99"),
        (1000, "CHF", "en", f"CHF{NBSP}10.00"),
        (1000, "CHF", "fr", f"10,00{NBSP}CHF"),
        (12345, "KWD", "en", f"KWD{NBSP}12.345"),
        (1250, "EUR", "de", "€12.50"),  # unknown language reads as English
    ],
)
def test_format_amount(amount: int, currency: str, language: str, text: str) -> None:
    assert format_amount(amount, currency, language) == text


def test_format_amount_refuses_floats() -> None:
    with pytest.raises(MoneyError):
        format_amount(12.5, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("12.50", "EUR", 1250),
        ("12,50", "EUR", 1250),
        (" 12 ", "EUR", 1200),
        ("0.5", "EUR", 50),
        ("0.05", "EUR", 5),
        ("0", "EUR", 0),
        ("1200", "JPY", 1200),
        ("1.005", "KWD", 1005),
    ],
)
def test_parse_amount(text: str, currency: str, amount: int) -> None:
    assert parse_amount(text, currency) == amount


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("", "EUR"),
        ("-1", "EUR"),
        ("1.234", "EUR"),
        ("1.5", "JPY"),
        ("1,000.00", "EUR"),
        ("abc", "EUR"),
        ("1.", "EUR"),
        (".5", "EUR"),
        ("1e3", "EUR"),
    ],
)
def test_parse_amount_refuses(text: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1250, "EUR", "12.50"), (5, "EUR", "0.05"), (1200, "JPY", "1200"), (1005, "KWD", "1.005")],
)
def test_amount_as_text_round_trips(amount: int, currency: str, text: str) -> None:
    assert amount_as_text(amount, currency) == text
    assert parse_amount(text, currency) == amount
