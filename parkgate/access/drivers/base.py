from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from parkgate.access.models import GateResult
from parkgate.parking.models import Gate


@dataclass(frozen=True)
class GateCommand:
    command_id: uuid.UUID
    reason: str
    expires_at: datetime


@dataclass(frozen=True)
class DriverOutcome:
    result: GateResult  # OPENED, FAILED or TIMED_OUT
    detail: str = ""


class GateDriver(Protocol):
    label: Any  # a lazily translated name

    def open(self, gate: Gate, command: GateCommand) -> DriverOutcome:
        """Pulse the gate's OPEN input; block until acknowledged, failed or timed out."""
        ...

    def validate_settings(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the cleaned settings, or raise ValidationError with one message per field."""
        ...


def clean_topic(value: Any, *, field: str, required: bool = True) -> str:
    """An MQTT topic a command may be published to: no wildcards, no system topics."""
    if value is None or value == "":
        if required:
            raise ValidationError({field: _("This field is required.")})
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: _("Enter a topic as text.")})
    topic = value.strip()
    if topic != value or not topic:
        raise ValidationError({field: _("A topic cannot start or end with spaces.")})
    if len(topic.encode()) > 200 or "\x00" in topic:
        raise ValidationError({field: _("A topic is at most 200 bytes long.")})
    if "+" in topic or "#" in topic or topic.startswith("$"):
        raise ValidationError({field: _("A command topic cannot contain + or #, nor start with $.")})
    return topic


def clean_relative_topic(value: Any, *, field: str, required: bool = True) -> str:
    """A topic under the gate's own namespace (``<namespace>/<value>``): never another device's."""
    topic = clean_topic(value, field=field, required=required)
    if topic and (topic.startswith("/") or topic.startswith("pg/") or topic == "pg"):
        raise ValidationError(
            {
                field: _(
                    "Give the topic relative to the gate's own MQTT prefix (for example cmnd/POWER1): "
                    "Parkgate puts the prefix in front itself."
                )
            }
        )
    return topic


def reject_assigned_topics(data: dict[str, Any], names: tuple[str, ...]) -> None:
    """Refuse the settings that used to point a gate at any topic: Parkgate assigns them now."""
    for name in names:
        if name in data:
            raise ValidationError(
                {
                    name: _(
                        "Parkgate assigns each gate its own MQTT topic prefix and broker account; it "
                        "cannot be chosen. The gate's device page shows what to configure on the relay."
                    )
                }
            )


def clean_number(
    value: Any, *, field: str, default: float, minimum: float, maximum: float, integer: bool = False
) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValidationError({field: _("Enter a number.")})
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if integer and float(value) != number:
        raise ValidationError({field: _("Enter a whole number.")})
    if not minimum <= number <= maximum:
        raise ValidationError(
            {field: _("Enter a number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}}
        )
    return number


def reject_unknown(data: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(_("Unknown settings: %(names)s.") % {"names": ", ".join(unknown)})
