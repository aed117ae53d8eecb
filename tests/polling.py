"""The one deadline-polling helper for tests that wait on another thread, process or broker.

Browser pages wait with Playwright's ``expect``/``wait_for``; everything else polls with this.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], *, timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def waiting_on_a_lock() -> int:
    """How many sessions of the test database wait on a lock now (PostgreSQL): what a test polls
    for to know that another thread has reached the lock it is meant to wait on."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])
