"""Brand colour contrast, checked against WCAG 2's formula written out independently here."""

from __future__ import annotations

import pytest

from parkgate.portal.colour import contrast_with_white, ratio_floor


def wcag_contrast_with_white(hex_colour: str) -> float:
    # WCAG 2.x, "relative luminance" and "contrast ratio" definitions, step by step.
    def channel(value: int) -> float:
        srgb = value / 255
        return srgb / 12.92 if srgb <= 0.03928 else ((srgb + 0.055) / 1.055) ** 2.4

    r, g, b = int(hex_colour[0:2], 16), int(hex_colour[2:4], 16), int(hex_colour[4:6], 16)
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return (1.0 + 0.05) / (luminance + 0.05)


@pytest.mark.parametrize(
    ("colour", "shown"),
    [
        ("000000", 21.0),
        ("FFFFFF", 1.0),
        ("767676", 4.5),  # the lightest grey that passes AA on white: 4.54:1
        ("777777", 4.4),  # 4.478:1: must never be shown as 4.5
        ("E67E22", 2.8),  # 2.849:1
        ("FF0000", 3.9),  # 3.998:1: rounds DOWN, not to 4.0
        ("1F4E79", 8.6),
    ],
)
def test_contrast_matches_wcag_and_is_shown_rounded_down(colour: str, shown: float) -> None:
    ratio = contrast_with_white(colour)
    assert ratio == pytest.approx(wcag_contrast_with_white(colour), abs=1e-12)
    assert ratio_floor(ratio) == shown


def test_exact_known_ratios() -> None:
    assert contrast_with_white("777777") == pytest.approx(4.4781, abs=1e-4)
    assert contrast_with_white("767676") == pytest.approx(4.5422, abs=1e-4)
    assert contrast_with_white("E67E22") == pytest.approx(2.8486, abs=1e-4)
