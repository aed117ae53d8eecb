"""Owner pages: the cameras and keypads at the gates of the organisation's own lots."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.access.broker import device_credentials_rotate, device_setup
from parkgate.access.devices import (
    cameras_of,
    device_delete,
    device_key_rotate,
    device_save,
    get_camera_for_owner,
    get_keypad_for_owner,
    keypads_of,
    recent_events_of,
)
from parkgate.access.forms import CameraForm, KeypadForm
from parkgate.access.models import GateDevice, Keypad
from parkgate.access.panels import device_panels
from parkgate.access.selectors import event_sentence
from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.parking.models import Gate, Lot
from parkgate.parking.selectors import get_gate_for_owner

KINDS = ("camera", "keypad")


def _device(request: TenantRequest, kind: str, device_id: int) -> GateDevice:
    if kind == "camera":
        return get_camera_for_owner(request.organisation, device_id)
    if kind == "keypad":
        return get_keypad_for_owner(request.organisation, device_id)
    raise Http404


def _endpoint(kind: str, device: GateDevice) -> str:
    name = "access:anpr_read" if kind == "camera" else "access:keypad_code"
    return settings.SITE_URL + reverse(name, args=[device.public_id])


@require_role(*MANAGER_ROLES)
def device_list(request: TenantRequest) -> HttpResponse:
    context = {
        "nav": "devices",
        "owns_lots": Lot.objects.filter(owner=request.organisation).exists(),
        "cameras": cameras_of(request.organisation),
        "keypads": keypads_of(request.organisation),
        "gates": Gate.objects.filter(lot__owner=request.organisation).select_related("lot"),
        "panels": device_panels(request.organisation, now=timezone.now()),
    }
    return render(request, "access/device_list.html", context)


@require_role(*MANAGER_ROLES)
def device_create(request: TenantRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    form_class = CameraForm if kind == "camera" else KeypadForm
    form = form_class(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        device = device_save(device=form.save(commit=False), actor=request.user)
        messages.success(
            request,
            _("%(name)s added. Configure the device with the address and key below.") % {"name": device.name},
        )
        return redirect("access:device_detail", kind=kind, device_id=device.pk)
    return render(request, "access/device_form.html", {"nav": "devices", "form": form, "kind": kind})


def _with_words(events: Any, device: Any) -> list[Any]:
    """Each attempt with its decision in the reader's language, in the lot's time (``words``)."""
    zone = device.gate.lot.zone
    listed = list(events)
    for event in listed:
        event.words = event_sentence(event, zone)
    return listed


@require_role(*MANAGER_ROLES)
def device_detail(request: TenantRequest, kind: str, device_id: int) -> HttpResponse:
    device = _device(request, kind, device_id)
    form_class = CameraForm if kind == "camera" else KeypadForm
    form = form_class(request.POST or None, instance=device, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        device_save(device=form.save(commit=False), actor=request.user)
        messages.success(request, _("Changes saved."))
        return redirect("access:device_detail", kind=kind, device_id=device.pk)
    context = {
        "nav": "devices",
        "kind": kind,
        "device": device,
        "form": form,
        "endpoint": _endpoint(kind, device),
        "events": _with_words(recent_events_of(device), device),
        "setup": device_setup(device) if isinstance(device, Keypad) and device.uses_mqtt else None,
    }
    return render(request, "access/device_detail.html", context)


@require_role(*MANAGER_ROLES)
def gate_device(request: TenantRequest, gate_id: int) -> HttpResponse:
    """What to configure on the gate's relay: broker, topic prefix, user name (and a password)."""
    gate = get_gate_for_owner(request.organisation, gate_id)
    return render(request, "access/gate_device.html", _gate_context(gate, password=None))


def _gate_context(gate: Gate, *, password: str | None) -> dict[str, object]:
    return {
        "nav": "devices",
        "gate": gate,
        "setup": device_setup(gate),
        "password": password,
        "uses_mqtt": gate.driver_kind in MQTT_DRIVERS,
    }


MQTT_DRIVERS = ("shelly-gen2-mqtt", "mqtt-generic")


@require_role(*MANAGER_ROLES)
@require_POST
def mqtt_password_rotate(request: TenantRequest, kind: str, device_id: int) -> HttpResponse:
    """A new broker password for a gate relay or an MQTT keypad, shown on this answer only."""
    if kind == "gate":
        gate = get_gate_for_owner(request.organisation, device_id)
        password = device_credentials_rotate(device=gate, actor=request.user)
        response = render(request, "access/gate_device.html", _gate_context(gate, password=password))
    elif kind == "keypad":
        keypad = get_keypad_for_owner(request.organisation, device_id)
        if not keypad.uses_mqtt:
            raise Http404
        password = device_credentials_rotate(device=keypad, actor=request.user)
        context = {
            "nav": "devices",
            "kind": kind,
            "device": keypad,
            "form": KeypadForm(instance=keypad, organisation=request.organisation),
            "endpoint": _endpoint(kind, keypad),
            "events": _with_words(recent_events_of(keypad), keypad),
            "setup": device_setup(keypad),
            "password": password,
        }
        response = render(request, "access/device_detail.html", context)
    else:
        raise Http404
    response["Cache-Control"] = "no-store"  # the password is on this page, once
    return response


@require_role(*MANAGER_ROLES)
@require_POST
def device_rotate(request: TenantRequest, kind: str, device_id: int) -> HttpResponse:
    device = _device(request, kind, device_id)
    device_key_rotate(device=device, actor=request.user)
    messages.success(request, _("New key created. The old key no longer works: update the device now."))
    return redirect("access:device_detail", kind=kind, device_id=device.pk)


@require_role(*MANAGER_ROLES)
@require_POST
def device_remove(request: TenantRequest, kind: str, device_id: int) -> HttpResponse:
    device = _device(request, kind, device_id)
    name = device.name
    device_delete(device=device, actor=request.user)
    messages.success(request, _("%(name)s removed.") % {"name": name})
    return redirect("access:device_list")
