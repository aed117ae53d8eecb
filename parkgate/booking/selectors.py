"""Reads for the public booking flow and the bookings back office."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from parkgate.access.capacity import availability, policy_windows
from parkgate.access.decisions import local_instant
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.access.timetable import covers, day_spans
from parkgate.accounts.models import Organisation
from parkgate.booking.models import Booking, BookingNotice, BookingNoticeStatus, BookingStatus
from parkgate.core.compiled import compiled_objects
from parkgate.core.models import OutboundEmail
from parkgate.parking.models import AccessPolicy, TimetableWindow
from parkgate.portal.models import Invitation, PortalSlot, VisitorPortal

# How far ahead a visitor may book when neither the invitation nor the policies set a limit.
BOOKING_HORIZON_DAYS = 365
# The most days one booking may cover (the same time on consecutive open days).
MAX_DAYS_PER_BOOKING = 14


def _public_invitation(portal_slug: str, token: str) -> QuerySet[Invitation]:
    return (
        Invitation.objects.select_related("portal__organisation", "portal__lot")
        .filter(portal__slug=portal_slug, token=token, revoked_at__isnull=True, portal__is_active=True)
        .order_by("pk")[:1]
    )


def get_public_invitation(*, portal_slug: str, token: str) -> Invitation | None:
    """The invitation behind a public link, or None (unknown, revoked, or its portal switched off).

    Read on every step of the visitor's booking: the ORM's query, compiled once per process.
    """
    found = compiled_objects(
        "public_invitation", _public_invitation, ("-slug-", "-token-"), (portal_slug, token)
    )
    return found[0] if found else None


def get_public_portal(*, portal_slug: str) -> VisitorPortal | None:
    return (
        VisitorPortal.objects.select_related("organisation", "lot")
        .filter(slug=portal_slug, is_active=True)
        .first()
    )


def get_reservation_by_cancel_token(*, portal: VisitorPortal, cancel_token: str) -> Reservation | None:
    """A reservation made on this portal, found by its cancellation token."""
    reservation = (
        Reservation.objects.select_related("lot", "parker", "policy__organisation")
        .filter(cancel_token=cancel_token)
        .first()
    )
    if reservation is None:
        return None
    if not Booking.objects.filter(group_id=reservation.group_id, portal=portal).exists():
        return None
    return reservation


def _policies_of(portal_id: int) -> QuerySet[AccessPolicy]:
    return AccessPolicy.objects.select_related("lot").filter(portals=portal_id).order_by("pk")


def _windows_of(*policy_ids: int) -> QuerySet[TimetableWindow]:
    # In their model's order by the policy's column: ordering by the policy itself would join the
    # policies and their lots again (each model orders by its parent's name).
    return TimetableWindow.objects.filter(policy_id__in=policy_ids).order_by(
        "policy_id", "weekday", "start_minute"
    )


def portal_policies(portal: VisitorPortal) -> list[AccessPolicy]:
    """The portal's policies with their lots and timetable windows (``policy.windows.all()``).

    Read on every step of the booking: the ORM's SQL, compiled once per process (the windows' per
    number of policies), and the windows handed to each policy as prefetch_related would.
    """
    policies: list[AccessPolicy] = compiled_objects("portal_policies", _policies_of, (-6999,), (portal.pk,))
    if not policies:
        return policies
    ids = [p.pk for p in policies]
    by_policy: dict[int, list[TimetableWindow]] = {pk: [] for pk in ids}
    placeholders = tuple(range(-7000 - len(ids), -7000))
    for window in compiled_objects(f"portal_windows.{len(ids)}", _windows_of, placeholders, ids):
        by_policy[window.policy_id].append(window)
    for policy in policies:
        windows = by_policy[policy.pk]
        for window in windows:
            window.policy = policy
        # What prefetch_related("windows") leaves on each policy: an evaluated queryset.
        prefetched = policy.windows.all()
        prefetched._result_cache = windows
        prefetched._prefetch_done = True  # type: ignore[attr-defined]
        policy._prefetched_objects_cache = {"windows": prefetched}  # type: ignore[attr-defined]
    return policies


def _slots_of(portal_id: int) -> QuerySet[PortalSlot]:
    return PortalSlot.objects.filter(portal_id=portal_id).order_by("start_minute", "duration_minutes", "pk")


def portal_slots(portal: VisitorPortal) -> list[PortalSlot]:
    """The portal's slots in their model's order (start, duration), without joining the portal.

    Read on every step of the booking: the ORM's SQL, compiled once per process.
    """
    slots: list[PortalSlot] = compiled_objects("portal_slots", _slots_of, (-7001,), (portal.pk,))
    for slot in slots:
        slot.portal = portal  # as the related manager would: no query for slot.portal
    return slots


@dataclass(frozen=True)
class DateRule:
    """Which days the visitor may choose: ``fixed`` (one day), or between ``first`` and ``last``."""

    fixed: date | None
    first: date
    last: date

    @property
    def allows_several_days(self) -> bool:
        return self.fixed is None and self.last > self.first


def lot_today(portal: VisitorPortal, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(portal.lot.zone).date()


def date_rule(invitation: Invitation, policies: list[AccessPolicy], now: datetime | None = None) -> DateRule:
    today = lot_today(invitation.portal, now)
    if invitation.date is not None:
        return DateRule(fixed=invitation.date, first=invitation.date, last=invitation.date)
    first = today
    last = today + timedelta(days=BOOKING_HORIZON_DAYS)
    if invitation.date_from is not None:
        first = max(first, invitation.date_from)
    if invitation.date_until is not None:
        last = min(last, invitation.date_until)
    starts = [p.valid_from for p in policies]
    if starts and all(s is not None for s in starts):
        first = max(first, min(s for s in starts if s is not None))
    ends = [p.valid_until for p in policies]
    if ends and all(e is not None for e in ends):
        last = min(last, max(e for e in ends if e is not None))
    return DateRule(fixed=None, first=first, last=last)


def first_open_day(rule: DateRule, policies: list[AccessPolicy], now: datetime | None = None) -> date:
    """The first day of the rule on which some policy is open and not over (else the rule's first day)."""
    now = now or timezone.now()
    day = rule.first
    for _offset in range(31):
        if day > rule.last:
            break
        for policy in policies:
            if policy.valid_from is not None and day < policy.valid_from:
                continue
            if policy.valid_until is not None and day > policy.valid_until:
                continue
            if any(
                end > now for _start, end in day_spans(policy_windows(policy), zone=policy.lot.zone, day=day)
            ):
                return day
        day += timedelta(days=1)
    return rule.first


def interval(
    portal: VisitorPortal, day: date, start_minute: int, end_minute: int
) -> tuple[datetime, datetime]:
    zone = portal.lot.zone
    return local_instant(day, start_minute, zone), local_instant(day, end_minute, zone)


def covering_policies(policies: list[AccessPolicy], start: datetime, end: datetime) -> list[AccessPolicy]:
    """The portal's policies whose timetable and validity cover [start, end)."""
    return [
        p
        for p in policies
        if covers(
            policy_windows(p),
            zone=p.lot.zone,
            start=start,
            end=end,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
        )
    ]


@dataclass(frozen=True)
class SlotOption:
    slot: PortalSlot
    start: datetime
    end: datetime
    free: int  # spots free for the whole slot, across the portal's policies
    open: bool  # inside a policy's timetable and validity, and not over

    @property
    def bookable(self) -> bool:
        return self.open and self.free > 0


def slot_options(
    portal: VisitorPortal, policies: list[AccessPolicy], day: date, now: datetime | None = None
) -> list[SlotOption]:
    """Each predefined slot on ``day`` with its free spots (one availability query per policy)."""
    now = now or timezone.now()
    slots = portal_slots(portal)
    ranges = [interval(portal, day, s.start_minute, s.start_minute + s.duration_minutes) for s in slots]
    free_by_policy: dict[int, list[int]] = {}
    for policy in policies:
        result = availability(policy=policy, day=day, ranges=ranges, now=now)
        free_by_policy[policy.pk] = [free for _s, _e, free in result.ranges]
    options = []
    for index, (slot, (start, end)) in enumerate(zip(slots, ranges, strict=True)):
        covering = covering_policies(policies, start, end) if end > now else []
        free = max((free_by_policy[p.pk][index] for p in covering), default=0)
        options.append(SlotOption(slot=slot, start=start, end=end, free=free, open=bool(covering)))
    return options


@dataclass(frozen=True)
class HourOption:
    start: datetime
    end: datetime
    free: int


def hour_options(policies: list[AccessPolicy], day: date, now: datetime | None = None) -> list[HourOption]:
    """Free spots per opening hour of ``day`` (the best policy for each hour), for the custom time picker."""
    now = now or timezone.now()
    best: dict[tuple[datetime, datetime], int] = {}
    for policy in policies:
        for start, end, free in availability(policy=policy, day=day, now=now).hours:
            if end <= now:
                continue
            key = (start, end)
            best[key] = max(best.get(key, 0), free)
    return [HourOption(start=s, end=e, free=free) for (s, e), free in sorted(best.items())]


def plan_days(
    portal: VisitorPortal,
    policies: list[AccessPolicy],
    *,
    first: date,
    last: date,
    start_minute: int,
    end_minute: int,
    now: datetime,
) -> tuple[list[date], list[date]]:
    """The days from ``first`` to ``last`` a visitor can book at this time: (bookable, skipped).

    A day is skipped when no visitor policy covers the time then, or when that time is over.
    """
    days: list[date] = []
    skipped: list[date] = []
    cursor = first
    while cursor <= last:
        start, end = interval(portal, cursor, start_minute, end_minute)
        if end > now and covering_policies(policies, start, end):
            days.append(cursor)
        else:
            skipped.append(cursor)
        cursor += timedelta(days=1)
    return days, skipped


def plan_first_short_day(
    portal: VisitorPortal,
    policies: list[AccessPolicy],
    *,
    days: list[date],
    start_minute: int,
    end_minute: int,
    spots: int,
    now: datetime,
) -> tuple[date, int] | None:
    """The first day with fewer than ``spots`` free spots at this time, and how many are free.

    None when every day has room. Free spots are those of the covering policy with the most room
    (checked again under the lot lock when the booking is made).
    """
    for day in days:
        start, end = interval(portal, day, start_minute, end_minute)
        free = max(
            (
                availability(policy=p, day=day, ranges=[(start, end)], now=now).ranges[0][2]
                for p in covering_policies(policies, start, end)
            ),
            default=0,
        )
        if free < spots:
            return day, free
    return None


def choose_policy(
    policies: list[AccessPolicy], start: datetime, end: datetime, spots: int, now: datetime | None = None
) -> AccessPolicy | None:
    """The first policy that covers the time and has ``spots`` free (else the first covering).

    The capacity engine re-checks under the lot lock; this only picks where to ask.
    """
    covering = covering_policies(policies, start, end)
    if not covering:
        return None
    if len(covering) == 1:
        return covering[0]  # the answer either way: no free spots to count (the usual portal)
    local_day = start.astimezone(covering[0].lot.zone).date()
    for policy in covering:
        result = availability(policy=policy, day=local_day, ranges=[(start, end)], now=now)
        if result.ranges and result.ranges[0][2] >= spots:
            return policy
    return covering[0]


def bookings_of_invitation_count(invitation: Invitation) -> int:
    return Booking.objects.filter(
        invitation=invitation, status__in=[BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT]
    ).count()


def booking_reservations(booking: Booking) -> QuerySet[Reservation]:
    return group_reservations(booking.group_id)


def group_reservations(group_id: uuid.UUID) -> QuerySet[Reservation]:
    """A booking's reservations, by its group, with their parkers, lots and policies."""
    return (
        Reservation.objects.filter(group_id=group_id)
        .select_related("parker", "lot", "policy")
        .order_by("parker__last_name", "parker__first_name", "parker_id", "start")
    )


def upcoming_reservations_for_email(
    *, portal: VisitorPortal, email: str, now: datetime | None = None
) -> list[Reservation]:
    """Confirmed reservations made on this portal for this e-mail address that have not ended yet."""
    now = now or timezone.now()
    groups = Booking.objects.filter(portal=portal).values("group_id")
    return list(
        Reservation.objects.filter(
            group_id__in=groups,
            parker__email__iexact=email.strip(),
            status=ReservationStatus.CONFIRMED,
            end__gt=now,
        )
        .select_related("lot", "parker")
        .order_by("start")
    )


# Back office ---------------------------------------------------------------------------------


def bookings_visible_to(organisation: Organisation) -> QuerySet[Booking]:
    """Bookings on the organisation's own portals, and bookings at the lots it owns."""
    return Booking.objects.filter(Q(portal__organisation=organisation) | Q(portal__lot__owner=organisation))


def portals_visible_to(organisation: Organisation) -> QuerySet[VisitorPortal]:
    return VisitorPortal.objects.filter(
        Q(organisation=organisation) | Q(lot__owner=organisation)
    ).select_related("lot")


def get_booking_for_organisation(organisation: Organisation, booking_id: int) -> Booking:
    booking = (
        bookings_visible_to(organisation)
        .select_related("portal__organisation", "portal__lot", "invitation")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def booking_reservations_visible_to(organisation: Organisation) -> QuerySet[Reservation]:
    """Reservations made through portals the organisation may see (filters apply on top)."""
    groups = bookings_visible_to(organisation).values("group_id")
    return Reservation.objects.filter(group_id__in=groups).select_related("parker", "lot", "policy")


def get_booking_reservation_for_organisation(organisation: Organisation, reservation_id: int) -> Reservation:
    reservation = booking_reservations_visible_to(organisation).filter(pk=reservation_id).first()
    if reservation is None:
        raise Http404
    return reservation


def booking_emails(booking: Booking) -> QuerySet[OutboundEmail]:
    return OutboundEmail.objects.filter(object_type="booking.booking", object_id=str(booking.pk)).order_by(
        "created_at", "id"
    )


def get_booking_email_for_organisation(
    organisation: Organisation, email_id: int
) -> tuple[OutboundEmail, Booking]:
    email = OutboundEmail.objects.filter(pk=email_id, object_type="booking.booking").first()
    if email is None:
        raise Http404
    booking = bookings_visible_to(organisation).filter(pk=email.object_id).first()
    if booking is None:
        raise Http404
    return email, booking


def credential_state(reservation: Reservation, now: datetime | None = None) -> str:
    """Whether the reservation's ways in work: ``disabled``, ``upcoming``, ``active`` or ``ended``."""
    now = now or timezone.now()
    if reservation.status != ReservationStatus.CONFIRMED:
        return "disabled"
    if now < reservation.start:
        return "upcoming"
    if now < reservation.end:
        return "active"
    return "ended"


@dataclass(frozen=True)
class PlanPrice:
    """What a plan costs on a paid portal, VAT included (per spot and day, and in total)."""

    currency: str
    per_spot: list[tuple[date, int]]  # each day and what one spot costs that day
    total: int
    vat: int

    @property
    def same_every_day(self) -> bool:
        return len({amount for _day, amount in self.per_spot}) == 1


def plan_price(portal: VisitorPortal, plan: Any, policies: list[AccessPolicy]) -> PlanPrice | None:
    """The price shown before Proceed; None for a free portal or when no price applies.

    The same policy choice and price rule as the booking itself (payments.pricing).
    """
    from parkgate.payments.pricing import spot_price

    if not portal.payment_enabled:
        return None
    per_spot: list[tuple[date, int]] = []
    currency, vat = "", 0
    for day in plan.days:
        start, end = interval(portal, day, plan.start_minute, plan.end_minute)
        policy = choose_policy(policies, start, end, plan.spots)
        if policy is None:
            return None
        price = spot_price(policy=policy, start=start, end=end, slot_price=plan.slot_price)
        if price is None:
            return None
        currency = price.currency
        vat += price.vat_amount * plan.spots
        per_spot.append((day, price.amount))
    total = sum(amount for _day, amount in per_spot) * plan.spots
    return PlanPrice(currency=currency, per_spot=per_spot, total=total, vat=vat)


def booking_notices_unwritten(booking: Booking) -> list[BookingNotice]:
    """E-mails the booking owes that are not written yet (pending) or could not be (failed)."""
    return list(booking.notices.exclude(status=BookingNoticeStatus.QUEUED).order_by("created_at", "id"))
