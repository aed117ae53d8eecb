"""What visitors see: the privacy notice on every portal page, and asking for early erasure."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from parkgate.booking.models import Booking
from parkgate.core.models import AuditEvent
from parkgate.parking.models import Parker
from parkgate.privacy.models import ErasureRequest, RetentionPolicy
from parkgate.privacy.retention import retention_run
from tests.privacy.conftest import at

VISIT_DAY = date(2026, 9, 1)


def _invitation_url(visits) -> str:  # type: ignore[no-untyped-def]
    return reverse("booking:invitation", args=[visits.portal.slug, visits.invitation.token])


def _confirmation_url(visits, booking) -> str:  # type: ignore[no-untyped-def]
    return reverse(
        "booking:confirmation",
        args=[visits.portal.slug, visits.invitation.token, booking.reference, booking.link_key],
    )


def _erase_url(visits, booking) -> str:  # type: ignore[no-untyped-def]
    return reverse(
        "privacy_public:erasure_request",
        args=[visits.portal.slug, visits.invitation.token, booking.reference, booking.link_key],
    )


def test_every_portal_page_links_to_the_organisations_own_notice(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    world.tenant.privacy_notice_url = "https://acme.example/privacy"
    world.tenant.save()
    with time_machine.travel(at(date(2026, 8, 28), 10), tick=False):
        page = client.get(_invitation_url(visits))
    assert page.status_code == 200
    assert '<a href="https://acme.example/privacy">Privacy notice</a>' in page.content.decode()


def test_without_its_own_notice_the_portal_links_to_the_one_parkgate_writes(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at(date(2026, 8, 28), 10), tick=False):
        page = client.get(_invitation_url(visits))
    notice = reverse("privacy_public:notice", args=[world.tenant.slug])
    assert f'<a href="{notice}?lang=en">Privacy notice</a>' in page.content.decode()


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Your name, e-mail address, plate, keypad code and links: 14 days after your visit."),
        ("fr", "Vos nom, adresse e-mail, plaque, code de clavier et liens : 14 jours après votre visite."),
        ("nl", "Uw naam, e-mailadres, nummerplaat, klaviercode en links: 14 dagen na uw bezoek."),
    ],
)
def test_the_notice_states_the_organisations_periods_in_the_visitors_language(
    world, client, language, sentence
) -> None:  # type: ignore[no-untyped-def]
    RetentionPolicy.objects.create(
        organisation=world.tenant, visitor_days=14, access_event_days=7, email_days=30
    )
    page = client.get(reverse("privacy_public:notice", args=[world.tenant.slug]), {"lang": language})
    text = page.content.decode()
    assert page.status_code == 200
    assert sentence in text
    assert f'href="mailto:{world.tenant.email}"' in text


def test_an_organisation_without_contact_or_notice_has_no_notice_and_its_portal_takes_no_booking(
    world, visits, client
) -> None:  # type: ignore[no-untyped-def]
    world.tenant.email = ""
    world.tenant.save()
    assert client.get(reverse("privacy_public:notice", args=[world.tenant.slug])).status_code == 404
    with time_machine.travel(at(date(2026, 8, 28), 10), tick=False):
        page = client.get(_invitation_url(visits))
        posted = client.post(_invitation_url(visits), {"date": VISIT_DAY.isoformat(), "spots": "1"})
    assert "the organisation has not published its privacy notice" in page.content.decode()
    assert "the organisation has not published its privacy notice" in posted.content.decode()
    assert not Booking.objects.exists()


def test_a_visitor_asks_for_erasure_and_it_happens_right_after_the_visit(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    booking = visits.book(
        day=VISIT_DAY, first="Quentin", last="Vandamme", plate="1-QVD-777", email="q@old.example"
    )
    with time_machine.travel(at(VISIT_DAY, 8), tick=False):
        before = client.get(_confirmation_url(visits, booking)).content.decode()
        asked = client.post(_erase_url(visits, booking))
        again = client.post(_erase_url(visits, booking))
        after = client.get(_confirmation_url(visits, booking)).content.decode()

    assert "Erase them as soon as the visit is over" in before
    assert asked.status_code == 302 and asked["Location"] == _confirmation_url(visits, booking)
    assert again.status_code == 302
    assert ErasureRequest.objects.filter(booking=booking).count() == 1
    assert AuditEvent.objects.filter(action="privacy.erasure.requested").count() == 1
    assert "You asked for these details to be erased as soon as the visit is over." in after
    # During the visit nothing is erased; one minute after its end, everything is.
    assert retention_run(now=at(VISIT_DAY, 16, 59))["erasures asked by visitors"] == 0
    assert Parker.objects.filter(last_name="Vandamme").count() == 1
    assert retention_run(now=at(VISIT_DAY, 17, 1))["erasures asked by visitors"] == 1
    assert not Parker.objects.filter(last_name="Vandamme").exists()
    assert Booking.objects.get(pk=booking.pk).booker_email == ""
    assert retention_run(now=at(VISIT_DAY, 17, 2))["erasures asked by visitors"] == 0


def test_an_erasure_request_needs_the_bookings_own_link(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    booking = visits.book(
        day=VISIT_DAY, first="Quentin", last="Vandamme", plate="1-QVD-777", email="q@old.example"
    )
    slug, token, key = visits.portal.slug, visits.invitation.token, booking.link_key
    for args in (
        [slug, "not-the-token", booking.reference, key],
        [slug, token, "NOTAREF1", key],
        [slug, token, booking.reference, "not-the-key"],  # the reference alone is not a secret
    ):
        assert client.post(reverse("privacy_public:erasure_request", args=args)).status_code == 404
    assert client.get(_erase_url(visits, booking)).status_code == 405
    assert not ErasureRequest.objects.exists()


def test_the_confirmation_e_mail_links_to_the_notice(
    world, visits, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        visits.book(day=VISIT_DAY, first="Quentin", last="Vandamme", plate="1-QVD-777", email="q@old.example")
    notice = "http://testserver" + reverse("privacy_public:notice", args=[world.tenant.slug]) + "?lang=en"
    (message,) = [m for m in mailoutbox if m.to == ["q@old.example"]]
    assert f"Privacy notice: {notice}" in message.body
    html = message.alternatives[0][0]
    assert f'<a href="{notice}" style="color:#57606a;">Privacy notice</a>' in html
