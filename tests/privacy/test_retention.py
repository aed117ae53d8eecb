"""The retention job, checked on a dump of the whole database (not by reading the model code)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command

from parkgate.access.models import AccessEvent, Reservation
from parkgate.booking.models import Booking
from parkgate.core.models import OutboundEmail
from parkgate.parking.models import Parker
from parkgate.privacy.models import RetentionPolicy
from parkgate.privacy.retention import ANONYMISED, retention_run
from tests.booking.factories import InvitationFactory
from tests.privacy.conftest import at, database_dump

OLD_DAY = date(2026, 9, 1)  # a Tuesday: the visit that is past every retention period
RECENT_DAY = date(2026, 10, 13)  # a Tuesday: a visit a week before the job runs
UPCOMING_DAY = date(2026, 10, 27)  # a Tuesday after the job runs
JOB_AT = at(date(2026, 10, 20), 10)  # visitor cutoff 2026-09-20, plate-read cutoff 2026-09-22

OLD = ("Quentin", "Vandamme", "1-QVD-777", "quentin.vandamme@old.example")
RECENT = ("Rosalie", "Newcombe", "2-RNW-555", "rosalie.newcombe@recent.example")
UPCOMING = ("Ulrike", "Aheadley", "3-UPC-333", "ulrike.aheadley@upcoming.example")


def _traces(person: tuple[str, str, str, str]) -> list[str]:
    first, last, plate, email = person
    return [first, last, re.sub(r"[^A-Z0-9]", "", plate)[1:4], email.split("@")[0]]


def _found(dump: str, person: tuple[str, str, str, str]) -> list[str]:
    return [trace for trace in _traces(person) if trace.lower() in dump.lower()]


def _make_visits(visits, client):  # type: ignore[no-untyped-def]
    old_invitation = InvitationFactory(
        portal=visits.portal, visitor_name="Quentin Vandamme", visitor_email=OLD[3], date=OLD_DAY
    )
    visits.invitation, fixture_invitation = old_invitation, visits.invitation
    old = visits.book(day=OLD_DAY, first=OLD[0], last=OLD[1], plate=OLD[2], email=OLD[3])
    visits.invitation = fixture_invitation
    recent = visits.book(day=RECENT_DAY, first=RECENT[0], last=RECENT[1], plate=RECENT[2], email=RECENT[3])
    upcoming = visits.book(
        day=UPCOMING_DAY, first=UPCOMING[0], last=UPCOMING[1], plate=UPCOMING[2], email=UPCOMING[3]
    )
    assert visits.camera_read(client, when=at(OLD_DAY, 9, 5), plate="1QVD777") == 200
    assert visits.camera_read(client, when=at(RECENT_DAY, 9, 5), plate="2RNW555") == 200
    return old, recent, upcoming


@pytest.mark.django_db(transaction=True)
def test_after_the_job_a_dump_holds_no_expired_visitor_and_every_recent_one(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    old, _recent, _upcoming = _make_visits(visits, client)
    before = database_dump()
    assert _found(before, OLD) == _traces(OLD)  # the dump does show a visitor while they are kept

    counts = retention_run(now=JOB_AT)

    dump = database_dump()
    assert _found(dump, OLD) == []
    assert _found(dump, RECENT) == _traces(RECENT)
    assert _found(dump, UPCOMING) == _traces(UPCOMING)
    assert counts["visitors"] == 1
    assert counts["bookings"] == 1
    assert counts["invitations"] == 1
    assert counts["access events"] == 1
    assert counts["e-mails"] == OutboundEmail.objects.filter(subject=ANONYMISED).count() >= 1
    # The facts stay: the booking, its reservation and times, the plate read and its decision.
    old.refresh_from_db()
    assert (old.status, old.booker_email) == ("confirmed", "")
    reservation = Reservation.objects.get(group_id=old.group_id)
    assert (reservation.start, reservation.end) == (at(OLD_DAY, 9), at(OLD_DAY, 17))
    assert (reservation.plate_text, reservation.keypad_code) == ("", "")
    event = AccessEvent.objects.get(requested_at=at(OLD_DAY, 9, 5))
    assert (event.granted, event.reason, event.plate_text, event.parker_id) == (
        True,
        "granted_reservation",
        "",
        None,
    )
    assert event.reservation_id is None and "candidates" not in event.data
    # Idempotent: a second run finds nothing left to do and changes nothing.
    assert set(retention_run(now=JOB_AT).values()) == {0}
    assert database_dump() == dump


@pytest.mark.django_db(transaction=True)
def test_the_links_of_an_expired_visit_stop_working(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    old, _, _ = _make_visits(visits, client)
    reservation = Reservation.objects.get(group_id=old.group_id)
    token = reservation.remote_control_token

    retention_run(now=JOB_AT)

    reservation.refresh_from_db()
    assert reservation.remote_control_token != token
    assert not Reservation.objects.filter(remote_control_token=token).exists()


def test_an_organisation_that_keeps_visitors_longer_keeps_them(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    RetentionPolicy.objects.create(
        organisation=world.tenant, visitor_days=60, access_event_days=28, email_days=60
    )
    old, _, _ = _make_visits(visits, client)

    counts = retention_run(now=JOB_AT)

    assert (counts["visitors"], counts["bookings"], counts["e-mails"]) == (0, 0, 0)
    assert Parker.objects.filter(last_name=OLD[1]).count() == 1
    assert Booking.objects.get(pk=old.pk).booker_email == OLD[3]
    # The plate read at the owner's lot follows the lot owner's period (the platform's 28 days).
    assert counts["access events"] == 1


def test_housekeeping_runs_the_retention_job(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    _make_visits(visits, client)
    with time_machine.travel(JOB_AT, tick=False):
        call_command("housekeeping")
    assert not Parker.objects.filter(last_name=OLD[1]).exists()
    assert Parker.objects.filter(last_name=RECENT[1]).count() == 1


def test_after_a_day_plates_in_access_events_are_kept_only_as_a_keyed_hash(world, visits, client) -> None:  # type: ignore[no-untyped-def]
    from parkgate.privacy.retention import plate_hash
    from parkgate.privacy.subjects import subject_find

    _make_visits(visits, client)
    recent_read = AccessEvent.objects.get(requested_at=at(RECENT_DAY, 9, 5))
    assert (recent_read.plate_text, recent_read.plate_hash) == ("2RNW555", "")

    # A day and a minute after the read: hashed, still linked to the person, still found by plate.
    counts = retention_run(now=at(RECENT_DAY, 9, 6) + timedelta(days=1))

    recent_read.refresh_from_db()
    # The old read is past 28 days: anonymised outright. The recent one is hashed.
    assert (counts["access events"], counts["plates hashed"]) == (1, 1)
    assert recent_read.plate_text == ""
    assert recent_read.plate_hash == plate_hash("2RNW555") != plate_hash("2RNW556")
    assert "candidates" not in recent_read.data and "matched_key" not in recent_read.data
    assert recent_read.parker is not None and recent_read.parker.last_name == RECENT[1]
    found = subject_find(organisation=world.owner_org, plate="2-rnw 555")
    assert list(found.access_events.values_list("pk", flat=True)) == [recent_read.pk]
    # A read younger than a day keeps its plate.
    assert visits.camera_read(client, when=at(RECENT_DAY, 9, 6) + timedelta(days=1), plate="2RNW555") == 200
    retention_run(now=at(RECENT_DAY, 9, 7) + timedelta(days=1))
    assert AccessEvent.objects.filter(plate_text="2RNW555").count() == 1
