from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from parkgate.parking.models import Lot
from parkgate.sites.models import GateOfflineRule


class AgentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    lot = forms.ModelChoiceField(label=_("Car park"), queryset=Lot.objects.none())

    def __init__(self, *args: Any, organisation: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = Lot.objects.filter(owner=organisation).order_by("name")  # type: ignore[attr-defined]


class OfflineRuleForm(forms.ModelForm):
    class Meta:
        model = GateOfflineRule
        fields = ["keep_deciding_hours", "entry", "exit", "language"]
