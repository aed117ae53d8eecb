from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.accounts.models import MANAGER_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice.forms import AllocationForm, GateForm, LotForm
from parkgate.backoffice.selectors import dashboard_lots, lot_in_use_now
from parkgate.backoffice.views._helpers import form_errors_from, get_lot_to_manage
from parkgate.parking import services
from parkgate.parking.models import Gate
from parkgate.parking.selectors import (
    get_allocation_for_owner,
    get_gate_for_owner,
    get_lot_for_organisation,
    lots_visible_to,
    policies_of,
)


@require_role(*MANAGER_ROLES)
def lot_list(request: TenantRequest) -> HttpResponse:
    lots = lots_visible_to(request.organisation).select_related("owner").prefetch_related("gates")
    return render(request, "backoffice/lot_list.html", {"nav": "lots", "lots": lots})


@require_role(*MANAGER_ROLES)
def lot_detail(request: TenantRequest, lot_id: int) -> HttpResponse:
    organisation = request.organisation
    lot = get_lot_for_organisation(organisation, lot_id)
    owned = lot.owner_id == organisation.pk
    allocations = lot.allocations.select_related("organisation")
    if not owned:
        allocations = allocations.filter(organisation=organisation)
    today = next((row for row in dashboard_lots(organisation) if row.lot.pk == lot.pk), None)
    in_use = lot_in_use_now(lot) if owned else {}
    allocation_rows = list(allocations)
    for allocation in allocation_rows:
        allocation.in_use_now = in_use.get(allocation.organisation_id, 0)  # type: ignore[attr-defined]
    context = {
        "nav": "lots",
        "lot": lot,
        "owned": owned,
        "gates": lot.gates.all(),
        "allocations": allocation_rows,
        "allocated_total": lot.allocations.aggregate(total=Sum("spots"))["total"] or 0,
        "in_use_total": sum(in_use.values()),
        "policies": policies_of(organisation).filter(lot=lot),
        "today": today,
    }
    return render(request, "backoffice/lot_detail.html", context)


@require_role(*MANAGER_ROLES)
def lot_create(request: TenantRequest) -> HttpResponse:
    form = LotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_create(owner=request.organisation, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Parking lot “%(name)s” created.") % {"name": lot.name})
            return redirect("backoffice:lot_detail", lot_id=lot.pk)
    return render(request, "backoffice/lot_form.html", {"nav": "lots", "form": form, "lot": None})


@require_role(*MANAGER_ROLES)
def lot_edit(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = get_lot_to_manage(request.organisation, lot_id)
    form = LotForm(request.POST or None, instance=lot)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changed:
                services.lot_update(lot=lot, actor=request.user, **changed)
        except ValidationError as error:
            lot.refresh_from_db()
            form_errors_from(form, error)
        else:
            messages.success(request, _("Parking lot “%(name)s” saved.") % {"name": lot.name})
            return redirect("backoffice:lot_detail", lot_id=lot.pk)
    return render(request, "backoffice/lot_form.html", {"nav": "lots", "form": form, "lot": lot})


@require_role(*MANAGER_ROLES)
def gate_create(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = get_lot_to_manage(request.organisation, lot_id)
    form = GateForm(request.POST or None, instance=Gate(lot=lot))
    if request.method == "POST" and form.is_valid():
        try:
            gate = services.gate_create(lot=lot, actor=request.user, **form.fields_for_service())
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Gate “%(name)s” added.") % {"name": gate.name})
            return redirect("backoffice:lot_detail", lot_id=lot.pk)
    return render(
        request, "backoffice/gate_form.html", {"nav": "lots", "form": form, "lot": lot, "gate": None}
    )


@require_role(*MANAGER_ROLES)
def gate_edit(request: TenantRequest, gate_id: int) -> HttpResponse:
    gate = _gate_to_manage(request, gate_id)
    form = GateForm(request.POST or None, instance=gate)
    if request.method == "POST" and form.is_valid():
        try:
            services.gate_update(gate=gate, actor=request.user, **form.fields_for_service())
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, _("Gate “%(name)s” saved.") % {"name": gate.name})
            return redirect("backoffice:lot_detail", lot_id=gate.lot_id)
    context = {"nav": "lots", "form": form, "lot": gate.lot, "gate": gate}
    return render(request, "backoffice/gate_form.html", context)


def _gate_to_manage(request: TenantRequest, gate_id: int) -> Gate:
    try:
        return get_gate_for_owner(request.organisation, gate_id)
    except Http404:
        # A gate of a lot the organisation only holds spots in: visible, but not theirs to change.
        gate = Gate.objects.filter(pk=gate_id, lot__in=lots_visible_to(request.organisation)).first()
        if gate is not None:
            raise PermissionDenied from None
        raise


@require_role(*MANAGER_ROLES)
def allocation_create(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = get_lot_to_manage(request.organisation, lot_id)
    form = AllocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = form.target()
        if lot.allocations.filter(organisation=organisation).exists():
            form.add_error(
                "organisation", _("This organisation already holds spots here: change its allocation.")
            )
        else:
            try:
                services.allocation_set(
                    lot=lot,
                    organisation=organisation,
                    spots=form.cleaned_data["spots"],
                    accepts_visitors=form.cleaned_data["accepts_visitors"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("Spots given to %(name)s.") % {"name": organisation.name})
                return redirect("backoffice:lot_detail", lot_id=lot.pk)
    context = {"nav": "lots", "form": form, "lot": lot, "allocation": None}
    return render(request, "backoffice/allocation_form.html", context)


@require_role(*MANAGER_ROLES)
def allocation_edit(request: TenantRequest, allocation_id: int) -> HttpResponse:
    allocation = get_allocation_for_owner(request.organisation, allocation_id)
    initial = {"spots": allocation.spots, "accepts_visitors": allocation.accepts_visitors}
    form = AllocationForm(request.POST or None, initial=initial, fixed_organisation=allocation.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.allocation_set(
                lot=allocation.lot,
                organisation=allocation.organisation,
                spots=form.cleaned_data["spots"],
                accepts_visitors=form.cleaned_data["accepts_visitors"],
                actor=request.user,
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request, _("Allocation of %(name)s saved.") % {"name": allocation.organisation.name}
            )
            return redirect("backoffice:lot_detail", lot_id=allocation.lot_id)
    context = {"nav": "lots", "form": form, "lot": allocation.lot, "allocation": allocation}
    return render(request, "backoffice/allocation_form.html", context)


@require_role(*MANAGER_ROLES)
@require_POST
def allocation_delete(request: TenantRequest, allocation_id: int) -> HttpResponse:
    allocation = get_allocation_for_owner(request.organisation, allocation_id)
    name = allocation.organisation.name
    services.allocation_delete(allocation=allocation, actor=request.user)
    messages.success(request, _("%(name)s no longer holds spots in this lot.") % {"name": name})
    return redirect("backoffice:lot_detail", lot_id=allocation.lot_id)
