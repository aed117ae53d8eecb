"""A member on a 390 px phone, with the clock pinned: valid, opens a gate, refused outside the timetable,
and the page keeps its last state when the network drops."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import Page, expect

from parkgate.access.models import AccessEvent, GateResult
from parkgate.access.simulator import ShellySimulator
from tests.access.gate_support import mqtt_prefix, shelly, use_shelly, wait_until
from tests.factories import PASSWORD
from tests.members.conftest import MONDAY_10, SATURDAY_10

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FIXTURES = (mqtt_prefix, shelly)


CONTROLLED_WITHIN_15_S = """() => new Promise((resolve) => {
  const started = Date.now();
  (function check() {
    if (navigator.serviceWorker.controller) return resolve(true);
    if (Date.now() - started > 15000) return resolve(false);
    setTimeout(check, 100);
  })();
})"""


def _log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/me/")


def test_a_member_opens_the_gate_from_a_phone(members, phone_page: Page, shelly: ShellySimulator) -> None:  # type: ignore[no-untyped-def]
    use_shelly(members.world.entry, shelly.prefix)
    page = phone_page
    with time_machine.travel(MONDAY_10, tick=True):
        _log_in(page, members.world.parker_user.email)
        lot = page.get_by_role("article", name="Central Garage")
        expect(lot.get_by_test_id("lot-state")).to_have_text("Valid access until 21:00.")
        button = page.get_by_role("button", name="Open Entry")
        box = button.bounding_box()
        assert box is not None and 300 <= box["width"] <= 390 and box["height"] >= 60
        button.click()
        expect(page.get_by_text("Entry is opening.")).to_be_visible()
        assert page.url.endswith("/me/")  # htmx swapped the result in
        wait_until(lambda: len(shelly.pulses) == 1, what="one pulse")
        event = AccessEvent.objects.get()
        assert (event.gate_id, event.result, event.parker_id) == (
            members.world.entry.pk,
            GateResult.OPENED,
            members.parker.pk,
        )
        [pulse] = shelly.pulses
        assert pulse.request_id == str(event.command_id)
        # Nothing overflows the phone's width.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

    with time_machine.travel(SATURDAY_10, tick=True):
        page.reload()
        expect(lot.get_by_test_id("lot-state")).to_contain_text(
            "Outside the timetable: the next window opens at 06:00 on Monday."
        )
        expect(page.get_by_role("button", name="Open Entry")).to_have_count(0)
        assert len(shelly.pulses) == 1


def test_the_page_keeps_its_last_state_offline(members, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    page = phone_page
    with time_machine.travel(MONDAY_10, tick=True):
        _log_in(page, members.world.parker_user.email)
        # The service worker controls the page once it is active (scope /me/).
        # A bounded wait (an evaluated promise has no timeout of its own; wait_for_function would need
        # eval, which the page's Content-Security-Policy refuses): a worker that never starts fails.
        assert page.evaluate(CONTROLLED_WITHIN_15_S) is True
        page.reload()  # this visit, under the worker's control, is the one kept
        expect(page.get_by_role("button", name="Open Entry")).to_be_visible()
        page.context.set_offline(True)
        page.reload()
        expect(page.get_by_text("You are offline. This is the last known state, from 10:00.")).to_be_visible()
        expect(page.get_by_test_id("lot-state")).to_contain_text("Valid access until 21:00.")
        # Opening the gate offline says so plainly and reaches nobody.
        page.get_by_role("button", name="Open Entry").click()
        expect(page.get_by_text("Parkgate could not be reached.")).to_be_visible()
        page.context.set_offline(False)
    assert not AccessEvent.objects.exists()


def test_a_member_shares_a_day_and_a_colleague_books_it_from_a_phone(members, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    from parkgate.parking.models import SpotRelease

    page = phone_page
    with time_machine.travel(SATURDAY_10, tick=True):
        _log_in(page, members.world.parker_user.email)
        page.get_by_role("link", name="Share my spot").click()
        monday = page.locator("[data-day='2026-11-30']")
        monday.get_by_role("button", name="Share this day").click()
        expect(page.get_by_text("Your spot is shared: a colleague may book it for this day.")).to_be_visible()
        expect(monday.get_by_text("Shared, not booked yet")).to_be_visible()
        page.get_by_role("button", name="Log out").click()

        _log_in(page, members.colleague_user.email)
        page.get_by_role("link", name="1 spot shared by colleagues").click()
        page.get_by_role("button", name="Book this day").click()
        expect(page.get_by_text("Your spot is booked.")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="Log out").click()

        _log_in(page, members.world.parker_user.email)
        page.get_by_role("link", name="Share my spot").click()
        expect(monday.get_by_text(f"Used by Lucas {members.colleague.last_name}")).to_be_visible()
    assert SpotRelease.objects.get().reservation.parker == members.colleague
