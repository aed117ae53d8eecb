"""Reservations (the capacity-consuming right to park) and access events (every gate attempt)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker, new_mqtt_namespace


class ReservationStatus(models.TextChoices):
    HELD = "held", _("Held (awaiting payment)")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class ReservationSource(models.TextChoices):
    PORTAL = "portal", _("Visitor portal")
    CONTROL_ROOM = "control_room", _("Control room")
    BACK_OFFICE = "back_office", _("Back office")
    MEMBER_PAGE = "member_page", _("Members' page")


class Reservation(models.Model):
    parker = models.ForeignKey(Parker, on_delete=models.PROTECT, related_name="reservations")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="reservations")
    policy = models.ForeignKey(AccessPolicy, on_delete=models.PROTECT, related_name="reservations")
    # Denormalised from the policy: the organisation whose allocation this consumes.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="reservations"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=12, choices=ReservationStatus.choices, default=ReservationStatus.CONFIRMED
    )
    # A held reservation stops counting against capacity after this instant.
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ReservationSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Reservations created together (a group or several days) share a group id.
    group_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    plate_text = models.CharField(_("licence plate"), max_length=20, blank=True)
    plate_key = models.CharField(max_length=20, blank=True, db_index=True)
    # The language for every message to this parker about this reservation.
    language = models.CharField(max_length=8, default="en")
    # Ways in. Tokens are unguessable (secrets.token_urlsafe); the keypad code is unique at the
    # lot among reservations that overlap in time (allocated under the lot lock).
    remote_control_token = models.CharField(max_length=64, unique=True)
    cancel_token = models.CharField(max_length=64, unique=True)
    keypad_code = models.CharField(max_length=6)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["lot", "start", "end"], name="reservation_lot_time"),
            models.Index(fields=["policy", "start", "end"], name="reservation_policy_time"),
            models.Index(fields=["lot", "keypad_code"], name="reservation_lot_keypad"),
            # The live part of the capacity check: held reservations only (few), not the day's.
            models.Index(
                fields=["lot", "start", "end"],
                condition=models.Q(status="held"),
                name="reservation_held_time",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="reservation_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.parker} {self.start:%Y-%m-%d %H:%M}"


class Occupancy(models.Model):
    """How many confirmed reservations a lot holds per policy, organisation and exact times.

    Written by the database only: triggers on access_reservation (migration 0009) count every write,
    whatever its path (the services, bulk_create, QuerySet.update, deletions, the privacy
    retention). The capacity check under the lot's lock reads these few rows instead of counting
    every reservation of the day, so a booking costs the same on a lot with 10,000 reservations
    that day as on an empty one (bench/booking_http.py --existing 10000). Held reservations are
    counted live (they expire with time, which no trigger sees). Plain ids, no foreign keys: the
    rows follow the reservations, never the other way round.
    """

    lot_id = models.BigIntegerField()
    policy_id = models.BigIntegerField()
    organisation_id = models.BigIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    confirmed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lot_id", "start", "end", "policy_id", "organisation_id"], name="occupancy_key"
            )
        ]

    def __str__(self) -> str:
        return f"lot {self.lot_id}, policy {self.policy_id}: {self.confirmed} at {self.start:%Y-%m-%d %H:%M}"


class AccessMethod(models.TextChoices):
    REMOTE_CONTROL = "remote_control", _("Remote control")
    ANPR = "anpr", _("Number plate camera")
    KEYPAD = "keypad", _("Keypad")
    CONTROL_ROOM = "control_room", _("Control room")


class GateResult(models.TextChoices):
    OPENED = "opened", _("Opened")
    FAILED = "failed", _("Failed")
    TIMED_OUT = "timed_out", _("Timed out")
    NOT_ATTEMPTED = "not_attempted", _("Not attempted")
    PENDING = "pending", _("In progress")


class AccessEvent(models.Model):
    """One attempt to pass a gate, whatever its source: the decision and what the gate did."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="access_events")
    gate = models.ForeignKey(
        Gate, on_delete=models.SET_NULL, null=True, blank=True, related_name="access_events"
    )
    method = models.CharField(_("method"), max_length=16, choices=AccessMethod.choices)
    parker = models.ForeignKey(Parker, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reservation = models.ForeignKey(
        Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="access_events"
    )
    policy = models.ForeignKey(
        AccessPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    plate_text = models.CharField(max_length=20, blank=True)
    # After a day the plate is kept only as a keyed hash (parkgate/privacy/retention.py): enough to
    # answer "was this plate seen?" (a data-subject request), not to read it back. Gone after the
    # access-event retention period with the rest of the personal data.
    plate_hash = models.CharField(max_length=64, blank=True, default="", db_default="", db_index=True)
    granted = models.BooleanField(_("granted"))
    reason = models.CharField(_("reason"), max_length=40)
    message = models.CharField(_("message"), max_length=300, blank=True)
    forced = models.BooleanField(_("forced open"), default=False)
    force_reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result = models.CharField(_("result"), max_length=16, choices=GateResult.choices)
    result_detail = models.CharField(max_length=300, blank=True)
    command_id = models.UUIDField(null=True, blank=True, unique=True)
    requested_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["lot", "-requested_at"], name="accessevent_lot_time")]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M:%S} {self.method} {self.reason} {self.result}"


