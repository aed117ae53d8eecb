"""Pure helpers about weekly timetables: does a policy's timetable cover an interval?

Windows become instants through ``decisions.local_instant`` (a window opens the first time the
lot's clock reaches its start and closes the first time it reaches its end), so the capacity
engine and the gate decision agree on every instant, clock changes included.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from parkgate.access.decisions import Window, occurrences


def window_instants(
    windows: Iterable[Window], *, zone: zoneinfo.ZoneInfo, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """Every window occurrence between two local days (inclusive), as merged [start, end) instants.

    In the lot's zone, ready to display; windows that touch (24:00 then 00:00 the next day) are
    one span. Compare or subtract them in UTC: two datetimes of one zone compare and subtract by
    wall time, and one in the repeated autumn hour never equals a datetime of another zone.
    """
    return [
        (start.astimezone(zone), end.astimezone(zone))
        for start, end in occurrences(windows, zone=zone, first_day=first_day, last_day=last_day)
    ]


def covers(
    windows: Sequence[Window],
    *,
    zone: zoneinfo.ZoneInfo,
    start: datetime,
    end: datetime,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> bool:
    """True when [start, end) lies inside the timetable and the validity period (local days)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if valid_from is not None and first_day < valid_from:
        return False
    if valid_until is not None and last_day > valid_until:
        return False
    return any(
        span_start <= start and end <= span_end
        for span_start, span_end in occurrences(windows, zone=zone, first_day=first_day, last_day=last_day)
    )


def day_spans(
    windows: Sequence[Window], *, zone: zoneinfo.ZoneInfo, day: date
) -> list[tuple[datetime, datetime]]:
    """The open spans of one local day (clipped to that day)."""
    return window_instants(windows, zone=zone, first_day=day, last_day=day)
