from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parkgate.access.capacity import (
    ReservationError,
    ReservationRequest,
    reservation_cancel,
    reservations_create,
)
from parkgate.access.models import ReservationSource
from parkgate.accounts.models import STAFF_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.backoffice.forms import ReservationFilterForm, ReservationForm
from parkgate.backoffice.selectors import get_reservation_for_organisation, reservations_filtered
from parkgate.parking.selectors import lots_visible_to, parkers_of, policies_of


@require_role(*STAFF_ROLES)
def reservation_list(request: TenantRequest) -> HttpResponse:
    organisation = request.organisation
    filters = ReservationFilterForm(
        request.GET or None, lots=lots_visible_to(organisation), policies=policies_of(organisation)
    )
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    reservations = reservations_filtered(organisation, cleaned)
    page = Paginator(reservations, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"nav": "reservations", "page": page, "filters": filters, "page_query": query.urlencode()}
    return render(request, "backoffice/reservation_list.html", context)


@require_role(*STAFF_ROLES)
def reservation_create(request: TenantRequest) -> HttpResponse:
    """POST parker, policy, date (YYYY-MM-DD), start, end (HH:MM, lot time); 302 to the list on success.

    A full lot, a busy lock or a broken rule redisplays the form (200) with the engine's message.
    """
    organisation = request.organisation
    form = ReservationForm(
        request.POST or None,
        parkers=parkers_of(organisation),
        policies=policies_of(organisation),
        initial={"parker": request.GET.get("parker")},
    )
    if request.method == "POST" and form.is_valid():
        start, end = form.interval()
        parker = form.cleaned_data["parker"]
        try:
            reservations_create(
                requests=[
                    ReservationRequest(
                        parker=parker,
                        policy=form.cleaned_data["policy"],
                        start=start,
                        end=end,
                        plate_text=form.plate_text(),
                        language=get_language() or "en",
                    )
                ],
                source=ReservationSource.BACK_OFFICE,
                created_by=request.user,
            )
        except ReservationError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Reservation for %(parker)s created.") % {"parker": parker})
            return redirect("backoffice:reservation_list")
    return render(request, "backoffice/reservation_form.html", {"nav": "reservations", "form": form})


@require_role(*STAFF_ROLES)
@require_POST
def reservation_cancel_view(request: TenantRequest, reservation_id: int) -> HttpResponse:
    reservation = get_reservation_for_organisation(request.organisation, reservation_id)
    try:
        cancelled = reservation_cancel(reservation=reservation, actor=request.user, allow_started=True)
    except ReservationError as error:
        messages.error(request, str(error.message))
    else:
        if cancelled:
            messages.success(
                request, _("Reservation of %(parker)s cancelled.") % {"parker": reservation.parker}
            )
        else:
            messages.info(request, _("This reservation was already cancelled."))
    return redirect("backoffice:reservation_list")
