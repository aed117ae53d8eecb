"""The capacity engine: create reservations without ever overselling or refusing while spots remain.

The contract (small on purpose, see docs/architecture.md):

* Limits hold at every instant of a reservation's [start, end): the number of active reservations
  of a policy never exceeds its spot cap, and the number of active reservations of an organisation
  in a lot never exceeds its allocation there. 09:00-13:00 and 13:00-17:00 do not overlap.
* Active means confirmed, or held while its hold has not expired.
* Every limit, and the keypad-code uniqueness rule, lives inside one lot, so the lot row is the
  lock. ``reservations_create`` locks the lots it touches in primary-key order (no deadlocks), late,
  once, then re-reads and re-checks inside the lock, then writes, all in one transaction.
  PostgreSQL: ``SELECT ... FOR UPDATE`` under READ COMMITTED with a lock timeout that becomes a
  "please try again" answer. SQLite: transactions start IMMEDIATE (see settings), which
  serialises writers.
* Releasing capacity (cancel, expire) needs no lot lock.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parkgate.access.decisions import Window
from parkgate.access.models import Occupancy, Reservation, ReservationSource, ReservationStatus
from parkgate.access.timetable import covers, day_spans
from parkgate.accounts.models import User
from parkgate.core.audit import audit_log
from parkgate.core.compiled import compiled_sql
from parkgate.core.errors import ParkgateError
from parkgate.parking.models import AccessPolicy, Allocation, Lot, Parker
from parkgate.parking.plates import plate_key

LOCK_TIMEOUT_MS = 3000
TOKEN_BYTES = 24  # 192 bits


class ReservationError(ParkgateError):
    """A reservation cannot be made or changed; ``message`` is for the user, in their language."""

    code = "invalid"

    def __init__(self, message: Any, *, index: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.index = index  # which request of a batch, when it is about one


class CapacityFull(ReservationError):
    code = "full"


class CapacityBusy(ReservationError):
    code = "busy"


@dataclass(frozen=True)
class ReservationRequest:
    parker: Parker
    policy: AccessPolicy
    start: datetime
    end: datetime
    plate_text: str = ""
    language: str = "en"


@dataclass
class _Profile:
    """A step function: how many reservations are active at each instant.

    Kept as distinct intervals with their counts: a day of a busy lot has thousands of reservations
    but a handful of distinct times (the portal's slots), so a sweep costs the same on the
    10,000th booking of the day as on the first (bench/booking_http.py --existing).
    """

    intervals: dict[tuple[datetime, datetime], int] = field(default_factory=dict)

    def add(self, start: datetime, end: datetime, count: int = 1) -> None:
        # UTC: datetimes sharing a zone compare by wall time, wrong in the repeated autumn hour.
        key = (start.astimezone(UTC), end.astimezone(UTC))
        self.intervals[key] = self.intervals.get(key, 0) + count

    def peak(self, start: datetime, end: datetime) -> int:
        """The largest number of intervals active together at some instant of [start, end)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        events: list[tuple[datetime, int]] = []
        for (s, e), count in self.intervals.items():
            if s < end and e > start:
                events.append((max(s, start), count))
                events.append((min(e, end), -count))
        # Ends sort before starts at the same instant: [09:00, 13:00) and [13:00, 17:00) never meet.
        events.sort(key=lambda item: (item[0], item[1]))
        total = best = 0
        for _instant, delta in events:
            total += delta
            best = max(best, total)
        return best


def active_q(now: datetime) -> Q:
    return Q(status=ReservationStatus.CONFIRMED) | Q(status=ReservationStatus.HELD, hold_expires_at__gt=now)


def policy_windows(policy: AccessPolicy) -> tuple[Window, ...]:
    return tuple(Window(w.weekday, w.start_minute, w.end_minute) for w in policy.windows.all())


# The statements run under the lots' lock on every reservation, as the ORM compiles them, once per
# process and per number of lots or codes (parkgate.core.compiled): the lock is held while they run.
# Placeholders, in the order the ORM puts the values: the statuses and instant of ``active_q``, then
# the other filters (sorted by name: end, keypad_code, lot_id, start), each list's values ascending.
_AT = datetime(1970, 1, 2, tzinfo=UTC)
_STATUS = ("-confirmed-", "-held-")


def _placeholder_ids(count: int, base: int) -> tuple[int, ...]:
    return tuple(range(base - count + 1, base + 1))


def _placeholder_instants(count: int) -> tuple[datetime, ...]:
    return tuple(_AT + timedelta(seconds=n) for n in range(count))


def _compiled(name: str, build: Any, *sizes: int) -> str:
    return compiled_sql(name, build, build.placeholders(*sizes))


def _fetch(name: str, build: Any, sizes: tuple[int, ...], values: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``build(*values)`` (a values_list query), as the ORM would return them.

    On PostgreSQL the compiled SQL runs on a cursor (psycopg returns the same Python values as
    the ORM: aware datetimes, ints, strings). Elsewhere (SQLite, ``make run``), where the ORM
    converts the database's values, the ORM runs the query itself.
    """
    if connection.vendor != "postgresql":
        return [tuple(row) if isinstance(row, tuple) else (row,) for row in build(*values)]
    with connection.cursor() as cursor:
        cursor.execute(_compiled(name, build, *sizes), values)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _active(confirmed: str, now: datetime, held: str) -> Q:
    return Q(status=confirmed) | Q(status=held, hold_expires_at__gt=now)


def _lots_lock_query(*ids: int) -> Any:
    return Lot.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)


_lots_lock_query.placeholders = lambda lots: _placeholder_ids(lots, -7100)  # type: ignore[attr-defined]


def _allocations_query(*lot_ids: int) -> Any:
    # Unordered: the model's ordering (lot, organisation name) would join two tables for nothing.
    return (
        Allocation.objects.filter(lot_id__in=lot_ids)
        .order_by()
        .values_list("lot_id", "organisation_id", "spots")
    )


_allocations_query.placeholders = lambda lots: _placeholder_ids(lots, -7200)  # type: ignore[attr-defined]


def _confirmed_counts_query(zero: int, window_start: datetime, *rest: Any) -> Any:
    """Confirmed reservations per policy, organisation and times: the triggers' rows (Occupancy),
    a handful whatever the lot's history."""
    *lot_ids, window_end = rest
    return (
        Occupancy.objects.filter(
            confirmed__gt=zero, end__gt=window_start, lot_id__in=lot_ids, start__lt=window_end
        )
        .order_by()
        .values_list("lot_id", "policy_id", "organisation_id", "start", "end", "confirmed")
    )


def _confirmed_counts_placeholders(lots: int) -> tuple[Any, ...]:
    window_start, window_end = _placeholder_instants(5)[3:]  # not the held counts' (one statement)
    return (-7301, window_start, *_placeholder_ids(lots, -7310), window_end)


_confirmed_counts_query.placeholders = _confirmed_counts_placeholders  # type: ignore[attr-defined]


def _held_counts_query(window_start: datetime, now: datetime, *rest: Any) -> Any:
    """Held reservations still holding their spot, counted live (they expire with time; few, and
    their own partial index, reservation_held_time)."""
    *lot_ids, window_end, held = rest
    return (
        Reservation.objects.filter(
            end__gt=window_start,
            hold_expires_at__gt=now,
            lot_id__in=lot_ids,
            start__lt=window_end,
            status=held,
        )
        .values("lot_id", "policy_id", "organisation_id", "start", "end")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("lot_id", "policy_id", "organisation_id", "start", "end", "count")
    )


def _held_counts_placeholders(lots: int) -> tuple[Any, ...]:
    window_start, now, window_end = _placeholder_instants(3)
    return (window_start, now, *_placeholder_ids(lots, -7320), window_end, _STATUS[1])


_held_counts_query.placeholders = _held_counts_placeholders  # type: ignore[attr-defined]


def _active_counts(
    lots: list[int], window_start: datetime, window_end: datetime, now: datetime
) -> list[tuple[Any, ...]]:
    """(lot, policy, organisation, start, end, count) of what is active at these lots in the window:
    the triggers' confirmed counts and the live holds, a few rows whatever the day's history."""
    return _fetch(
        f"capacity.active.{len(lots)}",
        _active_counts_query,
        (len(lots),),
        [0, window_start, *lots, window_end, window_start, now, *lots, window_end, ReservationStatus.HELD],
    )


def _active_counts_query(*values: Any) -> Any:
    """Both in one statement (UNION ALL): the confirmed counts' values, then the held counts'."""
    lots = (len(values) - 7) // 2
    confirmed, held = values[: lots + 3], values[lots + 3 :]
    return _confirmed_counts_query(*confirmed).union(_held_counts_query(*held), all=True)


_active_counts_query.placeholders = lambda lots: (  # type: ignore[attr-defined]
    *_confirmed_counts_placeholders(lots),
    *_held_counts_placeholders(lots),
)


def _codes_taken_query(confirmed: str, now: datetime, held: str, after: datetime, *rest: Any) -> Any:
    *values, before = rest
    codes = [v for v in values if isinstance(v, str)]
    lot_ids = [v for v in values if not isinstance(v, str)]
    return (
        Reservation.objects.filter(
            _active(confirmed, now, held),
            lot_id__in=lot_ids,
            keypad_code__in=codes,
            start__lt=before,
            end__gt=after,
        )
        .order_by()
        .values_list("lot_id", "keypad_code", "start", "end")
    )


def _codes_taken_placeholders(codes: int, lots: int) -> tuple[Any, ...]:
    now, after, before = _placeholder_instants(3)
    drawn = tuple(f"-code{n}-" for n in range(codes))
    return (_STATUS[0], now, _STATUS[1], after, *drawn, *_placeholder_ids(lots, -7400), before)


_codes_taken_query.placeholders = _codes_taken_placeholders  # type: ignore[attr-defined]


def _lock_lots(lot_ids: Iterable[int]) -> None:
    """Take the capacity lock of each lot, in primary-key order."""
    ids = sorted(set(lot_ids))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
    # Evaluated here, inside the transaction: the rows stay locked until it ends.
    _fetch(f"capacity.lock.{len(ids)}", _lots_lock_query, (len(ids),), ids)


def lots_lock(lot_ids: Iterable[int]) -> None:
    """Take the capacity lock of these lots inside the caller's transaction.

    For a caller that decides something more under the same lock as the capacity rules (who is
    first on a waiting list): it locks first, then calls :func:`reservations_create`, whose own
    lock is then already held. A lock timeout becomes CapacityBusy.
    """
    try:
        _lock_lots(lot_ids)
    except OperationalError as error:
        if _is_lock_timeout(error):
            raise CapacityBusy(_("Many people are booking right now. Please try again.")) from error
        raise


def _in_utc(requests: Sequence[ReservationRequest]) -> list[ReservationRequest]:
    """The requests with UTC times, so that every comparison below is between instants."""
    for request in requests:
        if request.start.tzinfo is None or request.end.tzinfo is None:
            raise ValueError("reservation times must be aware datetimes")
    return [
        dataclasses.replace(request, start=request.start.astimezone(UTC), end=request.end.astimezone(UTC))
        for request in requests
    ]


def _validate(
    requests: Sequence[ReservationRequest], now: datetime, *, timetable_exempt: bool = False
) -> None:
    windows: dict[int, tuple[Window, ...]] = {}  # one query per policy, not per request (several days)
    for index, request in enumerate(requests):
        policy = request.policy
        if policy.pk not in windows:
            windows[policy.pk] = policy_windows(policy)
        if request.end <= request.start:
            raise ReservationError(_("The end must be after the start."), index=index)
        if request.end <= now:
            raise ReservationError(_("This time is already over."), index=index)
        if not timetable_exempt and not covers(
            windows[policy.pk],
            zone=policy.lot.zone,
            start=request.start,
            end=request.end,
            valid_from=policy.valid_from,
            valid_until=policy.valid_until,
        ):
            raise ReservationError(
                _("This time is outside the opening hours or the validity of “%(policy)s”.")
                % {"policy": policy.name},
                index=index,
            )


def _check_capacity(requests: Sequence[ReservationRequest], now: datetime) -> None:
    """Re-read what is active and check every limit (call under the lots' lock).

    The database counts the active reservations per distinct time (one grouped query), so the
    sweep below does not grow with the number of reservations already made that day.
    """
    lot_ids = {r.policy.lot_id for r in requests}
    window_start = min(r.start for r in requests)
    window_end = max(r.end for r in requests)
    lots = sorted(lot_ids)
    allocations = {
        (lot_id, organisation_id): spots
        for lot_id, organisation_id, spots in _fetch(
            f"capacity.allocations.{len(lots)}", _allocations_query, (len(lots),), lots
        )
    }
    rows = _active_counts(lots, window_start, window_end, now)
    by_policy: dict[int, _Profile] = defaultdict(_Profile)
    by_org: dict[tuple[int, int], _Profile] = defaultdict(_Profile)
    for lot_id, policy_id, organisation_id, start, end, count in rows:
        by_policy[policy_id].add(start, end, count)
        by_org[(lot_id, organisation_id)].add(start, end, count)
    # One request at a time: the error names the first request that does not fit. Checking each
    # new interval is enough, since only the instants inside it changed.
    for index, request in enumerate(requests):
        policy = request.policy
        org_key = (policy.lot_id, policy.organisation_id)
        by_policy[policy.pk].add(request.start, request.end)
        by_org[org_key].add(request.start, request.end)
        allocated = allocations.get(org_key, 0)
        if by_policy[policy.pk].peak(request.start, request.end) > policy.spot_cap:
            raise CapacityFull(_("No spot is left for this time."), index=index)
        if by_org[org_key].peak(request.start, request.end) > allocated:
            raise CapacityFull(_("No spot is left for this time."), index=index)


def keypad_code_margin() -> timedelta:
    """How far apart two reservations at a lot must be to share a keypad code.

    A code opens from ``ACCESS_GRACE_BEFORE_MINUTES`` before its start to ``ACCESS_GRACE_AFTER_MINUTES``
    after its end; a day on top keeps a code from being handed to the next visitor of the same slot.
    """
    grace = settings.ACCESS_GRACE_BEFORE_MINUTES + settings.ACCESS_GRACE_AFTER_MINUTES
    return timedelta(minutes=grace) + timedelta(days=1)


def _allocate_keypad_codes(requests: Sequence[ReservationRequest], now: datetime) -> list[str]:
    """A code per request, unused at its lot within the margin (call under the lots' lock).

    Random codes out of a million are checked with one indexed query (lot, code) for the whole
    batch rather than by reading every neighbour's code; the rare collision draws again.
    """
    margin = keypad_code_margin()
    codes: list[str | None] = [None] * len(requests)
    while True:
        todo = [i for i, code in enumerate(codes) if code is None]
        if not todo:
            return [code for code in codes if code is not None]
        drawn = {i: f"{secrets.randbelow(1_000_000):06d}" for i in todo}
        lots = sorted({requests[i].policy.lot_id for i in todo})
        drawn_codes = sorted(set(drawn.values()))
        taken = _fetch(
            f"capacity.codes.{len(drawn_codes)}.{len(lots)}",
            _codes_taken_query,
            (len(drawn_codes), len(lots)),
            [
                ReservationStatus.CONFIRMED,
                now,
                ReservationStatus.HELD,
                min(requests[i].start for i in todo) - margin,
                *drawn_codes,
                *lots,
                max(requests[i].end for i in todo) + margin,
            ],
        )
        for i in todo:
            request, code = requests[i], drawn[i]
            lot_id = request.policy.lot_id
            near = [
                (taken_lot, taken_code, start, end)
                for taken_lot, taken_code, start, end in taken
                if taken_lot == lot_id and start < request.end + margin and end > request.start - margin
            ] + [
                (requests[j].policy.lot_id, other, requests[j].start, requests[j].end)
                for j, other in enumerate(codes)
                if other is not None
                and requests[j].policy.lot_id == lot_id
                and requests[j].start < request.end + margin
                and requests[j].end > request.start - margin
            ]
            if all(taken_code != code for _lot, taken_code, _start, _end in near):
                codes[i] = code


def reservations_create(
    *,
    requests: Sequence[ReservationRequest],
    source: ReservationSource | str,
    created_by: Any | None = None,
    actor_label: str = "",
    hold_for: timedelta | None = None,
    now: datetime | None = None,
    timetable_exempt: bool = False,
    savepoint: bool = True,
    group_id: uuid.UUID | None = None,
) -> list[Reservation]:
    """Create all the requested reservations, or none.

    ``savepoint=False`` for a caller whose own transaction fails whole with any error raised here
    (the public booking): no SAVEPOINT and RELEASE round trips around this part of it.
    ``group_id``: the caller's, when it wrote what refers to the group before (the booking).

    ``timetable_exempt`` lets a reservation fall outside its policy's timetable (a desk's walk-in
    let in on a written reason); every capacity limit still holds.

    With ``hold_for`` they are created HELD (counted until the hold expires: the payment step);
    otherwise CONFIRMED. Raises CapacityFull when a limit would be exceeded, CapacityBusy when the
    lock could not be had in time, ReservationError for a rule broken.
    """
    if not requests:
        raise ValueError("nothing to reserve")
    now = now or timezone.now()
    requests = _in_utc(requests)
    _validate(requests, now, timetable_exempt=timetable_exempt)
    group_id = group_id or uuid.uuid4()
    status = ReservationStatus.HELD if hold_for is not None else ReservationStatus.CONFIRMED
    try:
        with transaction.atomic(savepoint=savepoint):
            _lock_lots(r.policy.lot_id for r in requests)
            _check_capacity(requests, now)
            codes = _allocate_keypad_codes(requests, now)
            reservations = [
                Reservation(
                    parker=request.parker,
                    lot_id=request.policy.lot_id,
                    policy=request.policy,
                    organisation_id=request.policy.organisation_id,
                    start=request.start,
                    end=request.end,
                    status=status,
                    hold_expires_at=(now + hold_for) if hold_for is not None else None,
                    source=source,
                    created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
                    group_id=group_id,
                    plate_text=request.plate_text,
                    plate_key=plate_key(request.plate_text),
                    language=request.language,
                    remote_control_token=secrets.token_urlsafe(TOKEN_BYTES),
                    cancel_token=secrets.token_urlsafe(TOKEN_BYTES),
                    keypad_code=code,
                )
                for request, code in zip(requests, codes, strict=True)
            ]
            Reservation.objects.bulk_create(reservations)
            for reservation in reservations:
                audit_log(
                    action="access.reservation.created",
                    organisation=reservation.organisation_id,
                    actor=created_by,
                    actor_label=actor_label,
                    obj=reservation,
                    data={
                        "status": reservation.status,
                        "source": str(source),
                        "start": reservation.start.isoformat(),
                        "end": reservation.end.isoformat(),
                        "policy": reservation.policy_id,
                        "group": str(group_id),
                    },
                )
    except OperationalError as error:
        if _is_lock_timeout(error):
            raise CapacityBusy(_("Many people are booking right now. Please try again.")) from error
        raise
    return reservations


def _is_lock_timeout(error: DatabaseError) -> bool:
    cause = getattr(error, "__cause__", None)
    if getattr(cause, "sqlstate", None) == "55P03":  # PostgreSQL lock_not_available
        return True
    return "database is locked" in str(error)


def reservation_cancel(
    *,
    reservation: Reservation,
    actor: User | None = None,
    actor_label: str = "",
    allow_started: bool = False,
    now: datetime | None = None,
) -> bool:
    """Cancel a reservation: capacity is freed at once and its credentials stop working.

    Returns False when it was already cancelled (cancelling twice is harmless). A reservation that
    has started can only be cancelled by staff (``allow_started``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The lot's lock first, as every other writer of a confirmed reservation takes it: the
        # occupancy row this cancellation decrements (a trigger) is the one a booking of the same
        # times increments under that lock. Taken after it, a caller that locks the lot next (the
        # member's day cancel, which then serves the waiting list) would deadlock with that booking.
        lots_lock([reservation.lot_id])
        # Only the reservation row: locking the joined policy and organisation rows too would make
        # every concurrent booking of that policy wait (its foreign-key checks need them).
        locked = (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("policy__organisation")
            .get(pk=reservation.pk)
        )
        if locked.status in (ReservationStatus.CANCELLED, ReservationStatus.EXPIRED):
            return False
        if locked.start <= now and not allow_started:
            raise ReservationError(_("This reservation has already started and can no longer be cancelled."))
        locked.status = ReservationStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        audit_log(
            action="access.reservation.cancelled",
            organisation=locked.policy.organisation,
            actor=actor,
            actor_label=actor_label,
            obj=locked,
        )
    reservation.status = locked.status
    reservation.cancelled_at = locked.cancelled_at
    reservation.cancelled_by = locked.cancelled_by
    return True


def reservations_confirm(
    *, group_id: Any, actor: User | None = None, actor_label: str = "", now: datetime | None = None
) -> list[Reservation]:
    """Confirm the held reservations of a group (their payment succeeded): held → confirmed.

    A hold still running just becomes confirmed. A hold that ran out (held past its time, or already
    marked expired) stopped counting, so the spots are checked again under the lot lock exactly as
    :func:`reservations_create` does; CapacityFull means someone else took them (the caller then
    refunds in full) and nothing changes. Cancelled reservations stay cancelled. Confirming twice
    is harmless: the second call finds nothing held and returns [].
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            lot_ids = list(
                Reservation.objects.filter(group_id=group_id).values_list("lot_id", flat=True).distinct()
            )
            if not lot_ids:
                return []
            _lock_lots(lot_ids)
            pending = list(
                Reservation.objects.select_related("policy__lot", "policy__organisation", "parker")
                .filter(group_id=group_id, status__in=[ReservationStatus.HELD, ReservationStatus.EXPIRED])
                .order_by("pk")
            )
            lapsed = [r for r in pending if r.hold_expires_at is None or r.hold_expires_at <= now]
            if lapsed:
                for reservation in lapsed:
                    if reservation.end <= now:
                        raise ReservationError(_("This time is already over."))
                _check_capacity(
                    [
                        ReservationRequest(
                            parker=r.parker,
                            policy=r.policy,
                            start=r.start.astimezone(UTC),
                            end=r.end.astimezone(UTC),
                            plate_text=r.plate_text,
                            language=r.language,
                        )
                        for r in lapsed
                    ],
                    now,
                )
            for reservation in pending:
                was = reservation.status
                reservation.status = ReservationStatus.CONFIRMED
                reservation.hold_expires_at = None
                reservation.save(update_fields=["status", "hold_expires_at"])
                audit_log(
                    action="access.reservation.confirmed",
                    organisation=reservation.policy.organisation,
                    actor=actor,
                    actor_label=actor_label,
                    obj=reservation,
                    data={"was": was, "rechecked": reservation in lapsed},
                )
    except OperationalError as error:
        if _is_lock_timeout(error):
            raise CapacityBusy(_("Many people are booking right now. Please try again.")) from error
        raise
    return pending


def occupancy_prune(*, now: datetime | None = None) -> int:
    """Delete the occupancy counts that fell to 0 for times already over (housekeeping).

    A cancellation, or the privacy retention deleting old reservations, leaves its count at 0 rather
    than deleting it (the triggers only add and subtract). A count at 0 means nothing to the capacity
    check, so deleting it changes no answer; a reservation written at those times at the same moment
    is safe either way (its trigger's upsert waits for this delete and inserts the row again, or this
    delete re-reads the row it raised above 0 and keeps it). Returns how many were deleted.
    """
    now = now or timezone.now()
    deleted, _ = Occupancy.objects.filter(confirmed=0, end__lt=now).delete()
    return deleted


def reservations_expire_holds(*, now: datetime | None = None) -> int:
    """Mark held reservations whose hold has run out as expired (they already stopped counting).

    Each one is audited (``access.reservation.expired``). Rows another transaction is confirming
    right now are skipped; the next run sees them again if they are still held.
    """
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            Reservation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=ReservationStatus.HELD, hold_expires_at__lte=now)
            .select_related("policy__organisation")
            .order_by("pk")
        )
        if not expired:
            return 0
        Reservation.objects.filter(pk__in=[r.pk for r in expired]).update(status=ReservationStatus.EXPIRED)
        for reservation in expired:
            reservation.status = ReservationStatus.EXPIRED
            audit_log(
                action="access.reservation.expired",
                organisation=reservation.policy.organisation,
                actor_label="system",
                obj=reservation,
                data={
                    "hold_expires_at": reservation.hold_expires_at.isoformat()
                    if reservation.hold_expires_at
                    else None
                },
            )
    return len(expired)


