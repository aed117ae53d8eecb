"""The decision engine: every reason, every boundary, the choice between accesses, both DST days.

Pure: no database, no clock. Instants are asserted in UTC; ``local()`` builds Brussels wall times
(with ``fold=1`` for the second pass of the repeated autumn hour).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils.translation import override

from parkgate.access.decisions import (
    SENTENCE_TEXTS,
    Access,
    CataloguePhrases,
    GateFacts,
    LotFacts,
    MemberAccess,
    Phrases,
    Reason,
    ReservationAccess,
    Window,
    decide,
    details_from_json,
    details_to_json,
    evaluate,
    phrase_catalogue,
    sentence,
)

BXL = zoneinfo.ZoneInfo("Europe/Brussels")
LOT = LotFacts(lot_id=1, timezone="Europe/Brussels")
OTHER_LOT = 2
ENTRY = GateFacts(gate_id=10, lot_id=1, direction="entry")
EXIT = GateFacts(gate_id=11, lot_id=1, direction="exit")
BOTH = GateFacts(gate_id=12, lot_id=1, direction="both")
WEEKDAYS_7_19 = tuple(Window(day, 7 * 60, 19 * 60) for day in range(5))
ALL_DAY = tuple(Window(day, 0, 1440) for day in range(7))
US = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BXL, fold=fold)  # type: ignore[misc]


def member(
    windows: tuple[Window, ...] = WEEKDAYS_7_19,
    *,
    lot_id: int = 1,
    policy_id: int = 100,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> MemberAccess:
    return MemberAccess(
        policy_id=policy_id,
        lot_id=lot_id,
        name="Staff",
        windows=windows,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def booking(
    start: datetime,
    end: datetime,
    *,
    status: str = "confirmed",
    lot_id: int = 1,
    reservation_id: int = 500,
) -> ReservationAccess:
    return ReservationAccess(
        reservation_id=reservation_id,
        lot_id=lot_id,
        policy_id=200,
        name="Visitors",
        start=start,
        end=end,
        status=status,
    )


def at_lot(
    at: datetime, *accesses: Access, lot: LotFacts = LOT, **kwargs: Any
) -> tuple[Reason, dict[str, Any]]:
    decision = decide(lot=lot, at=at, accesses=list(accesses), **kwargs)
    return decision.reason, decision.details


# Monday 12 January 2026, winter time (UTC+1). A visitor booking from 10:00 to 18:00 local.
BOOKING = booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0))


# --- who is asking, and where -----------------------------------------------------------------


def test_unknown_parker() -> None:
    decision = decide(lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=None, gate=ENTRY, travel="entry")
    assert (decision.reason, decision.access, decision.details, decision.granted) == (
        Reason.UNKNOWN_PARKER,
        None,
        {},
        False,
    )


def test_known_parker_without_any_access_has_no_policy_at_this_lot() -> None:
    decision = decide(lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=[])
    assert (decision.reason, decision.access, decision.granted) == (Reason.NO_POLICY_AT_LOT, None, False)


def test_gate_of_another_lot_is_wrong_lot_even_with_a_valid_access() -> None:
    gate = GateFacts(gate_id=99, lot_id=OTHER_LOT, direction="both")
    decision = decide(lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=[BOOKING], gate=gate)
    assert (decision.reason, decision.access, decision.granted) == (Reason.WRONG_LOT, None, False)


def test_accesses_only_at_other_lots_say_wrong_lot() -> None:
    elsewhere = member(ALL_DAY, lot_id=OTHER_LOT)
    decision = decide(
        lot=LOT,
        at=utc(2026, 1, 12, 10, 0),
        accesses=[elsewhere, booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0), lot_id=OTHER_LOT)],
    )
    assert decision.reason == Reason.WRONG_LOT
    assert decision.access == elsewhere
    assert [s.reason for s in decision.states] == [Reason.WRONG_LOT, Reason.WRONG_LOT]


def test_an_access_at_another_lot_does_not_hide_one_here() -> None:
    decision = decide(
        lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=[member(ALL_DAY, lot_id=OTHER_LOT), BOOKING]
    )
    assert (decision.reason, decision.reservation_id, decision.policy_id) == (
        Reason.GRANTED_RESERVATION,
        500,
        200,
    )


@pytest.mark.parametrize(
    ("gate", "travel", "expected"),
    [
        (ENTRY, "exit", Reason.GATE_DIRECTION),
        (EXIT, "entry", Reason.GATE_DIRECTION),
        (ENTRY, "entry", Reason.GRANTED_RESERVATION),
        (EXIT, "exit", Reason.GRANTED_RESERVATION),
        (BOTH, "entry", Reason.GRANTED_RESERVATION),
        (BOTH, "exit", Reason.GRANTED_RESERVATION),
        (EXIT, None, Reason.GRANTED_RESERVATION),  # direction of travel unknown: the gate decides
    ],
)
def test_gate_direction(gate: GateFacts, travel: str | None, expected: Reason) -> None:
    reason, details = at_lot(utc(2026, 1, 12, 10, 0), BOOKING, gate=gate, travel=travel)
    assert reason == expected
    if expected == Reason.GATE_DIRECTION:
        assert details == {"gate_direction": gate.direction, "travel": travel}


def test_gate_direction_is_checked_before_the_parker_is_looked_at() -> None:
    decision = decide(lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=None, gate=ENTRY, travel="exit")
    assert decision.reason == Reason.GATE_DIRECTION


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        decide(lot=LOT, at=datetime(2026, 1, 12, 10, 0), accesses=[BOOKING])
    with pytest.raises(ValueError):
        evaluate(BOOKING, lot=LOT, at=datetime(2026, 1, 12, 10, 0))


# --- reservations -----------------------------------------------------------------------------


def test_reservation_start_is_inclusive_to_the_microsecond() -> None:
    assert at_lot(utc(2026, 1, 12, 9, 0), BOOKING) == (
        Reason.GRANTED_RESERVATION,
        {"until": utc(2026, 1, 12, 17, 0)},
    )
    assert at_lot(utc(2026, 1, 12, 9, 0) - US, BOOKING) == (
        Reason.RESERVATION_NOT_STARTED,
        {"opens_at": utc(2026, 1, 12, 9, 0), "starts_at": utc(2026, 1, 12, 9, 0)},
    )


def test_reservation_end_is_exclusive_to_the_microsecond() -> None:
    assert at_lot(utc(2026, 1, 12, 17, 0) - US, BOOKING)[0] == Reason.GRANTED_RESERVATION
    assert at_lot(utc(2026, 1, 12, 17, 0), BOOKING) == (
        Reason.RESERVATION_ENDED,
        {"ended_at": utc(2026, 1, 12, 17, 0)},
    )


def test_grace_before_and_after_widen_the_reservation() -> None:
    grace = {"grace_before": timedelta(minutes=15), "grace_after": timedelta(minutes=10)}
    assert at_lot(utc(2026, 1, 12, 8, 45), BOOKING, **grace) == (
        Reason.GRANTED_RESERVATION,
        {"until": utc(2026, 1, 12, 17, 10)},
    )
    assert at_lot(utc(2026, 1, 12, 8, 45) - US, BOOKING, **grace) == (
        Reason.RESERVATION_NOT_STARTED,
        {"opens_at": utc(2026, 1, 12, 8, 45), "starts_at": utc(2026, 1, 12, 9, 0)},
    )
    assert at_lot(utc(2026, 1, 12, 17, 10) - US, BOOKING, **grace)[0] == Reason.GRANTED_RESERVATION
    assert at_lot(utc(2026, 1, 12, 17, 10), BOOKING, **grace) == (
        Reason.RESERVATION_ENDED,
        {"ended_at": utc(2026, 1, 12, 17, 0)},
    )


@pytest.mark.parametrize(
    ("status", "reason", "details"),
    [
        ("cancelled", Reason.RESERVATION_CANCELLED, {"status": "cancelled"}),
        ("expired", Reason.RESERVATION_CANCELLED, {"status": "expired"}),
        ("held", Reason.RESERVATION_NOT_CONFIRMED, {}),
    ],
)
def test_reservation_not_usable_whatever_the_time(
    status: str, reason: Reason, details: dict[str, Any]
) -> None:
    reservation = booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0), status=status)
    assert at_lot(utc(2026, 1, 12, 12, 0), reservation) == (reason, details)


def test_reservation_given_in_local_time_is_compared_as_an_instant() -> None:
    reservation = booking(local(2026, 1, 12, 10, 0), local(2026, 1, 12, 18, 0))
    assert at_lot(utc(2026, 1, 12, 17, 0) - US, reservation)[0] == Reason.GRANTED_RESERVATION
    assert at_lot(utc(2026, 1, 12, 17, 0), reservation)[0] == Reason.RESERVATION_ENDED


# --- member policies: timetable ---------------------------------------------------------------


def test_member_window_start_inclusive_end_exclusive() -> None:
    staff = member()
    assert at_lot(local(2026, 1, 12, 7, 0), staff) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 1, 12, 18, 0)},
    )
    assert at_lot(local(2026, 1, 12, 7, 0) - US, staff) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 12, 6, 0)},
    )
    assert at_lot(local(2026, 1, 12, 19, 0) - US, staff)[0] == Reason.GRANTED_MEMBER
    assert at_lot(local(2026, 1, 12, 19, 0), staff) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 13, 6, 0)},
    )


@pytest.mark.parametrize(
    "at",
    [
        local(2026, 1, 16, 19, 0),
        local(2026, 1, 17, 12, 0),
        local(2026, 1, 18, 23, 59),
        local(2026, 1, 19, 6, 59),
    ],
)
def test_next_window_after_the_weekend_is_monday_morning(at: datetime) -> None:
    assert at_lot(at, member()) == (Reason.OUTSIDE_TIMETABLE, {"opens_at": utc(2026, 1, 19, 6, 0)})


def test_no_window_at_all_means_no_next_window() -> None:
    assert at_lot(utc(2026, 1, 12, 10, 0), member(())) == (Reason.OUTSIDE_TIMETABLE, {"opens_at": None})


def test_window_until_midnight_continues_into_the_next_day() -> None:
    night = member((Window(0, 18 * 60, 1440), Window(1, 0, 6 * 60)))
    expected_until = {"until": utc(2026, 1, 13, 5, 0)}  # Tuesday 06:00 local
    assert at_lot(local(2026, 1, 12, 20, 0), night) == (Reason.GRANTED_MEMBER, expected_until)
    assert at_lot(local(2026, 1, 12, 23, 59, 59, 999999), night) == (Reason.GRANTED_MEMBER, expected_until)
    assert at_lot(local(2026, 1, 13, 0, 0), night) == (Reason.GRANTED_MEMBER, expected_until)
    assert at_lot(local(2026, 1, 13, 6, 0), night) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 19, 17, 0)},  # next Monday 18:00 local
    )


def test_window_until_midnight_stops_at_the_end_of_validity() -> None:
    night = member((Window(0, 18 * 60, 1440), Window(1, 0, 6 * 60)), valid_until=date(2026, 1, 12))
    assert at_lot(local(2026, 1, 12, 20, 0), night) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 1, 12, 23, 0)},
    )


def test_adjacent_and_overlapping_windows_of_one_day_make_one_run() -> None:
    adjacent = member((Window(0, 7 * 60, 12 * 60), Window(0, 12 * 60, 19 * 60)))
    overlapping = member((Window(0, 7 * 60, 12 * 60), Window(0, 10 * 60, 14 * 60)))
    assert at_lot(local(2026, 1, 12, 8, 0), adjacent)[1] == {"until": utc(2026, 1, 12, 18, 0)}
    assert at_lot(local(2026, 1, 12, 8, 0), overlapping)[1] == {"until": utc(2026, 1, 12, 13, 0)}


def test_window_with_a_gap_does_not_run_on() -> None:
    split = member((Window(0, 7 * 60, 12 * 60), Window(0, 13 * 60, 19 * 60)))
    assert at_lot(local(2026, 1, 12, 8, 0), split)[1] == {"until": utc(2026, 1, 12, 11, 0)}
    assert at_lot(local(2026, 1, 12, 12, 30), split) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 12, 12, 0)},
    )


def test_open_around_the_clock_says_until_a_week_ahead() -> None:
    # "until" follows continuing windows for seven days ahead, then stops looking.
    assert at_lot(local(2026, 1, 12, 10, 0), member(ALL_DAY))[1] == {"until": utc(2026, 1, 19, 23, 0)}


# --- member policies: validity in local days --------------------------------------------------


def test_not_yet_valid_gives_the_first_window_of_the_validity() -> None:
    staff = member(valid_from=date(2026, 1, 14))
    assert at_lot(local(2026, 1, 12, 10, 0), staff) == (
        Reason.NOT_YET_VALID,
        {"valid_from": date(2026, 1, 14), "opens_at": utc(2026, 1, 14, 6, 0)},
    )


def test_validity_first_day_starts_at_local_midnight() -> None:
    staff = member(ALL_DAY, valid_from=date(2026, 1, 14))
    # Local midnight of the first day is still the 13th in UTC: valid all the same.
    assert at_lot(local(2026, 1, 14, 0, 0), staff)[0] == Reason.GRANTED_MEMBER
    assert at_lot(local(2026, 1, 14, 0, 0) - US, staff) == (
        Reason.NOT_YET_VALID,
        {"valid_from": date(2026, 1, 14), "opens_at": utc(2026, 1, 13, 23, 0)},
    )


def test_validity_last_day_ends_at_local_midnight() -> None:
    staff = member(ALL_DAY, valid_until=date(2026, 1, 12))
    assert at_lot(local(2026, 1, 12, 23, 59, 59, 999999), staff) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 1, 12, 23, 0)},
    )
    # 00:00 local on the 13th is still the 12th in UTC: over all the same.
    assert at_lot(local(2026, 1, 13, 0, 0), staff) == (
        Reason.VALIDITY_ENDED,
        {"valid_until": date(2026, 1, 12)},
    )


def test_validity_last_day_in_a_zone_behind_utc() -> None:
    new_york = LotFacts(lot_id=1, timezone="America/New_York")
    staff = member(ALL_DAY, valid_until=date(2026, 1, 12))
    # 23:30 local on the last day is 04:30 UTC the next day: still valid until local midnight.
    assert at_lot(utc(2026, 1, 13, 4, 30), staff, lot=new_york) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 1, 13, 5, 0)},
    )
    assert at_lot(utc(2026, 1, 13, 5, 0), staff, lot=new_york)[0] == Reason.VALIDITY_ENDED


def test_outside_timetable_with_no_window_left_in_the_validity() -> None:
    staff = member(valid_until=date(2026, 1, 12))
    assert at_lot(local(2026, 1, 12, 20, 0), staff) == (Reason.OUTSIDE_TIMETABLE, {"opens_at": None})


# --- several accesses: which one speaks -------------------------------------------------------


def test_a_grant_wins_over_any_denial() -> None:
    decision = decide(
        lot=LOT,
        at=local(2026, 1, 17, 11, 0),  # Saturday: the member policy is closed
        accesses=[member(), booking(utc(2026, 1, 17, 9, 0), utc(2026, 1, 17, 17, 0))],
    )
    assert decision.reason == Reason.GRANTED_RESERVATION
    assert [s.reason for s in decision.states] == [Reason.OUTSIDE_TIMETABLE, Reason.GRANTED_RESERVATION]


def test_the_longest_grant_is_shown_and_a_reservation_wins_a_tie() -> None:
    short = booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 11, 0))
    tie = booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 18, 0), reservation_id=501)
    longer = member()  # until 19:00 local = 18:00 UTC
    assert decide(lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=[short, longer]).access == longer
    decision = decide(lot=LOT, at=utc(2026, 1, 12, 10, 0), accesses=[longer, tie])
    assert (decision.reason, decision.reservation_id) == (Reason.GRANTED_RESERVATION, 501)


def test_the_soonest_opening_wins_among_denials() -> None:
    next_week = booking(utc(2026, 1, 15, 9, 0), utc(2026, 1, 15, 17, 0))
    # Monday 06:00 local: the booking starts on Thursday, the member window opens in an hour.
    decision = decide(lot=LOT, at=local(2026, 1, 12, 6, 0), accesses=[next_week, member()])
    assert (decision.reason, decision.details) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 12, 6, 0)},
    )
    soon = booking(utc(2026, 1, 12, 5, 30), utc(2026, 1, 12, 8, 0))
    decision = decide(lot=LOT, at=local(2026, 1, 12, 6, 0), accesses=[member(), soon])
    assert decision.reason == Reason.RESERVATION_NOT_STARTED
    assert decision.details["starts_at"] == utc(2026, 1, 12, 5, 30)


def test_something_that_will_open_beats_a_pending_payment() -> None:
    held = booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0), status="held")
    assert at_lot(local(2026, 1, 12, 6, 0), held, member())[0] == Reason.OUTSIDE_TIMETABLE


@pytest.mark.parametrize(
    ("accesses", "expected"),
    [
        (
            [
                booking(utc(2026, 1, 12, 8, 0), utc(2026, 1, 12, 9, 0)),
                booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0), status="held"),
            ],
            Reason.RESERVATION_NOT_CONFIRMED,
        ),
        (
            [
                booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0), status="cancelled"),
                booking(utc(2026, 1, 12, 8, 0), utc(2026, 1, 12, 9, 0)),
            ],
            Reason.RESERVATION_ENDED,
        ),
        (
            [
                member(ALL_DAY, valid_until=date(2026, 1, 11)),
                booking(utc(2026, 1, 12, 8, 0), utc(2026, 1, 12, 9, 0)),
            ],
            Reason.RESERVATION_ENDED,
        ),
        (
            [member(ALL_DAY, lot_id=OTHER_LOT), member(ALL_DAY, valid_until=date(2026, 1, 11))],
            Reason.VALIDITY_ENDED,
        ),
        (
            [
                member(ALL_DAY, lot_id=OTHER_LOT),
                booking(utc(2026, 1, 12, 9, 0), utc(2026, 1, 12, 17, 0), status="expired"),
            ],
            Reason.RESERVATION_CANCELLED,
        ),
    ],
)
def test_the_most_useful_denial(accesses: list[Access], expected: Reason) -> None:
    assert decide(lot=LOT, at=utc(2026, 1, 12, 18, 0), accesses=accesses).reason == expected


def test_the_latest_ended_booking_is_told() -> None:
    morning = booking(utc(2026, 1, 12, 7, 0), utc(2026, 1, 12, 10, 0))
    afternoon = booking(utc(2026, 1, 12, 12, 0), utc(2026, 1, 12, 14, 0), reservation_id=501)
    decision = decide(lot=LOT, at=utc(2026, 1, 12, 15, 0), accesses=[morning, afternoon])
    assert (decision.reason, decision.reservation_id, decision.details) == (
        Reason.RESERVATION_ENDED,
        501,
        {"ended_at": utc(2026, 1, 12, 14, 0)},
    )


# --- the spring change: Sunday 29 March 2026, 02:00 CET becomes 03:00 CEST (01:00 UTC) --------


SPRING_1_4 = member((Window(6, 60, 240),))
SPRING_0230_0330 = member((Window(6, 150, 210),))
SPRING_02_0230 = member((Window(6, 120, 150),))


def test_spring_window_01_04_lasts_two_real_hours() -> None:
    until = {"until": utc(2026, 3, 29, 2, 0)}
    assert at_lot(utc(2026, 3, 29, 0, 0) - US, SPRING_1_4) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 3, 29, 0, 0)},
    )
    assert at_lot(utc(2026, 3, 29, 0, 0), SPRING_1_4) == (Reason.GRANTED_MEMBER, until)
    assert at_lot(utc(2026, 3, 29, 1, 0) - US, SPRING_1_4) == (Reason.GRANTED_MEMBER, until)  # 01:59:59 CET
    assert at_lot(utc(2026, 3, 29, 1, 0), SPRING_1_4) == (Reason.GRANTED_MEMBER, until)  # 03:00 CEST
    assert at_lot(utc(2026, 3, 29, 2, 0), SPRING_1_4) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 4, 4, 23, 0)},  # next Sunday 01:00 CEST
    )


def test_spring_window_starting_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    # 02:30 never shows on the clock: the window opens at 03:00 CEST and closes at 03:30 CEST.
    assert at_lot(utc(2026, 3, 29, 1, 0) - US, SPRING_0230_0330) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 3, 29, 1, 0)},
    )
    assert at_lot(utc(2026, 3, 29, 1, 0), SPRING_0230_0330) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 3, 29, 1, 30)},
    )
    assert at_lot(utc(2026, 3, 29, 1, 30), SPRING_0230_0330) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 4, 5, 0, 30)},
    )


def test_spring_window_entirely_in_the_skipped_hour_never_opens_that_day() -> None:
    for at in (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0)):
        assert at_lot(at, SPRING_02_0230) == (
            Reason.OUTSIDE_TIMETABLE,
            {"opens_at": utc(2026, 4, 5, 0, 0)},  # next Sunday 02:00 CEST
        )


def test_spring_day_window_07_19_and_the_next_window_across_the_change() -> None:
    sunday = member((Window(6, 7 * 60, 19 * 60),))
    assert at_lot(utc(2026, 3, 29, 5, 0), sunday) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 3, 29, 17, 0)},
    )
    assert at_lot(utc(2026, 3, 29, 5, 0) - US, sunday) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 3, 29, 5, 0)},
    )
    # Friday 19:00 CET: the next window is Monday 07:00 CEST, one hour earlier in UTC.
    assert at_lot(local(2026, 3, 27, 19, 0), member()) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 3, 30, 5, 0)},
    )


# --- the autumn change: Sunday 25 October 2026, 03:00 CEST becomes 02:00 CET (01:00 UTC) ------
# 02:00-02:59 shows twice: 00:00-01:00 UTC (CEST, fold 0), then 01:00-02:00 UTC (CET, fold 1).


AUTUMN_1_4 = member((Window(6, 60, 240),))
AUTUMN_0230_0330 = member((Window(6, 150, 210),))
AUTUMN_1_0230 = member((Window(6, 60, 150),))


@pytest.mark.parametrize("at", [local(2026, 10, 25, 2, 30), local(2026, 10, 25, 2, 30, fold=1)])
def test_autumn_window_01_04_covers_both_passes_of_the_repeated_hour(at: datetime) -> None:
    assert at_lot(at, AUTUMN_1_4) == (Reason.GRANTED_MEMBER, {"until": utc(2026, 10, 25, 3, 0)})


def test_autumn_window_01_04_lasts_four_real_hours() -> None:
    assert at_lot(utc(2026, 10, 24, 23, 0), AUTUMN_1_4)[0] == Reason.GRANTED_MEMBER
    assert at_lot(utc(2026, 10, 24, 23, 0) - US, AUTUMN_1_4) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 10, 24, 23, 0)},
    )
    assert at_lot(utc(2026, 10, 25, 3, 0), AUTUMN_1_4) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 11, 1, 0, 0)},  # next Sunday 01:00 CET
    )


@pytest.mark.parametrize(
    "at",
    [
        local(2026, 10, 25, 2, 30),  # first 02:30 (00:30 UTC): the window opens
        local(2026, 10, 25, 2, 59),  # 00:59 UTC
        local(2026, 10, 25, 2, 15, fold=1),  # second 02:15 (01:15 UTC): still open
        utc(2026, 10, 25, 1, 15),  # the same instant given in UTC
        local(2026, 10, 25, 3, 29),  # 02:29 UTC
    ],
)
def test_autumn_window_opening_in_the_repeated_hour_stays_open_until_its_end(at: datetime) -> None:
    assert at_lot(at, AUTUMN_0230_0330) == (Reason.GRANTED_MEMBER, {"until": utc(2026, 10, 25, 2, 30)})


def test_autumn_window_opening_in_the_repeated_hour_edges() -> None:
    assert at_lot(local(2026, 10, 25, 2, 30) - US, AUTUMN_0230_0330) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 10, 25, 0, 30)},
    )
    assert at_lot(local(2026, 10, 25, 3, 30), AUTUMN_0230_0330) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 11, 1, 1, 30)},
    )


@pytest.mark.parametrize("at", [local(2026, 10, 25, 2, 15, fold=1), utc(2026, 10, 25, 1, 15)])
def test_autumn_window_closing_in_the_repeated_hour_does_not_reopen(at: datetime) -> None:
    # 01:00-02:30 closed at the first 02:30 (00:30 UTC); the second 02:15 is after it.
    assert at_lot(at, AUTUMN_1_0230) == (Reason.OUTSIDE_TIMETABLE, {"opens_at": utc(2026, 11, 1, 0, 0)})
    assert at_lot(local(2026, 10, 25, 2, 15), AUTUMN_1_0230) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 10, 25, 0, 30)},
    )


def test_autumn_next_window_across_the_change() -> None:
    # Friday 19:00 CEST: the next window is Monday 07:00 CET, one hour later in UTC.
    assert at_lot(local(2026, 10, 23, 19, 0), member()) == (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 10, 26, 6, 0)},
    )
    sunday = member((Window(6, 7 * 60, 19 * 60),))
    assert at_lot(utc(2026, 10, 25, 6, 0), sunday) == (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 10, 25, 18, 0)},
    )


def test_reservation_inside_the_repeated_hour() -> None:
    repeated = booking(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30))  # 02:30 CEST to 02:30 CET
    assert at_lot(local(2026, 10, 25, 2, 45), repeated)[0] == Reason.GRANTED_RESERVATION
    assert at_lot(local(2026, 10, 25, 2, 15, fold=1), repeated)[0] == Reason.GRANTED_RESERVATION
    assert at_lot(local(2026, 10, 25, 2, 30, fold=1), repeated)[0] == Reason.RESERVATION_ENDED


# --- the decision in words --------------------------------------------------------------------

MONDAY_10 = local(2026, 1, 12, 10, 0)

SENTENCES = [
    # The site agent's offline fallback (parkgate/sites/facts.py).
    (
        Reason.GRANTED_OFFLINE_EXIT,
        {"offline": "exit"},
        MONDAY_10,
        "The car park is offline: the exit opens for everyone.",
    ),
    (
        Reason.OFFLINE_MEMBERS_ONLY,
        {"offline": "entry"},
        MONDAY_10,
        "The car park is offline: only members can enter now. Please call the desk.",
    ),
    (
        Reason.OFFLINE_CLOSED,
        {"offline": "entry"},
        MONDAY_10,
        "The car park is offline: this gate does not open now. Please call the desk.",
    ),
    (Reason.BOOKING_NEEDED, {"until": utc(2026, 1, 12, 18, 0)}, MONDAY_10, "Booking needed for this day."),
    (
        Reason.SPOT_SHARED,
        {"until": utc(2026, 1, 12, 18, 0)},
        MONDAY_10,
        "You shared your spot with a colleague for this day.",
    ),
    (
        Reason.GRANTED_RESERVATION,
        {"until": utc(2026, 1, 12, 16, 0)},
        MONDAY_10,
        "Valid reservation until 17:00.",
    ),
    (
        Reason.GRANTED_RESERVATION,
        {"until": utc(2026, 1, 14, 16, 0)},
        MONDAY_10,
        "Valid reservation until 17:00 on Wednesday.",
    ),
    (Reason.GRANTED_MEMBER, {"until": utc(2026, 1, 12, 18, 0)}, MONDAY_10, "Valid access until 19:00."),
    (
        Reason.GRANTED_MEMBER,
        {"until": utc(2026, 1, 13, 5, 0)},
        MONDAY_10,
        "Valid access until 06:00 tomorrow.",
    ),
    (Reason.UNKNOWN_PARKER, {}, MONDAY_10, "Unknown parker: no matching profile, plate or code."),
    (Reason.NO_POLICY_AT_LOT, {}, MONDAY_10, "No access at this car park."),
    (Reason.WRONG_LOT, {}, MONDAY_10, "This access is for another car park."),
    (
        Reason.GATE_DIRECTION,
        {"gate_direction": "entry", "travel": "exit"},
        MONDAY_10,
        "This gate is for entry only.",
    ),
    (
        Reason.GATE_DIRECTION,
        {"gate_direction": "exit", "travel": "entry"},
        MONDAY_10,
        "This gate is for exit only.",
    ),
    (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 12, 11, 0)},
        MONDAY_10,
        "Outside the timetable: the next window opens at 12:00.",
    ),
    (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 19, 6, 0)},
        local(2026, 1, 16, 20, 0),  # Friday evening
        "Outside the timetable: the next window opens at 07:00 on Monday.",
    ),
    (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 19, 6, 0)},
        MONDAY_10,  # a week ahead: "Monday" alone would mean today
        "Outside the timetable: the next window opens at 07:00 on Monday 19 January 2026.",
    ),
    (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": None},
        MONDAY_10,
        "Outside the timetable, and no later window is scheduled.",
    ),
    (
        Reason.OUTSIDE_TIMETABLE,
        {"opens_at": utc(2026, 1, 12, 11, 0)},
        None,
        "Outside the timetable: the next window opens at 12:00 on Monday 12 January 2026.",
    ),
    (
        Reason.NOT_YET_VALID,
        {"valid_from": date(2026, 1, 14), "opens_at": utc(2026, 1, 14, 6, 0)},
        MONDAY_10,
        "Not valid yet: validity starts on 14 January 2026.",
    ),
    (
        Reason.VALIDITY_ENDED,
        {"valid_until": date(2026, 1, 11)},
        MONDAY_10,
        "Validity ended on 11 January 2026.",
    ),
    (
        Reason.RESERVATION_NOT_STARTED,
        {"opens_at": utc(2026, 1, 12, 13, 0), "starts_at": utc(2026, 1, 12, 13, 0)},
        MONDAY_10,
        "Booking starts at 14:00.",
    ),
    (
        Reason.RESERVATION_NOT_STARTED,
        {"opens_at": utc(2026, 1, 13, 8, 0), "starts_at": utc(2026, 1, 13, 8, 0)},
        MONDAY_10,
        "Booking starts at 09:00 tomorrow.",
    ),
    (
        Reason.RESERVATION_NOT_STARTED,
        {"opens_at": utc(2026, 1, 16, 8, 0), "starts_at": utc(2026, 1, 16, 8, 0)},
        MONDAY_10,
        "Booking starts at 09:00 on Friday.",
    ),
    (Reason.RESERVATION_ENDED, {"ended_at": utc(2026, 1, 12, 8, 0)}, MONDAY_10, "Booking ended at 09:00."),
    (
        Reason.RESERVATION_ENDED,
        {"ended_at": utc(2026, 1, 11, 16, 0)},
        MONDAY_10,
        "Booking ended at 17:00 yesterday.",
    ),
    (
        Reason.RESERVATION_ENDED,
        {"ended_at": utc(2026, 1, 9, 16, 0)},
        MONDAY_10,
        "Booking ended at 17:00 on Friday 9 January 2026.",
    ),
    (Reason.RESERVATION_CANCELLED, {"status": "cancelled"}, MONDAY_10, "This booking was cancelled."),
    (
        Reason.RESERVATION_CANCELLED,
        {"status": "expired"},
        MONDAY_10,
        "This booking expired before it was confirmed.",
    ),
    (Reason.RESERVATION_NOT_CONFIRMED, {}, MONDAY_10, "This booking is not confirmed yet (payment pending)."),
]


@pytest.mark.parametrize(("reason", "details", "now", "expected"), SENTENCES)
def test_sentence_in_english(
    reason: Reason, details: dict[str, Any], now: datetime | None, expected: str
) -> None:
    with override("en"):
        assert sentence(reason, details, zone=BXL, now=now) == expected
        # What gates.py stores (AccessEvent.data) says the same once read back.
        assert (
            sentence(reason.value, details_from_json(details_to_json(details)), zone=BXL, now=now) == expected
        )


def test_every_reason_has_a_sentence_test() -> None:
    assert {reason for reason, *_rest in SENTENCES} == set(Reason)


def test_sentence_today_is_the_lots_local_day() -> None:
    # 00:30 local is still yesterday in UTC; 17:00 local is today for the parker.
    with override("en"):
        assert (
            sentence(
                Reason.GRANTED_RESERVATION,
                {"until": utc(2026, 1, 12, 16, 0)},
                zone=BXL,
                now=local(2026, 1, 12, 0, 30),
            )
            == "Valid reservation until 17:00."
        )


def test_sentence_across_the_spring_change() -> None:
    decision = decide(lot=LOT, at=utc(2026, 3, 29, 0, 30), accesses=[SPRING_0230_0330])
    with override("en"):
        assert (
            sentence(decision.reason, decision.details, zone=BXL, now=utc(2026, 3, 29, 0, 30))
            == "Outside the timetable: the next window opens at 03:00."
        )


def test_friday_evening_decision_in_words() -> None:
    at = local(2026, 1, 16, 19, 0)
    decision = decide(lot=LOT, at=at, accesses=[member()], gate=ENTRY, travel="entry")
    with override("en"):
        assert (
            sentence(decision.reason, decision.details, zone=BXL, now=at)
            == "Outside the timetable: the next window opens at 07:00 on Monday."
        )


class _Recording(Phrases):
    """Django's words, noting every text asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def text(self, message: str) -> str:
        self.asked.add(message)
        return super().text(message)


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_a_catalogue_says_what_the_server_says(language: str) -> None:
    """The site agent words decisions from the catalogue in its snapshot, without Django."""
    with override(language):
        catalogue = phrase_catalogue()
        recording = _Recording()
        expected = [sentence(r, d, zone=BXL, now=now, phrases=recording) for r, d, now, _en in SENTENCES]
    assert recording.asked <= set(SENTENCE_TEXTS)  # the catalogue holds every text said
    with override("en"):  # the catalogue's language, whatever the active one
        said = [
            sentence(r, d, zone=BXL, now=now, phrases=CataloguePhrases(catalogue))
            for r, d, now, _en in SENTENCES
        ]
    assert said == expected
    if language == "en":
        assert said == [en for *_rest, en in SENTENCES]


def test_a_catalogue_in_french_spells_days_and_months_in_french() -> None:
    with override("fr"):
        catalogue = phrase_catalogue()
    ended = sentence(
        Reason.RESERVATION_ENDED,
        {"ended_at": utc(2026, 1, 9, 16, 0)},
        zone=BXL,
        now=MONDAY_10,
        phrases=CataloguePhrases(catalogue),
    )
    assert ended == "La réservation s\u2019est terminée vendredi 9 janvier 2026 à 17:00."


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_text_of_the_sentences_is_translated(language: str) -> None:
    """A site agent says what its catalogue holds: an untranslated text would be said in English."""
    with override(language):
        catalogue = phrase_catalogue()
    assert [text for text, said in catalogue["texts"].items() if said == text] == []
    assert catalogue["months"][0] == {"fr": "janvier", "nl": "januari"}[language]
