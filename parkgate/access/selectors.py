"""Reads that turn database rows into the decision engine's facts."""

from __future__ import annotations

from datetime import datetime, timedelta

from parkgate.access.decisions import (
    Access,
    GateFacts,
    LotFacts,
    MemberAccess,
    ReservationAccess,
    Window,
)
from parkgate.access.models import Reservation
from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker, PolicyKind

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
    """Every member policy and nearby reservation (any status) of each parker, in four queries.

    Member policies by id, then reservations by start; reservations further than 31 days from
    ``at`` are left out.
    """
    result: dict[int, list[Access]] = {pk: [] for pk in parker_ids}
    if not parker_ids:
        return result
    through = AccessPolicy.members.through
    links = list(
        through.objects.filter(parker_id__in=parker_ids, accesspolicy__kind=PolicyKind.MEMBER)
        .order_by("parker_id", "accesspolicy_id")  # the same facts in the same order: the same answer
        .values_list("parker_id", "accesspolicy_id")
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
