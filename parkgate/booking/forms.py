"""Forms of the public booking flow (the visitor's choices and each visitor's details)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from parkgate.booking import selectors
from parkgate.booking.services import BookingPlan, VisitorDetails
from parkgate.parking.models import AccessPolicy
from parkgate.parking.plates import clean_plate
from parkgate.payments.checkout import InvoiceDetails
from parkgate.payments.documents import vat_number_normalise
from parkgate.portal.models import Invitation

CUSTOM = "custom"
Day = date  # the form has a field named ``date``


def _minutes(value: Any) -> int:
    return int(value.hour) * 60 + int(value.minute)


class PlanForm(forms.Form):
    """Date (or dates), time and number of spots. Free spots are checked here, and again under the lock.

    ``count_free=False`` leaves the free spots to the lock alone: the Proceed POST, which books
    under the lot lock anyway, asks this form for the same answer only when the lock said full.
    """

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        label=_("Last day (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For a visit over several days: the same time on each day the car park is open."),
    )
    time = forms.ChoiceField(
        label=_("Time"),
        widget=forms.RadioSelect,
        # A slot the organisation removed while the page was open: say so, not "9 is not a choice".
        error_messages={"invalid_choice": _("This time is no longer offered. Please choose another.")},
    )
    start = forms.TimeField(
        label=_("Arrival"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("Departure"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    spots = forms.TypedChoiceField(label=_("Number of spots"), coerce=int)

    def __init__(
        self,
        *args: Any,
        invitation: Invitation,
        policies: list[AccessPolicy],
        now: datetime | None = None,
        count_free: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.count_free = count_free
        self.invitation = invitation
        self.portal = invitation.portal
        self.policies = policies
        self.now = now or timezone.now()
        self.rule = selectors.date_rule(invitation, policies, self.now)
        self.plan: BookingPlan | None = None
        self.skipped_days: list[date] = []
        self.slots = {str(s.pk): s for s in selectors.portal_slots(self.portal)}
        self.fields["date"].widget.attrs.update(
            min=self.rule.first.isoformat(), max=self.rule.last.isoformat()
        )
        self.fields["until"].widget.attrs.update(
            min=self.rule.first.isoformat(), max=self.rule.last.isoformat()
        )
        if self.rule.fixed is not None:
            self.fields["date"].initial = self.rule.fixed
            self.fields["date"].disabled = True
        if not self.rule.allows_several_days:
            del self.fields["until"]
        choices: list[tuple[str, Any]] = (
            [(pk, str(slot)) for pk, slot in self.slots.items()] if self.portal.allow_slots else []
        )
        if self.portal.allow_custom_time:
            choices.append((CUSTOM, _("Another time")))
        cast(forms.ChoiceField, self.fields["time"]).choices = choices
        if not self.portal.allow_custom_time:
            del self.fields["start"]
            del self.fields["end"]
        elif not (self.portal.allow_slots and self.slots):
            self.fields["time"].required = False
            self.fields["time"].widget = forms.HiddenInput()
            self.fields["time"].initial = CUSTOM
        else:
            # Slots and a custom time: typed times count without "Another time" ticked first.
            self.fields["time"].required = False
        maximum = max(1, self.portal.max_spots_per_booking)
        cast(forms.ChoiceField, self.fields["spots"]).choices = [(n, str(n)) for n in range(1, maximum + 1)]
        self.fields["spots"].initial = 1
        if maximum == 1:
            self.fields["spots"].widget = forms.HiddenInput()

    def chosen_day(self) -> Day:
        """The day to show free spots for: the valid one typed, else the first bookable day."""
        if self.rule.fixed is not None:
            return self.rule.fixed
        raw = self.data.get(self.add_prefix("date")) if self.is_bound else None
        try:
            day = date.fromisoformat(str(raw)) if raw else None
        except ValueError:
            day = None
        if day is None or not self.rule.first <= day <= self.rule.last:
            return self.rule.first
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        dates = self._clean_dates(cleaned)
        if dates is None:
            return cleaned
        window = self._window(cleaned)
        if window is None:
            return cleaned
        first, last = dates
        start_minute, end_minute = window
        spots = cleaned.get("spots") or 1
        days, self.skipped_days = selectors.plan_days(
            self.portal,
            self.policies,
            first=first,
            last=last,
            start_minute=start_minute,
            end_minute=end_minute,
            now=self.now,
        )
        if not days:
            field = "time" if "start" not in self.fields or cleaned.get("time") != CUSTOM else "start"
            self.add_error(field, _("The car park is not open for visitors at this time on this day."))
            return cleaned
        short = (
            selectors.plan_first_short_day(
                self.portal,
                self.policies,
                days=days,
                start_minute=start_minute,
                end_minute=end_minute,
                spots=spots,
                now=self.now,
            )
            if self.count_free
            else None
        )
        if short is not None:
            self._add_too_few_spots_error(cleaned, *short)
            return cleaned
        choice = cleaned.get("time")
        slot = self.slots.get(choice) if choice and choice != CUSTOM else None
        self.plan = BookingPlan(
            days=tuple(days),
            start_minute=start_minute,
            end_minute=end_minute,
            spots=spots,
            slot_price=slot.price if slot is not None else None,
        )
        return cleaned

    def _clean_dates(self, cleaned: dict[str, Any]) -> tuple[Day, Day] | None:
        """The first and last day asked for, within the invitation's dates; None after an error."""
        day: Day | None = cleaned.get("date")
        if day is None:
            return None
        if not self.rule.first <= day <= self.rule.last:
            self.add_error(
                "date",
                _("Choose a day between %(first)s and %(last)s.")
                % {
                    "first": self.rule.first.strftime("%d/%m/%Y"),
                    "last": self.rule.last.strftime("%d/%m/%Y"),
                },
            )
            return None
        last = cleaned.get("until") or day
        if last < day:
            self.add_error("until", _("The last day cannot be before the first day."))
            return None
        if last > self.rule.last:
            self.add_error(
                "until",
                _("The last day cannot be after %(last)s.") % {"last": self.rule.last.strftime("%d/%m/%Y")},
            )
            return None
        if (last - day).days + 1 > selectors.MAX_DAYS_PER_BOOKING:
            self.add_error(
                "until",
                _("One booking can cover at most %(count)d days.")
                % {"count": selectors.MAX_DAYS_PER_BOOKING},
            )
            return None
        return day, last

    def _add_too_few_spots_error(self, cleaned: dict[str, Any], day: Day, free: int) -> None:
        message = (
            _("No spot is left at this time on %(day)s.")
            if free == 0
            else ngettext(
                "Only %(free)d spot is left at this time on %(day)s.",
                "Only %(free)d spots are left at this time on %(day)s.",
                free,
            )
        ) % {"free": free, "day": day.strftime("%d/%m/%Y")}
        self.add_error(
            "time" if "time" in self.fields and cleaned.get("time") != CUSTOM else "start", message
        )

    def _window(self, cleaned: dict[str, Any]) -> tuple[int, int] | None:
        choice = cleaned.get("time") or (CUSTOM if "start" in self.fields else "")
        if (
            choice == CUSTOM
            and not cleaned.get("time")
            and self.slots
            and self.portal.allow_slots
            and cleaned.get("start") is None
            and cleaned.get("end") is None
        ):
            self.add_error("time", _("Choose a time slot, or enter your arrival and departure."))
            return None
        if choice and choice != CUSTOM:
            slot = self.slots[choice]
            return slot.start_minute, min(1440, slot.start_minute + slot.duration_minutes)
        if "start" not in self.fields:
            self.add_error("time", _("Choose a time slot."))
            return None
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None:
            self.add_error("start", _("Enter your arrival time."))
        if end is None:
            self.add_error("end", _("Enter your departure time."))
        if start is None or end is None:
            return None
        start_minute, end_minute = _minutes(start), _minutes(end)
        if end_minute == 0:
            end_minute = 1440  # "00:00" as a departure is midnight at the end of the day
        if end_minute <= start_minute:
            self.add_error("end", _("The departure must be after the arrival."))
            return None
        return start_minute, end_minute

    def query(self) -> dict[str, str]:
        """The cleaned choices as plain values, carried to the next step in hidden fields."""
        assert self.plan is not None
        values = {"date": self.cleaned_data["date"].isoformat()}
        if "until" in self.fields and self.cleaned_data.get("until"):
            values["until"] = self.cleaned_data["until"].isoformat()
        if "time" in self.fields and self.cleaned_data.get("time"):
            values["time"] = self.cleaned_data["time"]
        for name in ("start", "end"):
            if name in self.fields and self.cleaned_data.get(name) is not None:
                values[name] = self.cleaned_data[name].strftime("%H:%M")
        values["spots"] = str(self.plan.spots)
        return values


