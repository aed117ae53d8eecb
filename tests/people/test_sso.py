"""Single sign-on per organisation, against a real OpenID Connect provider (django-oauth-toolkit in
a small test project) started on loopback: no mock of the login flow."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from django.test import Client

from parkgate.accounts.models import Membership, OrganisationSSO, Role, User
from parkgate.core.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "parkgate-northwind"
CLIENT_SECRET = "northwind-client-secret-0123456789"
CALLBACK = "http://testserver/accounts/oidc/org-acme/login/callback/"


@dataclass
class Provider:
    url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    port = _free_port()
    env = {
        **os.environ,
        "OIDC_PROVIDER_DB": str(tmp_path_factory.mktemp("oidc") / "provider.sqlite3"),
        "OIDC_PROVIDER_RSA_KEY": key.decode(),
    }
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.people.oidc_provider.serve",
            str(port),
            CALLBACK,
            CLIENT_ID,
            CLIENT_SECRET,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        waited = subprocess.run(
            [sys.executable, "scripts/wait_port.py", "127.0.0.1", str(port), "30"], cwd=ROOT
        )
        if waited.returncode != 0:
            process.kill()
            pytest.fail(
                "the test OpenID Connect provider did not start: " + process.stderr.read().decode()[-2000:]
            )  # type: ignore[union-attr]
        yield Provider(url=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _configure(
    world, provider: Provider, domains: str = "northwind.example", role: str = "receptionist"
) -> None:  # type: ignore[no-untyped-def]
    admin = Client()
    admin.force_login(world.admin)
    response = admin.post(
        "/office/members/single-sign-on/",
        {
            "issuer": f"{provider.url}/o",
            "client_id": CLIENT_ID,
            "secret": CLIENT_SECRET,
            "domains": domains,
            "default_role": role,
        },
    )
    assert response.status_code == 302, response.content.decode()[-1500:]


def _provider_sign_in(provider: Provider, authorize_url: str, username: str, password: str) -> str:
    """A person signs in at the provider; returns our callback path with its query."""
    browser = requests.Session()
    page = browser.get(f"{provider.url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token
    path = urlsplit(authorize_url)
    response = browser.post(
        f"{provider.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": f"{path.path}?{path.query}",
        },
        headers={"Referer": f"{provider.url}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[-500:]
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[-500:]
    location = response.headers["Location"]
    assert location.startswith(CALLBACK), location
    return location.removeprefix("http://testserver")


@pytest.mark.django_db(transaction=True)
def test_an_address_of_the_domain_signs_in_at_the_organisation_s_provider(world, provider: Provider) -> None:  # type: ignore[no-untyped-def]
    cache.clear()
    _configure(world, provider)
    client = Client()
    response = client.post("/accounts/login/", {"login": "Nora@Northwind.example", "password": ""})
    assert response.status_code == 302
    authorize = response["Location"]
    assert authorize.startswith(f"{provider.url}/o/authorize/")
    assert "code_challenge=" in authorize and f"client_id={CLIENT_ID}" in authorize
    callback = _provider_sign_in(provider, authorize, "nora", "provider-pass-1")
    response = client.get(callback)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == "/control-room/"  # the role's home
    user = User.objects.get(email="nora@northwind.example")
    assert (user.first_name, user.last_name, user.has_usable_password()) == ("Nora", "North", False)
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role) == (world.tenant, Role.RECEPTIONIST)
    assert (
        AuditEvent.objects.filter(
            action="accounts.membership.created_by_sso", organisation=world.tenant
        ).count()
        == 1
    )
    assert client.get("/control-room/").status_code == 200

    # A second sign-in finds the same person and makes nothing new.
    again = Client()
    response = again.post("/accounts/login/", {"login": "nora@northwind.example"})
    callback = _provider_sign_in(provider, response["Location"], "nora", "provider-pass-1")
    assert again.get(callback)["Location"] == "/control-room/"
    assert again.get("/control-room/").status_code == 200
    assert User.objects.filter(email="nora@northwind.example").count() == 1
    assert Membership.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_provider_cannot_sign_in_an_address_outside_the_organisation_s_domains(
    world, provider: Provider
) -> None:  # type: ignore[no-untyped-def]
    cache.clear()
    _configure(world, provider)
    client = Client()
    response = client.post("/accounts/login/", {"login": "nora@northwind.example"})
    # At the provider, someone else signs in: an address the organisation does not cover.
    callback = _provider_sign_in(provider, response["Location"], "eve", "provider-pass-2")
    response = client.get(callback)
    assert response.status_code == 403
    assert not User.objects.filter(email="eve@elsewhere.example").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_other_domains_keep_the_password_and_a_domain_belongs_to_one_organisation(world) -> None:  # type: ignore[no-untyped-def]
    from parkgate.backoffice import people

    people.sso_configure(
        organisation=world.tenant,
        issuer="https://login.example.com",
        client_id="c",
        secret="s",
        domains="northwind.example",
        default_role="parker",
        actor=world.admin,
    )
    response = Client().post("/accounts/login/", {"login": world.owner.email, "password": "wrong"})
    assert response.status_code == 200  # the password form, not a redirect
    outsider = Client()
    outsider.force_login(world.outsider_admin)
    response = outsider.post(
        "/office/members/single-sign-on/",
        {
            "issuer": "https://idp.other.example",
            "client_id": "x",
            "secret": "y",
            "domains": "Northwind.example",
            "default_role": "parker",
        },
    )
    assert response.status_code == 400
    assert "Another organisation already signs in northwind.example." in response.content.decode()
    assert OrganisationSSO.objects.count() == 1
    # Only admins configure it.
    owner = Client()
    owner.force_login(world.owner)
    assert owner.post("/office/members/single-sign-on/", {}).status_code == 403
