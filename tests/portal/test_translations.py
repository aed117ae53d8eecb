"""The portal's French and Dutch catalogues are complete: no empty and no fuzzy translation."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "parkgate" / "portal" / "locale"


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_catalogue_is_complete(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 250
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert not catalogue.metadata_is_fuzzy
    for entry in catalogue:
        # Placeholders survive translation (a lost %(name)s would crash or drop information).
        wanted = sorted(re.findall(r"%\(\w+\)s", entry.msgid))
        got = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
        assert sorted(re.findall(r"%\(\w+\)s", got)) == wanted, entry.msgid
