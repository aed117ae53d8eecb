"""Reads for the back office: reservations, the dashboard and the audit log, all tenant-scoped."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from parkgate.access.capacity import active_q
from parkgate.access.decisions import local_instant
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.accounts.models import Organisation, User
from parkgate.core.models import AuditEvent
from parkgate.core.text import fold
from parkgate.parking.models import Allocation, Lot, Parker
from parkgate.parking.plates import plate_key
from parkgate.parking.selectors import lots_visible_to

UTC = zoneinfo.ZoneInfo("UTC")


def reservations_of(organisation: Organisation) -> QuerySet[Reservation]:
    """Reservations that consume the organisation's spots."""
    return Reservation.objects.filter(organisation=organisation).select_related("parker", "lot", "policy")


def get_reservation_for_organisation(organisation: Organisation, reservation_id: int) -> Reservation:
    return get_object_or_404(reservations_of(organisation), pk=reservation_id)


def _local_days(lots: list[Lot], first: date | None, last: date | None) -> Q:
    """Reservations starting within local days [first, last] of their own lot's time zone."""
    condition = Q(pk__in=[])
    for lot in lots:
        per_lot = Q(lot=lot)
        if first is not None:
            per_lot &= Q(start__gte=local_instant(first, 0, lot.zone))
        if last is not None:
            per_lot &= Q(start__lt=local_instant(last, 1440, lot.zone))
        condition |= per_lot
    return condition


def reservations_filtered(organisation: Organisation, filters: dict[str, Any]) -> QuerySet[Reservation]:
    reservations = reservations_of(organisation)
    if filters.get("lot"):
        reservations = reservations.filter(lot=filters["lot"])
    if filters.get("policy"):
        reservations = reservations.filter(policy=filters["policy"])
    if filters.get("status"):
        reservations = reservations.filter(status=filters["status"])
    first, last = filters.get("date_from"), filters.get("date_until")
    if first or last:
        lots = [filters["lot"]] if filters.get("lot") else list(lots_visible_to(organisation))
        reservations = reservations.filter(_local_days(lots, first, last))
    query = (filters.get("q") or "").strip()
    if query:
        by_name = Q()
        for word in fold(query).split():
            by_name &= Q(parker__search_text__contains=word)
        key = plate_key(query)
        by_plate = (
            (Q(plate_key__contains=key) | Q(parker__plates__key__contains=key)) if key else Q(pk__in=[])
        )
        matching = (
            Reservation.objects.filter(organisation=organisation).filter(by_name | by_plate).values("pk")
        )
        reservations = reservations.filter(pk__in=matching)
    return reservations.order_by("-start", "-id")


def reservations_of_user(user: User, organisation: Organisation) -> QuerySet[Reservation]:
    """A parker's own reservations: the parker profiles of the organisation with their e-mail."""
    parkers = Parker.objects.filter(managed_by=organisation, email__iexact=user.email).exclude(email="")
    return (
        Reservation.objects.filter(parker__in=parkers)
        .select_related("lot", "policy", "parker")
        .order_by("-start", "-id")
    )


@dataclass(frozen=True)
class LotToday:
    lot: Lot
    owned: bool
    allocated: int  # spots the organisation holds in the lot
    occupied_now: int  # of those, reserved at this instant
    reservations_today: int
    upcoming: list[Reservation]

    @property
    def free_now(self) -> int:
        return max(0, self.allocated - self.occupied_now)


def dashboard_lots(organisation: Organisation, *, now: datetime | None = None) -> list[LotToday]:
    """For each lot the organisation owns or holds spots in: its spots, free now, today's reservations."""
    now = now or timezone.now()
    lots = list(lots_visible_to(organisation).order_by("name"))
    allocations = dict(
        Allocation.objects.filter(organisation=organisation, lot__in=lots).values_list("lot_id", "spots")
    )
    ours = Reservation.objects.filter(organisation=organisation, lot__in=lots)
    occupied = dict(
        ours.filter(active_q(now), start__lte=now, end__gt=now)
        .values("lot_id")
        .annotate(n=Count("id"))
        .values_list("lot_id", "n")
    )
    result = []
    for lot in lots:
        today = now.astimezone(lot.zone).date()
        day_start, day_end = local_instant(today, 0, lot.zone), local_instant(today, 1440, lot.zone)
        todays = ours.filter(lot=lot, start__lt=day_end, end__gt=day_start).exclude(
            status__in=[ReservationStatus.CANCELLED, ReservationStatus.EXPIRED]
        )
        upcoming = list(todays.filter(end__gt=now).select_related("parker", "policy").order_by("start")[:5])
        result.append(
            LotToday(
                lot=lot,
                owned=lot.owner_id == organisation.pk,
                allocated=allocations.get(lot.pk, 0),
                occupied_now=occupied.get(lot.pk, 0),
                reservations_today=todays.count(),
                upcoming=upcoming,
            )
        )
    return result


def organisation_zone(organisation: Organisation) -> zoneinfo.ZoneInfo:
    """The time zone the organisation's audit log is shown in: that of its first lot, else UTC."""
    lot = lots_visible_to(organisation).order_by("pk").first()
    return lot.zone if lot is not None else UTC


def audit_events(
    organisation: Organisation,
    *,
    action_prefix: str = "",
    first: date | None = None,
    last: date | None = None,
    zone: zoneinfo.ZoneInfo = UTC,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organisation=organisation).select_related("actor")
    if action_prefix:
        events = events.filter(action__startswith=action_prefix.strip())
    if first is not None:
        events = events.filter(created_at__gte=local_instant(first, 0, zone))
    if last is not None:
        events = events.filter(created_at__lt=local_instant(last + timedelta(days=1), 0, zone))
    return events


def audit_action_codes(organisation: Organisation) -> list[str]:
    return list(
        AuditEvent.objects.filter(organisation=organisation)
        .values_list("action", flat=True)
        .distinct()
        .order_by("action")[:200]
    )


def lot_in_use_now(lot: Lot, *, now: datetime | None = None) -> dict[int, int]:
    """For the lot owner: how many spots each organisation is using right now (active reservations)."""
    now = now or timezone.now()
    return dict(
        Reservation.objects.filter(active_q(now), lot=lot, start__lte=now, end__gt=now)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .values_list("organisation_id", "n")
    )
