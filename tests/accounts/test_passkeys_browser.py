"""Passkeys in a real browser: Chromium's virtual authenticator (Chrome DevTools Protocol) plays the
phone or laptop that keeps the passkey. A person adds a passkey, signs in with it alone, renames and
removes it; platform staff whose second factor is a passkey pass the MFA requirement; a deactivated
member's passkey no longer signs in. Every page runs under the Content-Security-Policy with no
violation reported."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from parkgate.accounts.models import Membership, User
from parkgate.backoffice.people import membership_deactivate
from parkgate.core.models import AuditEvent
from tests import factories as f
from tests.conftest import World
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script; collects every violation the browser reports.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(autouse=True)
def _site_is_the_live_server(settings: Any, live_server: Any) -> None:
    # The passkeys' relying party is SITE_URL's host: here http://localhost:<port>.
    settings.SITE_URL = live_server.url


class Watched:
    """A page with a virtual authenticator and the browser's reports of policy violations."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.context.add_init_script(LISTEN)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        self.authenticator_id = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})[
            "credentials"
        ]

    def assert_no_violation(self) -> None:
        assert self.page.evaluate("window.__cspViolations") == []
        assert [
            line for line in self.console if "Content Security Policy" in line or line.startswith("error")
        ] == []


def _shot(page: Page, name: str) -> None:
    """With ``PARKGATE_SCREENS=<dir>``, save the page there (to look at; never compared)."""
    shots = os.environ.get("PARKGATE_SCREENS", "")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/{name}.png", full_page=True)


