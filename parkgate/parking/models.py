"""Lots, gates, allocations, access policies with weekly timetables, parkers and their plates."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import time
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from parkgate.accounts.models import Organisation

# THE plate rule lives in parkgate.parking.plates (pure functions, no models): re-exported here for
# the parking services and selectors, which store and search plates by their canonical key.
from parkgate.parking.plates import plate_display, plate_key  # noqa: F401


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Lot(models.Model):
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="lots")
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"))
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Brussels", validators=[validate_timezone]
    )
    total_spots = models.PositiveIntegerField(_("total spots"), validators=[MinValueValidator(1)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("parking lot")
        verbose_name_plural = _("parking lots")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class GateDirection(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")
    BOTH = "both", _("Entry and exit")


# Every device that talks MQTT gets a topic namespace Parkgate chooses: ``pg/`` followed by a
# kind letter (g for a gate, k for a keypad) and 24 random hex digits (96 bits). Tenants never
# type a topic, so one organisation cannot point its gate at another organisation's relay.
MQTT_NAMESPACE_ROOT = "pg"


def new_mqtt_namespace(kind: str = "g") -> str:
    return f"{MQTT_NAMESPACE_ROOT}/{kind}{secrets.token_hex(12)}"


def new_gate_namespace() -> str:
    return new_mqtt_namespace("g")


class Gate(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="gates")
    name = models.CharField(_("name"), max_length=120)
    # The name in French and Dutch, when it is words ("Entry barrier" / "Barrière d'entrée"); empty:
    # the name above is shown in every language (a proper name such as "Gate A").
    name_fr = models.CharField(_("name in French"), max_length=120, blank=True)
    name_nl = models.CharField(_("name in Dutch"), max_length=120, blank=True)
    direction = models.CharField(_("direction"), max_length=8, choices=GateDirection.choices)
    # Which driver opens this gate (see parkgate.access.drivers) and its settings.
    driver_kind = models.CharField(_("driver"), max_length=40, default="simulated")
    driver_settings = models.JSONField(_("driver settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The MQTT topic namespace of this gate's relay (its Shelly topic prefix), assigned by
    # Parkgate, unique platform-wide; the broker's ACL lets the relay's own account use it alone.
    mqtt_namespace = models.CharField(max_length=40, unique=True, default=new_gate_namespace, editable=False)
    # The relay's broker password, hashed the way Mosquitto's password_file wants it (PBKDF2-SHA512).
    mqtt_password_hash = models.CharField(max_length=200, blank=True, editable=False)
    mqtt_password_set_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["lot", "name"]
        constraints = [models.UniqueConstraint(fields=["lot", "name"], name="gate_unique_name_per_lot")]

    def __str__(self) -> str:
        return f"{self.lot.name} / {self.name}"

    @property
    def label(self) -> str:
        """The gate's name in the active language (its own name when none is given for it)."""
        language = (get_language() or "en")[:2]
        translated = {"fr": self.name_fr, "nl": self.name_nl}.get(language, "")
        return translated or self.name

    @property
    def mqtt_username(self) -> str:
        """The relay's broker user name: its namespace without the root (``g0123...``)."""
        return self.mqtt_namespace.rpartition("/")[2]


