"""The one client-address rule: X-Forwarded-For counts only through proxies we trust."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from parkgate.core.net import client_ip

rf = RequestFactory()


def _ip(remote: str, xff: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return client_ip(rf.get("/", **meta))


def test_without_trusted_proxies_a_spoofed_header_is_ignored(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = []
    assert _ip("198.51.100.7", "203.0.113.9") == "198.51.100.7"
    assert _ip("198.51.100.7") == "198.51.100.7"


def test_behind_a_trusted_proxy_the_client_is_the_address_it_appended(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert _ip("127.0.0.1", "198.51.100.7") == "198.51.100.7"
    # The client wrote "1.2.3.4" itself; nginx appended the real peer: the right-hand end wins.
    assert _ip("127.0.0.1", "1.2.3.4, 198.51.100.7") == "198.51.100.7"


def test_an_untrusted_peer_cannot_choose_its_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("198.51.100.7", "10.0.0.5, 203.0.113.9") == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    assert _ip("10.0.0.1", "203.0.113.9, 198.51.100.7, 10.1.1.1, 10.2.2.2") == "198.51.100.7"
    assert _ip("2001:db8::1", "2001:db8::2, 2a00:1450::1") == "2a00:1450::1"
    # Every hop is ours: the request started inside the network.
    assert _ip("10.0.0.1", "10.9.9.9") == "10.9.9.9"
    assert _ip("10.0.0.1") == "10.0.0.1"


def test_garbage_in_the_header_stops_the_walk_at_the_last_trusted_hop(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("10.0.0.1", "198.51.100.7, not-an-ip") == "10.0.0.1"
    assert _ip("10.0.0.1", "203.0.113.9, [2001:db8::7]:443") == "2001:db8::7"


def test_an_unreadable_peer_is_unknown(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = []
    assert _ip("") == "unknown"
    assert _ip("::ffff:192.0.2.1") == "192.0.2.1"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "localhost", "10.0.0.1,,10.0.0.2"])
def test_a_malformed_trusted_proxies_setting_stops_the_process(value: str) -> None:
    from tests.core.test_settings import PRODUCTION, _manage

    result = _manage("check", env={**PRODUCTION, "TRUSTED_PROXIES": value})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
