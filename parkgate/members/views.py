"""The members' page at /me/: a parker's phone is their key. Views parse, call one service, render."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from parkgate.access.capacity import CapacityFull, ReservationError
from parkgate.access.models import AccessEvent
from parkgate.access.ways import remote_control_open, remote_control_rate_ok
from parkgate.accounts.models import Role
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.members import forms, selectors, services
from parkgate.parking.models import AccessPolicy, Parker


def _parker(request: TenantRequest) -> Parker:
    parker = selectors.member_parker(request.user, request.organisation)
    if parker is None:
        raise Http404
    return parker


def _context(request: TenantRequest, tab: str, **extra: object) -> dict[str, object]:
    """What every members' page shows, in the time zone of the member's car park."""
    parker = extra.get("parker")
    lot = selectors.member_lots(parker, at=timezone.now()).first() if isinstance(parker, Parker) else None
    return {
        "tab": tab,
        "rendered_at": timezone.now(),
        "zone": lot.timezone if lot is not None else settings.TIME_ZONE,
        **extra,
    }


@never_cache
@require_role(Role.PARKER)
@require_GET
def home(request: TenantRequest) -> HttpResponse:
    """My access: per lot, the decision engine's answer now, each access, and the gates to open."""
    now = timezone.now()
    parker = selectors.member_parker(request.user, request.organisation)
    if parker is None:
        return render(request, "members/no_profile.html", _context(request, "access"))
    context = _context(
        request,
        "access",
        parker=parker,
        lots=selectors.member_access_overview(parker, now=now),
        codes=selectors.upcoming_codes(parker, now=now),
    )
    attempt = request.GET.get("attempt", "")
    if attempt.isdigit():
        context["attempt"] = AccessEvent.objects.filter(pk=int(attempt), parker=parker).first()
    return render(request, "members/home.html", context)


@never_cache
@require_role(Role.PARKER)
@require_POST
def gate_open(request: TenantRequest, gate_id: int) -> HttpResponse:
    """Open a gate through the virtual remote control's own service, rate limit and messages."""
    parker = _parker(request)
    gate = selectors.get_gate_for_member(parker, gate_id, at=timezone.now())
    if not remote_control_rate_ok(parker=parker):
        message = _("Too many attempts. Wait a minute, then try again.")
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "access/_open_result.html", {"error": message, "gate": gate})
        messages.error(request, message)
        return redirect("members:home")
    event = remote_control_open(gate=gate, parker=parker)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "access/_open_result.html", {"attempt": event, "gate": gate})
    return redirect(f"{reverse('members:home')}?attempt={event.pk}")


@never_cache
@require_role(Role.PARKER)
@require_GET
def book(request: TenantRequest, policy_id: int) -> HttpResponse:
    """Book my day: free spots per day for the coming weeks, my bookings, my waiting places."""
    parker = _parker(request)
    policy = selectors.get_bookable_policy(parker, policy_id)
    days = selectors.booking_days(parker, policy, now=timezone.now())
    context = _context(request, "access", parker=parker, policy=policy, days=days)
    return render(request, "members/book.html", context)


