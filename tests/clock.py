"""The suite's clock: every test runs at one pinned instant, never at the real date and hour.

``pinned_now`` (autouse) travels to the instant with time-machine for the whole test, in every
thread of the test process: the test, pytest-django's live server, the Stripe test server, the MQTT
simulators. The clock ticks on from there (waits and timeouts keep working), so a test sees the
pinned instant plus the few seconds it runs. Tests build their data from the fixture's value::

    def test_something(pinned_now: datetime) -> None:
        start = pinned_now + timedelta(days=2)

The instant is ``DEFAULT_NOW`` unless ``--pinned-now=ISO`` or ``PARKGATE_TEST_NOW=ISO`` says
otherwise (an ISO 8601 date-time with its UTC offset); ``scripts/date_matrix.py`` runs the
date-sensitive tests at each instant of its matrix (weekend, Monday 00:30 in Brussels, clock changes,
New Year's Eve, a leap day).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

# A Wednesday, 10:00 in Brussels (09:00 UTC): an ordinary working morning.
DEFAULT_NOW = "2026-11-25T10:00:00+01:00"
ENV = "PARKGATE_TEST_NOW"


def parse_instant(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise pytest.UsageError(
            f"the pinned instant {value!r} needs its UTC offset, e.g. 2026-11-28T10:00+01:00"
        )
    return instant.astimezone(UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pinned-now",
        default=None,
        help=f"the instant every test runs at (ISO 8601 with offset; env {ENV}; default {DEFAULT_NOW})",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"pinned now: {pinned_instant_from(config).isoformat()}"


def pinned_instant_from(config: pytest.Config) -> datetime:
    return parse_instant(config.getoption("--pinned-now") or os.environ.get(ENV) or DEFAULT_NOW)


@pytest.fixture(scope="session")
def pinned_instant(pytestconfig: pytest.Config) -> datetime:
    """The instant of this run (aware, UTC)."""
    return pinned_instant_from(pytestconfig)


@pytest.fixture(autouse=True)
def pinned_now(pinned_instant: datetime) -> Iterator[datetime]:
    """Every test starts at the pinned instant; the value is that instant (aware, UTC)."""
    with time_machine.travel(pinned_instant, tick=True):
        yield pinned_instant


def lot_date(instant: datetime, zone: str = "Europe/Brussels") -> date:
    """The calendar day of ``instant`` in the lot's zone (the day a visitor sees)."""
    import zoneinfo

    return instant.astimezone(zoneinfo.ZoneInfo(zone)).date()


def next_weekday(after: date, weekday: int, *, at_least: int = 1) -> date:
    """The first ``weekday`` (0 = Monday) at least ``at_least`` days after ``after``."""
    day = after + timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)
