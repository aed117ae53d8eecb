"""Timetable coverage: which instants a weekly timetable opens, and whether it covers an interval."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from parkgate.access.decisions import Window, local_instant, next_window_start
from parkgate.access.timetable import covers, day_spans, window_instants

BXL = zoneinfo.ZoneInfo("Europe/Brussels")
US = timedelta(microseconds=1)
WEEKDAYS_7_19 = tuple(Window(day, 7 * 60, 19 * 60) for day in range(5))
ALL_DAY = tuple(Window(day, 0, 1440) for day in range(7))
SPLIT_MONDAY = (Window(0, 7 * 60, 12 * 60), Window(0, 13 * 60, 19 * 60))
ADJACENT_MONDAY = (Window(0, 7 * 60, 12 * 60), Window(0, 12 * 60, 19 * 60))
MONDAY_NIGHT = (Window(0, 18 * 60, 1440), Window(1, 0, 6 * 60))
MONDAY = date(2026, 1, 12)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BXL, fold=fold)  # type: ignore[misc]


def in_utc(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Spans come in the lot's zone; compare them in UTC (an ambiguous local datetime never equals
    a datetime of another zone, and two of one zone subtract by wall time)."""
    return [(start.astimezone(UTC), end.astimezone(UTC)) for start, end in spans]


def covered(windows: tuple[Window, ...], start: datetime, end: datetime, **validity: date) -> bool:
    return covers(windows, zone=BXL, start=start, end=end, **validity)


# --- local_instant ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "minute", "expected"),
    [
        (MONDAY, 0, utc(2026, 1, 11, 23, 0)),
        (MONDAY, 7 * 60, utc(2026, 1, 12, 6, 0)),
        (MONDAY, 1440, utc(2026, 1, 12, 23, 0)),  # the next day's midnight
        (date(2026, 7, 6), 7 * 60, utc(2026, 7, 6, 5, 0)),  # summer time
        # Spring: 02:00 CET becomes 03:00 CEST at 01:00 UTC. Skipped times are reached at 01:00 UTC.
        (date(2026, 3, 29), 119, utc(2026, 3, 29, 0, 59)),
        (date(2026, 3, 29), 120, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), 150, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), 180, utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 29), 210, utc(2026, 3, 29, 1, 30)),
        (date(2026, 3, 29), 1440, utc(2026, 3, 29, 22, 0)),
        # Autumn: 03:00 CEST becomes 02:00 CET at 01:00 UTC. Repeated times are their first pass.
        (date(2026, 10, 25), 120, utc(2026, 10, 25, 0, 0)),
        (date(2026, 10, 25), 150, utc(2026, 10, 25, 0, 30)),
        (date(2026, 10, 25), 180, utc(2026, 10, 25, 2, 0)),
        (date(2026, 10, 25), 1440, utc(2026, 10, 25, 23, 0)),
    ],
)
def test_local_instant(day: date, minute: int, expected: datetime) -> None:
    instant = local_instant(day, minute, BXL)
    assert instant.astimezone(UTC) == expected
    assert instant.tzinfo is BXL  # ready to display


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_local_instant_never_goes_back_as_the_minute_grows(day: date) -> None:
    instants = [local_instant(day, minute, BXL).astimezone(UTC) for minute in range(1441)]
    assert instants == sorted(instants)


def test_local_instant_in_a_zone_without_clock_changes() -> None:
    assert local_instant(date(2026, 3, 29), 150, zoneinfo.ZoneInfo("UTC")) == utc(2026, 3, 29, 2, 30)


# --- window_instants and day_spans ------------------------------------------------------------


def test_window_instants_merge_across_midnight_and_are_in_the_lots_zone() -> None:
    spans = window_instants(MONDAY_NIGHT, zone=BXL, first_day=MONDAY, last_day=date(2026, 1, 13))
    assert in_utc(spans) == [(utc(2026, 1, 12, 17, 0), utc(2026, 1, 13, 5, 0))]
    assert all(start.tzinfo is BXL and end.tzinfo is BXL for start, end in spans)


