"""No untranslated string on the portal pages and in the e-mails, in French and in Dutch.

Two checks: the booking catalogue is complete (every msgid translated, nothing fuzzy), and the
pages and e-mails rendered in fr/nl contain no English source sentence of that catalogue.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from parkgate.access.models import Reservation
from tests.booking.conftest import booking_post

LOCALE = Path(__file__).resolve().parents[2] / "parkgate" / "booking" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]+>")


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


def _english_sentences(language: str) -> list[str]:
    """Source fragments (between placeholders) long enough to be words, whose translation differs."""
    fragments = []
    for entry in polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po")):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        translations = [entry.msgstr, *entry.msgstr_plural.values()]
        for source in sources:
            for fragment in PLACEHOLDER.split(source):
                fragment = fragment.strip(" .,:;?")
                if len(fragment) >= 8 and not any(fragment in t for t in translations):
                    fragments.append(fragment)
    return fragments


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join(text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&").split())


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "nl"])
def test_portal_pages_and_emails_have_no_english_left(
    language, client, world, portal_world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    pw = portal_world
    pages: dict[str, str] = {}
    pages["start"] = client.get(pw.url + f"?lang={language}").content.decode()
    query = "&".join(f"{k}={v}" for k, v in booking_post(pw, spots=2).items() if not k.startswith("v"))
    pages["details"] = client.get(pw.url + "?step=details&" + query).content.decode()
    bad = booking_post(pw, spots=2) | {"v0-plate": "?", "v1-email": "x", "v1-first_name": ""}
    pages["errors"] = client.post(pw.url, bad).content.decode()
    pages["panel"] = client.get(
        reverse("booking:availability", args=[pw.portal.slug, pw.invitation.token])
    ).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            pw.url, booking_post(pw, spots=2, until=(pw.monday + timedelta(days=1)).isoformat())
        )
    pages["confirmation"] = client.get(response["Location"]).content.decode()
    reservation = Reservation.objects.filter(parker__email="piet@example.com").first()
    cancel = reverse("booking:cancel", args=[pw.portal.slug, reservation.cancel_token])
    pages["cancel"] = client.get(cancel).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        pages["cancelled"] = client.post(cancel).content.decode()
        pages["lost"] = client.post(
            reverse("booking:lost_links", args=[pw.portal.slug]), {"email": "piet@example.com"}
        ).content.decode()
    pages["lost_form"] = client.get(reverse("booking:lost_links", args=[pw.portal.slug])).content.decode()
    # A bad link cannot know the portal's language: it follows the browser's.
    unknown = reverse("booking:invitation", args=[pw.portal.slug, "nope"])
    pages["unavailable"] = client.get(unknown, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    pw.portal.payment_enabled = True
    pw.portal.save()
    pages["closed"] = client.get(pw.url).content.decode()
    kinds = set()
    for number, message in enumerate(mail.outbox):
        pages[f"mail{number}.subject"] = message.subject
        pages[f"mail{number}.text"] = message.body
        pages[f"mail{number}.html"] = message.alternatives[0][0]
        kinds.add(message.subject.split()[0])
    assert len(mail.outbox) == 4  # two confirmations, one cancellation, one lost-links message
    for name, html in pages.items():
        if name.endswith(".html") or not name.startswith(("mail", "panel")):
            assert f'lang="{language}"' in html[:300], name
    english = _english_sentences(language)
    leftovers = {
        name: [sentence for sentence in english if sentence in _visible(content)]
        for name, content in pages.items()
    }
    assert {name: found for name, found in leftovers.items() if found} == {}
    # The check itself can fail: English pages do contain the sentences.
    client.get(pw.url + "?lang=en")
    pw.portal.payment_enabled = False
    pw.portal.save()
    english_page = _visible(client.get(pw.url).content.decode())
    assert "Book your parking spot" in english_page and "Book your parking spot" in english


@pytest.mark.parametrize(
    ("language", "paid_amount", "paid_portal"),
    [("en", "Paid", "Paid"), ("fr", "Payé", "Payant"), ("nl", "Betaald", "Betalend")],
)
def test_paid_on_a_confirmation_is_not_the_paid_kind_of_portal(
    language: str, paid_amount: str, paid_portal: str
) -> None:
    """The confirmation page's "Paid: EUR 8.00" and the portal list's "Paid" badge (a portal that
    charges) are two words in French and Dutch: the badge has its own context, so the visitor is no
    longer told "Payant : 8,00 €"."""
    with translation.override(language):
        rendered = Template(
            '{% load i18n %}{% translate "Paid" %}|{% translate "Paid" context "portal kind" %}'
        ).render(Context())
    assert rendered == f"{paid_amount}|{paid_portal}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "La note de débit n° ACME-2026-0002 est jointe (PDF) : elle annule la note de crédit "
            "n° ACME-CN-2026-0001.",
        ),
        (
            "nl",
            "Debetnota nr. ACME-2026-0002 zit in de bijlage (pdf): ze annuleert creditnota nr. "
            "ACME-CN-2026-0001.",
        ),
    ],
)
def test_the_refund_failed_email_reads_in_the_payers_language(language: str, expected: str) -> None:
    """The e-mail of a refund that failed (tested end to end in English in
    tests/payments/test_refund_flow.py), rendered in French and Dutch: no English sentence left."""
    from datetime import datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from django.template.loader import render_to_string

    brussels = ZoneInfo("Europe/Brussels")
    context = {
        "language": language,
        "booker_name": "Jeanne Dupont",
        "cancelled_name": "Piet",
        "refund_amount": "15,00 €",
        "lot": SimpleNamespace(name="Central Garage", timezone=brussels, address="Rue 1"),
        "items": [{"reservation": SimpleNamespace(start=datetime(2026, 11, 30, 9, tzinfo=brussels))}],
        "document": SimpleNamespace(display_number="ACME-2026-0002"),
        "credit_note": SimpleNamespace(display_number="ACME-CN-2026-0001"),
        "document_url": "https://parkgate.example/d/1/",
        "organisation": SimpleNamespace(name="Acme", email="contact@acme.example", privacy_notice_url=""),
        "booking": SimpleNamespace(reference="X8D84BKT"),
    }
    with translation.override(language):
        rendered = {
            part: render_to_string(f"booking/email/refund_failed{part}", context)
            for part in ("_subject.txt", ".txt", ".html")
        }
    assert expected in rendered[".txt"] and expected in _visible(rendered[".html"])
    english = _english_sentences(language)
    assert {part: [s for s in english if s in _visible(text)] for part, text in rendered.items()} == {
        part: [] for part in rendered
    }
