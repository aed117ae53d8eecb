"""Book my day on two 390 px phones: two members race for the last spot of a day (exactly one wins,
the other joins the waiting list and gets the spot, and an e-mail, when the winner cancels); a time
range booked by the hour.

The race is made real: the test holds the car park's capacity lock while both phones press "Book
this day", waits until both requests are queued on that lock in PostgreSQL, then lets go.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import time_machine
from django.db import connection, connections, transaction
from playwright.sync_api import Page, expect

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.core.models import OutboundEmail
from parkgate.members.models import WaitingListEntry, WaitingStatus
from parkgate.parking.models import Lot
from tests.members.conftest import SATURDAY_10
from tests.members.test_browser import _log_in
from tests.polling import wait_for, waiting_on_a_lock

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
}
RACE_DAYS = [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]


@pytest.fixture(autouse=True)
def postgres_only(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL (CI and make test use it when reachable)")


@contextmanager
def _phone(browser, live_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, **PHONE)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def _lot_lock_held(lot_id: int) -> Iterator[None]:
    """Hold the lot's capacity lock (the row the capacity engine locks) from another connection."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(Lot.objects.select_for_update().filter(pk=lot_id).values_list("pk", flat=True))
                held.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(timeout=10)
        yield
    finally:
        release.set()
        thread.join(timeout=20)


def _confirmed(members, day: date) -> list[Reservation]:  # type: ignore[no-untyped-def]
    zone = members.world.lot.zone
    return [
        r
        for r in Reservation.objects.filter(policy=members.flex, status=ReservationStatus.CONFIRMED)
        if r.start.astimezone(zone).date() == day
    ]


def test_two_members_race_for_the_last_spot_on_their_phones(members, browser, live_server) -> None:  # type: ignore[no-untyped-def]
    names = {members.parker.pk: "Sophie", members.colleague.pk: "Lucas"}
    winners = []
    with (
        time_machine.travel(SATURDAY_10, tick=True),
        _phone(browser, live_server) as sophie,
        _phone(browser, live_server) as lucas,
    ):
        _log_in(sophie, members.world.parker_user.email)
        _log_in(lucas, members.colleague_user.email)
        for page in (sophie, lucas):
            page.get_by_role("link", name="Book my day · Acme flex").click()

        for day in RACE_DAYS:
            card = {p: p.locator(f"[data-day='{day.isoformat()}']") for p in (sophie, lucas)}
            for page in (sophie, lucas):
                expect(card[page].get_by_text("1 spot free")).to_be_visible()
            with _lot_lock_held(members.world.lot.pk):
                for page in (sophie, lucas):
                    card[page].get_by_role("button", name="Book this day").click(no_wait_after=True)
                # Both bookings wait for the lock: whoever gets it first wins, the other re-checks.
                wait_for(lambda: waiting_on_a_lock() == 2, what="both bookings queued on the lot lock")

            booked = {
                page: page.get_by_text("Your spot is booked.").or_(page.get_by_text("This day is full."))
                for page in (sophie, lucas)
            }
            for page in (sophie, lucas):
                expect(booked[page]).to_be_visible()
            [reservation] = _confirmed(members, day)
            winner, loser = (sophie, lucas) if reservation.parker == members.parker else (lucas, sophie)
            winners.append(names[reservation.parker_id])
            expect(winner.get_by_text("Your spot is booked.")).to_be_visible()
            expect(card[winner].get_by_text("Booked", exact=True)).to_be_visible()
            expect(
                loser.get_by_text("This day is full. Join the waiting list to get the next free spot.")
            ).to_be_visible()
            expect(card[loser].get_by_text("Full", exact=True)).to_be_visible()

            # The other joins the waiting list ...
            card[loser].get_by_role("button", name="Join the waiting list").click()
            expect(loser.get_by_text("This day is full: you are on the waiting list.")).to_be_visible()
            expect(card[loser].get_by_text("Waiting list: number 1")).to_be_visible()
            assert len(_confirmed(members, day)) == 1

            # ... and gets the spot, with an e-mail, when the winner cancels.
            card[winner].get_by_role("button", name="Cancel my booking").click()
            expect(winner.get_by_text("Your booking is cancelled.")).to_be_visible()
            loser.reload()
            expect(card[loser].get_by_text("Booked", exact=True)).to_be_visible()
            expect(card[loser].get_by_role("button", name="Cancel my booking")).to_be_visible()
            expect(card[winner].get_by_text("Full", exact=True)).to_be_visible()
            [given] = _confirmed(members, day)
            assert given.parker_id != reservation.parker_id
            entry = WaitingListEntry.objects.get(policy=members.flex, day=day)
            assert (entry.parker_id, entry.status) == (given.parker_id, WaitingStatus.PROMOTED)
            for page in (sophie, lucas):
                assert page.evaluate("document.documentElement.scrollWidth") <= 390

    emails = list(OutboundEmail.objects.filter(kind="members.spot_given").order_by("id"))
    assert len(emails) == len(RACE_DAYS)
    losers = [members.colleague if w == "Sophie" else members.parker for w in winners]
    assert [e.to for e in emails] == [[p.email] for p in losers]
    print(f"\nphone race winners per day: {winners}")


def test_a_member_books_a_time_range_on_a_phone(members, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    page = phone_page
    with time_machine.travel(SATURDAY_10, tick=True):
        _log_in(page, members.world.parker_user.email)
        page.get_by_role("link", name="Book my day · Acme flex").click()
        page.locator("[data-day='2026-11-30']").get_by_role("link", name="Choose hours").click()
        expect(page.get_by_role("heading", name="Monday 30 November")).to_be_visible()
        page.get_by_label("From").fill("20:00")
        page.get_by_label("To").fill("21:00")
        page.get_by_role("button", name="Show the free spots").click()
        expect(
            page.get_by_text("Choose a time within the opening hours of this day: 07:00\u201319:00.")
        ).to_be_visible()
        page.get_by_label("From").fill("09:00")
        page.get_by_label("To").fill("12:30")
        page.get_by_role("button", name="Show the free spots").click()
        expect(page.get_by_text("1 spot free from 09:00 to 12:30.")).to_be_visible()
        page.get_by_role("button", name="Book 09:00 \u2013 12:30").click()
        expect(page.get_by_text("Your spot is booked.")).to_be_visible()
        expect(page.get_by_test_id("booking")).to_contain_text("09:00 \u2013 12:30")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    [booking] = Reservation.objects.filter(parker=members.parker)
    zone = members.world.lot.zone
    assert (
        booking.start.astimezone(zone).strftime("%d %H:%M"),
        booking.end.astimezone(zone).strftime("%H:%M"),
    ) == (
        "30 09:00",
        "12:30",
    )
