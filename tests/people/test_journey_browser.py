"""The onboarding journey in a real browser: staff creates an organisation and invites its admin,
the admin accepts, sets a password, turns on TOTP, invites a receptionist, who signs in and opens
the control room."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from playwright.sync_api import Page, expect

from parkgate.accounts.services import password_set_url, platform_staff_create
from parkgate.core.models import OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _field(page: Page, label: str):  # type: ignore[no-untyped-def]
    """A form field by its label (required fields show a trailing asterisk)."""
    return page.get_by_label(re.compile(r"^\s*" + re.escape(label) + r"( \*)?\s*$"))


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _invitation_path(to: str) -> str:
    mail = OutboundEmail.objects.filter(to=[to]).latest("created_at")
    found = re.search(r"(/invitations/[^/\s]+/)", mail.body_text)
    assert found
    return found.group(1)


def _turn_on_totp(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    secret = _field(page, "Authenticator secret").input_value()
    _field(page, "Authenticator code").fill(_code(secret))
    page.get_by_role("button", name="Activate").click()


def test_staff_to_receptionist_in_a_real_browser(page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    cache.clear()
    staff = platform_staff_create(email="pat@operator.example")
    link = password_set_url(staff).replace("http://testserver", "")
    page.goto(link)
    page.get_by_placeholder("New Password", exact=True).fill("staff-passphrase-2026")
    page.get_by_placeholder("New Password (again)", exact=True).fill("staff-passphrase-2026")
    page.get_by_role("button", name="Change Password").click()

    page.goto("/accounts/login/")
    _field(page, "Email").fill("pat@operator.example")
    _field(page, "Password").fill("staff-passphrase-2026")
    page.get_by_role("button", name="Sign in", exact=True).click()
    # Sent to set up TOTP; allauth confirms the password first.
    _field(page, "Password").fill("staff-passphrase-2026")
    page.get_by_role("button", name="Confirm").click()
    _turn_on_totp(page)
    page.goto("/platform/")
    page.get_by_role("link", name="Organisations", exact=True).click()
    _field(page, "Name").fill("Northwind Parking")
    _field(page, "E-mail of its admin (invited now)").fill("nora@northwind.example")
    page.get_by_role("button", name="Create and invite its admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Parking")
    expect(page.get_by_role("cell", name="nora@northwind.example")).to_be_visible()

    # The admin, in another browser context, accepts and sets a password.
    admin_context = page.context.browser.new_context(base_url=live_server.url, locale="en-GB")  # type: ignore[union-attr]
    admin = admin_context.new_page()
    admin.goto(_invitation_path("nora@northwind.example"))
    _field(admin, "First name").fill("Nora")
    _field(admin, "Last name").fill("North")
    _field(admin, "Choose a password").fill("nora-passphrase-77")
    _field(admin, "The same password again").fill("nora-passphrase-77")
    admin.get_by_role("button", name="Accept and create my account").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Northwind Parking")
    # She turns on TOTP from her account pages.
    admin.get_by_role("link", name="Nora North").click()
    admin.get_by_role("link", name="Two-factor authentication").click()
    admin.get_by_role("link", name="Activate").click()
    _turn_on_totp(admin)
    # She invites a receptionist from the members page.
    admin.goto("/office/")
    admin.get_by_role("link", name="Members").click()
    _field(admin, "E-mail").fill("rick@northwind.example")
    _field(admin, "Role").select_option("receptionist")
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.get_by_role("cell", name="rick@northwind.example")).to_be_visible()

    admin_context.close()
    desk_context = page.context.browser.new_context(base_url=live_server.url, locale="en-GB")  # type: ignore[union-attr]
    desk = desk_context.new_page()
    desk.goto(_invitation_path("rick@northwind.example"))
    _field(desk, "First name").fill("Rick")
    _field(desk, "Last name").fill("Desk")
    _field(desk, "Choose a password").fill("rick-passphrase-55")
    _field(desk, "The same password again").fill("rick-passphrase-55")
    desk.get_by_role("button", name="Accept and create my account").click()
    expect(desk).to_have_url(re.compile(r"/control-room/$"))
    desk.get_by_role("button", name="Log out").click()
    desk.goto("/accounts/login/")
    _field(desk, "Email").fill("rick@northwind.example")
    _field(desk, "Password").fill("rick-passphrase-55")
    desk.get_by_role("button", name="Sign in", exact=True).click()
    expect(desk).to_have_url(re.compile(r"/control-room/$"))
    expect(desk.get_by_role("heading", level=1)).to_be_visible()
    desk_context.close()
