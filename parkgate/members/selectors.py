"""Reads for the members' page. A member sees only what their own parker profile holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from parkgate.access.capacity import ReservationError, availability, policy_windows
from parkgate.access.decisions import (
    AccessState,
    Decision,
    MemberAccess,
    Reason,
    ReservationAccess,
    local_instant,
    sentence,
)
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.access.selectors import active_gates
from parkgate.access.timetable import day_spans
from parkgate.access.ways import remote_control_member_state
from parkgate.accounts.models import Organisation, User
from parkgate.members.models import SignedInDevice, WaitingListEntry, WaitingStatus
from parkgate.parking.models import (
    AccessPolicy,
    Gate,
    Lot,
    Parker,
    Plate,
    PolicyKind,
    SpotRelease,
    SpotReleaseStatus,
)

# How many days ahead a member sees and books.
BOOKING_DAYS = 21

# Accesses that explain nothing any more: not listed (the decision still weighs them).
_OVER = frozenset({Reason.RESERVATION_ENDED, Reason.RESERVATION_CANCELLED})


def member_parker(user: User, organisation: Organisation) -> Parker | None:
    """The member's parker profile in the organisation: the one with their e-mail address."""
    if not user.email:
        return None
    return (
        Parker.objects.filter(managed_by=organisation, email__iexact=user.email)
        .prefetch_related("plates")
        .order_by("pk")
        .first()
    )


def member_lots(parker: Parker, *, at: datetime) -> QuerySet[Lot]:
    """Lots where the member holds a member policy or a reservation around ``at``."""
    horizon = timedelta(days=31)
    return Lot.objects.filter(
        Q(policies__members=parker, policies__kind=PolicyKind.MEMBER)
        | Q(
            reservations__parker=parker,
            reservations__end__gt=at - horizon,
            reservations__start__lt=at + horizon,
        )
    ).distinct()


def get_gate_for_member(parker: Parker, gate_id: int, *, at: datetime) -> Gate:
    return get_object_or_404(
        Gate.objects.select_related("lot"), pk=gate_id, is_active=True, lot__in=member_lots(parker, at=at)
    )


def bookable_policies(parker: Parker) -> QuerySet[AccessPolicy]:
    """The member policies of the parker where each day is booked (a spot cap shared by members)."""
    return AccessPolicy.objects.filter(
        members=parker, kind=PolicyKind.MEMBER, booking_required=True
    ).select_related("lot", "organisation")


def get_bookable_policy(parker: Parker, policy_id: int) -> AccessPolicy:
    return get_object_or_404(bookable_policies(parker), pk=policy_id)


@dataclass(frozen=True)
class AccessLine:
    name: str
    kind: str  # "member" or "reservation"
    granted: bool
    text: str


@dataclass(frozen=True)
class LotAccess:
    lot: Lot
    decision: Decision
    headline: str
    lines: list[AccessLine]
    gates: list[Gate]
    bookable: list[AccessPolicy]
    shareable: list[AccessPolicy]
    shared_free: int  # colleagues' spots shared in the coming weeks that the member may book

    @property
    def granted(self) -> bool:
        return self.decision.granted


def _line(state: AccessState, lot: Lot, now: datetime) -> AccessLine:
    access = state.access
    kind = "reservation" if isinstance(access, ReservationAccess) else "member"
    assert isinstance(access, (MemberAccess, ReservationAccess))
    return AccessLine(
        name=access.name,
        kind=kind,
        granted=state.granted,
        text=sentence(state.reason, state.details, zone=lot.zone, now=now),
    )


def member_access_overview(parker: Parker, *, now: datetime) -> list[LotAccess]:
    """Per lot: the decision engine's answer now, in its own words, and each access's state."""
    bookable = list(bookable_policies(parker))
    shareable = list(shareable_policies(parker))
    overview = []
    for lot in member_lots(parker, at=now).order_by("name"):
        decision = remote_control_member_state(parker, lot, at=now)
        lines = [_line(state, lot, now) for state in decision.states if state.reason not in _OVER]
        overview.append(
            LotAccess(
                lot=lot,
                decision=decision,
                headline=sentence(decision.reason, decision.details, zone=lot.zone, now=now),
                lines=lines,
                gates=active_gates(lot) if decision.granted else [],
                bookable=[p for p in bookable if p.lot_id == lot.pk],
                shareable=[p for p in shareable if p.lot_id == lot.pk],
                shared_free=sum(1 for r in shared_spots(parker, lot, now=now) if r.reservation_id is None),
            )
        )
    return overview


@dataclass(frozen=True)
class Booking:
    """One booking of the member on a day: the whole day, or a time range of it (one group)."""

    group_id: UUID
    start: datetime
    end: datetime
    keypad_code: str
    whole_day: bool


