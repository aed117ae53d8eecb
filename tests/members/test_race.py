"""Real concurrency on PostgreSQL: members race for the last spot of a day, and for a freed spot.

Each worker is a thread with its own connection and transaction, released together by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection, connections

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.core.models import OutboundEmail
from parkgate.members.models import WaitingListEntry, WaitingStatus
from parkgate.members.services import member_day_book, member_day_cancel
from parkgate.parking.models import Parker
from tests import factories as f
from tests.members.conftest import SATURDAY_10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = SATURDAY_10
# Ten weekdays of the coming two weeks: one race per day.
DAYS = [
    date(2026, 11, 30) + timedelta(days=n)
    for n in range(12)
    if (date(2026, 11, 30) + timedelta(days=n)).weekday() < 5
][:10]


@pytest.fixture(autouse=True)
def postgres_only(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL (CI and make test use it when reachable)")


def _race(jobs: list[Callable[[], str]]) -> list[str]:
    barrier = threading.Barrier(len(jobs), timeout=30)
    outcomes: list[str] = [""] * len(jobs)

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = jobs[index]()
        except Exception as error:  # recorded, so the assertion shows it
            outcomes[index] = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _book(parker, policy, day) -> Callable[[], str]:  # type: ignore[no-untyped-def]
    return _book_range(parker, policy, day, None)


def _race_then_promote(members, day, jobs) -> tuple[Parker, Reservation]:  # type: ignore[no-untyped-def]
    """Race ``jobs`` (Sophie's, Lucas's) for the last spot of ``day``: one is booked, the other waits;
    the winner cancels and the loser is given the spot. Returns the winner and the loser's spot."""
    flex, sophie, lucas = members.flex, members.parker, members.colleague
    outcomes = _race(jobs)
    assert sorted(outcomes) == ["booked", "waiting"], outcomes
    [booked] = _confirmed(flex, day)
    winner = booked.parker
    loser = lucas if winner == sophie else sophie
    [entry] = WaitingListEntry.objects.filter(policy=flex, day=day)
    assert (entry.parker, entry.status) == (loser, WaitingStatus.WAITING)
    member_day_cancel(parker=winner, policy=flex, day=day, actor=None, now=NOW)
    [given] = _confirmed(flex, day)
    entry.refresh_from_db()
    assert (given.parker, entry.status) == (loser, WaitingStatus.PROMOTED)
    return winner, given


def _confirmed(policy, day) -> list[Reservation]:  # type: ignore[no-untyped-def]
    return [
        r
        for r in Reservation.objects.filter(policy=policy, status=ReservationStatus.CONFIRMED)
        if r.start.astimezone(policy.lot.zone).date() == day
    ]


def test_two_members_race_for_the_last_spot_one_wins_the_other_waits_then_gets_it(members) -> None:  # type: ignore[no-untyped-def]
    flex, sophie, lucas = members.flex, members.parker, members.colleague
    results = []
    for day in DAYS:
        winner, _given = _race_then_promote(members, day, [_book(sophie, flex, day), _book(lucas, flex, day)])
        results.append(winner.first_name)
    assert OutboundEmail.objects.filter(kind="members.spot_given").count() == len(DAYS)
    print(f"\nrace winners per day: {results}")


def test_a_freed_spot_goes_to_the_first_in_line_even_when_a_colleague_books_at_that_instant(members) -> None:  # type: ignore[no-untyped-def]
    flex, sophie, lucas = members.flex, members.parker, members.colleague
    third = f.ParkerFactory(
        managed_by=members.world.tenant, organisation=members.world.tenant, first_name="Chloe"
    )
    flex.members.add(third)
    for day in DAYS:
        member_day_book(parker=sophie, policy=flex, day=day, actor=None, language="en", now=NOW)
        member_day_book(
            parker=lucas, policy=flex, day=day, actor=None, language="en", wait_if_full=True, now=NOW
        )

        def cancel(day: date = day) -> str:
            member_day_cancel(parker=sophie, policy=flex, day=day, actor=None, now=NOW)
            return "cancelled"

        outcomes = _race([cancel, _book(third, flex, day)])
        assert outcomes == ["cancelled", "waiting"], outcomes
        [given] = _confirmed(flex, day)
        assert given.parker == lucas
        assert list(
            WaitingListEntry.objects.filter(policy=flex, day=day)
            .order_by("created_at", "id")
            .values_list("parker", "status")
        ) == [(lucas.pk, WaitingStatus.PROMOTED), (third.pk, WaitingStatus.WAITING)]