class Allocation(models.Model):
    """How many spots of a lot an organisation holds, and whether visitors may use them."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="allocations")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="allocations")
    spots = models.PositiveIntegerField(_("spots"), validators=[MinValueValidator(1)])
    accepts_visitors = models.BooleanField(_("accepts visitors"), default=False)

    class Meta:
        ordering = ["lot", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "organisation"], name="allocation_unique_lot_organisation")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} @ {self.lot}: {self.spots}"


class PolicyKind(models.TextChoices):
    MEMBER = "member", _("Members")
    VISITOR = "visitor", _("Visitors")


class Currency(models.TextChoices):
    EUR = "EUR", "EUR"
    GBP = "GBP", "GBP"
    CHF = "CHF", "CHF"
    USD = "USD", "USD"
    JPY = "JPY", "JPY"


class AccessPolicy(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="policies")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="policies")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=PolicyKind.choices)
    hourly_booking = models.BooleanField(_("hourly booking allowed"), default=False)
    # Members of such a policy enter on a booked day only (a reservation of this policy), so its
    # spot cap shares fewer spots than members: "book my day" on the members' page.
    booking_required = models.BooleanField(
        _("members book each day"),
        default=False,
        help_text=_("Members enter only on days they booked; the spot cap limits bookings per day."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    spot_cap = models.PositiveIntegerField(
        _("spot cap"),
        validators=[MinValueValidator(1)],
        help_text=_("How many of this policy's reservations may overlap at any instant."),
    )
    # Optional pricing, integer minor units of the currency (cents for EUR).
    price_per_hour = models.PositiveIntegerField(_("price per hour"), null=True, blank=True)
    price_per_day = models.PositiveIntegerField(_("price per full day"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.EUR)
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    members: models.ManyToManyField[Parker, Any] = models.ManyToManyField(
        "Parker", related_name="member_policies", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lot", "name"]
        verbose_name = _("access policy")
        verbose_name_plural = _("access policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="policy_validity_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_priced(self) -> bool:
        return self.price_per_hour is not None or self.price_per_day is not None


class TimetableWindow(models.Model):
    """One opening window of a policy on one weekday, in the lot's local time.

    Minutes since local midnight, ``end_minute`` up to 1440 so a window can run until midnight.
    """

    policy = models.ForeignKey(AccessPolicy, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MaxValueValidator(6)], help_text=_("0 is Monday, 6 is Sunday.")
    )
    start_minute = models.PositiveSmallIntegerField(_("start"), validators=[MaxValueValidator(1439)])
    end_minute = models.PositiveSmallIntegerField(
        _("end"), validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )

    class Meta:
        ordering = ["policy", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_minute__gt=models.F("start_minute")), name="window_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="window_weekday_range"),
            models.CheckConstraint(condition=models.Q(end_minute__lte=1440), name="window_end_range"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {minute_label(self.start_minute)}-{minute_label(self.end_minute)}"

    @property
    def start_time(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)


def minute_label(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class Parker(models.Model):
    """Someone who parks: a member of an organisation, or a visitor (no organisation).

    ``managed_by`` is the tenant whose data this is (the employer, or the visited organisation).
    """

    managed_by = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="managed_parkers")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="parkers"
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # Lower-case, accent-free "first last organisation", kept by parker services, for search.
    search_text = models.CharField(max_length=400, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            # The visited organisation's record for a visitor's e-mail, found on every public
            # booking (email__iexact: UPPER on PostgreSQL): without it the lookup read every
            # visitor the organisation ever had (11,600 rows, 3.4 ms, in bench/booking_http.py
            # --existing 10000).
            models.Index(
                models.F("managed_by"),
                Upper("email"),
                condition=models.Q(organisation__isnull=True),
                name="parker_visitor_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_visitor(self) -> bool:
        return self.organisation_id is None


class Plate(models.Model):
    parker = models.ForeignKey(Parker, on_delete=models.CASCADE, related_name="plates")
    text = models.CharField(_("licence plate"), max_length=20)
    key = models.CharField(max_length=20, db_index=True, editable=False)

    class Meta:
        ordering = ["text"]
        constraints = [models.UniqueConstraint(fields=["parker", "key"], name="plate_unique_per_parker")]

    def __str__(self) -> str:
        return self.text


class SpotReleaseStatus(models.TextChoices):
    RELEASED = "released", _("Shared")
    TAKEN_BACK = "taken_back", _("Taken back")


class SpotRelease(models.Model):
    """A member with their own spot (a member policy without booking) shares it for one local day.

    On that day their member access does not open (the decision engine says so) and one colleague
    may book it: ``reservation`` is that colleague's booking, made under the owner's policy. Taking
    the release back is refused while a colleague's booking holds it.
    """

    policy = models.ForeignKey(AccessPolicy, on_delete=models.CASCADE, related_name="releases")
    parker = models.ForeignKey(Parker, on_delete=models.CASCADE, related_name="releases")
    day = models.DateField(_("day"))
    status = models.CharField(
        _("status"), max_length=12, choices=SpotReleaseStatus.choices, default=SpotReleaseStatus.RELEASED
    )
    # The colleague's booking of the shared spot (access.Reservation; by name, parking sits below access).
    reservation = models.OneToOneField(
        "access.Reservation", on_delete=models.SET_NULL, null=True, blank=True, related_name="shared_spot"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "parker", "day"],
                condition=models.Q(status="released"),
                name="spot_release_once_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.parker} {self.day} ({self.status})"
