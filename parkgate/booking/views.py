"""The public booking flow: invitation → date, time, spots → visitors' details → Proceed → confirmation.

Works without JavaScript (each step is a plain form); htmx refreshes the free spots as the date changes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from parkgate.access import selectors as access_selectors
from parkgate.access.capacity import CapacityBusy, CapacityFull, ReservationError
from parkgate.access.models import ReservationStatus
from parkgate.access.selectors import plates_held_by_others
from parkgate.booking import selectors, services
from parkgate.booking.branding import portal_context, portal_language_activate
from parkgate.booking.forms import CUSTOM, InvoiceForm, LostLinksForm, PlanForm, VisitorForm, visitor_forms
from parkgate.booking.models import Booking, BookingStatus
from parkgate.core.metrics import metric_count
from parkgate.core.outage import mark_committed
from parkgate.core.ratelimit import rate_hit
from parkgate.parking.plates import plate_key
from parkgate.payments.checkout import PaymentUnavailable, payment_account_for_portal
from parkgate.payments.documents import document_pdf
from parkgate.payments.money import format_amount
from parkgate.payments.pricing import spot_price
from parkgate.payments.selectors import booking_document, payment_documents, spot_payment
from parkgate.portal.models import Invitation, VisitorPortal
from parkgate.portal.services import invitation_self_service

SESSION_BOOKINGS = "booking.references"  # where earlier versions kept them (still read)
# The bookings this browser made (it alone may see their confirmation pages): a signed cookie, not
# the session, so a visitor's booking writes no session row (one round trip and one commit fewer
# per booking; bench/booking_http.py). Signed with SECRET_KEY: a visitor cannot add a reference.
BOOKINGS_COOKIE = "parkgate_bookings"
BOOKINGS_COOKIE_SALT = "parkgate.booking.references"
BOOKINGS_KEPT = 20
# Rate limits (parkgate/core/ratelimit.py) are per client address, never per invitation: someone
# pressing Proceed on a link cannot spend the budget of the other visitors it was sent to.
SUBMIT_RATE_PER_ADDRESS = "30/h"
PANEL_RATE_PER_ADDRESS = "600/h"
LINKS_RATE_PER_ADDRESS = "10/h"
OPEN_RATE_PER_ADDRESS = "10/h"  # asking an open portal for an invitation
# Lost links go to the mailbox they are asked for: this bounds what one mailbox receives. Whoever
# exhausts it has sent the owner their links, so nobody is kept from their own.
LINKS_RATE_PER_EMAIL = "3/h"


def _unavailable(request: HttpRequest, portal_slug: str = "", token: str = "") -> HttpResponse:
    """The same friendly page for an unknown, revoked or switched-off link: it says nothing more.

    On a portal that exists it wears the portal's brand and language (the invitation's language
    when the link was one, revoked or not), with the way to the portal's page and lost links.
    """
    portal = selectors.get_public_portal(portal_slug=portal_slug) if portal_slug else None
    if portal is None:
        return render(request, "booking/unavailable.html", status=404)
    preferred = (
        Invitation.objects.filter(portal=portal, token=token).values_list("language", flat=True).first()
        if token
        else None
    ) or portal.default_language
    language = portal_language_activate(request, portal, preferred)
    return render(
        request, "booking/unavailable_portal.html", portal_context(request, portal, language), status=404
    )


@require_http_methods(["GET", "POST"])
def portal_home(request: HttpRequest, portal_slug: str) -> HttpResponse:
    """The portal's public address: what it is, how to get an invitation, lost confirmation links.

    A portal open to anyone takes an e-mail address here and sends it an invitation for one booking
    (the e-mail proves the address), within the same per-address and per-mailbox limits as lost
    links; the answer is the same whether or not anything was sent.
    """
    portal = selectors.get_public_portal(portal_slug=portal_slug)
    if portal is None:
        return _unavailable(request)
    language = portal_language_activate(request, portal, portal.default_language)
    context = portal_context(request, portal, language)
    form = LostLinksForm(request.POST or None) if portal.open_to_anyone else None
    context |= {"form": form, "sent": False, "domains": portal.open_domains}
    if request.method == "POST" and form is not None:
        if rate_hit(request, scope="booking.open", rate=OPEN_RATE_PER_ADDRESS):
            return _too_many(request, context)
        if form.is_valid():
            email = form.cleaned_data["email"].strip().lower()
            if not portal.accepts_email(email):
                form.add_error("email", _("This portal takes invitations only for the e-mail domains shown."))
            else:
                if not rate_hit(
                    request, scope="booking.open.email", rate=LINKS_RATE_PER_EMAIL, key=f"{portal.pk}:{email}"
                ):
                    invitation_self_service(portal=portal, email=email, language=language)
                context |= {"sent": True, "form": LostLinksForm()}
    return render(request, "booking/portal_home.html", context)


def _too_many(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, "booking/too_many.html", context, status=429)


def _invitation_or_none(portal_slug: str, token: str) -> Invitation | None:
    return selectors.get_public_invitation(portal_slug=portal_slug, token=token)


def _base_context(request: HttpRequest, invitation: Invitation) -> tuple[str, dict[str, Any]]:
    portal = invitation.portal
    language = portal_language_activate(request, portal, invitation.language)
    context = portal_context(request, portal, language)
    context["invitation"] = invitation
    return language, context


def _closed_reason(invitation: Invitation) -> str:
    if not invitation.portal.organisation.has_privacy_notice:
        return _(
            "This portal does not take bookings yet: the organisation has not published its privacy notice."
        )
    if invitation.portal.payment_enabled:
        try:
            payment_account_for_portal(invitation.portal)
        except PaymentUnavailable as error:
            return str(error.message)
    if (
        invitation.max_bookings is not None
        and selectors.bookings_of_invitation_count(invitation) >= invitation.max_bookings
    ):
        return _("This invitation has already been used for all the bookings it allows.")
    return ""


def _day_param(request: HttpRequest, form: PlanForm) -> date:
    if form.rule.fixed is not None:
        return form.rule.fixed
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return selectors.first_open_day(form.rule, form.policies)
    return (
        day
        if form.rule.first <= day <= form.rule.last
        else selectors.first_open_day(form.rule, form.policies)
    )


def _slot_prices(
    portal: VisitorPortal, options: list[Any], policies: list[Any], language: str
) -> dict[int, str]:
    """A paid portal's price per spot of each bookable slot, shown with the times (issue 14)."""
    prices: dict[int, str] = {}
    if not portal.payment_enabled:
        return prices
    for option in options:
        policy = selectors.choose_policy(policies, option.start, option.end, 1) if option.bookable else None
        price = (
            spot_price(policy=policy, start=option.start, end=option.end, slot_price=option.slot.price)
            if policy is not None
            else None
        )
        if price is not None:
            prices[option.slot.pk] = format_amount(price.amount, price.currency, language)
    return prices


