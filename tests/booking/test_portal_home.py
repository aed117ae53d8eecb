"""Issue 14 items 3 and 8: the portal's public address is a page; a dead link wears the portal's brand."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from parkgate.portal.selectors import portal_public_url

pytestmark = pytest.mark.django_db


def test_the_public_address_shown_to_staff_is_a_branded_page(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    portal = portal_world.portal
    public = portal_public_url(portal)
    path = public.split("://", 1)[-1].split("/", 1)[-1]
    response = client.get("/" + path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme visitors" in body and "Acme Consulting" in body
    assert "Booking needs a personal invitation link." in body
    assert reverse("booking:lost_links", args=[portal.slug]) in body


def test_the_public_page_speaks_the_portals_language(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    portal = portal_world.portal
    portal.languages, portal.default_language = ["fr", "nl"], "nl"
    portal.save(update_fields=["languages", "default_language"])
    body = client.get(reverse("booking:portal_home", args=[portal.slug])).content.decode()
    assert '<html lang="nl">' in body and "Al geboekt?" in body


def test_a_switched_off_or_unknown_portal_has_no_public_page(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    assert client.get(reverse("booking:portal_home", args=["nobody-here"])).status_code == 404
    portal_world.portal.is_active = False
    portal_world.portal.save(update_fields=["is_active"])
    response = client.get(reverse("booking:portal_home", args=[portal_world.portal.slug]))
    assert response.status_code == 404 and "Acme visitors" not in response.content.decode()


def test_a_revoked_invitation_says_so_in_its_language_with_the_portals_brand(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    invitation = portal_world.invitation
    portal = portal_world.portal
    portal.languages = ["en", "fr", "nl"]
    portal.save(update_fields=["languages"])
    invitation.language = "fr"
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["language", "revoked_at"])
    response = client.get(portal_world.url)
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert "Ce lien ne fonctionne pas" in body
    assert "Acme visitors" in body  # the portal's header, not a bare page