def test_window_instants_keep_gaps_and_weekdays() -> None:
    spans = window_instants(WEEKDAYS_7_19, zone=BXL, first_day=date(2026, 1, 16), last_day=date(2026, 1, 19))
    assert in_utc(spans) == [
        (utc(2026, 1, 16, 6, 0), utc(2026, 1, 16, 18, 0)),
        (utc(2026, 1, 19, 6, 0), utc(2026, 1, 19, 18, 0)),
    ]


def test_day_spans_are_clipped_to_the_day() -> None:
    assert in_utc(day_spans(MONDAY_NIGHT, zone=BXL, day=MONDAY)) == [
        (utc(2026, 1, 12, 17, 0), utc(2026, 1, 12, 23, 0))
    ]
    assert in_utc(day_spans(MONDAY_NIGHT, zone=BXL, day=date(2026, 1, 13))) == [
        (utc(2026, 1, 12, 23, 0), utc(2026, 1, 13, 5, 0))
    ]
    assert in_utc(day_spans(SPLIT_MONDAY, zone=BXL, day=MONDAY)) == [
        (utc(2026, 1, 12, 6, 0), utc(2026, 1, 12, 11, 0)),
        (utc(2026, 1, 12, 12, 0), utc(2026, 1, 12, 18, 0)),
    ]
    assert in_utc(day_spans(WEEKDAYS_7_19, zone=BXL, day=date(2026, 1, 17))) == []


def test_day_spans_on_the_dst_days_last_23_and_25_hours() -> None:
    (spring,) = in_utc(day_spans(ALL_DAY, zone=BXL, day=date(2026, 3, 29)))
    (autumn,) = in_utc(day_spans(ALL_DAY, zone=BXL, day=date(2026, 10, 25)))
    assert spring == (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0))
    assert autumn == (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0))
    assert (spring[1] - spring[0], autumn[1] - autumn[0]) == (timedelta(hours=23), timedelta(hours=25))


def test_day_spans_on_the_dst_days_for_windows_in_the_changed_hour() -> None:
    windows = (Window(6, 60, 240), Window(6, 7 * 60, 19 * 60))
    assert in_utc(day_spans(windows, zone=BXL, day=date(2026, 3, 29))) == [
        (utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0)),
        (utc(2026, 3, 29, 5, 0), utc(2026, 3, 29, 17, 0)),
    ]
    assert in_utc(day_spans(windows, zone=BXL, day=date(2026, 10, 25))) == [
        (utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0)),
        (utc(2026, 10, 25, 6, 0), utc(2026, 10, 25, 18, 0)),
    ]
    # Wholly inside the skipped hour: no span at all that day.
    assert in_utc(day_spans((Window(6, 120, 150),), zone=BXL, day=date(2026, 3, 29))) == []
    assert in_utc(day_spans((Window(6, 150, 210),), zone=BXL, day=date(2026, 3, 29))) == [
        (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30))
    ]


# --- covers -----------------------------------------------------------------------------------


def test_covers_inside_one_window_with_exact_edges() -> None:
    assert covered(WEEKDAYS_7_19, local(2026, 1, 12, 9, 0), local(2026, 1, 12, 13, 0))
    assert covered(WEEKDAYS_7_19, local(2026, 1, 12, 7, 0), local(2026, 1, 12, 19, 0))
    assert not covered(WEEKDAYS_7_19, local(2026, 1, 12, 7, 0) - US, local(2026, 1, 12, 12, 0))
    assert not covered(WEEKDAYS_7_19, local(2026, 1, 12, 12, 0), local(2026, 1, 12, 19, 0) + US)
    assert not covered(WEEKDAYS_7_19, local(2026, 1, 17, 9, 0), local(2026, 1, 17, 10, 0))  # Saturday


def test_covers_across_two_adjacent_windows() -> None:
    assert covered(ADJACENT_MONDAY, local(2026, 1, 12, 8, 0), local(2026, 1, 12, 18, 0))