def _panel_context(invitation: Invitation, form: PlanForm, day: date, policies: list[Any]) -> dict[str, Any]:
    portal = invitation.portal
    options = selectors.slot_options(portal, policies, day) if portal.allow_slots else []
    return {
        "day": day,
        "slot_options": options,
        "slot_prices": _slot_prices(portal, options, policies, get_language() or portal.default_language),
        "hour_options": selectors.hour_options(policies, day) if portal.allow_custom_time else [],
        "selected_time": form["time"].value() if "time" in form.fields else "",
        "custom": CUSTOM,
        "form": form,
    }


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, portal_slug: str, token: str) -> HttpResponse:
    found = _invitation_or_none(portal_slug, token)
    if found is None:
        return _unavailable(request, portal_slug, token)
    language, context = _base_context(request, found)
    closed = _closed_reason(found)
    if closed:
        return render(request, "booking/closed.html", {**context, "reason": closed})
    policies = selectors.portal_policies(found.portal)
    if request.method == "POST":
        return _submit(request, found, language, context, policies)
    step = request.GET.get("step", "")
    if step == "details":
        form = PlanForm(request.GET, invitation=found, policies=policies)
        if form.is_valid():
            visitors = visitor_forms(
                form.cleaned_data["spots"], invitation=found, draft=_draft(request, found)
            )
            return _details(request, context, form, visitors)
    else:
        if not step and "lang" not in request.GET and not getattr(request, "htmx", False):
            services.invitation_open(invitation=found)
        initial = {
            key: request.GET[key]
            for key in ("date", "until", "time", "start", "end", "spots")
            if key in request.GET
        }
        form = PlanForm(initial=initial, invitation=found, policies=policies)
    day = form.chosen_day() if form.is_bound else _day_param(request, form)
    return _start(request, context, form, day, policies)


