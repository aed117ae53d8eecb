"""Cameras and keypads: their keys, how they authenticate, and the owner's services to manage them.

A device authenticates with its own secret key, sent the way the device can send it:

* ``Authorization: Bearer <key>`` or ``X-Parkgate-Key: <key>`` (Plate Recognizer, Rekor, ESPHome,
  any HTTP client that sets headers);
* HTTP Basic with the key as the password, any user name (Axis and Hikvision notification
  recipients have a user name and password, and no custom headers).

Never in the URL: a ``?key=`` ends up in every access log and proxy log on the way, so it is
ignored (the request is then unauthenticated). Keys are compared in constant time. The URL
names the device by its ``public_id``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from typing import TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from parkgate.access.models import AccessEvent, Camera, GateDevice, Keypad
from parkgate.accounts.models import Organisation, User
from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError

DeviceT = TypeVar("DeviceT", bound=GateDevice)

_DUMMY_KEY = secrets.token_urlsafe(32)


class DeviceAuthError(ParkgateError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


def new_secret_key() -> str:
    return secrets.token_urlsafe(32)


def presented_key(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return request.headers.get("X-Parkgate-Key", "").strip()


def authenticate_device(request: HttpRequest, model: type[DeviceT], public_id: str) -> DeviceT:
    """The active device named in the URL whose key the request presents, or DeviceAuthError.

    Unknown devices and wrong keys get the same answer (401), so ids cannot be probed.
    """
    key = presented_key(request)
    try:
        device: DeviceT | None = model._default_manager.select_related("gate__lot").get(public_id=public_id)
    except model.DoesNotExist:
        device = None
    expected = device.secret_key if device is not None else _DUMMY_KEY
    if not hmac.compare_digest(key.encode(), expected.encode()) or device is None or not key:
        raise DeviceAuthError(401, "unknown device or wrong key")
    if not device.is_active or not device.gate.is_active:
        raise DeviceAuthError(403, "this device or its gate is disabled")
    return device


# -- Owner-side reads ------------------------------------------------------------------------
def cameras_of(organisation: Organisation) -> QuerySet[Camera]:
    return Camera.objects.filter(gate__lot__owner=organisation).select_related("gate__lot")


def keypads_of(organisation: Organisation) -> QuerySet[Keypad]:
    return Keypad.objects.filter(gate__lot__owner=organisation).select_related("gate__lot")


def get_camera_for_owner(organisation: Organisation, camera_id: int) -> Camera:
    return get_object_or_404(cameras_of(organisation), pk=camera_id)


def get_keypad_for_owner(organisation: Organisation, keypad_id: int) -> Keypad:
    return get_object_or_404(keypads_of(organisation), pk=keypad_id)


def recent_events_of(device: GateDevice, *, limit: int = 10) -> QuerySet[AccessEvent]:
    """The latest attempts this device asked for (how an owner checks a new camera works)."""
    key = "camera" if isinstance(device, Camera) else "keypad"
    return (
        AccessEvent.objects.filter(gate_id=device.gate_id, **{f"data__{key}": device.pk})
        .select_related("parker")
        .order_by("-requested_at", "-id")[:limit]
    )


# -- Owner-side writes -----------------------------------------------------------------------
def _kind(device: GateDevice) -> str:
    return "camera" if isinstance(device, Camera) else "keypad"


def device_save(*, device: DeviceT, actor: User | None) -> DeviceT:
    """Create or update a camera or keypad (its gate already checked against the owner)."""
    created = device.pk is None
    with transaction.atomic():
        if created:
            device.public_id = new_public_id()
            device.secret_key = new_secret_key()
        device.full_clean()
        device.save()
        audit_log(
            action=f"access.{_kind(device)}.{'created' if created else 'updated'}",
            organisation=device.gate.lot.owner,
            actor=actor,
            obj=device,
            data={"gate": device.gate_id, "active": device.is_active},
        )
    return device


def device_key_rotate(*, device: DeviceT, actor: User | None) -> DeviceT:
    """Give the device a new key; the old one stops working at once."""
    with transaction.atomic():
        device.secret_key = new_secret_key()
        device.key_rotated_at = timezone.now()
        device.save(update_fields=["secret_key", "key_rotated_at"])
        audit_log(
            action=f"access.{_kind(device)}.key_rotated",
            organisation=device.gate.lot.owner,
            actor=actor,
            obj=device,
        )
    return device


def device_delete(*, device: GateDevice, actor: User | None) -> None:
    with transaction.atomic():
        audit_log(
            action=f"access.{_kind(device)}.deleted",
            organisation=device.gate.lot.owner,
            actor=actor,
            obj=device,
            data={"gate": device.gate_id},
        )
        device.delete()
