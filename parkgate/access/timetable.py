"""Pure helpers about weekly timetables: does a policy's timetable cover an interval?"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from parkgate.access.decisions import Window, local_instant


def window_instants(
    windows: Iterable[Window], *, zone: zoneinfo.ZoneInfo, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """Every window occurrence between two local days (inclusive), as merged [start, end) instants."""
    by_weekday: dict[int, list[Window]] = {}
    for window in windows:
        by_weekday.setdefault(window.weekday, []).append(window)
    spans: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        for window in sorted(by_weekday.get(day.weekday(), ()), key=lambda w: w.start_minute):
            spans.append(
                (local_instant(day, window.start_minute, zone), local_instant(day, window.end_minute, zone))
            )
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covers(
    windows: Sequence[Window],
    *,
    zone: zoneinfo.ZoneInfo,
    start: datetime,
    end: datetime,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> bool:
    """True when [start, end) lies inside the timetable and the validity period."""
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if valid_from is not None and first_day < valid_from:
        return False
    if valid_until is not None and last_day > valid_until:
        return False
    for span_start, span_end in window_instants(windows, zone=zone, first_day=first_day, last_day=last_day):
        if span_start <= start and end <= span_end:
            return True
    return False


def day_spans(
    windows: Sequence[Window], *, zone: zoneinfo.ZoneInfo, day: date
) -> list[tuple[datetime, datetime]]:
    """The open spans of one local day (clipped to that day)."""
    return window_instants(windows, zone=zone, first_day=day, last_day=day)