@dataclass(frozen=True)
class BookingDay:
    day: date
    spans: list[tuple[datetime, datetime]]  # the timetable's open spans that day
    free: int  # spots free for the whole day
    hours: list[tuple[datetime, datetime, int]]  # each open hour: start, end, spots free
    bookings: list[Booking]  # the member's own bookings of that day
    waiting: WaitingListEntry | None  # the member's place on that day's waiting list
    position: int  # 1 = first in line
    past: bool  # the day is over

    @property
    def open(self) -> bool:
        """The timetable opens that day."""
        return bool(self.spans)

    @property
    def free_some_hours(self) -> int:
        """The most spots free in some hour of the day (a time range may fit when the day is full)."""
        return max((free for _s, _e, free in self.hours), default=0)

    @property
    def whole_day_booked(self) -> bool:
        return any(booking.whole_day for booking in self.bookings)


def day_bounds(policy: AccessPolicy, day: date) -> list[tuple[datetime, datetime]]:
    """The open spans of the policy's timetable on one local day (a booked day covers them all)."""
    return day_spans(policy_windows(policy), zone=policy.lot.zone, day=day)


def _hours(spans: list[tuple[datetime, datetime]]) -> str:
    return ", ".join(f"{start:%H:%M}\u2013{end:%H:%M}" for start, end in spans)


