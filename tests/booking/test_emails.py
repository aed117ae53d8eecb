"""Confirmation e-mails (one per visitor, their language, every way in, .ics), cancellation, lost links."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from parkgate.access.capacity import availability
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking, BookingStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from tests import factories as f
from tests.booking.conftest import booking_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(client, portal_world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Two visitors, Monday to Wednesday, 09:00-13:00, booked in Dutch."""
    client.get(portal_world.url + "?lang=nl")
    until = (portal_world.monday + timedelta(days=2)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(portal_world.url, booking_post(portal_world, spots=2, until=until))
    assert response.status_code == 302
    return Booking.objects.get()


def _message_to(address):  # type: ignore[no-untyped-def]
    [message] = [m for m in mail.outbox if m.to == [address]]
    return message


def test_one_email_per_visitor_in_their_language_with_every_way_in(booked, portal_world) -> None:  # type: ignore[no-untyped-def]
    assert len(mail.outbox) == 2
    message = _message_to("piet@example.com")
    day = portal_world.monday
    assert (
        message.subject
        == f"Uw parkeerplaats in Central Garage op {day.day} {_nl_month(day.month)} {day.year} is bevestigd"
    )
    assert message.from_email == "Acme Consulting <no-reply@parkgate.localhost>"
    own = list(Reservation.objects.filter(group_id=booked.group_id, parker__email="piet@example.com"))
    assert len(own) == 3
    text = message.body
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    for reservation in own:
        remote = "http://testserver" + reverse(
            "access:remote_control", args=[reservation.remote_control_token]
        )
        cancel = "http://testserver" + reverse("booking:cancel", args=["acme", reservation.cancel_token])
        assert remote in text and remote in html
        assert cancel in text and cancel in html
        assert f"Code voor het klavier: {reservation.keypad_code}" in text
    assert "Nummerplaatcamera: de slagboom opent voor nummerplaat 2 XYZ 987." in text
    assert "Rue de la Loi 16, 1000 Brussels" in text
    assert "09:00\u201313:00" in text
    assert 'style="' in html  # inline CSS for mail clients
    # Only their own days: nothing of Jeanne's.
    for other in Reservation.objects.filter(group_id=booked.group_id, parker__email="jeanne@example.com"):
        assert (
            other.cancel_token not in text
            and other.remote_control_token not in text
            and other.keypad_code not in text
        )


def _nl_month(month: int) -> str:
    return [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ][month - 1]


def test_the_ics_is_valid_with_the_lots_timezone(booked) -> None:  # type: ignore[no-untyped-def]
    message = _message_to("jeanne@example.com")
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"parking-{booked.reference}.ics" and mimetype == "text/calendar"
    calendar = Calendar.from_ical(content)
    timezones = list(calendar.walk("VTIMEZONE"))
    assert [str(t["TZID"]) for t in timezones] == ["Europe/Brussels"]
    # It covers the booking's years (this one and the next two), not 1970-2038.
    transitions = timezones[0].walk("STANDARD") + timezones[0].walk("DAYLIGHT")
    assert len(transitions) <= 6, len(transitions)
    described = timezones[0].to_tz()
    events = calendar.walk("VEVENT")
    own = list(
        Reservation.objects.filter(group_id=booked.group_id, parker__email="jeanne@example.com").order_by(
            "start"
        )
    )
    assert [str(e["UID"]) for e in events] == [f"reservation-{r.pk}@testserver" for r in own]
    for event, reservation in zip(events, own, strict=True):
        assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
        assert event.decoded("DTSTART") == reservation.start
        assert event.decoded("DTEND") == reservation.end
        assert (
            event.decoded("DTSTART").utcoffset()
            == reservation.start.astimezone(zoneinfo.ZoneInfo("Europe/Brussels")).utcoffset()
            == reservation.start.astimezone(described).utcoffset()  # what a calendar reads from it
        )
        assert "DTSTAMP" in event
        assert str(event["STATUS"]) == "CONFIRMED"


def test_a_failed_send_is_kept_for_staff(
    client, portal_world, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.core.test_mail.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(portal_world.url, booking_post(portal_world))
    assert response.status_code == 302  # the booking stands; the e-mail will be retried
    email = OutboundEmail.objects.get(kind="booking.confirmation")
    assert email.status == "retrying" and email.attempts == 1 and "smtp down" in email.last_error


def _cancel_url(reservation: Reservation) -> str:
    return reverse("booking:cancel", args=["acme", reservation.cancel_token])


def test_visitor_cancels_their_own_reservation(
    client, booked, portal_world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    reservation = (
        Reservation.objects.filter(group_id=booked.group_id, parker__email="piet@example.com")
        .order_by("start")
        .first()
    )
    mail.outbox.clear()
    day = reservation.start.astimezone(portal_world.portal.lot.zone).date()
    before = availability(policy=reservation.policy, day=day).ranges
    free_before = availability(
        policy=reservation.policy, day=day, ranges=[(reservation.start, reservation.end)]
    ).ranges[0][2]
    page = client.get(_cancel_url(reservation))
    assert page.status_code == 200 and "Mijn reservering annuleren" in page.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONFIRMED  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(_cancel_url(reservation))
    assert done.status_code == 200 and "Uw reservering is geannuleerd" in done.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    free_after = availability(
        policy=reservation.policy, day=day, ranges=[(reservation.start, reservation.end)]
    ).ranges[0][2]
    assert free_after == free_before + 1 and before is not None
    # Only this reservation: the other visitor and the other days stand.
    others = Reservation.objects.filter(group_id=booked.group_id).exclude(pk=reservation.pk)
    assert set(others.values_list("status", flat=True)) == {ReservationStatus.CONFIRMED}
    booked.refresh_from_db()
    assert booked.status == BookingStatus.CONFIRMED
    assert (
        AuditEvent.objects.filter(
            action="booking.reservation.cancelled", data__reservation=reservation.pk
        ).count()
        == 1
    )
    assert (
        AuditEvent.objects.filter(
            action="access.reservation.cancelled", object_id=str(reservation.pk)
        ).count()
        == 1
    )
    [message] = mail.outbox
    assert message.to == ["piet@example.com"] and "geannuleerd" in message.subject
    ics = Calendar.from_ical(message.attachments[0][1])
    assert str(ics["METHOD"]) == "CANCEL" and str(ics.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    # Twice is harmless: no error, no second e-mail, no second audit.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(_cancel_url(reservation))
    assert again.status_code == 200 and "al geannuleerd" in again.content.decode()
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="booking.reservation.cancelled").count() == 1


def test_cancelling_every_reservation_cancels_the_booking(client, booked) -> None:  # type: ignore[no-untyped-def]
    for reservation in Reservation.objects.filter(group_id=booked.group_id):
        client.post(_cancel_url(reservation))
    booked.refresh_from_db()
    assert booked.status == BookingStatus.CANCELLED


def test_cancellation_after_the_start_is_refused(client, world, portal_world, pinned_now) -> None:  # type: ignore[no-untyped-def]
    from tests.booking.factories import InvitationFactory  # noqa: F401

    start = pinned_now - timedelta(minutes=5)
    reservation = f.ReservationFactory(
        policy=world.visitor_policy, start=start, end=start + timedelta(hours=2)
    )
    Booking.objects.create(
        portal=portal_world.portal,
        group_id=reservation.group_id,
        reference="STARTED1",
        language="en",
        booker_email="x@example.com",
        spots=1,
        status=BookingStatus.CONFIRMED,
    )
    page = client.get(_cancel_url(reservation))
    assert "already started and can no longer be cancelled" in page.content.decode()
    response = client.post(_cancel_url(reservation))
    assert response.status_code == 409
    assert "already started and can no longer be cancelled" in response.content.decode()
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONFIRMED


def test_a_cancel_token_works_only_on_its_own_portal(client, booked) -> None:  # type: ignore[no-untyped-def]
    from tests.booking.factories import VisitorPortalFactory

    other = VisitorPortalFactory()
    reservation = Reservation.objects.filter(group_id=booked.group_id).first()
    response = client.post(reverse("booking:cancel", args=[other.slug, reservation.cancel_token]))
    assert response.status_code == 404
    assert client.get(reverse("booking:cancel", args=["acme", "nope" * 8])).status_code == 404
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONFIRMED


def test_lost_links_are_sent_only_to_that_address_and_the_answer_never_changes(
    client, booked, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("booking:lost_links", args=["acme"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": "PIET@example.com"})
        unknown = client.post(url, {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200

    def strip(response):  # type: ignore[no-untyped-def]
        body = response.content.decode().replace("PIET@example.com", "").replace("nobody@example.com", "")
        body = re.sub(r'nonce="[^"]+"', "", body)  # a fresh CSP nonce per response
        return re.sub(r"csrf[^\"]*\": \"[^\"]+\"|value=\"[A-Za-z0-9]{64}\"", "", body, flags=re.I)

    assert strip(known) == strip(unknown)
    [message] = mail.outbox
    assert message.to == ["piet@example.com"]
    for reservation in Reservation.objects.filter(group_id=booked.group_id, parker__email="piet@example.com"):
        assert reservation.cancel_token in message.body
    for reservation in Reservation.objects.filter(
        group_id=booked.group_id, parker__email="jeanne@example.com"
    ):
        assert reservation.cancel_token not in message.body


def test_lost_links_are_rate_limited_per_address_and_per_client(
    client, booked, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("booking:lost_links", args=["acme"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert client.post(url, {"email": "piet@example.com"}).status_code == 200
    assert len(mail.outbox) == 3  # LINKS_RATE_PER_EMAIL: the answer stays the same, nothing more is sent
    statuses = [client.post(url, {"email": f"n{i}@example.com"}).status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]  # LINKS_RATE_PER_ADDRESS = 10 per hour


@pytest.mark.django_db
def test_the_ways_in_promised_are_the_lots_working_equipment(portal_world) -> None:  # type: ignore[no-untyped-def]
    from parkgate.access.models import Camera, Keypad
    from parkgate.access.selectors import ways_in

    lot = portal_world.portal.lot
    assert ways_in(lot) == ("remote_control", "anpr", "keypad")
    Keypad.objects.filter(gate__lot=lot).update(is_active=False)
    assert ways_in(lot) == ("remote_control", "anpr")
    Camera.objects.filter(gate__lot=lot).delete()
    assert ways_in(lot) == ("remote_control",)
    lot.gates.update(is_active=False)
    assert ways_in(lot) == ()


@pytest.mark.django_db
def test_the_ways_in_count_only_devices_at_an_active_gate_of_that_lot(  # type: ignore[no-untyped-def]
    portal_world, django_assert_num_queries
) -> None:
    from parkgate.access.devices import device_save
    from parkgate.access.models import Camera, Keypad
    from parkgate.access.selectors import ways_in
    from parkgate.parking.models import Gate

    lot = portal_world.portal.lot
    Camera.objects.filter(gate__lot=lot).delete()
    Keypad.objects.filter(gate__lot=lot).delete()
    # An out-of-service gate keeps its camera and keypad, both switched on; another lot has both too.
    closed = f.GateFactory(lot=lot, name="Closed gate", is_active=False)
    device_save(device=Camera(gate=closed, name="Closed camera"), actor=None)
    device_save(device=Keypad(gate=closed, name="Closed keypad"), actor=None)
    elsewhere = f.GateFactory(lot=f.LotFactory(owner=lot.owner), name="Other lot's gate")
    device_save(device=Camera(gate=elsewhere, name="Other camera"), actor=None)
    device_save(device=Keypad(gate=elsewhere, name="Other keypad"), actor=None)
    with django_assert_num_queries(1):  # asked for every confirmation e-mail
        assert ways_in(lot) == ("remote_control",)
    Gate.objects.filter(pk=closed.pk).update(is_active=True)
    assert ways_in(lot) == ("remote_control", "anpr", "keypad")
