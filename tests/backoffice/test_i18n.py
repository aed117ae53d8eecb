"""French and Dutch: complete catalogues, a working language switcher, translated pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.backoffice.conftest import Office

APPS = ["core", "accounts", "parking", "access", "backoffice", "members", "privacy", "sites"]
LANGUAGES = ["fr", "nl"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{ ?(\w+) ?\}\}")


def catalogue(app: str, language: str) -> polib.POFile:
    path = Path(settings.BASE_DIR) / "parkgate" / app / "locale" / language / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"missing catalogue {path}"
    return polib.pofile(str(path))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("app", APPS)
def test_every_string_is_translated_and_not_fuzzy(app: str, language: str) -> None:
    po = catalogue(app, language)
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif not translations or not all(t.strip() for t in translations):
            problems.append(f"empty: {entry.msgid!r}")
        else:
            wanted = set(PLACEHOLDER.findall(entry.msgid))
            for text in translations:
                if set(PLACEHOLDER.findall(text)) - wanted:
                    problems.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    assert problems == [], f"{app}/{language}: " + "; ".join(problems)
    assert len(po) > 0


def test_the_decision_engine_sentences_are_in_the_access_catalogue() -> None:
    msgids = {entry.msgid for entry in catalogue("access", "nl")}
    assert "Outside the timetable: the next window opens at %(time)s %(day)s." in msgids
    assert "Unknown parker: no matching profile, plate or code." in msgids
    assert "No spot is left for this time." in msgids


def test_engine_messages_are_translated_at_run_time(compiled_translations: None) -> None:
    with translation.override("nl"):
        assert translation.gettext("This gate is for entry only.") == "Deze slagboom is alleen voor inrijden."
    with translation.override("fr"):
        assert (
            translation.gettext("No spot is left for this time.")
            == "Il ne reste plus de place pour ce moment."
        )


def test_a_back_office_page_in_dutch(office: Office, client_for: Any, compiled_translations: None) -> None:
    client = client_for(office.world.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    response = client.get(reverse("backoffice:policy_edit", args=[office.world.visitor_policy.pk]))
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "Weekschema" in html
    assert "Maandag kopiëren naar alle weekdagen" in html
    assert "Weekly timetable" not in html


def test_the_language_switcher_changes_the_language(
    office: Office, client_for: Any, compiled_translations: None
) -> None:
    client = client_for(office.world.admin)
    assert "Dashboard" in client.get(reverse("backoffice:home")).content.decode()
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/office/reservations/"})
    assert response.status_code == 302
    assert response["Location"] == "/office/reservations/"
    html = client.get(reverse("backoffice:reservation_list")).content.decode()
    assert '<html lang="fr">' in html
    assert "Nouvelle réservation" in html
    # Error messages beside fields come in the chosen language too.
    html = client.post(reverse("backoffice:reservation_create"), {"start": "9h"}).content.decode()
    assert "Utilisez HH:MM entre 00:00 et 24:00, par exemple 08:30." in html