@dataclass(frozen=True)
class Availability:
    """Free spots for one policy on one local day."""

    day: date
    hours: list[tuple[datetime, datetime, int]]  # each open hour of the timetable: start, end, free
    ranges: list[tuple[datetime, datetime, int]]  # each asked range (predefined slots): start, end, free


def availability(
    *,
    policy: AccessPolicy,
    day: date,
    ranges: Sequence[tuple[datetime, datetime]] = (),
    now: datetime | None = None,
) -> Availability:
    """Free spots per hour of the timetable and per asked range, from one query and one sweep."""
    now = now or timezone.now()
    zone = policy.lot.zone
    spans = day_spans(policy_windows(policy), zone=zone, day=day)
    hours: list[tuple[datetime, datetime]] = []
    for span_start, span_end in spans:
        # Real hours (in UTC): 23 on the day clocks go forward, 25 on the day they go back.
        cursor, stop = span_start.astimezone(UTC), span_end.astimezone(UTC)
        while cursor < stop:
            step_end = min(cursor + timedelta(hours=1), stop)
            hours.append((cursor.astimezone(zone), step_end.astimezone(zone)))
            cursor = step_end
    every = hours + list(ranges)
    if not every:
        return Availability(day, [], [])
    start = min(s.astimezone(UTC) for s, _e in every)
    end = max(e.astimezone(UTC) for _s, e in every)
    allocated = (
        Allocation.objects.filter(lot_id=policy.lot_id, organisation_id=policy.organisation_id)
        .values_list("spots", flat=True)
        .first()
        or 0
    )
    by_policy, by_org = _Profile(), _Profile()
    # What the check under the lot lock reads (the visitor's form asks on every step).
    for _lot, policy_id, organisation_id, res_start, res_end, count in _active_counts(
        [policy.lot_id], start, end, now
    ):
        if organisation_id != policy.organisation_id:
            continue
        by_org.add(res_start, res_end, count)
        if policy_id == policy.pk:
            by_policy.add(res_start, res_end, count)

    def free(s: datetime, e: datetime) -> int:
        return max(0, min(policy.spot_cap - by_policy.peak(s, e), allocated - by_org.peak(s, e)))

    return Availability(
        day=day,
        hours=[(s, e, free(s, e)) for s, e in hours],
        ranges=[(s, e, free(s, e)) for s, e in ranges],
    )
