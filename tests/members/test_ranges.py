"""Book my day by the hour: a time range of a day, through the capacity engine, with its waiting list.

The flex policy has one spot, weekdays 07:00-19:00; "now" is Saturday 28 November 2026 10:00 and the
day booked is Monday 30 November.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.members.models import WaitingListEntry, WaitingStatus
from parkgate.members.services import member_day_book, member_day_cancel
from tests import factories as f
from tests.backoffice.conftest import compiled_translations
from tests.members.conftest import MONDAY_10, SATURDAY_10

FIXTURES = (compiled_translations,)
MONDAY = date(2026, 11, 30)


def _at(hour: int, minute: int = 0):  # type: ignore[no-untyped-def]
    return MONDAY_10.replace(hour=hour, minute=minute)


def _day_url(members, day: date = MONDAY) -> str:  # type: ignore[no-untyped-def]
    return reverse("members:book_day", args=[members.flex.pk, day.isoformat()])


def _mine(parker) -> list[tuple[object, object]]:  # type: ignore[no-untyped-def]
    return list(
        Reservation.objects.filter(parker=parker, status=ReservationStatus.CONFIRMED)
        .order_by("start")
        .values_list("start", "end")
    )


def _third(members):  # type: ignore[no-untyped-def]
    chloe = f.ParkerFactory(
        managed_by=members.world.tenant,
        organisation=members.world.tenant,
        first_name="Chloe",
        email="chloe@acme.example",
    )
    members.flex.members.add(chloe)
    return chloe


def _colleague_books(members, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
    """Lucas books Monday from ``start`` to ``end`` o'clock (as of Saturday 10:00)."""
    member_day_book(
        parker=members.colleague,
        policy=members.flex,
        day=MONDAY,
        span=(_at(start), _at(end)),
        actor=None,
        language="en",
        now=SATURDAY_10,
    )


@time_machine.travel(SATURDAY_10, tick=False)
def test_the_day_page_shows_free_spots_per_hour_and_for_a_chosen_range(members, client_for) -> None:  # type: ignore[no-untyped-def]
    _colleague_books(members, 9, 12)
    client = client_for(members.world.parker_user)
    response = client.get(_day_url(members))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Monday 30 November" in html
    # Twelve open hours, three of them taken by the colleague's 09:00-12:00.
    assert html.count("1 free") == 9 and html.count(">Full<") == 3
    # The range form starts with the day's opening hours.
    assert 'name="start" value="07:00"' in html and 'name="end" value="19:00"' in html
    assert "0 spots free for the whole day." in html

    html = client.get(_day_url(members), {"start": "13:00", "end": "17:30"}).content.decode()
    assert "1 spot free from 13:00 to 17:30." in html
    assert "Book 13:00 \u2013 17:30" in html
    html = client.get(_day_url(members), {"start": "08:00", "end": "10:00"}).content.decode()
    assert "0 spots free from 08:00 to 10:00." in html
    assert "Join the waiting list" in html
    # Looking books nothing.
    assert _mine(members.parker) == []

    # The list of days says the whole day is full but some hours are free.
    listing = client.get(reverse("members:book", args=[members.flex.pk])).content.decode()
    assert listing.count("Full all day, free at some hours") == 1


