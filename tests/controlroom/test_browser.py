"""A receptionist works the three desk cases in headless Chromium, keyboard first, and watches the log."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from parkgate.access.drivers.simulated import STATE
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Reservation
from parkgate.parking.models import Parker
from tests.factories import PASSWORD

from .conftest import Desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/control-room/")


def _search(page: Page, text: str) -> None:
    page.keyboard.press("Escape")  # back to the search box, its text selected
    expect(page.locator("#cr-q")).to_be_focused()
    page.keyboard.type(text)


def test_a_receptionist_assists_three_parkers_and_watches_the_live_log(
    page: Page, desk: Desk, pinned_now: datetime
) -> None:
    w = desk.world
    _log_in(page, w.receptionist.email)
    page.get_by_role("link", name=f"Open the control room of {w.lot.name}").click()
    search = page.locator("#cr-q")
    expect(search).to_be_focused()
    log_rows = page.locator("#cr-log-rows .cr-log-row")
    expect(log_rows).to_have_count(0)

    # Case 1: a parker with a valid access. Type, arrow down to "Open Entry", Enter.
    page.keyboard.type("lefevre")
    card = page.locator(f"#cr-parker-{desk.valid.pk}")
    expect(card).to_contain_text("Chloé Lefèvre")
    expect(card).to_contain_text("Valid access until")
    page.keyboard.press("ArrowDown")
    expect(card.get_by_role("button", name="Open Entry")).to_be_focused()
    page.keyboard.press("Enter")
    expect(card.locator(".cr-outcome")).to_have_text("Entry opened.")
    assert [p.gate_id for p in STATE.pulses] == [w.entry.pk]
    expect(log_rows.first).to_contain_text("Chloé Lefèvre")
    expect(log_rows.first).to_contain_text("Control room")
    expect(log_rows.first).to_contain_text("Opened")

    # Case 2: a parker whose access has ended: the reason, no open button, no force for a receptionist.
    _search(page, "Vieux")
    card = page.locator(f"#cr-parker-{desk.ended.pk}")
    expect(card).to_contain_text(re.compile(r"Validity ended on \d+ \w+ \d{4}\."))
    expect(card.get_by_role("button")).to_have_count(0)
    expect(card).not_to_contain_text("Force the gate open")

    # Case 3: an unknown visitor: create the profile and the visit, confirm and open the gate.
    _search(page, "Nieuwkomer")
    expect(page.locator(".cr-count")).to_have_text("No parker found for “Nieuwkomer”.")
    page.get_by_role("link", name="Create profile +").click()
    form = page.locator("#cr-walk-in")
    expect(page.get_by_label("Visited organisation")).to_be_focused()
    expect(page.get_by_label("Visited organisation")).to_have_value(str(w.visitor_policy.pk))
    expect(page.get_by_label("Departure")).to_have_value("00:00")
    expect(form.get_by_label("Last name")).to_have_value("Nieuwkomer")
    form.get_by_role("textbox", name="Licence plate", exact=True).fill("9-new-999")
    form.get_by_label("First name").fill("Zoë")
    expect(form.get_by_label("Entry")).to_be_checked()
    page.get_by_role("button", name="Confirm & open gate").click()
    done = page.locator("#cr-walk-in.cr-done")
    expect(done).to_contain_text("Zoë Nieuwkomer is registered")
    expect(done.locator(".cr-outcome")).to_have_text("Entry opened.")
    parker = Parker.objects.get(last_name="Nieuwkomer")
    reservation = Reservation.objects.get(parker=parker)
    assert (parker.managed_by, reservation.created_by) == (w.tenant, w.receptionist)
    expect(log_rows.first).to_contain_text("Zoë Nieuwkomer")
    expect(log_rows).to_have_count(2)

    # The log follows what happens at the gates without a reload: a camera reads an unknown plate.
    AccessEvent.objects.create(
        lot=w.lot,
        gate=w.exit,
        method=AccessMethod.ANPR,
        granted=False,
        reason="unknown_parker",
        message="Unknown parker: no matching profile, plate or code.",
        result=GateResult.NOT_ATTEMPTED,
        requested_at=pinned_now,
        plate_text="1-ZZZ-999",
    )
    expect(log_rows).to_have_count(3)
    expect(log_rows.first).to_contain_text("1-ZZZ-999")
    expect(log_rows.first).to_contain_text("Unknown parker: no matching profile, plate or code.")

    # Filters: denied only leaves the camera's refusal.
    page.get_by_label("Denied only").check()
    expect(log_rows).to_have_count(1)
    expect(log_rows.first).to_contain_text("1-ZZZ-999")
