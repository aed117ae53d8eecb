"""Back-office forms: parse and check input; the services do the writing."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from parkgate.access.decisions import local_instant
from parkgate.access.drivers import driver_kinds, validate_driver_settings
from parkgate.access.models import ReservationStatus
from parkgate.accounts.models import Organisation
from parkgate.backoffice.timetable import parse_time
from parkgate.parking.models import AccessPolicy, Currency, Gate, Lot, Parker
from parkgate.parking.plates import clean_plate, plate_is_valid, plate_key

# Digits after the decimal point of each currency (ISO 4217): amounts are stored in minor units.
CURRENCY_EXPONENT = {"JPY": 0}
MAX_PLATES = 10


def currency_exponent(currency: str) -> int:
    return CURRENCY_EXPONENT.get(currency, 2)


def minor_to_major(amount: int | None, currency: str) -> Decimal | None:
    if amount is None:
        return None
    exponent = currency_exponent(currency)
    return (Decimal(amount) / (10**exponent)).quantize(Decimal(1).scaleb(-exponent))


def major_to_minor(amount: Decimal, currency: str) -> int:
    exponent = currency_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            _("Use at most %(digits)d decimals for %(currency)s.")
            % {"digits": exponent, "currency": currency}
        )
    return int(scaled)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class LotForm(forms.ModelForm):
    class Meta:
        model = Lot
        fields = ["name", "address", "timezone", "total_spots"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"timezone": _("For example Europe/Brussels. Times of this lot are entered in it.")}


class GateForm(forms.ModelForm):
    driver_kind = forms.ChoiceField(label=capfirst(_("driver")))
    driver_settings = forms.CharField(
        label=capfirst(_("driver settings")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}),
        help_text=_('A JSON object, for example {"relay": 1}. Leave empty for none.'),
    )

    class Meta:
        model = Gate
        fields = ["name", "name_fr", "name_nl", "direction", "driver_kind", "driver_settings", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = driver_kinds()
        current = self.instance.driver_kind if self.instance.pk else None
        if current and current not in kinds:
            kinds.append(current)
        cast(forms.ChoiceField, self.fields["driver_kind"]).choices = [(kind, kind) for kind in kinds]
        if not self.is_bound:
            settings = self.instance.driver_settings if self.instance.pk else {}
            self.initial["driver_settings"] = json.dumps(settings, indent=2) if settings else ""

    def clean_driver_settings(self) -> dict[str, Any]:
        text = self.cleaned_data["driver_settings"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                _("This is not valid JSON (line %(line)d, column %(column)d: %(problem)s).")
                % {"line": error.lineno, "column": error.colno, "problem": error.msg}
            ) from error
        if not isinstance(value, dict):
            raise ValidationError(_('The settings must be a JSON object, between braces: {"key": "value"}.'))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, driver_settings = cleaned.get("driver_kind"), cleaned.get("driver_settings")
        if kind and driver_settings is not None and "driver_settings" not in self.errors:
            # The driver decides what its settings may be: never a topic of another gate.
            try:
                cleaned["driver_settings"] = validate_driver_settings(kind, driver_settings)
            except ValidationError as error:
                messages = error.messages
                self.add_error("driver_settings", messages)
        return cleaned

    def fields_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class AllocationForm(forms.Form):
    """Give an organisation spots in a lot. The organisation is named by its exact slug, so the
    form never lists the other tenants of the platform."""

    organisation = forms.SlugField(
        label=capfirst(_("organisation identifier")),
        help_text=_("The exact identifier (slug) of the organisation, which it can tell you."),
    )
    spots = forms.IntegerField(label=capfirst(_("spots")), min_value=1)
    accepts_visitors = forms.BooleanField(label=capfirst(_("accepts visitors")), required=False)

    def __init__(self, *args: Any, fixed_organisation: Organisation | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_organisation = fixed_organisation
        if fixed_organisation is not None:
            del self.fields["organisation"]

    def clean_organisation(self) -> Organisation:
        slug = self.cleaned_data["organisation"]
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise ValidationError(_("No organisation has this identifier."))
        return organisation

    def target(self) -> Organisation:
        if self.fixed_organisation is not None:
            return self.fixed_organisation
        organisation: Organisation = self.cleaned_data["organisation"]
        return organisation


class MoneyField(forms.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, min_value=Decimal(0), max_digits=9, decimal_places=2, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "step": "0.01"})


class PolicyForm(forms.ModelForm):
    price_per_hour = MoneyField(
        label=capfirst(_("price per hour")), help_text=_("In the currency, e.g. 2.50.")
    )
    price_per_day = MoneyField(
        label=capfirst(_("price per full day")), help_text=_("In the currency, e.g. 15.00.")
    )

    class Meta:
        model = AccessPolicy
        fields = [
            "name",
            "kind",
            "lot",
            "hourly_booking",
            "booking_required",
            "valid_from",
            "valid_until",
            "spot_cap",
            "price_per_hour",
            "price_per_day",
            "currency",
            "vat_rate",
        ]
        widgets = {"valid_from": DateInput(), "valid_until": DateInput()}

    def __init__(self, *args: Any, lots: Any, **kwargs: Any) -> None:
        typed = dict(kwargs.get("initial") or {})
        super().__init__(*args, **kwargs)
        lot_field = self.fields["lot"]
        assert isinstance(lot_field, forms.ModelChoiceField)
        lot_field.queryset = lots
        if self.instance.pk and not self.is_bound:
            for name in ("price_per_hour", "price_per_day"):
                if name not in typed:
                    self.initial[name] = minor_to_major(getattr(self.instance, name), self.instance.currency)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency = cleaned.get("currency") or Currency.EUR
        for name in ("price_per_hour", "price_per_day"):
            amount = cleaned.get(name)
            if amount is None:
                continue
            try:
                cleaned[name] = major_to_minor(amount, currency)
            except ValidationError as error:
                self.add_error(name, error)
        lot = cleaned.get("lot")
        if (
            self.instance.pk
            and lot is not None
            and lot.pk != self.instance.lot_id
            and self.instance.reservations.exists()
        ):
            self.add_error(
                "lot", _("This policy already has reservations in its lot; create a new policy instead.")
            )
        valid_from, valid_until = cleaned.get("valid_from"), cleaned.get("valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            self.add_error("valid_until", _("The end of validity must not be before its start."))
        return cleaned


class ParkerForm(forms.ModelForm):
    is_visitor = forms.BooleanField(label=_("Visitor (not a member of this organisation)"), required=False)
    plates = forms.CharField(
        label=capfirst(_("licence plates")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono", "spellcheck": "false"}),
        help_text=_("One per line. Spaces, dashes and dots do not matter: 1-ABC-123 is 1ABC123."),
    )

    class Meta:
        model = Parker
        fields = ["first_name", "last_name", "email", "phone", "is_visitor", "plates"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["plates"] = "\n".join(p.text for p in self.instance.plates.all())
            self.initial["is_visitor"] = self.instance.organisation_id is None

    def clean_plates(self) -> list[str]:
        lines = [
            " ".join(line.split()) for line in self.cleaned_data["plates"].replace(",", "\n").splitlines()
        ]
        plates = [line for line in lines if line]
        for plate in plates:
            if not plate_is_valid(plate):  # THE plate rule (parkgate/parking/plates.py)
                raise ValidationError(
                    _("“%(plate)s” is not a licence plate: 2 to 12 letters and digits.") % {"plate": plate}
                )
        if len({plate_key(p) for p in plates}) > MAX_PLATES:
            raise ValidationError(_("At most %(count)d plates per parker.") % {"count": MAX_PLATES})
        return plates


class PolicyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.lot.name}"


class ReservationForm(forms.Form):
    """Contract: ``parker``, ``policy`` (ids), ``date`` (YYYY-MM-DD), ``start``/``end`` (HH:MM), lot time."""

    parker = forms.ModelChoiceField(label=_("Parker"), queryset=Parker.objects.none())
    policy = PolicyChoiceField(label=_("Access policy"), queryset=AccessPolicy.objects.none())
    date = forms.DateField(label=_("Date"), widget=DateInput(), input_formats=["%Y-%m-%d"])
    start = forms.CharField(
        label=_("Start"),
        max_length=5,
        widget=forms.TextInput(attrs={"placeholder": "09:00", "inputmode": "numeric"}),
    )
    end = forms.CharField(
        label=_("End"),
        max_length=5,
        widget=forms.TextInput(attrs={"placeholder": "17:00", "inputmode": "numeric"}),
    )
    plate = forms.CharField(
        label=_("Licence plate"),
        required=False,
        max_length=20,
        help_text=_("Leave empty to use the parker's first plate."),
    )

    def __init__(self, *args: Any, parkers: Any, policies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parker_field = self.fields["parker"]
        policy_field = self.fields["policy"]
        assert isinstance(parker_field, forms.ModelChoiceField)
        assert isinstance(policy_field, forms.ModelChoiceField)
        parker_field.queryset = parkers
        policy_field.queryset = policies

    def _clean_time(self, name: str) -> int:
        minute = parse_time(self.cleaned_data[name])
        if minute is None:
            raise ValidationError(_("Use HH:MM between 00:00 and 24:00, for example 08:30."))
        return minute

    def clean_start(self) -> int:
        minute = self._clean_time("start")
        if minute == 1440:
            raise ValidationError(_("A reservation cannot start at 24:00."))
        return minute

    def clean_end(self) -> int:
        return self._clean_time("end")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None and end <= start:
            self.add_error("end", _("The end must be after the start."))
        return cleaned

    def interval(self) -> tuple[datetime, datetime]:
        policy: AccessPolicy = self.cleaned_data["policy"]
        day: date = self.cleaned_data["date"]
        zone = policy.lot.zone
        return (
            local_instant(day, self.cleaned_data["start"], zone),
            local_instant(day, self.cleaned_data["end"], zone),
        )

    def clean_plate(self) -> str:
        text = str(self.cleaned_data.get("plate", ""))
        return clean_plate(text) if text.strip() else ""

    def plate_text(self) -> str:
        plate: str = self.cleaned_data.get("plate", "")
        if plate:
            return plate
        parker: Parker = self.cleaned_data["parker"]
        first = parker.plates.first()
        return first.text if first else ""


class ReservationFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or plate"), required=False, widget=forms.TextInput(attrs={"type": "search"})
    )
    lot = forms.ModelChoiceField(
        label=_("Lot"), queryset=Lot.objects.none(), required=False, empty_label=_("All")
    )
    policy = forms.ModelChoiceField(
        label=_("Access policy"), queryset=AccessPolicy.objects.none(), required=False, empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_until = forms.DateField(label=_("Until"), required=False, widget=DateInput())

    def __init__(self, *args: Any, lots: Any, policies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lot_field = self.fields["lot"]
        policy_field = self.fields["policy"]
        assert isinstance(lot_field, forms.ModelChoiceField)
        assert isinstance(policy_field, forms.ModelChoiceField)
        lot_field.queryset = lots
        policy_field.queryset = policies
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", _("All")), *ReservationStatus.choices]


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "parking.policy", "list": "audit-actions"}),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_until = forms.DateField(label=_("Until"), required=False, widget=DateInput())


class ParkerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or plate"), required=False, widget=forms.TextInput(attrs={"type": "search"})
    )