@time_machine.travel(SATURDAY_10, tick=False)
def test_book_a_range_then_cancel_it(members, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(members.world.parker_user)
    response = client.post(
        _day_url(members), {"action": "book", "start": "09:00", "end": "12:30", "back": "day"}
    )
    assert response.status_code == 302 and response["Location"] == _day_url(members)
    assert _mine(members.parker) == [(_at(9), _at(12, 30))]
    [booking] = Reservation.objects.filter(parker=members.parker)
    assert (booking.source, booking.policy) == ("member_page", members.flex)
    page = client.get(response["Location"]).content.decode()
    assert "Your spot is booked." in page
    assert "09:00 \u2013 12:30" in page and booking.keypad_code in page
    listing = client.get(reverse("members:book", args=[members.flex.pk])).content.decode()
    assert "Booked for some hours" in listing

    # A second range the same day that does not overlap is fine; an overlapping one is refused.
    client.post(_day_url(members), {"action": "book", "start": "14:00", "end": "16:00"})
    page = client.post(
        _day_url(members), {"action": "book", "start": "12:00", "end": "15:00"}, follow=True
    ).content.decode()
    assert "You already have a booking at this time." in page
    assert _mine(members.parker) == [(_at(9), _at(12, 30)), (_at(14), _at(16))]

    # Cancelling one booking leaves the other.
    client.post(_day_url(members), {"action": "cancel", "group": str(booking.group_id)})
    assert _mine(members.parker) == [(_at(14), _at(16))]
    booking.refresh_from_db()
    assert booking.status == ReservationStatus.CANCELLED


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_range_when_no_spot_is_free_for_all_of_it_books_nothing_then_waits(members, client_for) -> None:  # type: ignore[no-untyped-def]
    _colleague_books(members, 11, 13)
    client = client_for(members.world.parker_user)
    response = client.post(_day_url(members), {"action": "book", "start": "09:00", "end": "12:00"})
    assert response.status_code == 302
    assert response["Location"] == f"{_day_url(members)}?start=09%3A00&end=12%3A00"
    page = client.get(response["Location"]).content.decode()
    assert "No spot is free for this whole time. Join the waiting list to get the next free spot." in page
    assert "0 spots free from 09:00 to 12:00." in page
    assert _mine(members.parker) == [] and not WaitingListEntry.objects.exists()

    client.post(_day_url(members), {"action": "wait", "start": "09:00", "end": "12:00"})
    entry = WaitingListEntry.objects.get()
    assert (entry.parker, entry.day, entry.start, entry.end, entry.status) == (
        members.parker,
        MONDAY,
        _at(9),
        _at(12),
        WaitingStatus.WAITING,
    )
    listing = client.get(reverse("members:book", args=[members.flex.pk])).content.decode()
    assert "Waiting list: number 1" in listing and "Waiting for 09:00 \u2013 12:00" in listing
    assert _mine(members.parker) == []


def test_a_freed_spot_goes_to_the_first_in_line_whose_time_it_covers(members) -> None:  # type: ignore[no-untyped-def]
    """Chloe waits for the whole day (first), Sophie for 10:00-11:00, Lucas for 13:00-15:00. The
    morning frees: the whole day is still not free (14:00-16:00 stays taken), so Chloe keeps her place,
    Sophie gets her hour and an e-mail, and Lucas, whose time is still taken, keeps waiting."""
    flex, sophie, lucas = members.flex, members.parker, members.colleague
    chloe, mia = _third(members), _third(members)
    now = SATURDAY_10

    def book(parker, span=None, wait=False):  # type: ignore[no-untyped-def]
        return member_day_book(
            parker=parker,
            policy=flex,
            day=MONDAY,
            span=span,
            actor=None,
            language="fr",
            wait_if_full=wait,
            now=now,
        )

    booked = book(mia, (_at(9), _at(12))).reservations
    book(mia, (_at(14), _at(16)))
    assert book(chloe, wait=True).waiting is not None
    assert book(sophie, (_at(10), _at(11)), wait=True).waiting is not None
    assert book(lucas, (_at(13), _at(15)), wait=True).waiting is not None

    promoted = member_day_cancel(
        parker=mia, policy=flex, day=MONDAY, group=booked[0].group_id, actor=None, now=now
    )

    assert [entry.parker for entry in promoted] == [sophie]
    assert _mine(sophie) == [(_at(10), _at(11))]
    assert _mine(chloe) == [] and _mine(lucas) == []
    assert list(WaitingListEntry.objects.order_by("created_at", "id").values_list("parker", "status")) == [
        (chloe.pk, WaitingStatus.WAITING),
        (sophie.pk, WaitingStatus.PROMOTED),
        (lucas.pk, WaitingStatus.WAITING),
    ]
    email = OutboundEmail.objects.get(kind="members.spot_given")
    assert email.to == [sophie.email]
    # In the member's language (French), with the time given.
    assert "Réservée de 10:00 à 11:00." in email.body_text
    audit = AuditEvent.objects.get(action="members.waiting.promoted")
    assert (audit.data["start"], audit.data["end"]) == (
        "2026-11-30T09:00:00+00:00",
        "2026-11-30T10:00:00+00:00",
    )

    # The afternoon frees too: now the whole day is free except Sophie's hour, so Chloe still
    # waits (a whole day needs 10:00-11:00 as well) and Lucas gets 13:00-15:00.
    [afternoon] = Reservation.objects.filter(parker=mia, status=ReservationStatus.CONFIRMED)
    promoted = member_day_cancel(
        parker=mia, policy=flex, day=MONDAY, group=afternoon.group_id, actor=None, now=now
    )
    assert [entry.parker for entry in promoted] == [lucas]
    assert _mine(lucas) == [(_at(13), _at(15))] and _mine(chloe) == []


OUTSIDE = {
    "en": "Choose a time within the opening hours of this day: 07:00\u201319:00.",
    "fr": "Choisissez une heure dans l\u2019horaire d\u2019ouverture de ce jour\u00a0: 07:00\u201319:00.",
    "nl": "Kies een tijd binnen de openingsuren van deze dag: 07:00\u201319:00.",
}
BAD_RANGES = [
    (
        {"start": "20:00", "end": "21:00"},
        OUTSIDE,
    ),
    (
        {"start": "06:00", "end": "09:00"},
        OUTSIDE,
    ),
    (
        {"start": "12:00", "end": "09:00"},
        {
            "en": "The end must be after the start.",
            "fr": "La fin doit être après le début.",
            "nl": "Het einde moet na het begin liggen.",
        },
    ),
    (
        {"start": "nine", "end": "12:00"},
        {
            "en": "Enter a time as hours and minutes, like 08:30.",
            "fr": "Saisissez une heure en heures et minutes, par exemple 08:30.",
            "nl": "Vul een tijd in als uren en minuten, bijvoorbeeld 08:30.",
        },
    ),
    (
        {"start": "09:00", "end": ""},
        {
            "en": "Enter a time, like 08:30.",
            "fr": "Saisissez une heure, par exemple 08:30.",
            "nl": "Vul een tijd in, bijvoorbeeld 08:30.",
        },
    ),
]


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
@pytest.mark.parametrize(("times", "messages"), BAD_RANGES)
@time_machine.travel(SATURDAY_10, tick=False)
def test_a_bad_range_is_explained_in_the_members_language_and_changes_nothing(  # type: ignore[no-untyped-def]
    members, client_for, compiled_translations, language, times, messages
) -> None:
    client = client_for(members.world.parker_user)
    client.cookies["django_language"] = language
    for action in ("book", "wait"):
        response = client.post(_day_url(members), {"action": action, **times})
        assert response.status_code == 400
        assert messages[language] in response.content.decode()
    assert not Reservation.objects.exists()
    assert not WaitingListEntry.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="members.").exists()


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_range_on_a_closed_day_or_past_time_books_nothing(members, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(members.world.parker_user)
    sunday = date(2026, 11, 29)
    response = client.post(_day_url(members, sunday), {"action": "book", "start": "09:00", "end": "12:00"})
    assert response.status_code == 400
    assert "The car park is closed on this day." in response.content.decode()
    assert "The car park is closed on this day." in client.get(_day_url(members, sunday)).content.decode()
    # Three weeks ahead and more: not offered, not bookable.
    assert client.get(_day_url(members, date(2027, 1, 4))).status_code == 404
    assert not Reservation.objects.exists()


@time_machine.travel(MONDAY_10, tick=False)
def test_a_range_already_over_today_is_refused(members, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(members.world.parker_user)
    page = client.post(
        _day_url(members), {"action": "book", "start": "07:00", "end": "09:00"}, follow=True
    ).content.decode()
    assert "This time is already over." in page
    assert not Reservation.objects.exists()
    # The rest of today can still be booked.
    client.post(_day_url(members), {"action": "book", "start": "10:30", "end": "12:00"})
    assert _mine(members.parker) == [(_at(10, 30), _at(12))]


@time_machine.travel(SATURDAY_10, tick=False)
def test_another_organisations_member_cannot_see_or_book_a_range_of_our_days(members, client_for) -> None:  # type: ignore[no-untyped-def]
    member_day_book(
        parker=members.parker,
        policy=members.flex,
        day=MONDAY,
        span=(_at(9), _at(12)),
        actor=None,
        language="en",
        now=SATURDAY_10,
    )
    [booking] = Reservation.objects.all()
    client = client_for(members.outsider_user)
    assert client.get(_day_url(members)).status_code == 404
    assert client.get(_day_url(members), {"start": "13:00", "end": "14:00"}).status_code == 404
    for data in (
        {"action": "book", "start": "13:00", "end": "14:00"},
        {"action": "wait", "start": "09:00", "end": "10:00"},
        {"action": "cancel", "group": str(booking.group_id)},
    ):
        assert client.post(_day_url(members), data).status_code == 404
    assert list(Reservation.objects.values_list("pk", "status")) == [
        (booking.pk, ReservationStatus.CONFIRMED)
    ]
    assert not WaitingListEntry.objects.exists()


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_colleague_cannot_cancel_my_booking_by_its_group(members, client_for) -> None:  # type: ignore[no-untyped-def]
    outcome = member_day_book(
        parker=members.parker, policy=members.flex, day=MONDAY, actor=None, language="en", now=SATURDAY_10
    )
    client = client_for(members.colleague_user)
    page = client.post(
        _day_url(members), {"action": "cancel", "group": str(outcome.reservations[0].group_id)}, follow=True
    ).content.decode()
    assert "You have no booking on this day." in page
    assert Reservation.objects.get().status == ReservationStatus.CONFIRMED
