"""Issue 14 item 8: one date and time style per language; weekdays in lower case mid-sentence;
the audit log in words."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from parkgate.core.audit import audit_log

BRUSSELS = ZoneInfo("Europe/Brussels")
MOMENT = datetime(2026, 12, 1, 7, 49, tzinfo=BRUSSELS)


@pytest.mark.parametrize(
    ("language", "date_time", "short", "sentence"),
    [
        ("en", "1 December 2026, 07:49", "01/12/2026", "on Tuesday 1 December"),
        ("fr", "1 décembre 2026, 07:49", "01/12/2026", "du mardi 1 décembre"),
        ("nl", "1 december 2026, 07:49", "01-12-2026", "van dinsdag 1 december"),
    ],
)
def test_one_date_style_per_language_and_weekdays_in_lower_case(  # type: ignore[no-untyped-def]
    language, date_time, short, sentence
) -> None:
    words = {"en": "on", "fr": "du", "nl": "van"}[language]
    template = Template(
        "{% load tz %}{% timezone zone %}{{ moment }}|{{ moment|date:'SHORT_DATE_FORMAT' }}|"
        + words
        + " {{ day|date:'l j F' }}{% endtimezone %}"
    )
    with translation.override(language):
        shown = template.render(Context({"moment": MOMENT, "day": date(2026, 12, 1), "zone": BRUSSELS}))
    assert shown == f"{date_time}|{short}|{sentence}"


@pytest.mark.django_db
def test_the_audit_log_reads_as_sentences_in_french(client_for, world) -> None:  # type: ignore[no-untyped-def]
    audit_log(
        action="controlroom.gate.forced",
        organisation=world.owner_org,
        actor=world.owner,
        data={"gate": 3, "reason": "Livraison urgente", "start": "2026-12-01T06:49:00+00:00"},
    )
    client = client_for(world.owner)
    client.post(reverse("set_language"), {"language": "fr"})
    page = client.get(reverse("backoffice:audit_list")).content.decode()
    assert "Barrière forcée depuis le poste de contrôle" in page
    assert "Raison" in page and "Livraison urgente" in page
    assert "1 décembre 2026, 07:49" in page  # the lot's time zone (Brussels), French style
    assert "{&quot;" not in page and '{"gate"' not in page  # no raw JSON
