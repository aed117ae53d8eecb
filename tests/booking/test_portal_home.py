"""Issue 14 items 3 and 8: the portal's public address is a page; a dead link wears the portal's brand."""

from __future__ import annotations

import pytest
from django.urls import reverse

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


def test_a_revoked_invitation_says_so_in_its_language_with_the_portals_brand(
    client, portal_world, pinned_now
) -> None:  # type: ignore[no-untyped-def]
    invitation = portal_world.invitation
    portal = portal_world.portal
    portal.languages = ["en", "fr", "nl"]
    portal.save(update_fields=["languages"])
    invitation.language = "fr"
    invitation.revoked_at = pinned_now
    invitation.save(update_fields=["language", "revoked_at"])
    response = client.get(portal_world.url)
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert "Ce lien ne fonctionne pas" in body
    assert "Acme visitors" in body  # the portal's header, not a bare page


def _open(portal_world, domains: str = "") -> None:  # type: ignore[no-untyped-def]
    portal = portal_world.portal
    portal.open_to_anyone, portal.open_email_domains = True, domains
    portal.save(update_fields=["open_to_anyone", "open_email_domains"])


def test_an_open_portal_e_mails_an_invitation_for_one_booking(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    from django.core import mail

    from parkgate.core.models import OutboundEmail
    from parkgate.portal.models import Invitation

    _open(portal_world, "example.com")
    url = reverse("booking:portal_home", args=[portal_world.portal.slug])
    page = client.get(url).content.decode()
    assert "example.com" in page and 'name="email"' in page
    before = Invitation.objects.count()
    response = client.post(url, {"email": "Jo@Example.com"})
    assert response.status_code == 200 and "we have sent" in response.content.decode()
    invitation = Invitation.objects.exclude(pk=portal_world.invitation.pk).get()
    assert Invitation.objects.count() == before + 1
    assert (invitation.visitor_email, invitation.max_bookings) == ("jo@example.com", 1)
    assert invitation.created_by is None
    (email,) = OutboundEmail.objects.filter(kind="portal.invitation")
    assert email.to == ["jo@example.com"] and invitation.token in email.body_text
    assert mail.outbox == [] or all("jo@example.com" in m.to for m in mail.outbox)


def test_an_open_portal_refuses_other_domains_and_sends_nothing(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    from parkgate.core.models import OutboundEmail
    from parkgate.portal.models import Invitation

    _open(portal_world, "example.com")
    url = reverse("booking:portal_home", args=[portal_world.portal.slug])
    for address in ("eve@evil.test", "eve@notexample.com"):
        body = client.post(url, {"email": address}).content.decode()
        assert "only for the e-mail domains shown" in body
    assert Invitation.objects.count() == 1 and not OutboundEmail.objects.exists()


def test_a_closed_portal_takes_no_request(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    from parkgate.core.models import OutboundEmail
    from parkgate.portal.models import Invitation

    url = reverse("booking:portal_home", args=[portal_world.portal.slug])
    assert 'name="email"' not in client.get(url).content.decode()
    client.post(url, {"email": "jo@example.com"})
    assert Invitation.objects.count() == 1 and not OutboundEmail.objects.exists()


def test_one_mailbox_gets_at_most_three_invitations_an_hour(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    from parkgate.portal.models import Invitation

    _open(portal_world)
    url = reverse("booking:portal_home", args=[portal_world.portal.slug])
    for _ in range(5):
        assert client.post(url, {"email": "jo@example.com"}).status_code == 200
    assert Invitation.objects.filter(visitor_email="jo@example.com").count() == 3
