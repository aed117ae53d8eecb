"""Forms of the control room. Times are entered in the lot's local time and leave here aware."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from parkgate.parking.models import AccessPolicy, Gate, Lot
from parkgate.parking.plates import clean_plate

from .selectors import lot_gates, visit_defaults, visitor_policies


class GateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)  # the gate's name in the desk's language


def _gate_field(form: forms.Form) -> GateChoiceField:
    field = form.fields["gate"]
    assert isinstance(field, GateChoiceField)
    return field


class OpenGateForm(forms.Form):
    parker = forms.IntegerField(widget=forms.HiddenInput)
    access = forms.CharField(max_length=30, widget=forms.HiddenInput)
    gate = GateChoiceField(queryset=Gate.objects.none(), label=_("Gate"), empty_label=None)

    def __init__(self, *args: Any, lot: Lot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _gate_field(self).queryset = lot_gates(lot)


class ForceOpenForm(forms.Form):
    parker = forms.IntegerField(widget=forms.HiddenInput)
    gate = GateChoiceField(queryset=Gate.objects.none(), label=_("Gate"), empty_label=None)
    reason = forms.CharField(
        label=_("Why do you force the gate open?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write why you force the gate open.")},
    )

    def __init__(self, *args: Any, lot: Lot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _gate_field(self).queryset = lot_gates(lot)

    def clean_reason(self) -> str:
        reason = " ".join(str(self.cleaned_data["reason"]).split())
        if not reason:
            raise forms.ValidationError(_("Write why you force the gate open."))
        return reason


class WalkInForm(forms.Form):
    """The visit (where, when, which car) and the profile of a visitor who is not in the system."""

    policy = forms.TypedChoiceField(label=_("Visited organisation"), coerce=int)
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(
        label=_("Arrival"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end = forms.TimeField(
        label=_("Departure"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("00:00 means midnight at the end of the day."),
    )
    plate = forms.CharField(label=_("Licence plate"), max_length=20)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Optional: the visitor then receives their ways in by e-mail."),
    )
    outside_reason = forms.CharField(
        label=_("Reason to let this visitor in outside the visitor timetable"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only outside the visitor timetable. Recorded in the log, like a forced opening."),
    )
    gate = GateChoiceField(
        queryset=Gate.objects.none(),
        label=_("Gate to open"),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
    )

    VISIT_FIELDS = ("policy", "day", "start", "end", "plate")
    PROFILE_FIELDS = ("first_name", "last_name", "email")

    def __init__(self, *args: Any, lot: Lot, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lot = lot
        self.now = now
        zone = lot.zone
        self.policies = {p.pk: p for p in visitor_policies(lot, today=now.astimezone(zone).date())}
        self.defaults = {pk: visit_defaults(p, now=now) for pk, p in self.policies.items()}
        policy_field = self.fields["policy"]
        assert isinstance(policy_field, forms.TypedChoiceField)
        policy_field.choices = [(pk, self._policy_label(p)) for pk, p in self.policies.items()]
        gates = list(lot_gates(lot))
        _gate_field(self).queryset = lot_gates(lot)
        if not self.is_bound and self.policies:
            first = next(iter(self.policies))
            defaults = self.defaults[first]
            self.initial.setdefault("policy", first)
            self.initial.setdefault("day", defaults.start.date())
            self.initial.setdefault("start", defaults.start.time())
            if defaults.end is not None:
                self.initial.setdefault("end", defaults.end.astimezone(zone).time())
            entries = [g for g in gates if g.direction != "exit"]
            if entries or gates:
                self.initial.setdefault("gate", (entries or gates)[0].pk)

    def _policy_label(self, policy: AccessPolicy) -> str:
        same_org = [p for p in self.policies.values() if p.organisation_id == policy.organisation_id]
        if len(same_org) > 1:
            return f"{policy.organisation.name} · {policy.name}"
        return policy.organisation.name

    def policy_options(self) -> list[dict[str, Any]]:
        """Each choice with its default departure and timetable words (the page script uses them)."""
        zone = self.lot.zone
        options = []
        for pk, policy in self.policies.items():
            defaults = self.defaults[pk]
            options.append(
                {
                    "pk": pk,
                    "label": self._policy_label(policy),
                    "end": defaults.end.astimezone(zone).strftime("%H:%M") if defaults.end else "",
                    "words": defaults.words,
                }
            )
        return options

    def clean_plate(self) -> str:
        return clean_plate(str(self.cleaned_data["plate"]))  # THE plate rule (parkgate/parking/plates.py)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        policy_id = data.get("policy")
        if policy_id is not None:
            data["policy_obj"] = self.policies[policy_id]
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if day is not None and start is not None and end is not None:
            zone = self.lot.zone
            start_at = datetime.combine(day, start, tzinfo=zone)
            if end == time(0):
                end_at = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            else:
                end_at = datetime.combine(day, end, tzinfo=zone)
            if end_at <= start_at:
                self.add_error("end", _("The departure must be after the arrival."))
            elif end_at <= self.now:
                self.add_error("end", _("This time is already over."))
            data["start_at"], data["end_at"] = start_at, end_at
        return data