def day_range(policy: AccessPolicy, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The instants of ``start`` to ``end`` on local ``day``, inside one open span of the timetable.

    An end of 00:00 is midnight at the end of the day. Raises ReservationError, in the member's
    language, for a range that is empty or outside the opening hours.
    """
    zone = policy.lot.zone
    spans = day_bounds(policy, day)
    if not spans:
        raise ReservationError(_("The car park is closed on this day."))
    start_minute = start.hour * 60 + start.minute
    end_minute = 24 * 60 if end == time(0) else end.hour * 60 + end.minute
    if end_minute <= start_minute:
        raise ReservationError(_("The end must be after the start."))
    start_at = local_instant(day, start_minute, zone)
    end_at = local_instant(day, end_minute, zone)
    # Compared in UTC: two datetimes of one zone compare by wall time (wrong in the repeated hour).
    if not any(
        s.astimezone(UTC) <= start_at.astimezone(UTC) and end_at.astimezone(UTC) <= e.astimezone(UTC)
        for s, e in spans
    ):
        raise ReservationError(
            _("Choose a time within the opening hours of this day: %(hours)s.") % {"hours": _hours(spans)}
        )
    return start_at, end_at


def range_free(policy: AccessPolicy, day: date, span: tuple[datetime, datetime], *, now: datetime) -> int:
    """Spots free during the whole of ``span`` (what the capacity engine would count now)."""
    return availability(policy=policy, day=day, ranges=[span], now=now).ranges[0][2]


def booked_on(parker: Parker, policy: AccessPolicy, day: date) -> QuerySet[Reservation]:
    """The member's confirmed bookings of ``policy`` that start on local ``day``."""
    zone = policy.lot.zone
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return Reservation.objects.filter(
        parker=parker, policy=policy, status=ReservationStatus.CONFIRMED, start__gte=start, start__lt=end
    ).order_by("start")


def _bookings(reservations: list[Reservation], spans: list[tuple[datetime, datetime]]) -> list[Booking]:
    groups: dict[UUID, list[Reservation]] = {}
    for reservation in reservations:
        groups.setdefault(reservation.group_id, []).append(reservation)
    whole = [(s.astimezone(UTC), e.astimezone(UTC)) for s, e in spans]
    return [
        Booking(
            group_id=group_id,
            start=group[0].start,
            end=group[-1].end,
            keypad_code=group[0].keypad_code,
            whole_day=[(r.start.astimezone(UTC), r.end.astimezone(UTC)) for r in group] == whole,
        )
        for group_id, group in groups.items()
    ]


def booking_days(
    parker: Parker, policy: AccessPolicy, *, now: datetime, only: date | None = None
) -> list[BookingDay]:
    """Free spots, the member's bookings and waiting places, day by day for the coming weeks
    (or for the one day ``only``)."""
    zone = policy.lot.zone
    today = now.astimezone(zone).date()
    first = only or today
    last = only or today + timedelta(days=BOOKING_DAYS - 1)
    first_start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    last_end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    mine: dict[date, list[Reservation]] = {}
    for reservation in Reservation.objects.filter(
        parker=parker,
        policy=policy,
        status=ReservationStatus.CONFIRMED,
        start__gte=first_start,
        start__lt=last_end,
    ).order_by("start"):
        mine.setdefault(reservation.start.astimezone(zone).date(), []).append(reservation)
    waiting = list(
        WaitingListEntry.objects.filter(
            policy=policy, day__gte=first, day__lte=last, status=WaitingStatus.WAITING
        ).order_by("day", "created_at", "id")
    )
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        spans = day_bounds(policy, day)
        free = 0
        hours: list[tuple[datetime, datetime, int]] = []
        if spans:
            counted = availability(policy=policy, day=day, ranges=spans, now=now)
            free = min(f for _s, _e, f in counted.ranges)
            hours = counted.hours
        line = [w for w in waiting if w.day == day]
        own = next((w for w in line if w.parker_id == parker.pk), None)
        days.append(
            BookingDay(
                day=day,
                spans=spans,
                free=free,
                hours=hours,
                bookings=_bookings(mine.get(day, []), spans),
                waiting=own,
                position=line.index(own) + 1 if own is not None else 0,
                past=bool(spans) and spans[-1][1] <= now,
            )
        )
    return days


def shareable_policies(parker: Parker) -> QuerySet[AccessPolicy]:
    """The member policies that give the parker a spot of their own (no daily booking): shareable."""
    return AccessPolicy.objects.filter(
        members=parker, kind=PolicyKind.MEMBER, booking_required=False
    ).select_related("lot", "organisation")


def get_shareable_policy(parker: Parker, policy_id: int) -> AccessPolicy:
    return get_object_or_404(shareable_policies(parker), pk=policy_id)


@dataclass(frozen=True)
class ShareDay:
    day: date
    release: SpotRelease | None  # the member's own release of that day
    used_by: Parker | None  # the colleague who booked it
    past: bool


def share_days(parker: Parker, policy: AccessPolicy, *, now: datetime) -> list[ShareDay]:
    """The coming weeks' open days of the member's own spot: shared or not, and who uses it."""
    zone = policy.lot.zone
    today = now.astimezone(zone).date()
    releases = {
        r.day: r
        for r in SpotRelease.objects.filter(
            policy=policy,
            parker=parker,
            status=SpotReleaseStatus.RELEASED,
            day__gte=today,
            day__lt=today + timedelta(days=BOOKING_DAYS),
        ).select_related("reservation__parker")
    }
    days = []
    for offset in range(BOOKING_DAYS):
        day = today + timedelta(days=offset)
        spans = day_bounds(policy, day)
        if not spans:
            continue
        release = releases.get(day)
        booking = release.reservation if release is not None else None
        used_by = (
            booking.parker if booking is not None and booking.status == ReservationStatus.CONFIRMED else None
        )
        days.append(ShareDay(day=day, release=release, used_by=used_by, past=spans[-1][1] <= now))
    return days


def _colleague_releases(parker: Parker) -> QuerySet[SpotRelease]:
    """Spots shared by colleagues of the parker's organisation, at lots where the parker is a member."""
    lots = AccessPolicy.objects.filter(members=parker, kind=PolicyKind.MEMBER).values("lot_id")
    return (
        SpotRelease.objects.filter(
            policy__organisation_id=parker.managed_by_id,
            policy__lot_id__in=lots,
            status=SpotReleaseStatus.RELEASED,
        )
        .exclude(parker=parker)
        .select_related("policy__lot", "parker", "reservation")
    )


def shared_spots(parker: Parker, lot: Lot, *, now: datetime) -> list[SpotRelease]:
    """Colleagues' shared spots at ``lot`` in the coming weeks that are free or booked by the parker."""
    today = now.astimezone(lot.zone).date()
    spots = []
    for release in _colleague_releases(parker).filter(
        policy__lot=lot, day__gte=today, day__lt=today + timedelta(days=BOOKING_DAYS)
    ):
        booking = release.reservation
        taken = booking is not None and booking.status == ReservationStatus.CONFIRMED
        if not taken or (booking is not None and booking.parker_id == parker.pk):
            spots.append(release)
    return spots


def get_release_for_colleague(parker: Parker, release_id: int) -> SpotRelease:
    return get_object_or_404(_colleague_releases(parker), pk=release_id)


def get_member_lot(parker: Parker, lot_id: int, *, at: datetime) -> Lot:
    return get_object_or_404(member_lots(parker, at=at), pk=lot_id)


def upcoming_codes(parker: Parker, *, now: datetime) -> list[Reservation]:
    """The member's confirmed reservations not over yet: each one has its keypad code."""
    return list(
        Reservation.objects.filter(parker=parker, status=ReservationStatus.CONFIRMED, end__gt=now)
        .select_related("lot", "policy")
        .order_by("start")[:10]
    )


def plate_owners_elsewhere(parker: Parker, key: str) -> bool:
    """True when another parker profile already registered this plate."""
    return Plate.objects.filter(key=key).exclude(parker=parker).exists()


def signed_in_devices(user: User, *, now: datetime) -> list[SignedInDevice]:
    """The user's devices still signed in (a device signed out or expired waits for housekeeping)."""
    live = Session.objects.filter(expire_date__gt=now).values("session_key")
    return list(SignedInDevice.objects.filter(user=user, session_key__in=live))
