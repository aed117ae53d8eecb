"""Owner pages: the cameras and keypads at the gates of the organisation's own lots."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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
from parkgate.access.models import GateDevice
from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.parking.models import Lot

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
        "events": recent_events_of(device),
    }
    return render(request, "access/device_detail.html", context)


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
