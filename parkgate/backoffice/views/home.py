from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.access.capacity import ReservationError, reservation_cancel
from parkgate.access.models import ReservationStatus
from parkgate.accounts.models import MANAGER_ROLES, Role
from parkgate.accounts.tenancy import TenantRequest, current_membership, require_role
from parkgate.backoffice.selectors import audit_events, dashboard_lots, reservations_of_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The day at a glance; platform staff without an organisation go to the payment approvals."""
    if current_membership(request) is None:
        if request.user.is_superuser:
            return redirect("platform:home")
        return render(request, "backoffice/no_organisation.html", status=403)
    # require_role on dashboard() sets request.organisation and request.membership.
    return dashboard(cast(TenantRequest, request))


@require_role()
def dashboard(request: TenantRequest) -> HttpResponse:
    """Free spots now and today's reservations per lot, recent changes."""
    if request.membership.role == Role.PARKER:
        return redirect("members:home")
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
        request,
        "backoffice/my_reservations.html",
        {"nav": "mine", "upcoming": upcoming, "past": past, "now": now},
    )


@require_role(Role.PARKER)
@require_POST
def my_reservation_cancel(request: TenantRequest, reservation_id: int) -> HttpResponse:
    """A parker cancels one of their own reservations before it starts."""
    reservation = get_object_or_404(
        reservations_of_user(request.user, request.organisation), pk=reservation_id
    )
    try:
        if reservation_cancel(reservation=reservation, actor=request.user):
            messages.success(request, _("Your reservation is cancelled."))
    except ReservationError as error:
        messages.error(request, str(error.message))
    return redirect("backoffice:my_reservations")
