"""The control room: one page per lot for the owner's parking owners and receptionists.

Every view fetches the lot through ``get_desk_lot`` (lots of other organisations are 404) behind
``require_role`` (other roles are 403). Actions answer with an htmx fragment, or with a redirect
and a message when the page is used without JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parkgate.access.capacity import CapacityFull, ReservationError
from parkgate.access.lockout import keypads_under_attack
from parkgate.access.models import AccessEvent, AccessMethod, GateResult
from parkgate.accounts.models import DESK_ROLES, Role
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.parking.models import Lot
from parkgate.sites.selectors import agent_health, agents_of_lots

from . import selectors
from .forms import ForceOpenForm, OpenGateForm, WalkInForm
from .selectors import gate_result_words
from .services import ControlRoomError, gate_force_open, gate_open, walk_in_register, within_visitor_timetable


def _is_htmx(request: TenantRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _lot_url(lot: Lot, **query: Any) -> str:
    url = reverse("controlroom:lot", args=[lot.pk])
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


def _search_context(request: TenantRequest, lot: Lot, query: str) -> dict[str, Any]:
    query = query.strip()[:100]
    now = timezone.now()
    parkers, more = selectors.parker_search(lot, query) if query else ([], False)
    return {
        "lot": lot,
        "query": query,
        "searchable": selectors.search_terms(query).searchable,
        "results": selectors.search_results(lot, parkers, now=now),
        "more": more,
        "gates": list(selectors.lot_gates(lot)),
        "can_force": request.membership.role == Role.OWNER,
        "min_term": selectors.MIN_TERM,
    }


def _log_context(lot: Lot, filters: selectors.LogFilters) -> dict[str, Any]:
    events = selectors.access_log(lot, filters)
    return {
        "keypad_alerts": keypads_under_attack(lot, now=timezone.now()),
        "lot": lot,
        "events": events,
        "cursor": max((e.pk for e in events), default=selectors.last_event_id(lot)),
        "filters": filters,
        "filter_query": urlencode(filters.as_query()),
        "zone": lot.zone,
        "today": timezone.now().astimezone(lot.zone).date(),
    }


@require_GET
@require_role(*DESK_ROLES)
def index(request: TenantRequest) -> HttpResponse:
    lots = selectors.desk_lots(request.organisation)
    return render(request, "controlroom/index.html", {"nav": "controlroom", "lots": lots})


@require_GET
@require_role(*DESK_ROLES)
def lot_page(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    filters = selectors.log_filters(request.GET, lot)
    context = {
        "nav": "controlroom",
        **_search_context(request, lot, request.GET.get("q", "")),
        **_log_context(lot, filters),
        "methods": AccessMethod.choices,
        "site_agents": _site_agents_health(lot),
    }
    return render(request, "controlroom/lot.html", context)


def _site_agents_health(lot: Lot) -> list[Any]:
    now = timezone.now()
    return [agent_health(a, now=now) for a in agents_of_lots([lot])]


@require_GET
@require_role(*DESK_ROLES)
def site_agents(request: TenantRequest, lot_id: int) -> HttpResponse:
    """The site agents' health line, refreshed by the lot page every 30 s (an agent that stops
    calling produces no access event, so the live log's poll cannot bring the news)."""
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    return render(
        request, "controlroom/_site_agents.html", {"lot": lot, "site_agents": _site_agents_health(lot)}
    )


