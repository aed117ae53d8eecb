"""Content-Security-Policy, Permissions-Policy and ``private, no-store`` on the right pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from parkgate.core.headers import PERMISSIONS_POLICY
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_pages_carry_a_policy_without_inline_script_and_a_nonce_for_styles(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"  # a nonce is added only to a page that uses one
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "camera=()" in PERMISSIONS_POLICY and "geolocation=()" in PERMISSIONS_POLICY
    body = response.content.decode()
    assert "includeIndicatorStyles" in body and '"allowEval": false' in body


def test_the_visitor_portal_brand_colour_rides_on_the_nonce(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.booking.factories import InvitationFactory, VisitorPortalFactory

    portal = VisitorPortalFactory(
        organisation=world.tenant,
        lot=world.lot,
        slug="acme",
        brand_colour="8A1538",
        policies=[world.visitor_policy],
    )
    invitation = InvitationFactory(portal=portal)
    response = client.get(f"/visit/acme/{invitation.token}/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    style_src = dict(p.strip().split(" ", 1) for p in policy.split(";"))["style-src"]
    match = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9+/=]{24})'", style_src)
    assert match is not None, style_src
    nonce = match.group(1)
    assert f'<style nonce="{nonce}">body.portal {{ --brand: #8A1538; }}</style>' in response.content.decode()
    assert "private" not in response.get("Cache-Control", "")  # a visitor's own device may cache it


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/office/"),
        ("admin", "/portals/"),
        ("receptionist", "/control-room/"),
        ("owner", "/access/devices/"),
    ],
)
def test_staff_pages_are_private_and_never_stored(world, who: str, path: str) -> None:  # type: ignore[no-untyped-def]
    response = _signed_in(getattr(world, who)).get(path, follow=True)
    assert response.status_code == 200, path
    assert response["Cache-Control"] == "private, no-store"
    assert "Content-Security-Policy" in response


def test_a_signed_in_page_outside_the_staff_areas_is_private_too(world) -> None:  # type: ignore[no-untyped-def]
    response = _signed_in(world.admin).get("/accounts/login/")
    assert response["Cache-Control"] == "private, no-store"


def test_public_portal_assets_stay_cacheable(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/portals/assets/nobody/logo/none.png")
    assert response.status_code == 404
    assert "no-store" not in response.get("Cache-Control", "")


TEMPLATES = sorted(
    path
    for path in ROOT.glob("parkgate/*/templates/**/*.html")
    if "/email/" not in str(path)  # e-mails are not pages: mail clients need inline styles
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "parkgate")))
def test_no_template_needs_what_the_policy_forbids(path: Path) -> None:
    text = path.read_text()
    # A script element is a static file (src=) or a JSON data block that no browser runs (allauth's
    # passkey pages hand their element ids to its static webauthn.js that way, as json_script does).
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", text), (
        "inline <script>: move it to a static file"
    )
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler: use parkgate.js"
    assert "hx-on" not in text, "hx-on needs eval: use a data attribute and parkgate.js"
    assert not re.search(r"\sstyle\s*=", text), "style attribute: use a class, or a <style nonce>"
    for match in re.finditer(r"<style(?P<attrs>[^>]*)>", text):
        assert "csp_nonce" in match.group("attrs"), "<style> without the request's nonce"
