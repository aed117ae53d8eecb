"""Under the Content-Security-Policy the back office's htmx still works, and the browser reports nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import World
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script; collects every violation the browser reports.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber
  );
});
"""


def test_timetable_htmx_and_language_switch_work_with_no_policy_violation(page: Any, world: World) -> None:
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.context.add_init_script(LISTEN)
    policy = world.visitor_policy
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/office/")
    response = page.goto(f"/office/policies/{policy.pk}/edit/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "private, no-store"

    # htmx swaps the new window in place, and parkgate.js (no inline script) moves the focus to it.
    page.evaluate("window.parkgateMarker = 'still here'")
    page.get_by_role("button", name="Add a window Monday").click()
    second_start = page.get_by_label("Monday, window 2, from")
    expect(second_start).to_be_focused()
    assert page.evaluate("window.parkgateMarker") == "still here"

    # The language menu submits itself on change (was an inline onchange handler).
    page.get_by_label("Language").select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    assert page.evaluate("window.__cspViolations") == []
    assert [line for line in console if "Content Security Policy" in line or line.startswith("error")] == []