@require_GET
@require_role(*DESK_ROLES)
def search(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    query = request.GET.get("q", "")
    if not _is_htmx(request):
        return HttpResponseRedirect(_lot_url(lot, q=query))
    return render(request, "controlroom/_results.html", _search_context(request, lot, query))


def _gate_answer(
    request: TenantRequest, lot: Lot, *, event: AccessEvent | None, error: str = "", query: str = ""
) -> HttpResponse:
    if _is_htmx(request):
        return render(request, "controlroom/_gate_result.html", {"lot": lot, "event": event, "error": error})
    if error:
        messages.error(request, error)
    elif event is not None:
        level = messages.SUCCESS if event.result == GateResult.OPENED else messages.ERROR
        messages.add_message(request, level, gate_result_words(event))
    return HttpResponseRedirect(_lot_url(lot, q=query))


@require_POST
@require_role(*DESK_ROLES)
def open_gate(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    form = OpenGateForm(request.POST, lot=lot)
    query = request.POST.get("q", "")
    if not form.is_valid():
        return _gate_answer(request, lot, event=None, error=_("Choose a gate to open."), query=query)
    parker = selectors.get_parker_for_lot(lot, form.cleaned_data["parker"])
    try:
        event = gate_open(
            lot=lot,
            gate=form.cleaned_data["gate"],
            parker=parker,
            access=form.cleaned_data["access"],
            actor=request.user,
        )
    except ControlRoomError as error:
        return _gate_answer(request, lot, event=None, error=error.message, query=query)
    return _gate_answer(request, lot, event=event, query=query)


@require_POST
@require_role(Role.OWNER)
def force_open(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    form = ForceOpenForm(request.POST, lot=lot)
    query = request.POST.get("q", "")
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _gate_answer(request, lot, event=None, error=error, query=query)
    parker = selectors.get_parker_for_lot(lot, form.cleaned_data["parker"])
    try:
        event = gate_force_open(
            lot=lot,
            gate=form.cleaned_data["gate"],
            parker=parker,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ControlRoomError as error:
        return _gate_answer(request, lot, event=None, error=error.message, query=query)
    return _gate_answer(request, lot, event=event, query=query)


@require_http_methods(["GET", "POST"])
@require_role(*DESK_ROLES)
def walk_in(request: TenantRequest, lot_id: int) -> HttpResponse:
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    now = timezone.now()
    fragment = "controlroom/_walk_in.html"
    page = "controlroom/walk_in.html"
    template = fragment if _is_htmx(request) else page
    if request.method == "GET":
        form = WalkInForm(lot=lot, now=now, initial={"last_name": request.GET.get("last_name", "")[:100]})
        return render(request, template, {"nav": "controlroom", "lot": lot, "form": form})
    form = WalkInForm(request.POST, lot=lot, now=now)
    wants_gate = request.POST.get("action") == "confirm_open"
    if form.is_valid() and wants_gate and form.cleaned_data.get("gate") is None:
        form.add_error("gate", _("Choose the gate to open."))
    if not form.is_valid():
        return render(request, template, {"nav": "controlroom", "lot": lot, "form": form}, status=200)
    data = form.cleaned_data
    try:
        result = walk_in_register(
            lot=lot,
            policy=data["policy_obj"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            plate_text=data["plate"],
            start=data["start_at"],
            end=data["end_at"],
            actor=request.user,
            language=get_language() or "en",
            open_gate=data["gate"] if wants_gate else None,
            outside_reason=data["outside_reason"],
        )
    except ReservationError as error:
        form.add_error(None, str(error.message))
        if not isinstance(error, CapacityFull) and not within_visitor_timetable(
            data["policy_obj"], data["start_at"], data["end_at"]
        ):
            form.add_error("outside_reason", _("To let this visitor in anyway, write why."))
        return render(request, template, {"nav": "controlroom", "lot": lot, "form": form})
    context = {
        "nav": "controlroom",
        "lot": lot,
        "walk_in": result,
        "event": result.event,
        "zone": lot.zone,
    }
    if _is_htmx(request):
        return render(request, "controlroom/_walk_in_done.html", context)
    messages.success(
        request,
        _("%(name)s is registered.") % {"name": str(result.parker)}
        + (" " + gate_result_words(result.event) if result.event else ""),
    )
    return HttpResponseRedirect(_lot_url(lot, q=result.parker.last_name))


@require_GET
@require_role(*DESK_ROLES)
def log(request: TenantRequest, lot_id: int) -> HttpResponse:
    """The log body for a filter set, or (with ``after``) only the events newer than the cursor."""
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    filters = selectors.log_filters(request.GET, lot)
    after = request.GET.get("after", "")
    if not after.isdigit():
        if not _is_htmx(request):
            return HttpResponseRedirect(_lot_url(lot, **filters.as_query()))
        return render(request, "controlroom/_log.html", _log_context(lot, filters))
    events = selectors.access_log(lot, filters, after_id=int(after))
    if not events:
        return HttpResponse(status=204)
    context = _log_context(lot, filters) | {"events": events, "cursor": max(e.pk for e in events)}
    return render(request, "controlroom/_log_new.html", context)


@require_GET
@require_role(*DESK_ROLES)
def log_event(request: TenantRequest, lot_id: int, event_id: int) -> HttpResponse:
    """One log line again (a gate answer still pending when it was shown)."""
    lot = selectors.get_desk_lot(request.organisation, lot_id)
    event = selectors.get_event_for_lot(lot, event_id)
    context = {
        "lot": lot,
        "event": event,
        "zone": lot.zone,
        "today": timezone.now().astimezone(lot.zone).date(),
    }
    return render(request, "controlroom/_log_row.html", context)
