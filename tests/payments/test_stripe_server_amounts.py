"""The test server's own money arithmetic (devtools/stripe_test_server/amounts.py), from Stripe's rules."""

from __future__ import annotations

from fractions import Fraction

import pytest

from devtools.stripe_test_server.amounts import decimals, half_up, show, step


def test_minor_units_follow_stripes_currency_lists() -> None:
    assert [decimals(c) for c in ("eur", "JPY", "krw", "BHD", "kwd", "chf")] == [2, 0, 0, 3, 3, 2]
    assert [step(c) for c in ("eur", "jpy", "bhd", "TND")] == [1, 1, 10, 10]


def test_halves_round_up_and_everything_else_to_the_nearest() -> None:
    assert [half_up(Fraction(n, 2)) for n in range(6)] == [0, 1, 1, 2, 2, 3]
    assert half_up(Fraction(1210 * 21, 121)) == 210
    assert half_up(Fraction(26033, 100)) == 260 and half_up(Fraction(26050, 100)) == 261
    with pytest.raises(ValueError, match="non-negative"):
        half_up(Fraction(-1, 2))


def test_amounts_are_shown_as_people_read_them() -> None:
    assert show(3000, "eur") == "€30.00"
    assert show(123456789, "EUR") == "€1,234,567.89"
    assert show(1250, "eur", "fr") == "12,50\u00a0€"
    assert show(123456, "eur", "fr-BE") == "1\u202f234,56\u00a0€"
    assert show(1250, "eur", "nl") == "€\u00a012,50"
    assert show(5, "eur") == "€0.05"
    assert show(-1500, "eur") == "-€15.00"
    assert show(500, "jpy") == "¥500"
    assert show(1234, "bhd") == "BHD\u00a01.234"
