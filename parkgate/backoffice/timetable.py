"""The weekly timetable editor: parse, edit and validate the windows typed in the policy form.

It works without JavaScript: "add a window", "remove" and "copy Monday to all weekdays" are submit
buttons whose ``timetable_action`` value tells the view to redisplay the edited timetable instead
of saving. htmx only makes the same round trip swap the timetable in place.

Times are HH:MM in the lot's local time; ``24:00`` ends a window at midnight.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkgate.parking.models import TimetableWindow, minute_label
from parkgate.parking.services import WindowSpec

WEEKDAY_NAMES = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]
MAX_WINDOWS_PER_DAY = 8
_TIME = re.compile(r"^\s*(\d{1,2})[:h.](\d{2})\s*$")
ACTION_FIELD = "timetable_action"


def parse_time(text: str) -> int | None:
    """Minutes since midnight for ``HH:MM`` (00:00 to 24:00), or None when it is not a time."""
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        return None
    return hours * 60 + minutes


@dataclass
class WindowRow:
    start: str = ""
    end: str = ""
    error: str = ""

    @property
    def is_blank(self) -> bool:
        return not self.start.strip() and not self.end.strip()


@dataclass
class DayRow:
    weekday: int
    windows: list[WindowRow] = field(default_factory=list)
    error: str = ""

    @property
    def name(self) -> str:
        return capfirst(str(WEEKDAY_NAMES[self.weekday]))  # a label; mid-sentence they stay lower case

    @property
    def can_add(self) -> bool:
        return len(self.windows) < MAX_WINDOWS_PER_DAY

    @property
    def has_error(self) -> bool:
        return bool(self.error) or any(w.error for w in self.windows)


class Timetable:
    """Seven days of windows as typed; ``specs()`` gives the validated windows."""

    def __init__(self, days: list[DayRow]) -> None:
        self.days = days

    @classmethod
    def empty(cls) -> Timetable:
        return cls([DayRow(weekday=d) for d in range(7)])

    @classmethod
    def from_windows(cls, windows: Iterable[TimetableWindow | WindowSpec]) -> Timetable:
        timetable = cls.empty()
        for window in sorted(windows, key=lambda w: (w.weekday, w.start_minute)):
            timetable.days[window.weekday].windows.append(
                WindowRow(minute_label(window.start_minute), minute_label(window.end_minute))
            )
        return timetable

    @classmethod
    def from_post(cls, data: Mapping[str, str]) -> Timetable:
        """Read fields ``w<day>-<index>-start`` / ``-end`` (indexes need not be contiguous)."""
        timetable = cls.empty()
        for day in timetable.days:
            indexes = sorted(
                {
                    int(match.group(1))
                    for key in data
                    if (match := re.fullmatch(rf"w{day.weekday}-(\d{{1,3}})-(?:start|end)", key))
                }
            )
            for index in indexes[:MAX_WINDOWS_PER_DAY]:
                prefix = f"w{day.weekday}-{index}"
                day.windows.append(WindowRow(data.get(f"{prefix}-start", ""), data.get(f"{prefix}-end", "")))
        return timetable

    def apply(self, action: str) -> bool:
        """Apply an editing action (``add:<day>``, ``remove:<day>:<i>``, ``copy-monday``, ``clear:<day>``).

        Returns False when the action is not understood (then nothing changes).
        """
        parts = action.split(":")
        try:
            if parts[0] == "add" and len(parts) == 2:
                day = self.days[int(parts[1])]
                if day.can_add:
                    day.windows.append(WindowRow())
                return True
            if parts[0] == "remove" and len(parts) == 3:
                windows = self.days[int(parts[1])].windows
                index = int(parts[2])
                if 0 <= index < len(windows):
                    del windows[index]
                return True
            if parts[0] == "clear" and len(parts) == 2:
                self.days[int(parts[1])].windows = []
                return True
        except (ValueError, IndexError):
            return False
        if action == "copy-monday":
            monday = [WindowRow(w.start, w.end) for w in self.days[0].windows if not w.is_blank]
            for day in self.days[1:5]:
                day.windows = [WindowRow(w.start, w.end) for w in monday]
            return True
        return False

    def specs(self) -> list[WindowSpec] | None:
        """The windows, or None after attaching a message beside every wrong window or day."""
        specs: list[WindowSpec] = []
        valid = True
        for day in self.days:
            day.error = ""
            day_specs: list[tuple[WindowSpec, WindowRow]] = []
            for row in day.windows:
                row.error = ""
                if row.is_blank:
                    continue
                start, end = parse_time(row.start), parse_time(row.end)
                if start is None or end is None or start == 1440:
                    row.error = _("Use HH:MM between 00:00 and 24:00, for example 08:30.")
                elif end <= start:
                    row.error = _("The end (%(end)s) must be after the start (%(start)s).") % {
                        "start": minute_label(start),
                        "end": minute_label(end),
                    }
                else:
                    day_specs.append((WindowSpec(day.weekday, start, end), row))
                    continue
                valid = False
            day_specs.sort(key=lambda item: item[0].start_minute)
            for (earlier, _row), (later, later_row) in itertools.pairwise(day_specs):
                if later.start_minute < earlier.end_minute:
                    day.error = _("%(first)s and %(second)s overlap on %(day)s.") % {
                        "first": f"{minute_label(earlier.start_minute)}-{minute_label(earlier.end_minute)}",
                        "second": f"{minute_label(later.start_minute)}-{minute_label(later.end_minute)}",
                        "day": day.name,
                    }
                    later_row.error = _("Overlaps another window.")
                    valid = False
                    break
            specs.extend(spec for spec, _row in day_specs)
        return specs if valid else None

    @property
    def has_error(self) -> bool:
        return any(day.has_error for day in self.days)
