"""Portal forms: every rule broken gets a message beside its field. Invitations: invitation_forms."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import formats
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkgate.access.decisions import Window, local_instant
from parkgate.access.timetable import covers
from parkgate.accounts.models import Organisation
from parkgate.parking.models import AccessPolicy, Lot, PolicyKind
from parkgate.parking.selectors import lots_visible_to
from parkgate.portal.colour import HEX_COLOUR, MIN_CONTRAST_WITH_WHITE, contrast_with_white, ratio_floor
from parkgate.portal.models import VisitorPortal
from parkgate.portal.services import SlotSpec
from parkgate.portal.uploads import BANNER, LOGO, CleanImage, UploadRefused, clean_image

# Currencies without minor units (ISO 4217 exponent 0); every other one has two.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY"})
# A week without daylight-saving changes anywhere we operate: slots are checked against it.
_REFERENCE_MONDAY = date(2001, 1, 1)

TIME_SELECTION_CHOICES = [
    ("slots", gettext_lazy("Predefined time slots")),
    ("custom", gettext_lazy("Custom time picker")),
    ("both", gettext_lazy("Both: slots and a custom time picker")),
]


def minor_units(amount: Decimal, currency: str) -> int:
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return int(amount * (10**exponent))


def major_units(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(amount) / (10**exponent)


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


class PolicyChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: AccessPolicy) -> str:
        return f"{obj.name} ({obj.lot.name})"


class PortalForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    slug = forms.SlugField(
        label=gettext_lazy("Public address"),
        max_length=80,
        required=False,
        help_text=gettext_lazy(
            "Made from the name when left empty. Fixed once created: invitation links contain it."
        ),
    )
    lot = forms.ModelChoiceField(
        label=gettext_lazy("Parking lot"),
        queryset=Lot.objects.none(),
        help_text=gettext_lazy("Fixed once created."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    date_restricted = forms.BooleanField(
        label=gettext_lazy("By date"),
        required=False,
        help_text=gettext_lazy("Invitations then carry the date; otherwise visitors choose it."),
    )
    open_to_anyone = forms.BooleanField(
        label=gettext_lazy("Open to anyone with the public address"),
        required=False,
        help_text=gettext_lazy(
            "Visitors then ask for their own invitation on the portal's page; it is e-mailed to them."
        ),
    )
    open_email_domains = forms.CharField(
        label=gettext_lazy("Only for these e-mail domains"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("For example: acme.example, partner.example. Empty: any address."),
    )
    payment_enabled = forms.BooleanField(
        label=gettext_lazy("Authorise payment"),
        required=False,
        help_text=gettext_lazy(
            "Visitors pay for their spot. Your organisation's first paid portal waits for approval by "
            "the Parkgate team before it can take payments."
        ),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one language.")},
    )
    default_language = forms.ChoiceField(label=gettext_lazy("Default language"), choices=settings.LANGUAGES)
    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/svg+xml,.png,.svg"}),
        help_text=gettext_lazy(
            "PNG or SVG, at most 300 KB, 200×120 pixels (SVG: a 200:120 viewBox)."  # noqa: RUF001
        ),
    )
    remove_logo = forms.BooleanField(label=gettext_lazy("Remove the logo"), required=False)
    banner = forms.FileField(
        label=gettext_lazy("Banner"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,.jpg,.jpeg,.png"}),
        help_text=gettext_lazy("JPEG or PNG, at most 1 MB, 1280×647 pixels."),  # noqa: RUF001
    )
    remove_banner = forms.BooleanField(label=gettext_lazy("Remove the banner"), required=False)
    brand_colour = forms.CharField(
        label=gettext_lazy("Brand colour"),
        max_length=7,
        help_text=gettext_lazy(
            "Six hexadecimal digits without “#”, e.g. 1F4E79. White text sits on it: it needs a "
            "contrast of at least 4.5:1 with white."
        ),
    )
    max_spots_per_booking = forms.IntegerField(
        label=gettext_lazy("Spots per booking"),
        min_value=1,
        max_value=50,
        initial=1,
        help_text=gettext_lazy("1: each visitor books only for themselves. More allows group bookings."),
    )
    policies = PolicyChoiceField(
        label=gettext_lazy("Access policies"),
        queryset=AccessPolicy.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one visitor access policy.")},
    )
    time_selection = forms.ChoiceField(
        label=gettext_lazy("Time selection"),
        choices=TIME_SELECTION_CHOICES,
        widget=forms.RadioSelect,
        initial="slots",
    )

    def __init__(
        self, *args: Any, organisation: Organisation, instance: VisitorPortal | None = None, **kwargs: Any
    ):
        self.organisation = organisation
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "slug": instance.slug,
                "lot": instance.lot_id,
                "is_active": instance.is_active,
                "date_restricted": instance.date_restricted,
                "open_to_anyone": instance.open_to_anyone,
                "open_email_domains": instance.open_email_domains,
                "payment_enabled": instance.payment_enabled,
                "languages": instance.languages,
                "default_language": instance.default_language,
                "brand_colour": instance.brand_colour,
                "max_spots_per_booking": instance.max_spots_per_booking,
                "policies": list(instance.policies.values_list("pk", flat=True)),
                "time_selection": (
                    "both"
                    if instance.allow_slots and instance.allow_custom_time
                    else ("custom" if instance.allow_custom_time else "slots")
                ),
            }
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots_visible_to(organisation)  # type: ignore[attr-defined]
        self.fields["policies"].queryset = (  # type: ignore[attr-defined]
            AccessPolicy.objects.filter(organisation=organisation, kind=PolicyKind.VISITOR)
            .select_related("lot")
            .prefetch_related("windows")
        )
        if instance is None:
            lots = list(self.fields["lot"].queryset[:2])  # type: ignore[attr-defined]
            if len(lots) == 1:
                self.fields["lot"].initial = lots[0].pk
            policies = list(self.fields["policies"].queryset[:2])  # type: ignore[attr-defined]
            if len(policies) == 1:
                self.fields["policies"].initial = [policies[0].pk]
            self.fields["brand_colour"].initial = "1F4E79"
            self.fields["languages"].initial = [code for code, _name in settings.LANGUAGES]
            self.fields["default_language"].initial = settings.LANGUAGE_CODE
            del self.fields["remove_logo"]
            del self.fields["remove_banner"]
        else:
            self.fields["slug"].disabled = True
            self.fields["lot"].disabled = True
            if not instance.logo:
                del self.fields["remove_logo"]
            if not instance.banner:
                del self.fields["remove_banner"]

    # Field rules -------------------------------------------------------------------------------

    def clean_slug(self) -> str:
        if self.instance is not None:
            return self.instance.slug
        slug: str = self.cleaned_data.get("slug") or ""
        if not slug:
            slug = slugify(self.data.get(self.add_prefix("name"), ""))[:80].strip("-")
        if not slug:
            raise forms.ValidationError(_("Give the portal a name or an address made of letters or digits."))
        if VisitorPortal.objects.filter(slug=slug).exists():
            raise forms.ValidationError(self.slug_taken_message(slug))
        return slug

    @staticmethod
    def slug_taken_message(slug: str) -> str:
        return _("The address “%(slug)s” is already taken: choose another name or address.") % {"slug": slug}

    def clean_brand_colour(self) -> str:
        value: str = self.cleaned_data["brand_colour"].strip()
        if value.startswith("#"):
            raise forms.ValidationError(
                _("Leave out the “#”: write %(value)s.") % {"value": value[1:].upper()}
            )
        if not HEX_COLOUR.fullmatch(value):
            raise forms.ValidationError(_("Write six hexadecimal digits (0-9, A-F), e.g. 1F4E79."))
        ratio = contrast_with_white(value)
        if ratio < MIN_CONTRAST_WITH_WHITE:
            raise forms.ValidationError(
                _("White text on this colour is hard to read: contrast %(ratio)s:1; needs 4.5:1.")
                % {"ratio": formats.number_format(ratio_floor(ratio), 1)}
            )
        return value.upper()

    def _clean_upload(self, field: str, rule: Any) -> CleanImage | None:
        upload: UploadedFile | None = self.cleaned_data.get(field)
        if not upload:
            return None
        try:
            return clean_image(upload, name=upload.name or "", rule=rule)
        except UploadRefused as refusal:
            raise forms.ValidationError(refusal.message) from None

    def clean_logo(self) -> CleanImage | None:
        return self._clean_upload("logo", LOGO)

    def clean_banner(self) -> CleanImage | None:
        return self._clean_upload("banner", BANNER)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        languages = data.get("languages") or []
        default = data.get("default_language")
        if languages and default and default not in languages:
            self.add_error(
                "default_language",
                _("The default language must be one of the portal's languages (%(languages)s).")
                % {"languages": ", ".join(_language_name(c) for c in languages)},
            )
        lot = data.get("lot")
        policies = data.get("policies")
        if lot is not None and policies:
            elsewhere = [p for p in policies if p.lot_id != lot.pk]
            if elsewhere:
                self.add_error(
                    "policies",
                    _("%(policies)s: not on %(lot)s. Choose visitor policies of the portal's lot.")
                    % {"policies": ", ".join(f"“{p.name}”" for p in elsewhere), "lot": lot.name},
                )
        selection = data.get("time_selection")
        if policies and selection in ("custom", "both"):
            if not any(p.hourly_booking for p in policies):
                self.add_error(
                    "time_selection",
                    _("The custom time picker needs a chosen policy that allows hourly booking."),
                )
            elif data.get("payment_enabled") and not any(p.is_priced for p in policies):
                self.add_error(
                    "time_selection",
                    _(
                        "On a paid portal the custom time picker needs a policy with an hourly "
                        "or daily price."
                    ),
                )
        if policies and data.get("payment_enabled") and len({p.currency for p in policies}) > 1:
            self.add_error("policies", _("A paid portal's policies must all charge in the same currency."))
        return data

    def portal_with_changes(self) -> VisitorPortal:
        """The portal (new or edited, unsaved) carrying the cleaned values, for ``portal_save``."""
        data = self.cleaned_data
        portal = self.instance or VisitorPortal(
            organisation=self.organisation, lot=data["lot"], slug=data["slug"]
        )
        portal.name = data["name"]
        portal.is_active = data["is_active"]
        portal.date_restricted = data["date_restricted"]
        portal.open_to_anyone = data["open_to_anyone"]
        portal.open_email_domains = " ".join(data["open_email_domains"].replace(",", " ").split())
        portal.payment_enabled = data["payment_enabled"]
        # Kept in the platform's order, whatever order the browser sent.
        portal.languages = [code for code, _name in settings.LANGUAGES if code in data["languages"]]
        portal.default_language = data["default_language"]
        portal.brand_colour = data["brand_colour"]
        portal.max_spots_per_booking = data["max_spots_per_booking"]
        portal.allow_slots = data["time_selection"] in ("slots", "both")
        portal.allow_custom_time = data["time_selection"] in ("custom", "both")
        return portal

    # Slots (a separate formset, checked against the chosen policies) ----------------------------

    @property
    def currency(self) -> str:
        policies = self.cleaned_data.get("policies") if hasattr(self, "cleaned_data") else None
        if policies:
            return str(policies[0].currency)
        return "EUR"

    def check_slots(self, slot_forms: forms.BaseFormSet) -> list[SlotSpec] | None:
        """Validate the slots against the form's choices; None (with errors shown) when refused."""
        data = self.cleaned_data
        policies = list(data.get("policies") or [])
        lot: Lot | None = data.get("lot") if self.instance is None else self.instance.lot
        selection = data.get("time_selection")
        paid = bool(data.get("payment_enabled"))
        specs: list[SlotSpec] = []
        ok = True
        for slot_form in slot_forms.forms:
            if not slot_form.has_changed() or slot_form.cleaned_data.get("DELETE"):
                continue
            start: time = slot_form.cleaned_data["start"]
            start_minute = start.hour * 60 + start.minute
            duration = int(slot_form.cleaned_data["duration_hours"] * 60)
            price_major = slot_form.cleaned_data.get("price")
            price = minor_units(price_major, self.currency) if price_major is not None else None
            label = _slot_label(start_minute, duration)
            if selection == "custom":
                # Slots are not offered: the rows are kept as they are, never a reason to refuse.
                specs.append(SlotSpec(start_minute=start_minute, duration_minutes=duration, price=price))
                continue
            if price is not None and not paid:
                slot_form.add_error("price", _("Prices need “Authorise payment”; leave the price empty."))
                ok = False
            elif paid and price is None and not any(p.is_priced for p in policies):
                slot_form.add_error(
                    "price", _("Give this slot a price: none of the chosen policies has one.")
                )
                ok = False
            if lot is not None and policies and not _slot_fits(policies, lot, start_minute, duration):
                slot_form.add_error(
                    "start",
                    _("%(slot)s falls outside the timetable of every chosen policy.") % {"slot": label},
                )
                ok = False
            specs.append(SlotSpec(start_minute=start_minute, duration_minutes=duration, price=price))
        if len({(s.start_minute, s.duration_minutes) for s in specs}) < len(specs):
            self.add_error("time_selection", _("The same slot appears twice."))
            ok = False
        if selection in ("slots", "both") and not specs and ok:
            self.add_error(
                "time_selection", _("Add at least one time slot, or choose the custom time picker.")
            )
            ok = False
        if selection == "custom":
            specs = []
        return specs if ok else None


