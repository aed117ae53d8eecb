"""The cost of one public booking, pinned: the database queries of the Proceed POST.

Exact counts, so that a change adding a round trip to the visitor's path fails here and becomes a
decision (bench/booking_http.py measures what they cost over HTTP; docs/benchmarks.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from parkgate.booking.models import Booking, BookingNotice
from parkgate.booking.views import BOOKINGS_COOKIE
from tests.booking.conftest import booking_post

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
# 19 for the booking itself (invitation, policies, slots, visitor, plate, lock timeout, lot lock,
# capacity, keypad code, reservation, reference, booking, notice, the 3 audit entries in one
# INSERT, the savepoint of the test's transaction; free spots counted once, under the lock; no
# invitation lock without a booking limit; no savepoints inside the booking's one transaction)
# + 5 for the rate limit in the tests' database cache (Redis in production, no query there).
QUERIES_PER_BOOKING = 24


def _statement(sql: str) -> str:
    """ "SELECT table" / "INSERT table": the verb and the first table named."""
    table = re.search(r'(?:FROM|INTO) "(\w+)"', sql)
    return f"{sql.split(' ', 1)[0]} {table.group(1) if table else ''}".strip()


def _sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


@time_machine.travel(NOW, tick=False)
def test_one_public_booking_costs_a_fixed_number_of_queries(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    data = booking_post(portal_world)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(portal_world.url, data, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert BookingNotice.objects.filter(booking=booking).count() == 1
    sql = _sql(queries)
    assert len(sql) == QUERIES_PER_BOOKING, "\n".join(s[:160] for s in sql)
    # No session row for an anonymous visitor: the booking is remembered in a signed cookie.
    assert not any("django_session" in s for s in sql)
    assert response.cookies[BOOKINGS_COOKIE]["httponly"]
    assert client.get(response["Location"]).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_under_the_lot_lock_only_the_capacity_work_and_the_reservation(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    """The lot lock is held until the booking commits: the lot's other bookings wait for every
    statement after it, so the booking, its notice and its reference come before."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(portal_world.url, booking_post(portal_world), REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    sql = _sql(queries)
    locked_at = next(i for i, s in enumerate(sql) if 'FROM "parking_lot"' in s and "FOR UPDATE" in s)
    after = [_statement(s) for s in sql[locked_at + 1 :]]
    assert after == [
        "SELECT parking_allocation",  # the allocations
        # What is active: the confirmed counts the triggers keep, UNION ALL the live holds; a few
        # rows whatever the lot's history (tests/access/test_occupancy.py).
        "(SELECT access_occupancy",
        "SELECT access_reservation",  # the drawn keypad code is free
        "INSERT access_reservation",
        "INSERT core_auditevent",  # the visitor's, reservation's and booking's events, one INSERT
        "RELEASE",  # the test's savepoint: the commit in production
    ]


@time_machine.travel(NOW, tick=False)
def test_the_database_task_queue_gets_the_notice_task_in_the_booking_transaction(
    client, portal_world, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    data = booking_post(portal_world)
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.post(portal_world.url, data, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    notice = BookingNotice.objects.get()
    task = DBTaskResult.objects.get()
    assert task.task_path == "parkgate.booking.notices.booking_notice_task"
    assert task.args_kwargs["args"] == [notice.pk]
    # Written before the commit (one INSERT among the booking's), nothing left for after it.
    assert len(_sql(queries)) == QUERIES_PER_BOOKING + 1
    assert callbacks == []


def test_a_forged_bookings_cookie_shows_no_confirmation(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(portal_world.url, booking_post(portal_world), REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302
    booking = Booking.objects.get()
    # A booking made before confirmation addresses carried a key opens only in the browser that
    # booked, through the signed cookie.
    Booking.objects.filter(pk=booking.pk).update(link_key="")
    keyless = reverse(
        "booking:confirmation_keyless",
        args=[portal_world.portal.slug, portal_world.invitation.token, booking.reference],
    )
    assert client.get(keyless).status_code == 200
    other = client.__class__()
    other.cookies[BOOKINGS_COOKIE] = booking.reference  # unsigned: someone typing a reference
    assert other.get(keyless).status_code == 404
