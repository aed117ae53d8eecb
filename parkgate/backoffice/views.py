from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.accounts.models import MANAGER_ROLES, STAFF_ROLES, Role
from parkgate.core.models import AuditEvent
from parkgate.core.tenancy import TenantRequest, require_role
from parkgate.parking.models import Parker
from parkgate.parking.selectors import lots_visible_to, parkers_of, policies_of


@require_role()
def home(request: TenantRequest) -> HttpResponse:
    organisation = request.organisation
    now = timezone.now()
    context = {
        "nav": "home",
        "lots": lots_visible_to(organisation),
        "upcoming": Reservation.objects.filter(
            organisation=organisation, status=ReservationStatus.CONFIRMED, end__gt=now
        ).count(),
    }
    return render(request, "backoffice/home.html", context)


@require_role(*STAFF_ROLES)
def lot_list(request: TenantRequest) -> HttpResponse:
    lots = lots_visible_to(request.organisation).select_related("owner").prefetch_related("gates")
    return render(request, "backoffice/lot_list.html", {"nav": "lots", "lots": lots})


@require_role(*STAFF_ROLES)
def policy_list(request: TenantRequest) -> HttpResponse:
    policies = policies_of(request.organisation).prefetch_related("windows")
    return render(request, "backoffice/policy_list.html", {"nav": "policies", "policies": policies})


@require_role(*STAFF_ROLES)
def parker_list(request: TenantRequest) -> HttpResponse:
    page = Paginator(parkers_of(request.organisation), 50).get_page(request.GET.get("page"))
    return render(request, "backoffice/parker_list.html", {"nav": "parkers", "page": page})


@require_role(*STAFF_ROLES)
def reservation_list(request: TenantRequest) -> HttpResponse:
    reservations = (
        Reservation.objects.filter(organisation=request.organisation)
        .select_related("parker", "lot", "policy")
        .order_by("-start")
    )
    page = Paginator(reservations, 50).get_page(request.GET.get("page"))
    return render(request, "backoffice/reservation_list.html", {"nav": "reservations", "page": page})


@require_role(*MANAGER_ROLES)
def audit_list(request: TenantRequest) -> HttpResponse:
    events = AuditEvent.objects.filter(organisation=request.organisation).select_related("actor")
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(request, "backoffice/audit_list.html", {"nav": "audit", "page": page})


@require_role(Role.PARKER)
def my_reservations(request: TenantRequest) -> HttpResponse:
    parkers = Parker.objects.filter(email__iexact=request.user.email, managed_by=request.organisation)
    reservations = (
        Reservation.objects.filter(parker__in=parkers).select_related("lot", "policy").order_by("-start")
    )
    return render(request, "backoffice/my_reservations.html", {"nav": "mine", "reservations": reservations})
