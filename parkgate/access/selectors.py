"""Reads that turn database rows into the decision engine's facts."""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q

from parkgate.access.decisions import (
    Access,
    GateFacts,
    LotFacts,
    MemberAccess,
    Reason,
    ReservationAccess,
    Window,
    details_from_json,
    sentence,
)
from parkgate.access.matching import PlateMatch
from parkgate.access.models import AccessEvent, AccessMethod, Reservation
from parkgate.parking.models import (
    AccessPolicy,
    Gate,
    Lot,
    Parker,
    Plate,
    PolicyKind,
    SpotRelease,
    SpotReleaseStatus,
    TimetableWindow,
)

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
        booking_required=policy.booking_required,
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
    """Every member policy and nearby reservation (any status) of each parker, in five queries.

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
    shared = shared_days_of([parker for parker, _policy in links], at=at)
    for parker_id, policy_id in links:
        access = policy_map[policy_id]
        days = shared.get((parker_id, policy_id))
        result[parker_id].append(dataclasses.replace(access, shared_days=days) if days else access)
    for reservation in Reservation.objects.filter(
        parker_id__in=parker_ids, end__gt=at - _RESERVATION_HORIZON, start__lt=at + _RESERVATION_HORIZON
    ).select_related("policy"):
        result[reservation.parker_id].append(reservation_access(reservation))
    return result


def shared_days_of(parker_ids: Iterable[int], *, at: datetime) -> dict[tuple[int, int], frozenset[date]]:
    """The days around ``at`` each member shared their spot, per (parker, policy)."""
    ids = set(parker_ids)
    if not ids:
        return {}
    found: dict[tuple[int, int], set[date]] = {}
    day = at.date()
    for parker_id, policy_id, shared_day in SpotRelease.objects.filter(
        parker_id__in=ids,
        status=SpotReleaseStatus.RELEASED,
        day__gte=day - timedelta(days=2),
        day__lte=day + timedelta(days=2),
    ).values_list("parker_id", "policy_id", "day"):
        found.setdefault((parker_id, policy_id), set()).add(shared_day)
    return {key: frozenset(days) for key, days in found.items()}


def accesses_for_parker(parker: Parker, *, at: datetime) -> list[Access]:
    return accesses_for_parkers([parker.pk], at=at)[parker.pk]


# Reservations this far around the read are the ones a car at the gate can be using.
_NEARBY = timedelta(days=1)
# A plate read also finds reservations starting this far ahead: a visitor a day (or days) early is
# told when their booking starts, not that they are unknown. Keypad codes stay within _NEARBY: a
# code is unique only among neighbouring reservations.
_AHEAD = timedelta(days=8)


def _aware(value: datetime) -> datetime:
    # SQLite hands raw datetimes back naive (stored in UTC); PostgreSQL hands them back aware.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def plate_matches(lot: Lot, keys: Iterable[str], *, at: datetime) -> list[PlateMatch]:
    """Member accesses and nearby (or coming) reservations at ``lot`` whose plate is one of ``keys``.

    A reservation with its own plate matches on that plate only; one without matches the
    parker's registered plates. A member access matches the member's registered plates.

    This runs on every plate read, before the gate command, so it is two hand-written queries:
    the ORM's query building costs more CPU than the database does here (see bench/gate_latency.py).
    A third (the days members shared their spot) runs only when a member policy matched.
    """
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    q = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(keys))
    plate, members = Plate._meta.db_table, AccessPolicy.members.through._meta.db_table
    policy, window = AccessPolicy._meta.db_table, TimetableWindow._meta.db_table
    keys_by_parker: dict[int, list[str]] = {}
    # (policy, member) -> (policy row, windows); a policy without windows grants nothing.
    grouped: dict[tuple[int, int], tuple[tuple[Any, ...], list[Window]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pl.parker_id, pl.{q('key')}, ap.id, ap.name, ap.valid_from, ap.valid_until,"  # noqa: S608
            f" ap.booking_required, w.weekday, w.start_minute, w.end_minute"
            f" FROM {q(plate)} pl"
            f" LEFT JOIN {q(members)} m ON m.parker_id = pl.parker_id"
            f" LEFT JOIN {q(policy)} ap ON ap.id = m.accesspolicy_id AND ap.lot_id = %s AND ap.kind = %s"
            f" LEFT JOIN {q(window)} w ON w.policy_id = ap.id"
            f" WHERE pl.{q('key')} IN ({marks})"
            f" ORDER BY ap.id, pl.parker_id, w.weekday, w.start_minute",
            [lot.pk, PolicyKind.MEMBER.value, *keys],
        )
        for (
            parker_id,
            key,
            policy_id,
            name,
            valid_from,
            valid_until,
            booking_required,
            weekday,
            start,
            end,
        ) in cursor.fetchall():
            parker_keys = keys_by_parker.setdefault(parker_id, [])
            if key not in parker_keys:
                parker_keys.append(key)
            if policy_id is None:
                continue
            _row, windows = grouped.setdefault(
                (policy_id, parker_id),
                ((policy_id, name, valid_from, valid_until, bool(booking_required)), []),
            )
            if weekday is not None and Window(weekday, start, end) not in windows:
                windows.append(Window(weekday, start, end))
        reservation = Reservation._meta.db_table
        adapt = connection.ops.adapt_datetimefield_value
        parker_ids = list(keys_by_parker)
        by_parker = f" OR (r.plate_key = '' AND r.parker_id IN ({', '.join(['%s'] * len(parker_ids))}))"
        cursor.execute(
            f"SELECT r.id, r.parker_id, r.policy_id, ap.name, r.start, r.{q('end')}, r.status, r.plate_key"  # noqa: S608
            f" FROM {q(reservation)} r JOIN {q(policy)} ap ON ap.id = r.policy_id"
            f" WHERE r.lot_id = %s AND r.{q('end')} > %s AND r.start < %s"
            f" AND (r.plate_key IN ({marks}){by_parker if parker_ids else ''})"
            f" ORDER BY r.start, r.id",
            [lot.pk, adapt(at - _NEARBY), adapt(at + _AHEAD), *keys, *parker_ids],
        )
        reservation_rows = cursor.fetchall()
    shared = shared_days_of({parker_id for _policy, parker_id in grouped}, at=at)
    matches: list[PlateMatch] = []
    for (_policy_id, parker_id), (
        (policy_id, name, valid_from, valid_until, booking_required),
        windows,
    ) in grouped.items():
        access = MemberAccess(
            policy_id=policy_id,
            lot_id=lot.pk,
            name=name,
            windows=tuple(windows),
            valid_from=valid_from,
            valid_until=valid_until,
            booking_required=booking_required,
            shared_days=shared.get((parker_id, policy_id), frozenset()),
        )
        matches += [PlateMatch(parker_id, access, key) for key in keys_by_parker[parker_id]]
    for reservation_id, parker_id, policy_id, name, start, end, status, reservation_key in reservation_rows:
        booking = ReservationAccess(
            reservation_id=reservation_id,
            lot_id=lot.pk,
            policy_id=policy_id,
            name=name,
            start=_aware(start),
            end=_aware(end),
            status=status,
        )
        found = [reservation_key] if reservation_key else keys_by_parker.get(parker_id, [])
        matches += [PlateMatch(parker_id, booking, key, reservation_id) for key in found]
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


def ways_in(lot: Lot) -> tuple[str, ...]:
    """The ways into a lot that a visitor's reservation opens, from the lot's working equipment.

    Every reservation carries a remote control link, its plate and a keypad code; the e-mail and the
    confirmation page promise only what the lot can honour: the remote control when it has an
    active gate, the camera and the keypad when an active one stands at an active gate.
    """
    # One row per active gate and camera and keypad at it (a handful): one query, cheap to build,
    # because the e-mail worker asks for every confirmation.
    rows = list(
        Gate.objects.filter(lot=lot, is_active=True)
        .order_by()
        .values_list("cameras__is_active", "keypads__is_active")
    )
    found = (
        (bool(rows), AccessMethod.REMOTE_CONTROL),
        (any(camera for camera, _keypad in rows), AccessMethod.ANPR),
        (any(keypad for _camera, keypad in rows), AccessMethod.KEYPAD),
    )
    return tuple(method for present, method in found if present)


def plates_held_by_others(lot: Lot, plates: dict[int, str]) -> set[int]:
    """Of ``{parker id: plate key}``, the parkers whose plate is registered to SOMEONE ELSE of the
    lot's organisations (its owner and every organisation with spots there): the camera would
    match both people, so the booker is warned and the control room search shows both."""
    keys = {key for key in plates.values() if key}
    if not keys:
        return set()
    organisations = set(lot.allocations.values_list("organisation_id", flat=True)) | {lot.owner_id}
    holders: dict[str, set[int]] = {}
    for key, parker_id in (
        Plate.objects.filter(key__in=keys)
        .filter(Q(parker__managed_by_id__in=organisations) | Q(parker__organisation_id__in=organisations))
        .values_list("key", "parker_id")
    ):
        holders.setdefault(key, set()).add(parker_id)
    return {parker_id for parker_id, key in plates.items() if holders.get(key, set()) - {parker_id}}


def event_sentence(event: AccessEvent, zone: zoneinfo.ZoneInfo) -> str:
    """An attempt's decision in the reader's language (the stored message is in the language of the
    moment it happened, often a device's request with no language)."""
    try:
        reason = Reason(event.reason)
    except ValueError:
        return event.message
    details = details_from_json((event.data or {}).get("decision") or {})
    try:
        return sentence(reason, details, zone=zone, now=event.requested_at)
    except (KeyError, TypeError, ValueError):
        return event.message