def _sign_in_with_password(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _confirm_with_password(page: Page) -> None:
    """allauth asks to confirm access before any change to the second factors."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Access")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def _add_passkey(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a passkey")
    page.get_by_label("Name of this passkey").fill(name)
    page.get_by_role("button", name="Create the passkey").click()
    # Added; the first second factor also makes recovery codes, which allauth shows next.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()


def test_a_member_adds_a_passkey_signs_in_with_it_alone_renames_and_removes_it(
    page: Page, world: World
) -> None:
    watched = Watched(page)
    admin = world.admin
    _sign_in_with_password(page, admin.email)
    expect(page).to_have_url(re.compile(r"/office/$"))
    page.goto("/accounts/2fa/")
    page.get_by_role("link", name="Add a passkey").click()
    _confirm_with_password(page)
    _add_passkey(page, "Work laptop")
    expect(page.get_by_text("Passkey added.")).to_be_visible()
    passkey = Authenticator.objects.get(user=admin, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().name == "Work laptop" and passkey.wrap().is_passwordless is True
    [credential] = watched.credentials()
    assert (credential["isResidentCredential"], credential["rpId"]) == (True, "localhost")
    added = AuditEvent.objects.get(action="accounts.mfa.webauthn.added")
    assert (added.organisation, added.actor, added.data) == (
        world.tenant,
        admin,
        {"user": admin.pk, "type": "webauthn", "name": "Work laptop"},
    )

    _sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/office/$"))
    expect(page.get_by_role("link", name=str(admin))).to_be_visible()
    assert page.get_by_label("Password").count() == 0
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    page.goto("/accounts/2fa/webauthn/")
    expect(page.get_by_role("heading", name="Work laptop", exact=True)).to_be_visible()
    page.get_by_role("link", name="Rename Work laptop").click()
    # Signed in by passkey, access is confirmed with the passkey too (no password typed at all).
    page.get_by_role("link", name="Use a passkey").click()
    _shot(page, "passkey-confirm-access-en-1280")
    page.get_by_role("button", name="Use a passkey").click()
    page.get_by_label("Name of this passkey").fill("Office laptop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Office laptop", exact=True)).to_be_visible()
    page.get_by_role("link", name="Remove Office laptop").click()
    page.get_by_role("button", name="Remove the passkey").click()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    assert not Authenticator.objects.filter(user=admin, type=Authenticator.Type.WEBAUTHN).exists()
    removed = AuditEvent.objects.get(action="accounts.mfa.webauthn.removed")
    assert (removed.organisation, removed.actor, removed.data) == (
        world.tenant,
        admin,
        {"user": admin.pk, "type": "webauthn", "name": "Office laptop"},
    )
    # The recovery codes went with the last second factor, and that is recorded too.
    assert AuditEvent.objects.filter(action="accounts.mfa.recovery_codes.removed", actor=admin).count() == 1
    watched.assert_no_violation()


def test_the_passkey_button_waits_for_the_script_that_asks_the_device(page: Page, world: World) -> None:
    """Found by CI: the sign-in page showed "Sign in with a passkey" while allauth's script was still
    loading, and a click then posted the passkey form empty ("This field is required."). The script is
    held here until the button has been seen: it stays disabled, and a click does nothing."""
    held: list[Any] = []
    page.route(re.compile(r"/static/mfa/js/webauthn\.[0-9a-f.]*js$"), lambda route: held.append(route))
    page.goto("/accounts/login/", wait_until="commit")
    button = page.get_by_role("button", name="Sign in with a passkey")
    expect(button).to_be_visible()
    assert len(held) == 1
    expect(button).to_be_disabled()
    button.click(force=True)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_text("This field is required.")).to_have_count(0)

    held[0].continue_()
    expect(button).to_be_enabled()
    page.get_by_label("Email").fill(world.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/office/$"))


def test_staff_whose_second_factor_is_a_passkey_pass_the_mfa_requirement(page: Page, db: None) -> None:
    watched = Watched(page)
    staff: User = f.UserFactory(is_superuser=True, is_staff=True, email="pat@platform.example", totp=False)
    _sign_in_with_password(page, staff.email)
    # Staff must have a second factor: sent to set one up (allauth confirms the password first),
    # where a passkey is offered beside the authenticator app.
    _confirm_with_password(page)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    page.get_by_role("link", name="Add a passkey instead").click()
    _add_passkey(page, "Pat's phone")
    page.goto("/platform/")
    expect(page).to_have_url(re.compile(r"/platform/$"))

    _sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/platform/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # With the password, the passkey is the second step.
    _sign_out(page)
    _sign_in_with_password(page, staff.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    _shot(page, "passkey-second-step-en-1280")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/platform/$"))
    assert not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    watched.assert_no_violation()


def test_a_deactivated_member_s_passkey_no_longer_signs_in(page: Page, world: World) -> None:
    watched = Watched(page)
    parker = world.parker_user
    _sign_in_with_password(page, parker.email)
    page.goto("/accounts/2fa/webauthn/add/")
    _confirm_with_password(page)
    _add_passkey(page, "My phone")
    _sign_out(page)
    membership_deactivate(membership=Membership.objects.get(user=parker), actor=world.admin)

    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/accounts/inactive/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your access has ended")
    _shot(page, "passkey-inactive-en-1280")
    page.goto("/me/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/me/$"))
    # The passkey itself was accepted (the device did its part); the account's access was not.
    assert len(watched.credentials()) == 1
    watched.assert_no_violation()


# What each passkey page says in each language (its first heading), to prove it is translated.
HEADINGS = {
    "en": {"index": "Two-Factor Authentication", "add": "Add a passkey", "list": "Passkeys"},
    "fr": {
        "index": "Authentification à deux facteurs",
        "add": "Ajouter une clé d\u2019accès",
        "list": "Clés d\u2019accès",
    },
    "nl": {
        "index": "Tweestapsverificatie",
        "add": "Een toegangssleutel toevoegen",
        "list": "Toegangssleutels",
    },
}
SIGN_IN_BUTTON = {
    "en": "Sign in with a passkey",
    "fr": "Se connecter avec une clé d\u2019accès",
    "nl": "Aanmelden met een toegangssleutel",
}


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_passkey_pages_read_well_on_a_phone_and_a_desk_in_every_language(
    browser: Any, live_server: Any, world: World, language: str
) -> None:
    """Every passkey page, at 390 px and 1280 px: translated, nothing wider than the screen, no
    policy violation. ``PARKGATE_SCREENS=var/screens`` saves each one there."""
    shots = os.environ.get("PARKGATE_SCREENS", "")
    context = browser.new_context(
        base_url=live_server.url, locale=language, viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    watched = Watched(page)
    admin = world.admin
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name=SIGN_IN_BUTTON[language])).to_be_visible()
    page.locator("#id_login").fill(admin.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.auth-form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/office/$"))
    page.goto("/accounts/2fa/webauthn/add/")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.auth-form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[language]["add"])
    page.locator("#id_name").fill("Laptop")
    page.locator("#mfa_webauthn_add").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    passkey = Authenticator.objects.get(user=admin, type=Authenticator.Type.WEBAUTHN)

    pages = {
        "index": "/accounts/2fa/",
        "add": "/accounts/2fa/webauthn/add/",
        "list": "/accounts/2fa/webauthn/",
        "rename": f"/accounts/2fa/webauthn/keys/{passkey.pk}/edit/",
        "remove": f"/accounts/2fa/webauthn/keys/{passkey.pk}/remove/",
        "totp": "/accounts/2fa/totp/activate/",
    }
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 800})
        for name, path in pages.items():
            page.goto(path)
            if name in HEADINGS[language]:
                expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[language][name])
            overflow = page.evaluate(
                "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
            )
            assert overflow <= 0, f"{path} at {width}px is {overflow}px wider than the screen"
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/passkey-{name}-{language}-{width}.png", full_page=True)
    page.get_by_role(
        "button", name={"en": "Log out", "fr": "Se déconnecter", "nl": "Afmelden"}[language]
    ).click()
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 800})
        page.goto("/accounts/login/")
        expect(page.get_by_role("button", name=SIGN_IN_BUTTON[language])).to_be_visible()
        if shots:
            page.screenshot(path=f"{shots}/passkey-signin-{language}-{width}.png", full_page=True)
    watched.assert_no_violation()
    context.close()