def _slot_label(start_minute: int, duration: int) -> str:
    end = (start_minute + duration) % 1440
    return f"{start_minute // 60:02d}:{start_minute % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _slot_fits(policies: list[AccessPolicy], lot: Lot, start_minute: int, duration: int) -> bool:
    """True when some weekday of some chosen policy's timetable holds the whole slot."""
    zone = lot.zone
    for policy in policies:
        windows = [Window(w.weekday, w.start_minute, w.end_minute) for w in policy.windows.all()]
        for offset in range(7):
            day = _REFERENCE_MONDAY + timedelta(days=offset)
            start = local_instant(day, start_minute, zone)
            end = local_instant(day, start_minute + duration, zone)
            if covers(windows, zone=zone, start=start, end=end):
                return True
    return False


class SlotForm(forms.Form):
    """One slot row. Rows are optional (an empty row is no slot), so no field is marked required;
    a row with anything typed needs its start and duration (``clean``)."""

    start = forms.TimeField(
        label=gettext_lazy("Start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    duration_hours = forms.DecimalField(
        label=gettext_lazy("Duration (hours)"),
        required=False,
        min_value=Decimal("0.25"),
        max_value=24,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0.25", "max": "24"}),
    )
    price = forms.DecimalField(
        label=gettext_lazy("Price per spot"),
        required=False,
        min_value=0,
        max_value=100000,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.has_changed() and not data.get("DELETE"):
            if data.get("start") is None and "start" not in self.errors:
                self.add_error("start", _("Enter the slot's start time."))
            if data.get("duration_hours") is None and "duration_hours" not in self.errors:
                self.add_error("duration_hours", _("Enter the slot's duration in hours."))
        return data

    def clean_duration_hours(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data["duration_hours"]
        if value is not None and (value * 60) % 15:
            raise forms.ValidationError(_("Use quarter hours: 0.25, 0.5, 0.75 or whole hours."))
        return value


SlotFormSet = forms.formset_factory(SlotForm, extra=2, can_delete=True, max_num=24, validate_max=True)


def slot_initial(portal: VisitorPortal) -> list[dict[str, Any]]:
    currency = portal.policies.first().currency if portal.policies.exists() else "EUR"  # type: ignore[union-attr]
    return [
        {
            "start": time(slot.start_minute // 60, slot.start_minute % 60),
            "duration_hours": Decimal(slot.duration_minutes) / 60,
            "price": major_units(slot.price, currency) if slot.price is not None else None,
        }
        for slot in portal.slots.all()
    ]


class PaymentDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("refuse", "refuse")])
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
