"""Back office: visitor bookings per portal and per lot, staff cancellation, e-mail delivery, CSV export.

Who: admins, owners and receptionists of the portal's organisation, and of the organisation that
owns the lot (its reception desk sees who is expected). Everyone else: 404 for objects, 403 for roles.
"""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta
from typing import cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parkgate.access.capacity import ReservationError
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.accounts.models import MANAGER_ROLES, STAFF_ROLES
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.booking import selectors, services
from parkgate.core.models import OutboundEmailStatus
from parkgate.core.spreadsheet import csv_cell
from parkgate.parking.models import Lot
from parkgate.parking.plates import plate_key
from parkgate.payments.money import format_amount
from parkgate.payments.selectors import booking_payment


class BookingFilterForm(forms.Form):
    day = forms.DateField(
        label=gettext_lazy("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    portal = forms.TypedChoiceField(
        label=gettext_lazy("Portal"), required=False, coerce=int, empty_value=None
    )
    lot = forms.TypedChoiceField(label=gettext_lazy("Lot"), required=False, coerce=int, empty_value=None)
    plate = forms.CharField(label=gettext_lazy("Licence plate"), required=False, max_length=20)

    def __init__(self, *args: object, request: TenantRequest, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        portals = list(selectors.portals_visible_to(request.organisation))
        every = [("", _("All"))]
        cast(forms.ChoiceField, self.fields["status"]).choices = every + list(ReservationStatus.choices)
        cast(forms.ChoiceField, self.fields["portal"]).choices = every + [(p.pk, p.name) for p in portals]
        lots = {p.lot_id: p.lot for p in portals}
        cast(forms.ChoiceField, self.fields["lot"]).choices = every + [
            (lot.pk, lot.name) for lot in lots.values()
        ]


def _filtered(request: TenantRequest) -> tuple[BookingFilterForm, QuerySet[Reservation]]:
    form = BookingFilterForm(request.GET or None, request=request)
    reservations = selectors.booking_reservations_visible_to(request.organisation).order_by(
        "-start", "parker__last_name"
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["day"]:
            # The day in the lot's time zone; every lot of one organisation usually shares it.
            lot: Lot | None = Lot.objects.filter(pk=data["lot"]).first() if data["lot"] else _any_lot(request)
            zone = lot.zone if lot is not None else timezone.get_current_timezone()
            start = datetime.combine(data["day"], time(0), tzinfo=zone)
            reservations = reservations.filter(start__lt=start + timedelta(days=1), end__gt=start)
        if data["status"]:
            reservations = reservations.filter(status=data["status"])
        if data["portal"]:
            groups = selectors.bookings_visible_to(request.organisation).filter(portal_id=data["portal"])
            reservations = reservations.filter(group_id__in=groups.values("group_id"))
        if data["lot"]:
            reservations = reservations.filter(lot_id=data["lot"])
        if data["plate"]:
            reservations = reservations.filter(plate_key__contains=plate_key(data["plate"]))
    return form, reservations


def _any_lot(request: TenantRequest) -> Lot | None:
    portal = selectors.portals_visible_to(request.organisation).first()
    return portal.lot if portal else None


def _bookings_by_group(reservations: list[Reservation], request: TenantRequest) -> dict[str, object]:
    groups = {r.group_id for r in reservations}
    bookings = (
        selectors.bookings_visible_to(request.organisation)
        .filter(group_id__in=groups)
        .select_related("portal")
    )
    return {str(b.group_id): b for b in bookings}


@require_GET
@require_role(*STAFF_ROLES)
def booking_list(request: TenantRequest) -> HttpResponse:
    form, reservations = _filtered(request)
    page = Paginator(reservations, 50).get_page(request.GET.get("page"))
    rows = list(page)
    by_group = _bookings_by_group(rows, request)
    now = timezone.now()
    items = [
        {
            "reservation": r,
            "booking": by_group.get(str(r.group_id)),
            "credentials": selectors.credential_state(r, now),
        }
        for r in rows
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/bookings/list.html",
        {"nav": "bookings", "form": form, "page": page, "items": items, "query": query.urlencode()},
    )


@require_GET
@require_role(*STAFF_ROLES)
def booking_export(request: TenantRequest) -> HttpResponse:
    _form, reservations = _filtered(request)
    rows = list(reservations[:10000])
    by_group = _bookings_by_group(rows, request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="visitor-bookings.csv"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Reference"),
            _("Portal"),
            _("Lot"),
            _("Start"),
            _("End"),
            _("First name"),
            _("Last name"),
            _("E-mail"),
            _("Licence plate"),
            _("Status"),
            _("Ways in"),
            _("Booked at"),
        ]
    )
    now = timezone.now()
    labels = _credential_labels()
    for r in rows:
        booking = by_group.get(str(r.group_id))
        zone = r.lot.zone
        writer.writerow(
            [
                csv_cell(getattr(booking, "reference", "")),
                csv_cell(getattr(getattr(booking, "portal", None), "name", "")),
                csv_cell(r.lot.name),
                r.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                r.end.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                csv_cell(r.parker.first_name),
                csv_cell(r.parker.last_name),
                csv_cell(r.parker.email),
                csv_cell(r.plate_text),
                r.get_status_display(),
                labels[selectors.credential_state(r, now)],
                r.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return response


def _credential_labels() -> dict[str, str]:
    return {
        "disabled": _("Disabled"),
        "upcoming": _("Valid from the start"),
        "active": _("Active now"),
        "ended": _("Ended"),
    }


@require_GET
@require_role(*STAFF_ROLES)
def booking_detail(request: TenantRequest, booking_id: int) -> HttpResponse:
    booking = selectors.get_booking_for_organisation(request.organisation, booking_id)
    now = timezone.now()
    # Money is the portal organisation's business: the lot owner's desk sees who comes, not what they paid.
    payment = booking_payment(booking) if booking.portal.organisation_id == request.organisation.pk else None
    refunds = {
        line.reservation_id: getattr(line, "refund", None)
        for line in (payment.lines.all() if payment else [])
    }
    reservations = [
        {
            "reservation": r,
            "credentials": selectors.credential_state(r, now),
            "cancellable": r.status == ReservationStatus.CONFIRMED and r.end > now,
            "refund": refunds.get(r.pk),
        }
        for r in selectors.booking_reservations(booking)
    ]
    return render(
        request,
        "backoffice/bookings/detail.html",
        {
            "nav": "bookings",
            "booking": booking,
            "reservations": reservations,
            "emails": selectors.booking_emails(booking),
            "notices": selectors.booking_notices_unwritten(booking),
            "failed": OutboundEmailStatus.FAILED,
            "credential_labels": _credential_labels(),
            "payment": payment,
            "payment_link": payment is not None
            and payment.organisation_id == request.organisation.pk
            and request.membership.role in MANAGER_ROLES,
            "payment_amount": format_amount(payment.amount, payment.currency, get_language() or "en")
            if payment
            else "",
        },
    )


@require_POST
@require_role(*STAFF_ROLES)
def reservation_cancel(request: TenantRequest, booking_id: int, reservation_id: int) -> HttpResponse:
    booking = selectors.get_booking_for_organisation(request.organisation, booking_id)
    reservation = selectors.get_booking_reservation_for_organisation(request.organisation, reservation_id)
    if reservation.group_id != booking.group_id:
        raise Http404
    try:
        changed = services.reservation_cancel_by_staff(reservation=reservation, actor=request.user)
    except ReservationError as error:
        messages.error(request, str(error.message))
    else:
        if changed:
            messages.success(request, _("The reservation is cancelled; the visitor has been told by e-mail."))
        else:
            messages.info(request, _("This reservation was already cancelled."))
    return redirect("backoffice:booking_detail", booking_id=booking.pk)


@require_POST
@require_role(*STAFF_ROLES)
def email_resend(request: TenantRequest, booking_id: int, email_id: int) -> HttpResponse:
    email, booking = selectors.get_booking_email_for_organisation(request.organisation, email_id)
    if booking.pk != booking_id:
        raise Http404
    services.booking_email_resend(email=email, booking=booking, actor=request.user)
    messages.success(request, _("The e-mail is being sent again."))
    return redirect("backoffice:booking_detail", booking_id=booking.pk)
