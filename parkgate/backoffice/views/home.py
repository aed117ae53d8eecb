from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from parkgate.access.models import ReservationStatus
from parkgate.accounts.models import MANAGER_ROLES, Role
from parkgate.backoffice.selectors import audit_events, dashboard_lots, reservations_of_user
from parkgate.core.tenancy import TenantRequest, require_role


@require_role()
def home(request: TenantRequest) -> HttpResponse:
    """The day at a glance: free spots now and today's reservations per lot, recent changes."""
    if request.membership.role == Role.PARKER:
        return redirect("backoffice:my_reservations")
    is_manager = request.membership.role in MANAGER_ROLES
    context = {
        "nav": "home",
        "lots": dashboard_lots(request.organisation),
        "recent_events": list(audit_events(request.organisation)[:8]) if is_manager else [],
        "is_manager": is_manager,
    }
    return render(request, "backoffice/home.html", context)


@require_role(Role.PARKER)
def my_reservations(request: TenantRequest) -> HttpResponse:
    now = timezone.now()
    reservations = reservations_of_user(request.user, request.organisation)
    upcoming = [r for r in reservations if r.end > now and r.status == ReservationStatus.CONFIRMED]
    past = [r for r in reservations if r not in upcoming][:50]
    return render(
        request, "backoffice/my_reservations.html", {"nav": "mine", "upcoming": upcoming, "past": past}
    )
