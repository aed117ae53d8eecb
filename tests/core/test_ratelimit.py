"""The one rate limiter: atomic on every cache the product supports, keyed by the client's address."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory, override_settings

from parkgate.core.ratelimit import client_key, rate_exceeded, rate_hit
from tests.booking.conftest import portal_world  # noqa: F401 - fixture

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
REDIS_TEST_URL = "redis://127.0.0.1:6379/13"  # a database of its own, so nothing else is disturbed
rf = RequestFactory()


def _race(workers: int, rate: str, *, scope: str) -> int:
    """``workers`` threads hit the same limit from one address at one instant; how many passed."""
    barrier = threading.Barrier(workers)
    passed: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        try:
            request = rf.post("/", REMOTE_ADDR="203.0.113.66")
            barrier.wait(timeout=20)
            refused = rate_hit(request, scope=scope, rate=rate)
            with lock:
                passed.append(not refused)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(passed) == workers
    return sum(passed)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_80_concurrent_hits_let_exactly_30_through_on_the_database_cache() -> None:
    """Before: Django's DatabaseCache (read, add, write back) let 56 of 80 through a limit of 30."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks across connections (CI runs on PostgreSQL)")
    assert type(caches["default"]).__name__ == "AtomicDatabaseCache"
    with time_machine.travel(NOW, tick=False):
        assert _race(80, "30/h", scope="test.race.db") == 30
        assert rate_hit(rf.get("/", REMOTE_ADDR="198.51.100.7"), scope="test.race.db", rate="30/h") is False


def test_80_concurrent_hits_let_exactly_30_through_on_redis() -> None:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": "parkgate-web-test",
        }
    }
    try:
        with override_settings(CACHES=caches), time_machine.travel(NOW, tick=False):
            assert _race(80, "30/h", scope="test.race.redis") == 30
            keys = client.keys("*")
            assert len(keys) == 1
            assert keys[0].startswith(b"parkgate-web-test:1:rl:")
    finally:
        client.flushdb()


@pytest.mark.django_db
def test_limits_are_per_client_address_and_a_peek_counts_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    first = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    second = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8")
    with time_machine.travel(NOW, tick=False):
        assert [rate_hit(first, scope="t", rate="2/m") for _ in range(3)] == [False, False, True]
        assert rate_exceeded(second, scope="t", rate="2/m") is False
        assert rate_exceeded(second, scope="t", rate="2/m") is False  # looking counts nothing
        assert [rate_hit(second, scope="t", rate="2/m") for _ in range(3)] == [False, False, True]
        assert rate_exceeded(first, scope="t", rate="2/m") is True
    with time_machine.travel(NOW.replace(minute=2), tick=False):  # the next window
        assert rate_hit(first, scope="t", rate="2/m") is False


def test_an_ipv6_client_is_counted_by_its_64_bit_network(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = []
    assert client_key(rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64"
    assert client_key(rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")) == "2001:db8:1:2::/64"
    assert client_key(rf.get("/", REMOTE_ADDR="192.0.2.1")) == "192.0.2.1"


def test_a_cache_that_does_not_answer_serves_instead_of_refusing_everyone() -> None:
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    with override_settings(CACHES=caches):
        assert rate_hit(rf.get("/", REMOTE_ADDR="192.0.2.1"), scope="t", rate="1/h") is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_to_a_limited_page_pass_exactly_the_limit(portal_world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The lost-links form (10 per hour per address), 30 POSTs at once from one address."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks across connections (CI runs on PostgreSQL)")
    from django.test import Client
    from django.urls import reverse

    url = reverse("booking:lost_links", args=[portal_world.portal.slug])
    barrier = threading.Barrier(30)
    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            client = Client(REMOTE_ADDR="203.0.113.66")
            barrier.wait(timeout=20)
            status = client.post(url, {"email": "not-an-address"}).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    with time_machine.travel(NOW, tick=False):
        threads = [threading.Thread(target=post) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [200] * 10 + [429] * 20
