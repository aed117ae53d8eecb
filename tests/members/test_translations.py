"""The members' catalogues are complete, and the page speaks French and Dutch."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from tests.backoffice.conftest import compiled_translations
from tests.backoffice.test_i18n import test_every_string_is_translated_and_not_fuzzy as complete
from tests.members.conftest import SATURDAY_10

FIXTURES = (compiled_translations,)


@pytest.mark.parametrize("language", ["fr", "nl"])
@pytest.mark.parametrize("app", ["members", "access", "parking"])
def test_catalogue_is_complete(app: str, language: str) -> None:
    complete(app, language)


@pytest.mark.parametrize(
    ("language", "title", "reason"),
    [
        ("fr", "Mon accès", "Hors horaire"),
        ("nl", "Mijn toegang", "Buiten het tijdschema"),
    ],
)
@time_machine.travel(SATURDAY_10, tick=False)
def test_the_page_in_french_and_dutch(  # type: ignore[no-untyped-def]
    members, client_for, compiled_translations, language, title, reason
) -> None:
    client = client_for(members.world.parker_user)
    client.cookies["django_language"] = language
    html = client.get(reverse("members:home")).content.decode()
    assert title in html and reason in html
