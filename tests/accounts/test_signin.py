"""Sign-in by e-mail (allauth), its throttle with exact counts, and the client-address rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings

from parkgate.accounts import adapter
from tests.factories import PASSWORD

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_cache(db: None) -> None:
    cache.clear()


def _sign_in(client: Client, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def test_sign_in_by_e_mail_lands_on_the_role_home(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = _sign_in(client, world.admin.email.upper(), PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/office/"
    client = Client()
    response = _sign_in(client, world.receptionist.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/control-room/"
    client = Client()
    response = _sign_in(client, world.parker_user.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/me/"


def test_the_sign_in_page_is_ours_and_translated(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/accounts/login/", headers={"accept-language": "fr"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="/static/parkgate/parkgate.css"' in body
    assert "Se connecter à Parkgate" in body
    response = Client().get("/accounts/login/", headers={"accept-language": "nl"})
    assert "Aanmelden bij Parkgate" in response.content.decode()


def test_a_wrong_password_does_not_sign_in(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = _sign_in(client, world.admin.email, "wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_brute_force_is_refused_from_the_sixth_guess_until_the_window_passes(world) -> None:  # type: ignore[no-untyped-def]
    """Per account: 5 wrong passwords in 15 minutes; the 6th attempt (even right) is a 429."""
    client = Client()
    with time_machine.travel(NOW, tick=False) as traveller:
        for _guess in range(5):
            response = _sign_in(client, world.admin.email, "wrong")
            assert response.status_code == 200
        response = _sign_in(client, world.admin.email, "wrong")
        assert response.status_code == 429
        assert response["Retry-After"] == "900"
        assert "Try again in 15 minutes (after 09:15 UTC)" in response.content.decode()
        response = _sign_in(client, world.admin.email, PASSWORD)
        assert response.status_code == 429
        assert "_auth_user_id" not in client.session
        # Another account from the same client is not locked by this one.
        response = _sign_in(Client(), world.owner.email, PASSWORD)
        assert response.status_code == 302
        traveller.move_to(NOW + timedelta(minutes=14, seconds=59))
        assert _sign_in(client, world.admin.email, PASSWORD).status_code == 429
        traveller.move_to(NOW + timedelta(minutes=15, seconds=1))
        response = _sign_in(client, world.admin.email, PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/office/"


def test_one_client_gets_at_most_30_wrong_passwords_an_hour(world, django_user_model) -> None:  # type: ignore[no-untyped-def]
    """Per client address: 10 a minute and 30 an hour, over many accounts."""
    from tests.factories import UserFactory

    users = [UserFactory() for _ in range(8)]
    client = Client(REMOTE_ADDR="198.51.100.7")
    refused = accepted = 0
    with time_machine.travel(NOW, tick=False) as traveller:
        for minute in range(4):
            traveller.move_to(NOW + timedelta(minutes=minute))
            for attempt in range(12):
                user = users[(minute * 12 + attempt) % len(users)]
                status = _sign_in(client, user.email, "wrong").status_code
                if status == 429:
                    refused += 1
                else:
                    assert status == 200
                    accepted += 1
        assert accepted == 30  # 10 in each of the first three minutes, none in the fourth
        assert refused == 18
        # The right password from that client is refused too, with the time to wait.
        response = _sign_in(client, world.admin.email, PASSWORD)
        assert response.status_code == 429
        assert "Try again in 57 minutes (after 10:00 UTC)" in response.content.decode()
        # Another client is not affected.
        assert _sign_in(Client(REMOTE_ADDR="198.51.100.8"), world.admin.email, PASSWORD).status_code == 302
        traveller.move_to(NOW + timedelta(hours=1, seconds=1))
        assert _sign_in(client, world.admin.email, PASSWORD).status_code == 302


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_the_proxy_the_limit_follows_the_forwarded_client(world) -> None:  # type: ignore[no-untyped-def]
    adapter._trusted_proxies.cache_clear()
    try:
        with time_machine.travel(NOW, tick=False):
            proxy = Client(REMOTE_ADDR="10.0.0.2")
            # A client behind the proxy spends its 10-a-minute budget...
            for n in range(10):
                response = _sign_in(
                    proxy, f"nobody{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5"
                )
                assert response.status_code == 200
            forwarded = _sign_in(proxy, world.admin.email, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")
            assert forwarded.status_code == 429
            # ... but another client behind the same proxy is not refused, and a spoofed header
            # from a direct client is ignored (its own address counts).
            other = _sign_in(proxy, world.admin.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")
            assert other.status_code == 302
            direct = Client(REMOTE_ADDR="198.51.100.9")
            for n in range(10):
                response = _sign_in(
                    direct, f"nobody{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
                )
                assert response.status_code == 200
            assert _sign_in(direct, world.receptionist.email, "wrong").status_code == 429
    finally:
        adapter._trusted_proxies.cache_clear()


def test_client_ip_rule() -> None:
    from django.test import RequestFactory

    rf = RequestFactory()
    with override_settings(TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8"]):
        adapter._trusted_proxies.cache_clear()
        request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5, 10.1.1.1")
        assert adapter.client_ip(request) == "203.0.113.5"
        request = rf.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
        assert adapter.client_ip(request) == "198.51.100.1"
    adapter._trusted_proxies.cache_clear()


def test_password_reset_by_e_mail(world, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": world.admin.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [world.admin.email]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mailoutbox[0].body)
    assert link
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(
        form_url, {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"}
    )
    assert response.status_code == 302
    world.admin.refresh_from_db()
    assert world.admin.check_password("a-new-long-passphrase-42")
    assert _sign_in(Client(), world.admin.email, "a-new-long-passphrase-42").status_code == 302


def test_an_unknown_address_gets_no_reset_mail(world, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    # allauth tells an unknown address that it has no account, and nothing else.
    assert all("/password/reset/key/" not in m.body for m in mailoutbox)


def test_e_mail_change_takes_effect_only_once_verified(world, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert _sign_in(client, world.admin.email, PASSWORD).status_code == 302
    old = world.admin.email
    response = client.post("/accounts/email/", {"action_add": "", "email": "ada.new@acme.example"})
    assert response.status_code == 302
    world.admin.refresh_from_db()
    assert world.admin.email == old
    other = Client()
    _sign_in(other, "ada.new@acme.example", PASSWORD)
    assert "_auth_user_id" not in other.session  # an unverified address does not sign in
    confirm = [m for m in mailoutbox if "ada.new@acme.example" in m.to]
    assert len(confirm) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+)", confirm[0].body)
    assert link
    assert client.post(link.group(1)).status_code == 302
    world.admin.refresh_from_db()
    assert world.admin.email == "ada.new@acme.example"
    assert _sign_in(Client(), "ada.new@acme.example", PASSWORD).status_code == 302


def test_sign_out_everywhere_ends_the_other_sessions(world) -> None:  # type: ignore[no-untyped-def]
    laptop, phone = Client(), Client(HTTP_USER_AGENT="Phone")
    assert _sign_in(laptop, world.admin.email, PASSWORD).status_code == 302
    assert _sign_in(phone, world.admin.email, PASSWORD).status_code == 302
    assert phone.get("/office/").status_code == 200
    page = laptop.get("/accounts/sessions/")
    assert page.status_code == 200 and "Phone" in page.content.decode()
    assert laptop.post("/accounts/sessions/").status_code == 302
    assert phone.get("/office/").status_code == 302  # back to sign-in
    assert laptop.get("/office/").status_code == 200


@pytest.mark.parametrize(
    "url", ["/accounts/email/", "/accounts/password/change/", "/accounts/2fa/", "/accounts/sessions/"]
)
def test_account_pages_use_our_layout(world, url: str) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.admin)
    response = client.get(url, headers={"accept-language": "nl"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="sidenav"' in body and "Mijn account" in body