def test_covers_refuses_an_interval_across_a_gap() -> None:
    assert not covered(SPLIT_MONDAY, local(2026, 1, 12, 11, 0), local(2026, 1, 12, 14, 0))
    assert covered(SPLIT_MONDAY, local(2026, 1, 12, 13, 0), local(2026, 1, 12, 14, 0))


def test_covers_across_midnight_into_a_next_day_window() -> None:
    assert covered(MONDAY_NIGHT, local(2026, 1, 12, 20, 0), local(2026, 1, 13, 5, 0))
    assert covered(MONDAY_NIGHT, local(2026, 1, 12, 18, 0), local(2026, 1, 13, 6, 0))
    assert not covered(MONDAY_NIGHT, local(2026, 1, 12, 20, 0), local(2026, 1, 13, 6, 0) + US)
    # Monday's evening alone does not continue into Tuesday morning.
    assert not covered((Window(0, 18 * 60, 1440),), local(2026, 1, 12, 20, 0), local(2026, 1, 13, 1, 0))


def test_covers_validity_first_and_last_day_in_local_time() -> None:
    first = {"valid_from": date(2026, 1, 14)}
    assert covered(ALL_DAY, local(2026, 1, 14, 0, 0), local(2026, 1, 14, 2, 0), **first)
    assert not covered(ALL_DAY, local(2026, 1, 14, 0, 0) - US, local(2026, 1, 14, 2, 0), **first)
    last = {"valid_until": date(2026, 1, 12)}
    # The end is exclusive: ending at local midnight stays on the last day.
    assert covered(ALL_DAY, local(2026, 1, 12, 22, 0), local(2026, 1, 13, 0, 0), **last)
    assert not covered(ALL_DAY, local(2026, 1, 12, 22, 0), local(2026, 1, 13, 0, 0) + US, **last)


def test_covers_on_the_spring_day() -> None:
    skipped = (Window(6, 150, 210),)  # 02:30-03:30 opens at 03:00 CEST that day
    assert covered(skipped, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30))
    assert not covered(skipped, utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 1, 30))
    one_to_four = (Window(6, 60, 240),)
    assert covered(one_to_four, local(2026, 3, 29, 1, 0), local(2026, 3, 29, 4, 0))
    assert not covered(one_to_four, local(2026, 3, 29, 1, 0), local(2026, 3, 29, 4, 0) + US)


def test_covers_on_the_autumn_day() -> None:
    repeated = (Window(6, 150, 210),)  # 02:30-03:30: from the first 02:30 to 03:30 CET, two hours
    assert covered(repeated, local(2026, 10, 25, 2, 30), local(2026, 10, 25, 3, 30))
    assert covered(repeated, local(2026, 10, 25, 2, 45), local(2026, 10, 25, 2, 15, fold=1))
    closes_in_repeat = (Window(6, 60, 150),)  # 01:00-02:30 closes at the first 02:30
    assert covered(closes_in_repeat, local(2026, 10, 25, 1, 30), local(2026, 10, 25, 2, 30))
    assert not covered(closes_in_repeat, local(2026, 10, 25, 1, 30), local(2026, 10, 25, 2, 15, fold=1))


# --- next_window_start ------------------------------------------------------------------------


def test_next_window_start_is_strictly_after_and_within_validity() -> None:
    assert next_window_start(WEEKDAYS_7_19, zone=BXL, after=local(2026, 1, 12, 6, 0)) == utc(
        2026, 1, 12, 6, 0
    )
    assert next_window_start(WEEKDAYS_7_19, zone=BXL, after=local(2026, 1, 12, 7, 0)) == utc(
        2026, 1, 13, 6, 0
    )
    assert (
        next_window_start(
            WEEKDAYS_7_19, zone=BXL, after=local(2026, 1, 12, 20, 0), valid_until=date(2026, 1, 12)
        )
        is None
    )
    assert next_window_start(
        WEEKDAYS_7_19, zone=BXL, after=local(2026, 1, 12, 6, 0), valid_from=date(2026, 1, 21)
    ) == utc(2026, 1, 21, 6, 0)
    assert next_window_start((), zone=BXL, after=local(2026, 1, 12, 6, 0)) is None