def _start(
    request: HttpRequest,
    context: dict[str, Any],
    form: PlanForm,
    day: date,
    policies: list[Any],
    status: int = 200,
) -> HttpResponse:
    invitation = context["invitation"]
    context = {**context, **_panel_context(invitation, form, day, policies), "plan_form": form}
    return render(request, "booking/start.html", context, status=status)


def _details(
    request: HttpRequest,
    context: dict[str, Any],
    form: PlanForm,
    visitors: list[VisitorForm],
    error: str = "",
    status: int = 200,
    invoice_form: InvoiceForm | None = None,
) -> HttpResponse:
    assert form.plan is not None
    portal = context["portal"]
    start, end = selectors.interval(portal, form.plan.days[0], form.plan.start_minute, form.plan.end_minute)
    price = selectors.plan_price(portal, form.plan, form.policies)
    language = context["language"]
    context = {
        **context,
        "plan_form": form,
        "plan": form.plan,
        "plan_query": form.query(),
        "skipped_days": form.skipped_days,
        "window_start": start,
        "window_end": end,
        "visitor_forms": visitors,
        "error": error,
        "price": price,
        "price_per_spot": [
            (day, format_amount(amount, price.currency, language)) for day, amount in price.per_spot
        ]
        if price
        else [],
        "price_total": format_amount(price.total, price.currency, language) if price else "",
        "price_vat": format_amount(price.vat, price.currency, language) if price else "",
        "invoice_form": invoice_form or InvoiceForm(prefix="invoice"),
    }
    return render(request, "booking/details.html", context, status=status)


def _distinct_visitors(visitors: list[VisitorForm]) -> None:
    emails: set[str] = set()
    plates: set[str] = set()
    for form in visitors:
        if not form.is_valid():
            continue
        email = form.cleaned_data["email"].strip().lower()
        plate = plate_key(form.cleaned_data["plate"])
        if email in emails:
            form.add_error("email", _("Each visitor needs their own e-mail address."))
        if plate in plates:
            form.add_error("plate", _("Each visitor needs their own car: this plate is already entered."))
        emails.add(email)
        plates.add(plate)


