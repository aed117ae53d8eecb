"""The remote control on a phone, in headless Chromium: htmx shows progress and the result."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from parkgate.access.models import AccessEvent, GateResult, Keypad
from tests import factories as f
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_open_the_gate_from_a_phone(world, phone_page, live_server, pinned_now) -> None:
    parker = f.ParkerFactory(managed_by=world.tenant, first_name="Lena", last_name="Maes")
    start = pinned_now - timedelta(minutes=5)
    reservation = f.ReservationFactory(
        parker=parker, policy=world.visitor_policy, start=start, end=start + timedelta(hours=2)
    )
    page = phone_page
    page.goto(f"/access/r/{reservation.remote_control_token}/")
    expect(page.get_by_role("heading", name="Central Garage")).to_be_visible()
    page.get_by_role("button", name="Open Entry").click()
    page.get_by_text("Entry is opening.").wait_for()
    # htmx swapped the result in: no navigation happened.
    assert page.url == f"{live_server.url}/access/r/{reservation.remote_control_token}/"
    event = AccessEvent.objects.get()
    assert (event.gate_id, event.result) == (world.entry.pk, GateResult.OPENED)
    # The button spans the phone's width (a big target for a thumb).
    box = page.get_by_role("button", name="Open Entry").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] >= 60


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_is_said_plainly(world, phone_page, pinned_now) -> None:
    parker = f.ParkerFactory(managed_by=world.tenant)
    start = pinned_now - timedelta(minutes=5)
    reservation = f.ReservationFactory(
        parker=parker, policy=world.visitor_policy, start=start, end=start + timedelta(hours=2)
    )
    Keypad.objects.create(gate=world.entry, name="Entry keypad", public_id="entry-pad", secret_key="k" * 32)
    page = phone_page
    page.goto(f"/access/r/{reservation.remote_control_token}/")
    page.route("**/open/**", lambda route: route.abort())
    page.get_by_role("button", name="Open Exit").click()
    page.get_by_text("Parkgate could not be reached.").wait_for()
    assert not AccessEvent.objects.exists()
    # The keypad at the gate needs no phone connection: the message offers the code.
    said = " ".join(page.locator("#rc-result").inner_text().split())
    assert f"Type your keypad code {reservation.keypad_code} at the gate instead." in said
