"""One short browser test: the timetable editor with htmx (add a window, copy Monday, save)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.backoffice.conftest import Office
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editing_the_weekly_timetable_in_place(page: Any, office: Office) -> None:
    policy = office.world.visitor_policy
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(office.world.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/office/")
    page.goto(f"/office/policies/{policy.pk}/edit/")
    page.get_by_label("Name").fill("Acme visitors (edited)")

    # Monday gets a second window, swapped in place by htmx (the page is not reloaded: the marker
    # survives), and the new start field has the focus.
    page.evaluate("window.parkgateMarker = 'still here'")
    page.get_by_role("button", name="Add a window Monday").click()
    second_start = page.get_by_label("Monday, window 2, from")
    expect(second_start).to_be_focused()  # moved there after htmx settles (parkgate.js)
    page.get_by_label("Monday, window 1, until").fill("12:00")
    second_start.fill("13:00")
    page.get_by_label("Monday, window 2, until").fill("24:00")
    page.get_by_role("button", name="Copy Monday to all weekdays").click()
    expect(page.get_by_label("Friday, window 2, until")).to_have_value("24:00")
    assert page.get_by_label("Name").input_value() == "Acme visitors (edited)"  # the form kept what was typed
    assert page.evaluate("window.parkgateMarker") == "still here"

    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/office/policies/")
    policy.refresh_from_db()
    assert policy.name == "Acme visitors (edited)"
    expected = [(d, s, e) for d in range(5) for s, e in ((420, 720), (780, 1440))]
    assert list(policy.windows.values_list("weekday", "start_minute", "end_minute")) == expected
