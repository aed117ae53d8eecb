"""Plate reads as evidence: candidates with a confidence, and OCR look-alike characters.

Engines return ranked candidates and confuse characters that look alike. A candidate counts when
its confidence reaches the camera's threshold; a look-alike substitution is allowed in one place
only, and the caller opens on it only when exactly one valid access matches (see ways.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parkgate.parking.models import plate_key

# Characters engines confuse, as used by mature matchers.
OCR_CLASSES: tuple[str, ...] = ("0ODQ", "1I", "2Z", "5S", "8B", "6G")
_ALTERNATIVES: dict[str, str] = {char: cls.replace(char, "") for cls in OCR_CLASSES for char in cls}

MAX_KEY_LENGTH = 20
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class Candidate:
    text: str  # as read (for display)
    confidence: float  # 0..1

    @property
    def key(self) -> str:
        return plate_key(self.text)


def usable_keys(candidates: Iterable[Candidate], *, min_confidence: float) -> list[str]:
    """Canonical keys of the candidates at or above the threshold, best first, without repeats."""
    ranked = sorted(candidates, key=lambda c: -c.confidence)
    keys: list[str] = []
    for candidate in ranked:
        key = candidate.key
        if candidate.confidence + 1e-9 < min_confidence or not is_plausible_key(key) or key in keys:
            continue
        keys.append(key)
        if len(keys) >= MAX_CANDIDATES:
            break
    return keys


def is_plausible_key(key: str) -> bool:
    return 2 <= len(key) <= MAX_KEY_LENGTH and key.isalnum()


def one_substitution_variants(key: str) -> set[str]:
    """Every key that differs from ``key`` by one OCR look-alike character, in one place."""
    variants: set[str] = set()
    for index, char in enumerate(key):
        for other in _ALTERNATIVES.get(char, ""):
            variants.add(key[:index] + other + key[index + 1 :])
    return variants


def look_alike(a: str, b: str) -> bool:
    """True when two keys differ in exactly one place, by look-alike characters."""
    if len(a) != len(b) or a == b:
        return False
    differences = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(differences) == 1 and differences[0][1] in _ALTERNATIVES.get(differences[0][0], "")
