"""THE plate rule, and plate reads as evidence.

The one plate rule (every form, service and endpoint uses it, nothing else decides):

* ``plate_key(text)``: the canonical form used for matching and stored beside what was typed:
  Unicode NFKC (fullwidth digits and letters become ASCII ones), accents folded (``Ä`` is ``A``),
  upper case, separators (spaces, dashes, dots, middle dots, underscores, slashes) removed.
* ``plate_is_valid(text)``: the key is 2 to ``PLATE_MAX_LENGTH`` (12) letters A-Z and digits. That
  is the ONE length bound; never reject a plate for failing a national pattern.
* ``plate_display(text)``: what the person typed, normalised the same way but keeping single
  separators, for display (``1-abc  123`` is ``1-ABC 123``); never longer than the stored 20
  characters (falls back to the key).
* ``clean_plate(text)``: the display form, or a ValidationError with the message every form shows.

Plate reads: engines return ranked candidates and confuse characters that look alike. A candidate
counts when its confidence reaches the camera's threshold; a look-alike substitution is allowed in
one place only, and the caller opens on it only when exactly one valid access matches (ways.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

PLATE_MIN_LENGTH = 2
PLATE_MAX_LENGTH = 12  # letters and digits of the canonical key: the one bound
DISPLAY_MAX_LENGTH = 20  # the stored text (Plate.text, Reservation.plate_text)
_SEPARATORS = re.compile(r"[\s.\-·_/]+")
_KEY = re.compile(rf"[A-Z0-9]{{{PLATE_MIN_LENGTH},{PLATE_MAX_LENGTH}}}")

# Characters engines confuse, as used by mature matchers.
OCR_CLASSES: tuple[str, ...] = ("0ODQ", "1I", "2Z", "5S", "8B", "6G")
_ALTERNATIVES: dict[str, str] = {char: cls.replace(char, "") for cls in OCR_CLASSES for char in cls}

MAX_KEY_LENGTH = PLATE_MAX_LENGTH
MAX_CANDIDATES = 20

# This module imports no Django at load time: the site agent (parkgate/sites/agent.py) runs it on a
# small box without Django. Only ``clean_plate`` (forms) needs it, and imports it when called.


def _fold(text: str) -> str:
    """NFKC, accents folded, upper case, whitespace runs made single spaces."""
    text = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", folded).upper().split())


def plate_key(text: str) -> str:
    """The canonical key of a licence plate (see the module docstring)."""
    return _SEPARATORS.sub("", _fold(text))


def plate_is_valid(text: str) -> bool:
    return bool(_KEY.fullmatch(plate_key(text)))


def plate_display(text: str) -> str:
    """A plate as shown: typed separators kept (one each), everything else canonical."""
    shown = _fold(text)
    shown = _SEPARATORS.sub(lambda m: "-" if "-" in m.group() else m.group()[0], shown).strip(" -.·_/")
    return shown if len(shown) <= DISPLAY_MAX_LENGTH else plate_key(text)


def clean_plate(text: str) -> str:
    """The display form of a valid plate, or ValidationError with the one message."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not plate_is_valid(text):
        raise ValidationError(
            _("Enter the licence plate as it appears on the car: 2 to 12 letters and digits."),
            code="invalid_plate",
        )
    return plate_display(text)


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
    return bool(_KEY.fullmatch(key))


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
