"""Reads that turn database rows into the decision engine's facts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q

from parkgate.access.decisions import (
    Access,
    GateFacts,
    LotFacts,
    MemberAccess,
    ReservationAccess,
    Window,
)
from parkgate.access.models import Reservation
from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker, Plate, PolicyKind

# Reservations further than this from the instant asked about do not explain anything useful.
_RESERVATION_HORIZON = timedelta(days=31)


def lot_facts(lot: Lot) -> LotFacts:
    return LotFacts(lot_id=lot.pk, timezone=lot.timezone)


def gate_facts(gate: Gate) -> GateFacts:
    return GateFacts(gate_id=gate.pk, lot_id=gate.lot_id, direction=gate.direction)


def member_access(policy: AccessPolicy) -> MemberAccess:
    return MemberAccess(
        policy_id=policy.pk,
        lot_id=policy.lot_id,
        name=policy.name,
        windows=tuple(Window(w.weekday, w.start_minute, w.end_minute) for w in policy.windows.all()),
        valid_from=policy.valid_from,
        valid_until=policy.valid_until,
    )


def reservation_access(reservation: Reservation) -> ReservationAccess:
    return ReservationAccess(
        reservation_id=reservation.pk,
        lot_id=reservation.lot_id,
        policy_id=reservation.policy_id,
        name=reservation.policy.name,
        start=reservation.start,
        end=reservation.end,
        status=reservation.status,
    )


def accesses_for_parkers(parker_ids: list[int], *, at: datetime) -> dict[int, list[Access]]:
    """Every member policy and nearby reservation of each parker, in two queries (plus windows)."""
    result: dict[int, list[Access]] = {pk: [] for pk in parker_ids}
    if not parker_ids:
        return result
    through = AccessPolicy.members.through
    links = list(
        through.objects.filter(parker_id__in=parker_ids, accesspolicy__kind=PolicyKind.MEMBER).values_list(
            "parker_id", "accesspolicy_id"
        )
    )
    policy_map = {
        p.pk: member_access(p)
        for p in AccessPolicy.objects.filter(pk__in={pid for _parker, pid in links}).prefetch_related(
            "windows"
        )
    }
    for parker_id, policy_id in links:
        result[parker_id].append(policy_map[policy_id])
    for reservation in Reservation.objects.filter(
        parker_id__in=parker_ids, end__gt=at - _RESERVATION_HORIZON, start__lt=at + _RESERVATION_HORIZON
    ).select_related("policy"):
        result[reservation.parker_id].append(reservation_access(reservation))
    return result


def accesses_for_parker(parker: Parker, *, at: datetime) -> list[Access]:
    return accesses_for_parkers([parker.pk], at=at)[parker.pk]


@dataclass(frozen=True)
class PlateMatch:
    """An access at a lot that a plate key points to."""

    parker: Parker
    access: Access
    key: str
    reservation: Reservation | None = None

    @property
    def parker_id(self) -> int:
        return self.parker.pk


# Reservations this far around the read are the ones a car at the gate can be using.
_NEARBY = timedelta(days=1)


def plate_matches(lot: Lot, keys: Iterable[str], *, at: datetime) -> list[PlateMatch]:
    """Member accesses and nearby reservations at ``lot`` whose plate is one of ``keys``.

    A reservation with its own plate matches on that plate only; one without matches the
    parker's registered plates. A member access matches the member's registered plates.
    """
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    keys_by_parker: dict[int, list[str]] = {}
    parkers: dict[int, Parker] = {}
    for plate in Plate.objects.filter(key__in=keys).select_related("parker"):
        keys_by_parker.setdefault(plate.parker_id, []).append(plate.key)
        parkers[plate.parker_id] = plate.parker
    matches: list[PlateMatch] = []
    if keys_by_parker:
        # One query: a row per (member policy at this lot, matched member, window); a policy
        # without windows still comes back once (outer join), and then grants nothing.
        rows = (
            AccessPolicy.objects.filter(lot=lot, kind=PolicyKind.MEMBER, members__in=list(keys_by_parker))
            .annotate(member_id=F("members"))
            .values_list(
                "pk",
                "member_id",
                "name",
                "valid_from",
                "valid_until",
                "windows__weekday",
                "windows__start_minute",
                "windows__end_minute",
            )
            .order_by("pk", "member_id", "windows__weekday", "windows__start_minute")
        )
        grouped: dict[tuple[int, int], tuple[tuple[Any, ...], list[Window]]] = {}
        for policy_id, member_id, name, valid_from, valid_until, weekday, start, end in rows:
            _head, windows = grouped.setdefault(
                (policy_id, member_id), ((policy_id, name, valid_from, valid_until), [])
            )
            if weekday is not None:
                windows.append(Window(weekday, start, end))
        for (_policy_id, parker_id), ((policy_id, name, valid_from, valid_until), windows) in grouped.items():
            access = MemberAccess(
                policy_id=policy_id,
                lot_id=lot.pk,
                name=name,
                windows=tuple(windows),
                valid_from=valid_from,
                valid_until=valid_until,
            )
            for key in keys_by_parker[parker_id]:
                matches.append(PlateMatch(parkers[parker_id], access, key))
    reservations = (
        Reservation.objects.filter(lot=lot, end__gt=at - _NEARBY, start__lt=at + _NEARBY)
        .filter(Q(plate_key__in=keys) | Q(plate_key="", parker_id__in=list(keys_by_parker)))
        .select_related("policy", "parker")
    )
    for reservation in reservations:
        if reservation.plate_key:
            matches.append(
                PlateMatch(
                    reservation.parker, reservation_access(reservation), reservation.plate_key, reservation
                )
            )
        else:
            for key in keys_by_parker.get(reservation.parker_id, ()):
                matches.append(
                    PlateMatch(reservation.parker, reservation_access(reservation), key, reservation)
                )
    return matches


def keypad_reservations(lot: Lot, code: str, *, at: datetime) -> list[Reservation]:
    """Reservations at ``lot`` around ``at`` whose keypad code is ``code``."""
    return list(
        Reservation.objects.filter(
            lot=lot, keypad_code=code, end__gt=at - _NEARBY, start__lt=at + _NEARBY
        ).select_related("policy", "parker")
    )


def active_gates(lot: Lot) -> list[Gate]:
    return list(Gate.objects.filter(lot=lot, is_active=True).order_by("direction", "name"))
