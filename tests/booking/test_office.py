"""Back office: bookings per portal and per lot, tenancy and roles, staff cancel, CSV, e-mail resend."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking
from parkgate.core.models import AuditEvent, OutboundEmail, OutboundEmailStatus
from tests import factories as f
from tests.booking.conftest import booking_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(client, portal_world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(portal_world.url, booking_post(portal_world, spots=2))
    assert response.status_code == 302
    client.cookies.clear()
    return Booking.objects.get()


LIST = reverse("backoffice:booking_list")


def test_list_shows_each_visitor_with_credentials_and_filters(client_for, world, booked) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    body = client.get(LIST).content.decode()
    assert "Jeanne Dupont" in body and "Piet Peeters" in body and booked.reference in body
    assert "Valid from the start" in body
    only_piet = client.get(LIST + "?plate=2xyz").content.decode()
    assert "Piet Peeters" in only_piet and "Jeanne Dupont" not in only_piet
    other_day = (booked.created_at + timedelta(days=400)).date().isoformat()
    assert "Jeanne Dupont" not in client.get(LIST + f"?day={other_day}").content.decode()
    on_day = Reservation.objects.filter(group_id=booked.group_id).first().start.date().isoformat()
    assert "Jeanne Dupont" in client.get(LIST + f"?day={on_day}&status=confirmed").content.decode()
    assert "Jeanne Dupont" not in client.get(LIST + "?status=cancelled").content.decode()
    assert (
        "Jeanne Dupont"
        in client.get(LIST + f"?portal={booked.portal_id}&lot={world.lot.pk}").content.decode()
    )


def test_the_lot_owners_desk_sees_bookings_at_its_lot(client_for, world, booked) -> None:  # type: ignore[no-untyped-def]
    for user in (world.owner, world.receptionist):
        body = client_for(user).get(LIST).content.decode()
        assert "Jeanne Dupont" in body


def test_outsiders_see_nothing_and_change_nothing(client_for, world, booked) -> None:  # type: ignore[no-untyped-def]
    reservation = Reservation.objects.filter(group_id=booked.group_id).first()
    email = OutboundEmail.objects.filter(object_id=str(booked.pk)).first()
    for user in (world.outsider_admin, world.outsider_owner):
        client = client_for(user)
        assert "Jeanne" not in client.get(LIST).content.decode()
        assert "Jeanne" not in client.get(reverse("backoffice:booking_export")).content.decode()
        assert client.get(reverse("backoffice:booking_detail", args=[booked.pk])).status_code == 404
        cancel = reverse("backoffice:booking_cancel", args=[booked.pk, reservation.pk])
        assert client.post(cancel).status_code == 404
        resend = reverse("backoffice:booking_email_resend", args=[booked.pk, email.pk])
        assert client.post(resend).status_code == 404
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONFIRMED
    assert OutboundEmail.objects.count() == 2
    assert not AuditEvent.objects.filter(
        action__in=["booking.reservation.cancelled", "booking.email.resent"]
    ).exists()


def test_a_parker_gets_403_and_changes_nothing(client_for, world, booked) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.parker_user)
    reservation = Reservation.objects.filter(group_id=booked.group_id).first()
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("backoffice:booking_export")).status_code == 403
    assert client.get(reverse("backoffice:booking_detail", args=[booked.pk])).status_code == 403
    assert (
        client.post(reverse("backoffice:booking_cancel", args=[booked.pk, reservation.pk])).status_code == 403
    )
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CONFIRMED


def test_anonymous_is_sent_to_login(client, booked) -> None:  # type: ignore[no-untyped-def]
    response = client.get(LIST)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_staff_cancel_frees_the_spot_tells_the_visitor_and_audits(
    client_for, world, booked, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.receptionist)
    reservation = Reservation.objects.filter(group_id=booked.group_id, parker__email="piet@example.com").get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backoffice:booking_cancel", args=[booked.pk, reservation.pk]))
    assert response.status_code == 302
    reservation.refresh_from_db()
    assert (
        reservation.status == ReservationStatus.CANCELLED and reservation.cancelled_by == world.receptionist
    )
    event = AuditEvent.objects.get(action="booking.reservation.cancelled")
    assert event.actor == world.receptionist
    [message] = mail.outbox
    assert message.to == ["piet@example.com"] and "It was cancelled by Acme Consulting." in message.body
    detail = client.get(reverse("backoffice:booking_detail", args=[booked.pk])).content.decode()
    assert "Disabled" in detail


def test_staff_may_cancel_a_started_reservation_but_not_an_ended_one(
    client_for, world, portal_world, pinned_now
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world.admin)
    now = pinned_now
    started = f.ReservationFactory(
        policy=world.visitor_policy, start=now - timedelta(hours=1), end=now + timedelta(hours=1)
    )
    ended = f.ReservationFactory(
        policy=world.visitor_policy,
        start=now - timedelta(hours=3),
        end=now - timedelta(hours=1),
        group_id=started.group_id,
    )
    booking = Booking.objects.create(
        portal=portal_world.portal,
        group_id=started.group_id,
        reference="STAFF001",
        language="en",
        booker_email="x@example.com",
        spots=1,
        days=2,
        status="confirmed",
    )
    client.post(reverse("backoffice:booking_cancel", args=[booking.pk, started.pk]))
    client.post(reverse("backoffice:booking_cancel", args=[booking.pk, ended.pk]))
    started.refresh_from_db()
    ended.refresh_from_db()
    assert started.status == ReservationStatus.CANCELLED
    assert ended.status == ReservationStatus.CONFIRMED


def test_a_reservation_of_another_booking_cannot_be_cancelled_through_this_one(
    client_for, world, booked, portal_world, pinned_now
) -> None:  # type: ignore[no-untyped-def]
    other = f.ReservationFactory(policy=world.visitor_policy, start=pinned_now + timedelta(days=3))
    other_booking = Booking.objects.create(
        portal=portal_world.portal,
        group_id=other.group_id,
        reference="OTHER001",
        language="en",
        booker_email="x@example.com",
        spots=1,
        status="confirmed",
    )
    response = client_for(world.admin).post(reverse("backoffice:booking_cancel", args=[booked.pk, other.pk]))
    assert response.status_code == 404 and other_booking.pk
    other.refresh_from_db()
    assert other.status == ReservationStatus.CONFIRMED


def test_csv_export_with_filters(client_for, world, booked) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world.admin).get(reverse("backoffice:booking_export") + "?plate=1-ABC")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Reference", "Portal", "Lot"]
    assert len(rows) == 2
    assert rows[1][0] == booked.reference and rows[1][5:9] == [
        "Jeanne",
        "Dupont",
        "jeanne@example.com",
        "1-ABC-123",
    ]


def test_csv_neutralises_formulas(
    client_for, world, portal_world, client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    data = booking_post(portal_world) | {"v0-first_name": "=HYPERLINK(1)"}
    client.post(portal_world.url, data)
    response = client_for(world.admin).get(reverse("backoffice:booking_export"))
    assert "'=HYPERLINK(1)" in response.content.decode("utf-8-sig")


def test_failed_emails_are_visible_and_can_be_resent(
    client_for, world, booked, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    email = OutboundEmail.objects.filter(object_id=str(booked.pk)).first()
    email.status = OutboundEmailStatus.FAILED
    email.last_error = "SMTPRecipientsRefused: mailbox full"
    email.save()
    client = client_for(world.admin)
    detail = client.get(reverse("backoffice:booking_detail", args=[booked.pk])).content.decode()
    assert "SMTPRecipientsRefused: mailbox full" in detail and "Failed" in detail
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backoffice:booking_email_resend", args=[booked.pk, email.pk]))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == email.to and message.subject == email.subject
    assert OutboundEmail.objects.filter(object_id=str(booked.pk)).count() == 3
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.FAILED  # the record of the failure stays
    assert AuditEvent.objects.filter(action="booking.email.resent", actor=world.admin).count() == 1
