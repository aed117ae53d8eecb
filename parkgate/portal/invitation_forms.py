"""Invitation forms: language among the portal's, dates within its rules, sending, filtering."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkgate.portal.models import VisitorPortal
from parkgate.portal.selectors import STATE_LABELS, InvitationState


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class InvitationForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"))
    date = forms.DateField(label=gettext_lazy("Date of the visit"), widget=DateInput())
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("Optional: the first day the visitor may book."),
    )
    date_until = forms.DateField(
        label=gettext_lazy("Until"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy(
            "Optional: the last day the visitor may book. Without dates the link never expires."
        ),
    )
    max_bookings = forms.IntegerField(
        label=gettext_lazy("Maximum bookings"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=gettext_lazy("Optional: how many bookings this link allows. Empty: no limit."),
    )
    visitor_name = forms.CharField(label=gettext_lazy("Visitor name"), required=False, max_length=200)
    visitor_email = forms.EmailField(label=gettext_lazy("Visitor e-mail"), required=False)
    message = forms.CharField(
        label=gettext_lazy("Personal message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Shown in the e-mail, in the words you write."),
    )
    send = forms.BooleanField(label=gettext_lazy("Send it by e-mail to the visitor now"), required=False)
    attach_qr = forms.BooleanField(label=gettext_lazy("Include the QR code in the e-mail"), required=False)

    def __init__(self, *args: Any, portal: VisitorPortal, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.portal = portal
        self.today = today
        languages = [code for code in portal.languages if code in dict(settings.LANGUAGES)]
        field = self.fields["language"]
        field.choices = [(code, _language_name(code)) for code in languages]  # type: ignore[attr-defined]
        field.initial = portal.default_language
        if len(languages) == 1:
            field.disabled = True
            field.initial = languages[0]
            field.help_text = _(
                "This portal speaks only %(language)s, so its invitations do too. Add languages to the "
                "portal to invite in another."
            ) % {"language": _language_name(languages[0])}
        if portal.date_restricted:
            del self.fields["date_from"]
            del self.fields["date_until"]
            self.fields["date"].help_text = _(
                "This portal is restricted by date: the visitor books this day."
            )
        else:
            del self.fields["date"]

    def _open_on(self, day: dt.date) -> bool:
        for policy in self.portal.policies.all():
            if (policy.valid_from and day < policy.valid_from) or (
                policy.valid_until and day > policy.valid_until
            ):
                continue
            if any(w.weekday == day.weekday() for w in policy.windows.all()):
                return True
        return False

    def _closed_message(self, day: dt.date) -> str:
        return _("None of the portal's access policies is open on %(day)s.") % {
            "day": date_format(day, "l j F Y")
        }

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day < self.today:
            raise forms.ValidationError(_("This day has passed: choose today or a later day."))
        if not self._open_on(day):
            raise forms.ValidationError(self._closed_message(day))
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, last = data.get("date_from"), data.get("date_until")
        if last is not None and last < self.today:
            self.add_error("date_until", _("This day has passed: choose today or a later day."))
        elif first is not None and last is not None:
            if last < first:
                self.add_error("date_until", _("The last day comes before the first day."))
            elif (last - first).days > 366:
                self.add_error("date_until", _("A range may span at most a year."))
            else:
                day = max(first, self.today)
                while day <= last and not self._open_on(day):
                    day += timedelta(days=1)
                if day > last:
                    self.add_error(
                        "date_until", _("None of the portal's access policies is open on any of these days.")
                    )
        if data.get("send") and not data.get("visitor_email"):
            self.add_error("visitor_email", _("Give the visitor's e-mail address to send the invitation."))
        if data.get("attach_qr") and not data.get("send"):
            self.add_error("attach_qr", _("The QR code goes with the e-mail: tick “Send it by e-mail” too."))
        return data


class InvitationSendForm(forms.Form):
    to = forms.EmailField(label=gettext_lazy("Send to"))
    attach_qr = forms.BooleanField(label=gettext_lazy("Include the QR code"), required=False)


class InvitationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All"))]
        + [(state.value, STATE_LABELS[state]) for state in InvitationState],
    )