class PlateFormat(models.TextChoices):
    AUTO = "auto", _("Detect automatically")
    PLATE_RECOGNIZER = "platerecognizer", "Plate Recognizer"
    REKOR = "rekor", "Rekor Scout / OpenALPR"
    HIKVISION = "hikvision", "Hikvision ISAPI"
    AXIS = "axis", "Axis License Plate Verifier"
    GENERIC = "generic", _("Parkgate generic JSON")


class GateDevice(models.Model):
    """A machine that asks us to open one gate (a camera or a keypad), with its own secret key.

    ``public_id`` names the device in its endpoint URL; ``secret_key`` authenticates it and is
    compared in constant time. Owners can read and rotate the key to configure the device.
    """

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    secret_key = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    key_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["gate", "name"]

    def __str__(self) -> str:
        return self.name


class Camera(GateDevice):
    """A number-plate camera (or recognition service) that reads plates at one gate."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="cameras")
    format = models.CharField(
        _("format"), max_length=20, choices=PlateFormat.choices, default=PlateFormat.AUTO
    )
    min_confidence = models.PositiveSmallIntegerField(
        _("minimum confidence (%)"),
        default=70,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Plate candidates read with less confidence are ignored."),
    )

    class Meta(GateDevice.Meta):
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")


def new_keypad_namespace() -> str:
    return new_mqtt_namespace("k")


class Keypad(GateDevice):
    """A code keypad at one gate: posts codes over HTTP, or publishes them on its MQTT topic.

    An MQTT keypad publishes on ``<mqtt_namespace>/code``: a namespace Parkgate assigns (never
    typed by a tenant), with the keypad's own broker account allowed there alone.
    """

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="keypads")
    uses_mqtt = models.BooleanField(
        _("sends codes over MQTT"),
        default=False,
        help_text=_("Parkgate gives the keypad its own MQTT topic and broker account."),
    )
    mqtt_namespace = models.CharField(
        max_length=40, unique=True, default=new_keypad_namespace, editable=False
    )
    mqtt_password_hash = models.CharField(max_length=200, blank=True, editable=False)
    mqtt_password_set_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(GateDevice.Meta):
        verbose_name = _("keypad")
        verbose_name_plural = _("keypads")

    @property
    def mqtt_topic(self) -> str:
        """Where the keypad publishes the codes typed; the decision goes to ``<topic>/result``."""
        return f"{self.mqtt_namespace}/code" if self.uses_mqtt else ""

    @property
    def mqtt_username(self) -> str:
        return self.mqtt_namespace.rpartition("/")[2]


class KeypadGuess(models.Model):
    """One code a keypad evaluated: the lockout's ledger, written BEFORE the code is evaluated.

    A row is created under a lock on the keypad row (so concurrent codes are counted one after
    the other), ``granted`` stays None while the code is evaluated, and becomes True or False.
    Every row that is not granted counts as a wrong guess (a crash mid-evaluation too).
    """

    keypad = models.ForeignKey(Keypad, on_delete=models.CASCADE, related_name="guesses")
    at = models.DateTimeField()
    granted = models.BooleanField(null=True)

    class Meta:
        indexes = [models.Index(fields=["keypad", "at"], name="keypadguess_keypad_at")]

    def __str__(self) -> str:
        return f"{self.keypad_id} {self.at:%Y-%m-%d %H:%M:%S} {self.granted}"
