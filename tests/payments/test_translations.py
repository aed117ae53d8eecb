"""The payments catalogue is complete in French and Dutch, and the paid portal pages use it."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

from parkgate.payments.money import format_amount

LOCALE = Path(__file__).resolve().parents[2] / "parkgate" / "payments" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_catalogue_is_complete(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 100
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    for entry in catalogue:
        for placeholder in PLACEHOLDER.findall(entry.msgid):
            translated = entry.msgstr or " ".join(entry.msgstr_plural.values())
            assert placeholder in translated, (entry.msgid, translated)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "€1,234.50"), ("fr", "1\u202f234,50\u00a0€"), ("nl", "€\u00a01.234,50")],
)
def test_prices_read_in_the_visitors_language(language: str, expected: str) -> None:
    assert format_amount(123450, "EUR", language) == expected