class VisitorForm(forms.Form):
    """One visitor's details: all four are required (the portal cannot book an unknown visitor)."""

    first_name = forms.CharField(
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    plate = forms.CharField(
        label=_("Licence plate"),
        max_length=20,
        help_text=_("As on the number plate, for example 1-ABC-123."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"}
        ),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The confirmation and the ways in are sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_first_name(self) -> str:
        return " ".join(self.cleaned_data["first_name"].split())

    def clean_last_name(self) -> str:
        return " ".join(self.cleaned_data["last_name"].split())

    def clean_plate(self) -> str:
        return clean_plate(self.cleaned_data["plate"])  # THE plate rule (parkgate/parking/plates.py)

    def details(self) -> VisitorDetails:
        data = self.cleaned_data
        return VisitorDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            plate=data["plate"],
            email=data["email"].strip(),
        )


def visitor_forms(
    spots: int,
    data: Any = None,
    invitation: Invitation | None = None,
    draft: dict[str, str] | None = None,
) -> list[VisitorForm]:
    """One form per spot; the first is prefilled with the invited visitor's name and e-mail, or
    every one with what the visitor typed before (``draft``: a refused Proceed)."""
    forms_ = [VisitorForm(data, prefix=f"v{index}") for index in range(spots)]
    if data is None and draft:
        for form in forms_:
            form.initial = {
                name: draft.get(f"{form.prefix}-{name}", "")
                for name in ("first_name", "last_name", "plate", "email")
            }
        if any(any(form.initial.values()) for form in forms_):
            return forms_
    if invitation is not None and data is None and forms_:
        first, _space, last = invitation.visitor_name.strip().partition(" ")
        forms_[0].initial = {
            "first_name": first,
            "last_name": last.strip(),
            "email": invitation.visitor_email,
        }
    return forms_


class LostLinksForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The address you booked with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class InvoiceForm(forms.Form):
    """ "I need an invoice for my company": the company's name, address and VAT number (paid portals).

    The details are required only when the box is ticked; the VAT number is normalised
    (``be 0123.456.789`` -> ``BE0123456789``).
    """

    invoice = forms.BooleanField(label=_("I need an invoice for my company"), required=False)
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    company_address = forms.CharField(
        label=_("Company address"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    vat_number = forms.CharField(
        label=_("Company VAT number"),
        max_length=30,
        required=False,
        help_text=_("With its country code, for example BE0123456789."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("invoice"):
            return cleaned
        name = " ".join((cleaned.get("company_name") or "").split())
        cleaned["company_name"] = name
        if not name:
            self.add_error("company_name", _("Enter your company's name for the invoice."))
        cleaned["company_address"] = "\n".join(
            line.strip() for line in (cleaned.get("company_address") or "").splitlines() if line.strip()
        )
        if not cleaned["company_address"]:
            self.add_error("company_address", _("Enter your company's address for the invoice."))
        raw = cleaned.get("vat_number") or ""
        vat = vat_number_normalise(raw)
        if not raw.strip():
            self.add_error("vat_number", _("Enter your company's VAT number for the invoice."))
        elif vat is None:
            self.add_error(
                "vat_number",
                _("This is not a VAT number: it starts with the country code, for example BE0123456789."),
            )
        else:
            cleaned["vat_number"] = vat
        return cleaned

    @property
    def requested(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data.get("invoice"))

    def details(self) -> InvoiceDetails | None:
        if not self.requested:
            return None
        data = self.cleaned_data
        return InvoiceDetails(
            company_name=data["company_name"],
            company_address=data["company_address"],
            vat_number=data["vat_number"],
        )