def _refusal(error: services.BookingRefused | ReservationError, form: PlanForm) -> str:
    """The visitor-facing reason, in this app's words (and catalogue)."""
    if isinstance(error, CapacityFull):
        assert form.plan is not None
        days = form.plan.days
        index = error.index if error.index is not None else 0
        day = days[min(index // max(1, form.plan.spots), len(days) - 1)]
        return _("The last spots for this time on %(day)s were just taken. Please choose another time.") % {
            "day": day.strftime("%d/%m/%Y")
        }
    if isinstance(error, CapacityBusy):
        return _("Many people are booking right now. Please try again in a moment.")
    return str(error.message)


def _refusal_kind(error: Exception) -> str:
    if isinstance(error, CapacityFull):
        return "full"
    return "busy" if isinstance(error, CapacityBusy) else "refused"


def _submit(
    request: HttpRequest, invitation: Invitation, language: str, context: dict[str, Any], policies: list[Any]
) -> HttpResponse:
    if rate_hit(request, scope="booking.submit", rate=SUBMIT_RATE_PER_ADDRESS):
        metric_count("booking_refused", "rate_limited")
        return _too_many(request, context)
    # Free spots are counted once, under the lot lock (booking_submit); the form counts them too
    # only when the lock said full, to answer as it always did (which day, how many are left).
    form = PlanForm(request.POST, invitation=invitation, policies=policies, count_free=False)
    _draft_keep(request, invitation, request.POST)  # a lost race must not lose what they typed
    if not form.is_valid() or form.plan is None:
        return _plan_refused(request, context, form, policies)
    visitors = visitor_forms(form.plan.spots, request.POST)
    paid = invitation.portal.payment_enabled
    invoice = InvoiceForm(request.POST if paid else None, prefix="invoice")
    valid = [v.is_valid() for v in visitors]  # every form validated: all errors shown at once
    _distinct_visitors(visitors)
    if not all(valid) or any(v.errors for v in visitors) or (paid and not invoice.is_valid()):
        return _details(request, context, form, visitors, status=400, invoice_form=invoice)
    try:
        result = services.booking_submit(
            invitation=invitation,
            plan=form.plan,
            visitors=[v.details() for v in visitors],
            language=language,
            invoice_requested=paid and invoice.requested,
            invoice_details=invoice.details() if paid else None,
            policies=policies,
        )
    except (services.BookingRefused, ReservationError) as error:
        if isinstance(error, CapacityFull):
            counted = PlanForm(request.POST, invitation=invitation, policies=policies)
            if not counted.is_valid() or counted.plan is None:  # full before Proceed was pressed
                metric_count("booking_refused", "full")
                return _plan_refused(request, context, counted, policies)
        metric_count("booking_refused", _refusal_kind(error))
        message = _("Nothing was booked.") + " " + _refusal(error, form)
        if isinstance(error, CapacityFull):
            context = {**context, "nearest": _nearest_free_times(form, request.POST)}
        return _details(request, context, form, visitors, error=message, status=409, invoice_form=invoice)
    mark_committed(request)  # from here on, an outage page must not say "nothing was booked"
    request.session.pop(_draft_key(invitation), None)
    if result.redirect_url:  # paid portal: Stripe's checkout page, back to the confirmation after
        response = redirect(result.redirect_url)
    else:
        response = redirect(confirmation_path(result.booking, invitation))
    _remember_booking(request, response, result.booking.reference)
    return response


def _plan_refused(
    request: HttpRequest, context: dict[str, Any], form: PlanForm, policies: list[Any]
) -> HttpResponse:
    """The first step again, with what is wrong with the choice and the nearest free times."""
    context = {
        **context,
        "error": _("Nothing was booked: please check your choice."),
        "nearest": _nearest_free_times(form, request.POST),
    }
    return _start(request, context, form, form.chosen_day(), policies, status=409)


def _booked_references(request: HttpRequest) -> list[str]:
    """The references of the bookings made from this browser (signed cookie, or an older session)."""
    raw = (
        request.get_signed_cookie(
            BOOKINGS_COOKIE, default="", salt=BOOKINGS_COOKIE_SALT, max_age=settings.SESSION_COOKIE_AGE
        )
        or ""
    )
    return [r for r in raw.split(",") if r] + list(request.session.get(SESSION_BOOKINGS, []))


def _remember_booking(request: HttpRequest, response: HttpResponse, reference: str) -> None:
    kept = [r for r in _booked_references(request) if r != reference][-(BOOKINGS_KEPT - 1) :]
    response.set_signed_cookie(
        BOOKINGS_COOKIE,
        ",".join([*kept, reference]),
        salt=BOOKINGS_COOKIE_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def confirmation_path(booking: Booking, invitation: Invitation) -> str:
    return reverse(
        "booking:confirmation",
        args=[invitation.portal.slug, invitation.token, booking.reference, booking.link_key],
    )


def _booking_for_link(
    request: HttpRequest, invitation: Invitation, reference: str, key: str
) -> Booking | None:
    """The booking this confirmation address names: its secret key, from any browser (a payer back
    from their bank app, a forwarded link), or, for bookings made before keys, the session."""
    booking = Booking.objects.filter(reference=reference, invitation=invitation).first()
    if booking is None:
        return None
    if booking.link_key:
        return booking if key and constant_time_compare(key, booking.link_key) else None
    return booking if not key and reference in _booked_references(request) else None


# What a visitor typed on the details step, kept in their session when Proceed books nothing, so
# that choosing another time does not make them type it again.
_DRAFT_FIELD = re.compile(r"v\d{1,2}-(first_name|last_name|plate|email)")
NEAREST_MAX = 6
NEAREST_DAYS_AHEAD = 14


def _draft_key(invitation: Invitation) -> str:
    return f"booking.draft.{invitation.pk}"


def _draft_keep(request: HttpRequest, invitation: Invitation, data: Any) -> None:
    draft = {key: str(data.get(key, ""))[:254] for key in data if _DRAFT_FIELD.fullmatch(key)}
    if any(draft.values()):
        request.session[_draft_key(invitation)] = draft


def _draft(request: HttpRequest, invitation: Invitation) -> dict[str, str] | None:
    draft = request.session.get(_draft_key(invitation))
    return draft if isinstance(draft, dict) else None


def _minutes(raw: str) -> int | None:
    try:
        hours, minutes = (int(part) for part in raw.split(":"))
    except ValueError:
        return None
    value = hours * 60 + minutes
    return value if 0 <= value <= 1440 else None


def _nearest_free_times(form: PlanForm, data: Any) -> list[dict[str, Any]]:
    """The free times nearest to the one refused: other slots that day, then the same time on the
    next days the invitation allows. Each with the query that opens the details step."""
    portal = form.portal
    try:
        spots = max(1, int(data.get("spots", "1")))
    except ValueError:
        spots = 1
    if data.get("until"):  # a range of days: no single nearby time says it well
        return []
    day = form.chosen_day()
    slot = form.slots.get(str(data.get("time", "")))
    found: list[dict[str, Any]] = []

    def offer(on: date, start: datetime, end: datetime, query: dict[str, str]) -> None:
        query = {"step": "details", "date": on.isoformat(), **query, "spots": str(spots)}
        found.append({"start": start, "end": end, "query": urlencode(query)})

    if portal.allow_slots:
        for option in selectors.slot_options(portal, form.policies, day, now=form.now):
            if option.bookable and option.free >= spots and option.slot != slot:
                offer(day, option.start, option.end, {"time": str(option.slot.pk)})
    if slot is not None:
        start_minute, end_minute = slot.start_minute, slot.start_minute + slot.duration_minutes
        same: dict[str, str] = {"time": str(slot.pk)}
    else:
        start_minute = _minutes(str(data.get("start", ""))) or 0
        end_minute = _minutes(str(data.get("end", ""))) or 0
        if end_minute == 0 and start_minute:
            end_minute = 1440
        same = {"time": CUSTOM, "start": str(data.get("start")), "end": str(data.get("end"))}
    if end_minute > start_minute:
        for offset in range(1, NEAREST_DAYS_AHEAD + 1):
            if len(found) >= NEAREST_MAX:
                break
            other = day + timedelta(days=offset)
            if other > form.rule.last:
                break
            days, _skipped = selectors.plan_days(
                portal,
                form.policies,
                first=other,
                last=other,
                start_minute=start_minute,
                end_minute=end_minute,
                now=form.now,
            )
            if (
                days
                and selectors.plan_first_short_day(
                    portal,
                    form.policies,
                    days=days,
                    start_minute=start_minute,
                    end_minute=end_minute,
                    spots=spots,
                    now=form.now,
                )
                is None
            ):
                start, end = selectors.interval(portal, other, start_minute, end_minute)
                offer(other, start, end, same)
    return found[:NEAREST_MAX]


@require_GET
def availability_panel(request: HttpRequest, portal_slug: str, token: str) -> HttpResponse:
    """The free spots of one day (htmx swaps this into the first step when the date changes)."""
    found = _invitation_or_none(portal_slug, token)
    if found is None:
        return _unavailable(request, portal_slug, token)
    if rate_hit(request, scope="booking.panel", rate=PANEL_RATE_PER_ADDRESS):
        return HttpResponse(status=429)
    _language, context = _base_context(request, found)
    policies = selectors.portal_policies(found.portal)
    initial = {key: request.GET[key] for key in ("time",) if key in request.GET}
    form = PlanForm(initial=initial, invitation=found, policies=policies)
    day = _day_param(request, form)
    return render(
        request, "booking/_availability.html", {**context, **_panel_context(found, form, day, policies)}
    )


@require_GET
def confirmation(
    request: HttpRequest, portal_slug: str, token: str, reference: str, key: str = ""
) -> HttpResponse:
    found = _invitation_or_none(portal_slug, token)
    if found is None:
        return _unavailable(request, portal_slug, token)
    booking = _booking_for_link(request, found, reference, key)
    if booking is None:
        return _unavailable(request, portal_slug, token)
    language, context = _base_context(request, found)
    payment = getattr(booking, "payment", None)
    if getattr(request, "htmx", False) and booking.status == BookingStatus.CONFIRMED:
        return HttpResponse(headers={"HX-Refresh": "true"})  # the payment went through: full page
    if booking.status != BookingStatus.CONFIRMED and payment is not None:
        # Paid portal: only the webhook confirms; this page waits for it (htmx polls, or refreshes).
        context.update(
            booking=booking,
            payment=payment,
            amount=format_amount(payment.amount, payment.currency, language),
            waiting=booking.status == BookingStatus.AWAITING_PAYMENT,
            returned_from_cancel=request.GET.get("cancelled") == "1",
        )
        template = (
            "booking/_payment_status.html"
            if getattr(request, "htmx", False)
            else "booking/payment_status.html"
        )
        return render(request, template, context)
    reservations = list(selectors.booking_reservations(booking))
    visitors: dict[int, dict[str, Any]] = {}
    for reservation in reservations:
        visitors.setdefault(
            reservation.parker_id, {"parker": reservation.parker, "plate": reservation.plate_text}
        )
    # A plate already registered to someone else at this car park: warned, not refused.
    shared = plates_held_by_others(
        found.portal.lot, {r.parker_id: r.plate_key for r in reservations if r.plate_key}
    )
    for parker_id, visitor in visitors.items():
        visitor["plate_shared"] = parker_id in shared
    context.update(
        booking=booking,
        reservations=reservations,
        first=reservations[0],
        days=sorted({r.start.astimezone(found.portal.lot.zone).date() for r in reservations}),
        visitors=list(visitors.values()),
        ways_in=access_selectors.ways_in(found.portal.lot),
        amount_paid=format_amount(payment.amount, payment.currency, language) if payment is not None else "",
        documents=_documents(booking, payment),
    )
    return render(request, "booking/confirmation.html", context)


@require_GET
def document_download(
    request: HttpRequest, portal_slug: str, token: str, reference: str, document_token: str
) -> HttpResponse:
    """A receipt, invoice or credit note, for whoever holds its link (any browser, no session).

    The link names the portal, the invitation, the booking and the document's own unguessable
    token: all four must belong together, else the same 404 as any unknown link. It keeps working
    after the invitation is revoked or the portal switched off (a receipt stays a receipt).
    """
    booking = (
        Booking.objects.select_related("portal")
        .filter(reference=reference, portal__slug=portal_slug, invitation__token=token)
        .first()
    )
    document = booking_document(booking=booking, access_token=document_token) if booking else None
    if document is None:
        return _unavailable(request)
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _documents(booking: Booking, payment: Any) -> list[dict[str, Any]]:
    return [
        {"document": document, "url": services.document_url(booking, document)}
        for document in payment_documents(payment)
    ]


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, portal_slug: str, cancel_token: str) -> HttpResponse:
    portal = selectors.get_public_portal(portal_slug=portal_slug)
    reservation = (
        selectors.get_reservation_by_cancel_token(portal=portal, cancel_token=cancel_token)
        if portal
        else None
    )
    if portal is None or reservation is None:
        return _unavailable(request, portal_slug)
    language = portal_language_activate(request, portal, reservation.language)
    context = {
        **portal_context(request, portal, language),
        "reservation": reservation,
        "error": "",
        "done": False,
    }
    if request.method == "POST":
        try:
            changed = services.reservation_cancel_by_visitor(reservation=reservation)
        except ReservationError:
            context["error"] = _("This reservation has already started and can no longer be cancelled.")
            return render(request, "booking/cancel.html", context, status=409)
        reservation.refresh_from_db()
        context["done"] = changed
    context["cancelled"] = reservation.status in (ReservationStatus.CANCELLED, ReservationStatus.EXPIRED)
    context["started"] = reservation.start <= timezone.now()
    line, refund = spot_payment(reservation)
    if line is not None:  # a paid spot: what cancelling gives back, or what is being given back
        context["refund"] = refund
        context["spot_price"] = format_amount(
            refund.amount if refund else line.amount, line.payment.currency, language
        )
    return render(request, "booking/cancel.html", context)


@require_http_methods(["GET", "POST"])
def lost_links(request: HttpRequest, portal_slug: str) -> HttpResponse:
    portal: VisitorPortal | None = selectors.get_public_portal(portal_slug=portal_slug)
    if portal is None:
        return _unavailable(request)
    language = portal_language_activate(request, portal, portal.default_language)
    context = portal_context(request, portal, language)
    form = LostLinksForm(request.POST or None)
    if request.method == "POST":
        if rate_hit(request, scope="booking.links", rate=LINKS_RATE_PER_ADDRESS):
            return _too_many(request, context)
        if form.is_valid():
            email = form.cleaned_data["email"].strip().lower()
            # Past the per-address limit the answer stays the same, but nothing more is sent.
            if not rate_hit(
                request, scope="booking.links.email", rate=LINKS_RATE_PER_EMAIL, key=f"{portal.pk}:{email}"
            ):
                services.booking_links_request(portal=portal, email=email, language=language)
            return render(
                request, "booking/lost_links.html", {**context, "sent": True, "form": LostLinksForm()}
            )
    return render(request, "booking/lost_links.html", {**context, "form": form, "sent": False})
