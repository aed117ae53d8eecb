"""In the browser: the live branded preview while editing, and "copy link" on an invitation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from parkgate.portal.models import Invitation, VisitorPortal
from parkgate.portal.selectors import invitation_url
from parkgate.portal.services import invitation_create
from tests.factories import PASSWORD
from tests.portal.helpers import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, user: Any) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/office/")


def test_portal_form_previews_the_branded_header_live(page: Any, world: Any, tmp_path: Any) -> None:
    log_in(page, world.admin)
    page.goto("/portals/")
    page.get_by_role("link", name="New portal").click()
    assert page.get_by_label("Parking lot").input_value() == str(world.lot.pk)  # the only one: chosen
    page.get_by_label("Name").fill("Guests of Acme")
    expect(page.locator("[data-preview-name]")).to_have_text("Guests of Acme")
    expect(page.locator("[data-slug-preview]")).to_have_text("guests-of-acme")

    page.get_by_label("Brand colour").fill("777777")
    note = page.locator("[data-contrast-note]")
    expect(note).to_have_text("Contrast with white text: 4.4:1 (needs 4.5:1).")
    expect(note).to_have_class(re.compile(r"\berror\b"))
    bar = page.locator(".brand-bar")
    assert bar.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(119, 119, 119)"

    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes(200, 120))
    page.get_by_label("Logo").set_input_files(str(logo))
    assert page.locator("[data-preview-logo]").get_attribute("src").startswith("blob:")

    # The server refuses the colour with the same ratio beside the field, and saves nothing.
    page.get_by_role("checkbox", name="Acme visitors (Central Garage)").check()
    page.get_by_role("button", name="Save portal").click()
    expect(page.locator("#id_brand_colour_error")).to_have_text(
        "White text on this colour is hard to read: contrast 4.4:1; needs 4.5:1."
    )
    assert not VisitorPortal.objects.exists()

    page.get_by_label("Brand colour").fill("1F4E79")
    expect(page.locator("[data-contrast-note]")).to_have_text(
        "Contrast with white text: 8.6:1 (needs 4.5:1)."
    )
    page.get_by_label("Logo").set_input_files(str(logo))
    page.get_by_role("button", name="Save portal").click()
    page.wait_for_url(re.compile(r".*/portals/\d+/$"))
    portal = VisitorPortal.objects.get()
    assert (portal.slug, portal.brand_colour) == ("guests-of-acme", "1F4E79")
    assert page.locator("[data-preview-logo]").get_attribute("src") == portal.logo_url
    expect(page.locator("[data-preview-logo]")).to_have_js_property("naturalWidth", 200)  # once loaded


def test_copy_link_puts_the_invitation_address_on_the_clipboard(page: Any, world: Any, portal: Any) -> None:
    invitation: Invitation = invitation_create(
        portal=portal, language="en", visitor_name="Zoë", actor=world.admin
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, world.admin)
    page.goto(f"/portals/{portal.pk}/invitations/{invitation.pk}/")
    page.get_by_role("button", name="Copy link").click()
    # The clipboard write is asynchronous: wait for the status (with Playwright's deadline).
    expect(page.locator("[data-copy-status]")).to_have_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == invitation_url(invitation)
    expect(page.locator("img.qr")).to_have_js_property("complete", True)
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0


def test_revoking_asks_first(page: Any, world: Any, portal: Any) -> None:
    invitation = invitation_create(portal=portal, language="en", actor=world.admin)
    log_in(page, world.admin)
    page.goto(f"/portals/{portal.pk}/invitations/{invitation.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke this invitation").click()
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke this invitation").click()
    page.get_by_text("Invitation revoked: its link now says it is no longer valid.").wait_for()
    invitation.refresh_from_db()
    assert invitation.revoked_by == world.admin
