from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from parkgate.parking.plates import clean_plate
from parkgate.privacy.models import RetentionPolicy


class RetentionForm(forms.ModelForm):
    # Stored on the organisation; empty means visitors see the notice Parkgate writes for it.
    privacy_notice_url = forms.URLField(
        label=_("Your privacy notice"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "The address of your own privacy notice. Leave empty to show visitors the notice Parkgate "
            "writes from these periods and your contact e-mail."
        ),
    )

    class Meta:
        model = RetentionPolicy
        fields = ["visitor_days", "access_event_days", "email_days"]


class SubjectForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), required=False)
    plate = forms.CharField(label=_("Licence plate"), required=False, max_length=20)

    def clean_plate(self) -> str:
        plate: str = self.cleaned_data["plate"].strip()
        return clean_plate(plate) if plate else ""  # the one plate rule, with its one message

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("email") and not cleaned.get("plate"):
            raise forms.ValidationError(_("Enter an e-mail address, a licence plate, or both."))
        return cleaned

    @property
    def subject(self) -> str:
        parts = [self.cleaned_data.get("email") or "", self.cleaned_data.get("plate") or ""]
        return " / ".join(p for p in parts if p)


class EraseForm(SubjectForm):
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the erasure.")},
    )
