"""Real concurrency on PostgreSQL: many workers race for the last spots of one policy.

Each worker is a thread with its own database connection and transaction, released together by a
barrier. With the lot lock, exactly K succeed. The negative control switches the lock off and
holds every worker between its availability check and its write: all of them then "see" K free
spots and all succeed, which proves the test can fail when the lock is missing.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from parkgate.access import capacity
from parkgate.access.capacity import CapacityBusy, CapacityFull, ReservationRequest, reservations_create
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.bench, pytest.mark.django_db(transaction=True)]

WORKERS = 50
CAP = 12
ALREADY_TAKEN = 7
REMAINING = CAP - ALREADY_TAKEN  # K


@pytest.fixture
def contested(db: None):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (CI and make test use it when reachable)")
    lot = f.LotFactory(total_spots=200)
    org = f.OrganisationFactory()
    f.AllocationFactory(lot=lot, organisation=org, spots=100)
    policy = f.AccessPolicyFactory(lot=lot, organisation=org, spot_cap=CAP)
    start = f.aware(2031, 3, 3, 9)  # a Monday, far ahead so "in the past" never applies
    end = start + timedelta(hours=4)
    for _ in range(ALREADY_TAKEN):
        f.ReservationFactory(policy=policy, start=start, end=end)
    parkers = [f.ParkerFactory(managed_by=org) for _ in range(WORKERS)]
    return policy, parkers, start, end


def _race(policy, parkers, start, end):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(WORKERS, timeout=30)
    outcomes: list[str] = []
    outcomes_lock = threading.Lock()

    def worker(parker) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            reservations_create(
                requests=[ReservationRequest(parker=parker, policy=policy, start=start, end=end)],
                source=ReservationSource.PORTAL,
            )
            outcome = "booked"
        except CapacityFull:
            outcome = "full"
        except CapacityBusy:
            outcome = "busy"
        except Exception as error:  # recorded, so the assertion shows it
            outcome = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with outcomes_lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(parker,)) for parker in parkers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _active(policy) -> int:  # type: ignore[no-untyped-def]
    return Reservation.objects.filter(policy=policy, status=ReservationStatus.CONFIRMED).count()


def test_fifty_workers_race_for_the_last_spots_and_exactly_k_win(contested) -> None:  # type: ignore[no-untyped-def]
    policy, parkers, start, end = contested
    outcomes = _race(policy, parkers, start, end)
    assert sorted(set(outcomes)) == ["booked", "full"], outcomes
    assert outcomes.count("booked") == REMAINING
    assert outcomes.count("full") == WORKERS - REMAINING
    assert _active(policy) == CAP


def test_negative_control_without_the_lock_the_race_oversells(contested, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    policy, parkers, start, end = contested
    checked = threading.Barrier(WORKERS, timeout=30)
    real_check = capacity._check_capacity

    def check_then_wait(requests, now):  # type: ignore[no-untyped-def]
        result = real_check(requests, now)
        checked.wait()  # everyone has seen K free spots before anyone writes
        return result

    monkeypatch.setattr(capacity, "_lock_lots", lambda lot_ids: None)
    monkeypatch.setattr(capacity, "_check_capacity", check_then_wait)
    outcomes = _race(policy, parkers, start, end)
    assert outcomes.count("booked") == WORKERS
    assert _active(policy) == ALREADY_TAKEN + WORKERS  # oversold: the test above would catch this