@never_cache
@require_role(Role.PARKER)
def book_day(request: TenantRequest, policy_id: int, day: str) -> HttpResponse:
    """One day: free spots per hour, a time range to book (or wait for), my bookings of the day.

    GET shows the day (with ``start`` and ``end``: the spots free for that range); POST books the
    whole day or the range, joins or leaves the waiting list, or cancels a booking.
    """
    parker = _parker(request)
    policy = selectors.get_bookable_policy(parker, policy_id)
    chosen = _parse_day(day)
    now = timezone.now()
    today = now.astimezone(policy.lot.zone).date()
    in_range = today <= chosen < today + timedelta(days=selectors.BOOKING_DAYS)
    if request.method == "GET":
        if not in_range:
            raise Http404
        asked = request.GET if "start" in request.GET or "end" in request.GET else None
        form = forms.DayRangeForm(asked, policy=policy, day=chosen)
        return _day_page(request, parker, policy, chosen, form)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    back_to_day = request.POST.get("back") == "day"
    page = (
        redirect("members:book_day", policy_id=policy.pk, day=chosen.isoformat())
        if back_to_day and in_range
        else redirect("members:book", policy_id=policy.pk)
    )
    if not in_range:
        messages.error(request, _("Choose a day of the coming three weeks."))
        return page
    action = request.POST.get("action", "")
    language = translation.get_language() or settings.LANGUAGE_CODE
    span = None
    if action in ("book", "wait") and ("start" in request.POST or "end" in request.POST):
        form = forms.DayRangeForm(request.POST, policy=policy, day=chosen)
        if not form.is_valid():
            return _day_page(request, parker, policy, chosen, form, status=400)
        span = form.span
    try:
        if action in ("book", "wait"):
            outcome = services.member_day_book(
                parker=parker,
                policy=policy,
                day=chosen,
                span=span,
                actor=request.user,
                language=language,
                wait_if_full=action == "wait",
            )
            if outcome.waiting is not None:
                messages.success(
                    request,
                    _("This day is full: you are on the waiting list. We will e-mail you if a spot frees up.")
                    if span is None
                    else _(
                        "No spot is free for this whole time: you are on the waiting list. "
                        "We will e-mail you if a spot frees up."
                    ),
                )
            else:
                messages.success(request, _("Your spot is booked."))
        elif action == "cancel":
            services.member_day_cancel(
                parker=parker, policy=policy, day=chosen, group=_group(request), actor=request.user
            )
            messages.success(request, _("Your booking is cancelled."))
        elif action == "leave":
            if services.waiting_list_leave(parker=parker, policy=policy, day=chosen):
                messages.success(request, _("You left the waiting list."))
        else:
            messages.error(request, _("Unknown action."))
    except CapacityFull:
        if span is None:
            messages.error(request, _("This day is full. Join the waiting list to get the next free spot."))
        else:
            messages.error(
                request,
                _("No spot is free for this whole time. Join the waiting list to get the next free spot."),
            )
        if span is not None:
            return redirect(
                f"{reverse('members:book_day', args=[policy.pk, chosen.isoformat()])}?"
                + urlencode({"start": request.POST["start"], "end": request.POST["end"]})
            )
    except ReservationError as error:
        messages.error(request, str(error.message))
    return page


def _group(request: HttpRequest) -> UUID | None:
    """The booking a cancel names (a group of reservations); none: every booking of the day."""
    try:
        return UUID(request.POST["group"])
    except (KeyError, ValueError):
        return None


