from __future__ import annotations

from typing import Any

from django import forms

from parkgate.access.models import Camera, Keypad
from parkgate.accounts.models import Organisation
from parkgate.parking.models import Gate


class _DeviceForm(forms.ModelForm):  # type: ignore[type-arg]  # ModelForm[Any] fails at runtime
    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gate_field = self.fields["gate"]
        assert isinstance(gate_field, forms.ModelChoiceField)
        # Only the gates of the organisation's own lots: another owner's gate is not a choice.
        gate_field.queryset = Gate.objects.filter(lot__owner=organisation).select_related("lot")
        gate_field.label_from_instance = lambda obj: f"{obj.lot.name} / {obj.name}"  # type: ignore[method-assign]


class CameraForm(_DeviceForm):
    class Meta:
        model = Camera
        fields = ["gate", "name", "format", "min_confidence", "is_active"]


class KeypadForm(_DeviceForm):
    class Meta:
        model = Keypad
        # No topic field: Parkgate assigns the keypad's MQTT namespace (see Keypad.mqtt_topic).
        fields = ["gate", "name", "uses_mqtt", "is_active"]
