"""Brand colours: six hex digits, and enough contrast for the white text that sits on them.

WCAG 2 contrast: relative luminance L = 0.2126 R + 0.7152 G + 0.0722 B of the linearised sRGB
channels, ratio (L1 + 0.05) / (L2 + 0.05) with the lighter colour on top. White has L = 1.
"""

from __future__ import annotations

import math
import re

HEX_COLOUR = re.compile(r"[0-9A-Fa-f]{6}")
MIN_CONTRAST_WITH_WHITE = 4.5


def _linear(channel: int) -> float:
    value = channel / 255
    if value <= 0.03928:
        return value / 12.92
    return float(((value + 0.055) / 1.055) ** 2.4)


def relative_luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _linear(red) + 0.7152 * _linear(green) + 0.0722 * _linear(blue)


def contrast_with_white(hex_colour: str) -> float:
    return 1.05 / (relative_luminance(hex_colour) + 0.05)


def ratio_floor(ratio: float) -> float:
    """One decimal, rounded down: a colour at 4.49:1 must never be shown as 4.5:1."""
    return math.floor(ratio * 10) / 10