def _day_page(
    request: TenantRequest,
    parker: Parker,
    policy: AccessPolicy,
    day: date,
    form: forms.DayRangeForm,
    *,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    [booking_day] = selectors.booking_days(parker, policy, now=now, only=day)
    if not form.is_bound and booking_day.spans:
        first, last = booking_day.spans[0]
        form.initial = {"start": first.time(), "end": last.time()}
    range_free = None
    if form.is_bound and form.is_valid():
        range_free = selectors.range_free(policy, day, form.span, now=now)
    context = _context(
        request,
        "access",
        parker=parker,
        policy=policy,
        d=booking_day,
        form=form,
        range_free=range_free,
    )
    return render(request, "members/book_day.html", context, status=status)


@never_cache
@require_role(Role.PARKER)
def plates(request: TenantRequest) -> HttpResponse:
    """My plates: add (the one plate rule, a warning when someone else has it too) and remove."""
    parker = _parker(request)
    error = ""
    typed = ""
    if request.method == "POST":
        typed = request.POST.get("plate", "")[:100]
        try:
            added = services.member_plate_add(parker=parker, text=typed, actor=request.user)
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            messages.success(request, _("Plate %(plate)s added.") % {"plate": added.plate.text})
            if added.elsewhere:
                messages.warning(
                    request,
                    _(
                        "This plate is also registered to someone else. If it is your car, tell your "
                        "organisation so the cameras know who is driving."
                    ),
                )
            return redirect("members:plates")
    context = _context(
        request,
        "plates",
        parker=parker,
        plates=list(parker.plates.all()),
        codes=selectors.upcoming_codes(parker, now=timezone.now()),
        error=error,
        typed=typed,
    )
    return render(request, "members/plates.html", context, status=400 if error else 200)


@never_cache
@require_role(Role.PARKER)
@require_POST
def plate_remove(request: TenantRequest, plate_id: int) -> HttpResponse:
    parker = _parker(request)
    plate = get_object_or_404(parker.plates.all(), pk=plate_id)
    services.member_plate_remove(parker=parker, plate=plate, actor=request.user)
    messages.success(request, _("Plate %(plate)s removed.") % {"plate": plate.text})
    return redirect("members:plates")


@never_cache
@require_role(Role.PARKER)
def device(request: TenantRequest) -> HttpResponse:
    """This device: stay signed in for weeks, or sign out the other devices."""
    if request.method == "POST":
        if request.POST.get("action") == "sign_out_others":
            count = services.devices_sign_out_others(request=request, user=request.user)
            messages.success(request, _("Signed out of %(count)d other sessions.") % {"count": count})
        else:
            remember = request.POST.get("remember") == "on"
            services.device_remember(request=request, user=request.user, remember=remember)
            if remember:
                messages.success(request, _("This device stays signed in for 90 days."))
            else:
                messages.success(request, _("This device signs out when the browser closes."))
        return redirect("members:device")
    devices = selectors.signed_in_devices(request.user, now=timezone.now())
    current = request.session.session_key
    context = _context(
        request,
        "device",
        parker=selectors.member_parker(request.user, request.organisation),
        devices=devices,
        current=current,
        remembered=any(d.remembered and d.session_key == current for d in devices),
    )
    return render(request, "members/device.html", context)


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: installable on the home screen, opening on the members' page."""
    home = reverse("members:home")
    response = JsonResponse(
        {
            "name": "Parkgate",
            "short_name": "Parkgate",
            "description": _("My parking: my access, open the gate, book my day."),
            "start_url": home,
            "scope": home,
            "display": "standalone",
            "background_color": "#f3f5f8",
            "theme_color": "#1b2330",
            "lang": translation.get_language() or settings.LANGUAGE_CODE,
            "icons": [
                {"src": static("members/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("members/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": static("parkgate/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        }
    )
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, a static file served under /me/ so that its scope is the members' page."""
    path = finders.find("members/sw.js")
    if not path:
        raise Http404
    with open(str(path), encoding="utf-8") as handle:
        body = handle.read()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("members:home")
    response["Cache-Control"] = "no-cache"  # a new version is picked up on the next visit
    return response


def _parse_day(day: str) -> date:
    """The day named in the address (an ISO date), else 404."""
    try:
        return date.fromisoformat(day)
    except ValueError as error:
        raise Http404 from error


def _day_in_range(day: str, zone_today: date) -> date:
    chosen = _parse_day(day)
    if not zone_today <= chosen < zone_today + timedelta(days=selectors.BOOKING_DAYS):
        raise Http404
    return chosen


@never_cache
@require_role(Role.PARKER)
@require_GET
def share(request: TenantRequest, policy_id: int) -> HttpResponse:
    """Share my spot: the days I am away, and who uses my spot on each."""
    parker = _parker(request)
    policy = selectors.get_shareable_policy(parker, policy_id)
    days = selectors.share_days(parker, policy, now=timezone.now())
    context = _context(request, "access", parker=parker, policy=policy, days=days)
    return render(request, "members/share.html", context)


@never_cache
@require_role(Role.PARKER)
@require_POST
def share_day(request: TenantRequest, policy_id: int, day: str) -> HttpResponse:
    parker = _parker(request)
    policy = selectors.get_shareable_policy(parker, policy_id)
    chosen = _day_in_range(day, timezone.now().astimezone(policy.lot.zone).date())
    try:
        if request.POST.get("action") == "take_back":
            services.spot_take_back(parker=parker, policy=policy, day=chosen)
            messages.success(request, _("Your spot is yours again on this day."))
        else:
            services.spot_share(parker=parker, policy=policy, day=chosen)
            messages.success(request, _("Your spot is shared: a colleague may book it for this day."))
    except ReservationError as error:
        messages.error(request, str(error.message))
    return redirect("members:share", policy_id=policy.pk)


@never_cache
@require_role(Role.PARKER)
@require_GET
def shared(request: TenantRequest, lot_id: int) -> HttpResponse:
    """Spots my colleagues shared at a car park: book one for its day."""
    parker = _parker(request)
    now = timezone.now()
    lot = selectors.get_member_lot(parker, lot_id, at=now)
    spots = selectors.shared_spots(parker, lot, now=now)
    context = _context(request, "access", parker=parker, lot=lot, spots=spots)
    return render(request, "members/shared.html", context)


@never_cache
@require_role(Role.PARKER)
@require_POST
def shared_spot(request: TenantRequest, release_id: int) -> HttpResponse:
    parker = _parker(request)
    release = selectors.get_release_for_colleague(parker, release_id)
    try:
        if request.POST.get("action") == "cancel":
            services.shared_spot_cancel(release=release, parker=parker, actor=request.user)
            messages.success(request, _("Your booking is cancelled."))
        else:
            services.shared_spot_book(
                release=release,
                parker=parker,
                actor=request.user,
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
            messages.success(request, _("Your spot is booked."))
    except ReservationError as error:
        messages.error(request, str(error.message))
    return redirect("members:shared", lot_id=release.policy.lot_id)
