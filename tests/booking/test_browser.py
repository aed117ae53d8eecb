"""A visitor books in headless Chromium (desktop and phone, French and Dutch), reads the e-mails,
checks the .ics, follows the cancellation link; axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from icalendar import Calendar
from playwright.sync_api import expect

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking
from tests.polling import wait_for

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

WORDS = {
    "fr": {
        "language": "Français",
        "continue": "Continuer",
        "proceed": "Réserver",
        "confirmed": "Votre réservation est confirmée",
        "cancel": "Annuler ma réservation",
        "cancelled": "Votre réservation est annulée",
        "first": "Prénom",
        "subject": "Votre stationnement",
        "spots": "Nombre de places",
        "free": "places libres",
    },
    "nl": {
        "language": "Nederlands",
        "continue": "Verder",
        "proceed": "Reserveren",
        "confirmed": "Uw reservering is bevestigd",
        "cancel": "Mijn reservering annuleren",
        "cancelled": "Uw reservering is geannuleerd",
        "first": "Voornaam",
        "subject": "Uw parkeerplaats",
        "spots": "Aantal plaatsen",
        "free": "plaatsen vrij",
    },
}


def axe_check(page) -> None:  # type: ignore[no-untyped-def]
    """Run axe-core (from npm, see package.json) in the page; fail on serious or critical violations."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --no-audit --no-fund` (make test does)")
    # Evaluated through the DevTools protocol: the page's Content-Security-Policy allows no inline
    # <script>, which is what add_script_tag would insert.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("viewport", "language"), [("page", "fr"), ("phone_page", "nl"), ("page", "nl"), ("phone_page", "fr")]
)
def test_visitor_books_reads_the_emails_and_cancels(
    request, viewport, language, portal_world, live_server, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    words = WORDS[language]
    page = request.getfixturevalue(viewport)
    pw = portal_world
    mail.outbox.clear()

    page.goto(pw.url)
    page.get_by_role("link", name=words["language"]).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    axe_check(page)

    # htmx: the free spots follow the chosen date without a reload.
    monday = pw.monday
    # The page opens on its first open day; the chosen Monday is another day, so htmx
    # ("change changed") asks for its free spots.
    assert page.locator("input[name=date]").input_value() != monday.isoformat()
    with page.expect_response(re.compile(r"/availability/\?date=" + monday.isoformat())):
        page.locator("input[name=date]").fill(monday.isoformat())
        page.locator("input[name=date]").dispatch_event("change")
    page.wait_for_load_state("networkidle")  # every swap done before choosing a slot
    expect(page.locator("#availability legend")).to_contain_text(str(monday.day))
    expect(page.locator("#availability").get_by_text(re.compile(words["free"])).first).to_be_visible()
    page.locator(f"label[for=slot-{pw.slot(9)}]").click()
    expect(page.locator(f"#slot-{pw.slot(9)}")).to_be_checked()
    page.get_by_label(words["spots"]).select_option("2")
    page.get_by_role("button", name=words["continue"]).click()

    page.wait_for_selector("input[name=v0-first_name]")
    axe_check(page)
    people = [
        ("Jeanne", "Dupont", "1-abc-123", "jeanne@example.com"),
        ("Piet", "Peeters", "2 xyz 987", "piet@example.com"),
    ]
    for index, (first, last, plate, email) in enumerate(people):
        page.fill(f"#id_v{index}-first_name", first)
        page.fill(f"#id_v{index}-last_name", last)
        page.fill(f"#id_v{index}-plate", plate)
        page.fill(f"#id_v{index}-email", email)
    assert page.get_by_label(words["first"]).count() == 2
    page.get_by_role("button", name=words["proceed"]).click()

    page.get_by_role("heading", name=words["confirmed"]).wait_for()
    booking = Booking.objects.get()
    assert booking.language == language and booking.reference in page.content()
    axe_check(page)

    wait_for(lambda: len(mail.outbox) == 2, what="two confirmation e-mails")
    by_address = {m.to[0]: m for m in mail.outbox}
    message = by_address["piet@example.com"]
    assert message.subject.startswith(words["subject"])
    reservation = Reservation.objects.get(parker__email="piet@example.com")
    assert reservation.language == language
    assert reservation.keypad_code in message.body and "2 XYZ 987" in message.body
    [(_filename, content, _mimetype)] = message.attachments
    calendar = Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    assert (
        event.decoded("DTSTART") == reservation.start and event["DTSTART"].params["TZID"] == "Europe/Brussels"
    )
    assert [str(t["TZID"]) for t in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]

    cancel_url = re.search(r"https?://\S+/cancel/\S+/", message.body).group(0)
    assert cancel_url.startswith(live_server.url)
    page.goto(cancel_url)
    expect(page.locator("html")).to_have_attribute("lang", language)
    axe_check(page)
    page.get_by_role("button", name=words["cancel"]).click()
    page.get_by_text(words["cancelled"]).wait_for()
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert Reservation.objects.get(parker__email="jeanne@example.com").status == ReservationStatus.CONFIRMED
    wait_for(lambda: len(mail.outbox) == 3, what="the cancellation e-mail")
    assert mail.outbox[2].to == ["piet@example.com"]

    page.goto(live_server.url + f"/visit/{pw.portal.slug}/lost/")
    axe_check(page)
