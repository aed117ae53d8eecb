"""Forms of the members' page: a time range of one booked day."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from parkgate.access.capacity import ReservationError
from parkgate.members.selectors import day_range
from parkgate.parking.models import AccessPolicy

_TIME = forms.TimeInput(attrs={"type": "time", "step": 900}, format="%H:%M")
_TIME_ERRORS = {
    "required": gettext_lazy("Enter a time, like 08:30."),
    "invalid": gettext_lazy("Enter a time as hours and minutes, like 08:30."),
}


class DayRangeForm(forms.Form):
    """From and to on one day of a policy, inside one opening span of its timetable."""

    start = forms.TimeField(label=gettext_lazy("From"), widget=_TIME, error_messages=_TIME_ERRORS)
    end = forms.TimeField(
        label=gettext_lazy("To"),
        widget=_TIME,
        error_messages=_TIME_ERRORS,
        help_text=gettext_lazy("00:00 means midnight at the end of the day."),
    )

    def __init__(self, *args: Any, policy: AccessPolicy, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.day = day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, time) and isinstance(end, time):
            try:
                data["span"] = day_range(self.policy, self.day, start, end)
            except ReservationError as error:
                raise forms.ValidationError(str(error.message)) from error
        return data

    @property
    def span(self) -> tuple[datetime, datetime]:
        span = self.cleaned_data["span"]
        assert isinstance(span, tuple)
        return span
