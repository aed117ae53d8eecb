"""The lot's change log under real concurrency (PostgreSQL): bookings and cancellations of one lot
race, each in its own connection and transaction. Every one commits: a counter row that each
writer updated deadlocked here with the capacity lock on the lot (the first version of this
change); the log only inserts, one row per writing transaction, and a check sees them all."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from parkgate.access.capacity import ReservationRequest, reservation_cancel, reservations_create
from parkgate.access.models import ReservationSource
from parkgate.sites.models import LotChange
from parkgate.sites.services import site_agent_create
from parkgate.sites.snapshot import changed_since, changes_mark
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKINGS = 12
CANCELLATIONS = 12


def test_racing_bookings_and_cancellations_all_commit_and_all_count() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (CI and make test use it when reachable)")
    lot = f.LotFactory(total_spots=200)
    org = f.OrganisationFactory()
    f.AllocationFactory(lot=lot, organisation=org, spots=100)
    policy = f.AccessPolicyFactory(lot=lot, organisation=org, spot_cap=100)
    start = f.aware(2031, 3, 3, 9)  # a Monday, far ahead
    end = start + timedelta(hours=4)
    booked = [f.ReservationFactory(policy=policy, start=start, end=end) for _ in range(CANCELLATIONS)]
    parkers = [f.ParkerFactory(managed_by=org) for _ in range(BOOKINGS)]
    site_agent_create(lot=lot, name="Box", actor=None)
    mark = changes_mark(lot.pk)

    barrier = threading.Barrier(BOOKINGS + CANCELLATIONS, timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            job()
            outcome = "ok"
        except Exception as error:  # recorded, so the assertion shows it
            outcome = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    jobs = [
        lambda p=p: reservations_create(
            requests=[ReservationRequest(parker=p, policy=policy, start=start, end=end)],
            source=ReservationSource.PORTAL,
        )
        for p in parkers
    ] + [lambda r=r: reservation_cancel(reservation=r) for r in booked]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert outcomes == ["ok"] * (BOOKINGS + CANCELLATIONS)
    # One log row per committed transaction, and the check taken before the race sees the change.
    assert LotChange.objects.filter(lot_id=lot.pk).count() == BOOKINGS + CANCELLATIONS
    assert changed_since(lot.pk, mark)
    assert not changed_since(lot.pk, changes_mark(lot.pk))
