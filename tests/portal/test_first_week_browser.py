"""Issue 14 items 9 and 10 in the browser: the back-office menu folds on a phone; "Add a slot"."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.portal.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_a_slot_appends_an_empty_row_without_saving(page: Any, world: Any) -> None:
    log_in(page, world.admin)
    page.goto("/portals/new/")
    rows = page.locator("#slot-rows .slot-row")
    expect(rows).to_have_count(3)  # the default row and two empty ones
    page.get_by_role("button", name="Add a slot").click()
    expect(rows).to_have_count(4)
    expect(page.locator("input[name='slots-TOTAL_FORMS']")).to_have_value("4")
    expect(page.locator("input[name='slots-3-start']")).to_be_focused()


def test_the_menu_folds_on_a_phone_and_opens_with_its_button(page: Any, world: Any) -> None:
    log_in(page, world.admin)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/office/")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Access policies")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Access policies")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(menu).to_be_hidden()  # on a desktop the menu is always there
    expect(page.get_by_role("link", name="Access policies")).to_be_visible()