def test_a_shared_spot_goes_to_one_colleague_and_is_never_taken_back_from_under_them(members) -> None:  # type: ignore[no-untyped-def]
    from parkgate.access.capacity import ReservationError
    from parkgate.members.services import shared_spot_book, spot_share, spot_take_back
    from parkgate.parking.models import SpotRelease, SpotReleaseStatus

    owner, policy = members.parker, members.world.member_policy
    chloe = f.ParkerFactory(
        managed_by=members.world.tenant, organisation=members.world.tenant, first_name="Chloe"
    )
    members.flex.members.add(chloe)
    outcomes_seen = set()
    for day in DAYS:
        release = spot_share(parker=owner, policy=policy, day=day, now=NOW)

        def book(parker, release=release) -> Callable[[], str]:  # type: ignore[no-untyped-def]
            def job() -> str:
                try:
                    shared_spot_book(release=release, parker=parker, actor=None, language="en", now=NOW)
                except ReservationError:
                    return "refused"
                return "booked"

            return job

        def take_back(day: date = day) -> str:
            try:
                spot_take_back(parker=owner, policy=policy, day=day)
            except ReservationError:
                return "refused"
            return "taken back"

        outcomes = _race([book(members.colleague), book(chloe), take_back])
        release.refresh_from_db()
        confirmed = _confirmed(policy, day)
        assert len(confirmed) == outcomes[:2].count("booked") <= 1, outcomes
        if outcomes[2] == "taken back":
            assert confirmed == [] and release.status == SpotReleaseStatus.TAKEN_BACK, outcomes
        else:
            assert len(confirmed) == 1 and release.reservation == confirmed[0], outcomes
        outcomes_seen.add(tuple(outcomes))
    assert SpotRelease.objects.count() == len(DAYS)
    print(f"\nshared-spot race outcomes: {sorted(outcomes_seen)}")


def _span(members, day: date, start: int, end: int):  # type: ignore[no-untyped-def]
    from datetime import datetime

    zone = members.world.lot.zone
    return (
        datetime(day.year, day.month, day.day, start, tzinfo=zone),
        datetime(day.year, day.month, day.day, end, tzinfo=zone),
    )


def _book_range(parker, policy, day, span) -> Callable[[], str]:  # type: ignore[no-untyped-def]
    def job() -> str:
        outcome = member_day_book(
            parker=parker,
            policy=policy,
            day=day,
            span=span,
            actor=None,
            language="en",
            wait_if_full=True,
            now=NOW,
        )
        return "booked" if outcome.reservations else "waiting"

    return job


def test_two_members_race_for_overlapping_ranges_of_the_last_spot(members) -> None:  # type: ignore[no-untyped-def]
    """09:00-12:00 against 11:00-14:00 on a one-spot policy: they overlap, so exactly one is booked and
    the other waits, and gets it when the winner cancels. Ranges that do not overlap both fit."""
    flex, sophie, lucas = members.flex, members.parker, members.colleague
    results = []
    for day in DAYS:
        morning, midday = _span(members, day, 9, 12), _span(members, day, 11, 14)
        jobs = [_book_range(sophie, flex, day, morning), _book_range(lucas, flex, day, midday)]
        winner, given = _race_then_promote(members, day, jobs)
        assert (given.start, given.end) == (midday if winner == sophie else morning)
        results.append(winner.first_name)
    # Back to back (12:00 ends where 12:00 starts): both fit on the one spot.
    day = DAYS[0] + timedelta(days=14)
    outcomes = _race(
        [
            _book_range(sophie, flex, day, _span(members, day, 9, 12)),
            _book_range(lucas, flex, day, _span(members, day, 12, 15)),
        ]
    )
    assert outcomes == ["booked", "booked"]
    print(f"\nrange race winners per day: {results}")
