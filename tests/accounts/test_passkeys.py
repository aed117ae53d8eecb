"""Passkeys without a browser: who may rename or remove one, what counts as the second factor, the
relying party behind the TLS proxy, and sign-in refused to a member deactivated everywhere.
(The ceremonies themselves run in Chromium: tests/accounts/test_passkeys_browser.py.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client

from parkgate.accounts.models import Membership, User
from parkgate.backoffice.people import membership_deactivate
from parkgate.core.models import AuditEvent
from tests.conftest import World
from tests.factories import PASSWORD


def _passkey(user: User, name: str) -> Authenticator:
    # The stored shape allauth writes (the credential itself only matters to a ceremony).
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": name, "credential": {}}
    )


def _confirmed(user: User) -> Client:
    """Signed in, and access confirmed with the password (allauth asks before MFA changes)."""
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/accounts/2fa/webauthn/keys/{pk}/edit/", {}),
        ("post", "/accounts/2fa/webauthn/keys/{pk}/edit/", {"name": "Taken over"}),
        ("get", "/accounts/2fa/webauthn/keys/{pk}/remove/", {}),
        ("post", "/accounts/2fa/webauthn/keys/{pk}/remove/", {}),
    ],
)
def test_someone_else_s_passkey_cannot_be_renamed_or_removed(
    world: World, method: str, path: str, data: dict[str, str]
) -> None:
    passkey = _passkey(world.admin, "Work laptop")
    url = path.format(pk=passkey.pk)
    assert _confirmed(world.admin).get(url).status_code == 200  # the address is right: its owner sees it
    response = getattr(_confirmed(world.outsider_admin), method)(url, data)
    assert response.status_code == 404
    passkey.refresh_from_db()
    assert (passkey.user, passkey.wrap().name) == (world.admin, "Work laptop")
    assert not AuditEvent.objects.filter(action__startswith="accounts.mfa.").exists()


def test_the_owner_renames_their_passkey_and_a_blank_name_is_refused(world: World) -> None:
    passkey = _passkey(world.admin, "Work laptop")
    client = _confirmed(world.admin)
    url = f"/accounts/2fa/webauthn/keys/{passkey.pk}/edit/"
    response = client.post(url, {"name": "  "}, headers={"accept-language": "fr"})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    passkey.refresh_from_db()
    assert passkey.wrap().name == "Work laptop"
    response = client.post(url, {"name": "Office laptop"})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/webauthn/"
    passkey.refresh_from_db()
    assert passkey.wrap().name == "Office laptop"


def test_a_passkey_satisfies_the_organisation_s_two_factor_requirement(world: World) -> None:
    world.tenant.require_mfa = True
    world.tenant.save(update_fields=["require_mfa"])
    client = Client()
    client.force_login(world.admin)
    response = client.get("/office/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
    # Recovery codes alone are no second factor.
    RecoveryCodes.activate(world.admin)
    assert client.get("/office/")["Location"] == "/accounts/2fa/totp/activate/"
    _passkey(world.admin, "Work laptop")
    assert client.get("/office/").status_code == 200


def test_the_totp_page_offers_a_passkey_instead(world: World) -> None:
    body = _confirmed(world.admin).get("/accounts/2fa/totp/activate/", headers={"accept-language": "nl"})
    assert 'href="/accounts/2fa/webauthn/add/"' in body.content.decode()
    assert "Liever een toegangssleutel toevoegen" in body.content.decode()


def test_the_relying_party_is_the_public_address_not_the_host_header(world: World, settings: Any) -> None:
    """Behind the TLS proxy the request may arrive for another allowed host: the passkey is still
    made for SITE_URL's host, the one the browser shows."""
    settings.SITE_URL = "https://parking.example.org"
    settings.ALLOWED_HOSTS = ["testserver", "parking.example.org", "10.0.0.5"]
    client = _confirmed(world.admin)
    response = client.get("/accounts/2fa/webauthn/add/", headers={"host": "10.0.0.5"})
    assert response.status_code == 200
    found = re.search(
        r'<script id="js_data" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert found
    options = json.loads(found.group(1))["creation_options"]["publicKey"]
    assert options["rp"] == {"id": "parking.example.org", "name": "Parkgate"}
    # Every key is a passkey: kept on the device and unlocked by its owner (the page's script asks
    # for both; the form insists on user verification whatever the page sent).
    assert 'id="passkey_passwordless" checked hidden' in response.content.decode()


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_sign_in_page_offers_a_passkey_in_every_language(world: World, language: str) -> None:
    expected = {
        "en": "Sign in with a passkey",
        "fr": "Se connecter avec une clé d\u2019accès",
        "nl": "Aanmelden met een toegangssleutel",
    }[language]
    response = Client().get("/accounts/login/", headers={"accept-language": language})
    body = response.content.decode()
    assert expected in body
    assert '<form id="mfa_login" action="/accounts/2fa/webauthn/login/" method="post">' in body
    assert '<script src="/static/mfa/js/webauthn.js"></script>' in body
    assert "<script>" not in body  # no inline script: the policy would block it


def test_a_member_deactivated_everywhere_cannot_sign_in_any_more(world: World) -> None:
    user = world.parker_user
    membership_deactivate(membership=Membership.objects.get(user=user), actor=world.admin)
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/inactive/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/inactive/", headers={"accept-language": "fr"}).content.decode()
    assert "Votre accès a pris fin" in page
    # One active membership left somewhere is enough to sign in.
    other = Membership.objects.create(user=user, organisation=world.owner_org, role="parker")
    response = Client().post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert other.is_active


def test_the_list_shows_only_one_s_own_passkeys(world: World) -> None:
    _passkey(world.admin, "Work laptop")
    _passkey(world.outsider_admin, "Someone else's phone")
    client = Client()
    client.force_login(world.admin)
    response = client.get("/accounts/2fa/webauthn/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Work laptop</h2>" in body and "Someone else" not in body


def test_a_forged_passkey_is_refused_and_nothing_is_stored(world: World) -> None:
    client = _confirmed(world.admin)
    client.get("/accounts/2fa/webauthn/add/")  # begins the ceremony (its challenge in the session)
    response = client.post(
        "/accounts/2fa/webauthn/add/",
        {"name": "Forged", "credential": json.dumps({"id": "AAAA", "type": "public-key"})},
        headers={"accept-language": "nl"},
    )
    assert response.status_code == 200
    assert (
        "Deze toegangssleutel kon niet worden gecontroleerd. Probeer het opnieuw."
        in response.content.decode()
    )
    assert not Authenticator.objects.filter(user=world.admin).exists()
    assert not AuditEvent.objects.filter(action__startswith="accounts.mfa.").exists()


def test_a_forged_passkey_sign_in_is_refused_with_a_message(world: World) -> None:
    client = Client()
    client.get("/accounts/2fa/webauthn/login/", headers={"accept": "application/json"})
    response = client.post(
        "/accounts/2fa/webauthn/login/",
        {"credential": json.dumps({"id": "AAAA", "type": "public-key"})},
        headers={"accept-language": "fr"},
        follow=True,
    )
    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "Cette clé d\u2019accès n\u2019a pas pu être vérifiée. Réessayez." in response.content.decode()
    assert "_auth_user_id" not in client.session
