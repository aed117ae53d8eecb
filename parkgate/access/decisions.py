"""The access decision engine: may this parker pass this gate of this lot at this instant?

A pure function. It reads no database and no clock: callers (remote control, ANPR, keypad,
control room) load snapshots of the facts and pass the instant. Every answer carries a
machine-readable reason and the details needed to say it in words, in the lot's local time.

Boundaries: a reservation grants [start, end), a timetable window [start, end) in the lot's
local wall-clock time, a validity period whole local days from ``valid_from`` to ``valid_until``
inclusive.
"""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import dateformat
from django.utils.translation import gettext as _

# How far ahead the engine looks for the next timetable window.
_LOOKAHEAD_DAYS = 366


class Reason(enum.StrEnum):
    GRANTED_RESERVATION = "granted_reservation"
    GRANTED_MEMBER = "granted_member"
    UNKNOWN_PARKER = "unknown_parker"
    NO_POLICY_AT_LOT = "no_policy_at_lot"
    WRONG_LOT = "wrong_lot"
    GATE_DIRECTION = "gate_direction"
    OUTSIDE_TIMETABLE = "outside_timetable"
    NOT_YET_VALID = "not_yet_valid"
    VALIDITY_ENDED = "validity_ended"
    RESERVATION_NOT_STARTED = "reservation_not_started"
    RESERVATION_ENDED = "reservation_ended"
    RESERVATION_CANCELLED = "reservation_cancelled"
    RESERVATION_NOT_CONFIRMED = "reservation_not_confirmed"


GRANTED_REASONS = frozenset({Reason.GRANTED_RESERVATION, Reason.GRANTED_MEMBER})

# When every access is denied, the most useful one to tell the parker comes first:
# something that will open soon beats something that is over.
_DENIAL_PRIORITY = [
    Reason.RESERVATION_NOT_STARTED,
    Reason.OUTSIDE_TIMETABLE,
    Reason.NOT_YET_VALID,
    Reason.RESERVATION_NOT_CONFIRMED,
    Reason.RESERVATION_ENDED,
    Reason.VALIDITY_ENDED,
    Reason.RESERVATION_CANCELLED,
    Reason.WRONG_LOT,
]


@dataclass(frozen=True)
class Window:
    """A weekly window in local time: weekday 0 = Monday, minutes since midnight, end up to 1440."""

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class LotFacts:
    lot_id: int
    timezone: str

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True)
class GateFacts:
    gate_id: int
    lot_id: int
    direction: str  # "entry", "exit" or "both"


@dataclass(frozen=True)
class MemberAccess:
    """A member access policy that names the parker."""

    policy_id: int
    lot_id: int
    name: str
    windows: tuple[Window, ...]
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class ReservationAccess:
    reservation_id: int
    lot_id: int
    policy_id: int
    name: str
    start: datetime
    end: datetime
    status: str  # ReservationStatus value


Access = MemberAccess | ReservationAccess


@dataclass(frozen=True)
class AccessState:
    """What one access says at one instant."""

    access: Access
    reason: Reason
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def granted(self) -> bool:
        return self.reason in GRANTED_REASONS


@dataclass(frozen=True)
class Decision:
    reason: Reason
    access: Access | None = None
    details: dict[str, Any] = field(default_factory=dict)
    states: tuple[AccessState, ...] = ()

    @property
    def granted(self) -> bool:
        return self.reason in GRANTED_REASONS

    @property
    def reservation_id(self) -> int | None:
        return self.access.reservation_id if isinstance(self.access, ReservationAccess) else None

    @property
    def policy_id(self) -> int | None:
        return self.access.policy_id if self.access is not None else None


def decide(
    *,
    lot: LotFacts,
    at: datetime,
    accesses: Sequence[Access] | None,
    gate: GateFacts | None = None,
    travel: str | None = None,
    grace_before: timedelta = timedelta(0),
    grace_after: timedelta = timedelta(0),
) -> Decision:
    """Decide whether a parker may pass.

    ``accesses`` is None when nobody matched (unknown parker, unknown plate or code); an empty
    sequence when the parker is known but holds nothing. ``travel`` is "entry" or "exit" when the
    direction of travel is known (a camera's reading, the gate's own direction otherwise).
    ``grace_before``/``grace_after`` widen reservation windows (the remote control allows a little).
    """
    if at.tzinfo is None:
        raise ValueError("decide() needs an aware datetime")
    if gate is not None and gate.lot_id != lot.lot_id:
        return Decision(Reason.WRONG_LOT)
    if gate is not None and travel is not None and gate.direction != "both" and gate.direction != travel:
        return Decision(Reason.GATE_DIRECTION, details={"gate_direction": gate.direction, "travel": travel})
    if accesses is None:
        return Decision(Reason.UNKNOWN_PARKER)
    if not accesses:
        return Decision(Reason.NO_POLICY_AT_LOT)

    states = tuple(
        evaluate(access, lot=lot, at=at, grace_before=grace_before, grace_after=grace_after)
        for access in accesses
    )
    granted = [s for s in states if s.granted]
    if granted:
        # The grant that lasts longest is the one to show; reservations first on ties.
        best = max(
            granted,
            key=lambda s: (
                s.details.get("until") or datetime.max.replace(tzinfo=at.tzinfo),
                s.reason == Reason.GRANTED_RESERVATION,
            ),
        )
        return Decision(best.reason, best.access, best.details, states)

    if all(s.reason == Reason.WRONG_LOT for s in states):
        return Decision(Reason.NO_POLICY_AT_LOT, states=states)
    best = min(states, key=_denial_sort_key)
    return Decision(best.reason, best.access, best.details, states)


def _denial_sort_key(state: AccessState) -> tuple[int, datetime]:
    rank = _DENIAL_PRIORITY.index(state.reason) if state.reason in _DENIAL_PRIORITY else len(_DENIAL_PRIORITY)
    opens_at = state.details.get("opens_at") or datetime.max.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
    return rank, opens_at


def evaluate(
    access: Access,
    *,
    lot: LotFacts,
    at: datetime,
    grace_before: timedelta = timedelta(0),
    grace_after: timedelta = timedelta(0),
) -> AccessState:
    """The state of one access at one instant (used per access by the control room)."""
    if access.lot_id != lot.lot_id:
        return AccessState(access, Reason.WRONG_LOT)
    if isinstance(access, ReservationAccess):
        return _evaluate_reservation(access, at=at, grace_before=grace_before, grace_after=grace_after)
    return _evaluate_member(access, zone=lot.zone, at=at)


def _evaluate_reservation(
    access: ReservationAccess, *, at: datetime, grace_before: timedelta, grace_after: timedelta
) -> AccessState:
    if access.status in ("cancelled", "expired"):
        return AccessState(access, Reason.RESERVATION_CANCELLED)
    if access.status != "confirmed":
        return AccessState(access, Reason.RESERVATION_NOT_CONFIRMED)
    opens_at = access.start - grace_before
    closes_at = access.end + grace_after
    if at < opens_at:
        return AccessState(
            access, Reason.RESERVATION_NOT_STARTED, {"opens_at": opens_at, "starts_at": access.start}
        )
    if at >= closes_at:
        return AccessState(access, Reason.RESERVATION_ENDED, {"ended_at": access.end})
    return AccessState(access, Reason.GRANTED_RESERVATION, {"until": closes_at})


def _evaluate_member(access: MemberAccess, *, zone: zoneinfo.ZoneInfo, at: datetime) -> AccessState:
    local = at.astimezone(zone)
    today = local.date()
    if access.valid_until is not None and today > access.valid_until:
        return AccessState(access, Reason.VALIDITY_ENDED, {"valid_until": access.valid_until})
    if access.valid_from is not None and today < access.valid_from:
        opens_at = next_window_start(
            access.windows, zone=zone, after=at, valid_from=access.valid_from, valid_until=access.valid_until
        )
        return AccessState(
            access, Reason.NOT_YET_VALID, {"valid_from": access.valid_from, "opens_at": opens_at}
        )
    minute = local.hour * 60 + local.minute
    for window in access.windows:
        if window.weekday == local.weekday() and window.start_minute <= minute < window.end_minute:
            until = _window_run_end(
                access.windows,
                zone=zone,
                day=today,
                end_minute=window.end_minute,
                valid_until=access.valid_until,
            )
            return AccessState(access, Reason.GRANTED_MEMBER, {"until": until})
    opens_at = next_window_start(
        access.windows, zone=zone, after=at, valid_from=access.valid_from, valid_until=access.valid_until
    )
    return AccessState(access, Reason.OUTSIDE_TIMETABLE, {"opens_at": opens_at})


def local_instant(day: date, minute: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant of ``minute`` minutes after local midnight of ``day`` (wall-clock arithmetic).

    Minute 1440 is the next day's midnight. A wall time that does not exist (the hour skipped
    when clocks go forward) resolves to the instant just after the gap, as zoneinfo does.
    """
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    wall = midnight + timedelta(minutes=minute)
    # Round-trip through UTC so the offset matches the wall time actually reached.
    return wall.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(zone)


def next_window_start(
    windows: Iterable[Window],
    *,
    zone: zoneinfo.ZoneInfo,
    after: datetime,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> datetime | None:
    """The first window start strictly after ``after`` within the validity period, or None."""
    by_weekday: dict[int, list[int]] = {}
    for window in windows:
        by_weekday.setdefault(window.weekday, []).append(window.start_minute)
    if not by_weekday:
        return None
    day = after.astimezone(zone).date()
    if valid_from is not None and day < valid_from:
        day = valid_from
    for _offset in range(_LOOKAHEAD_DAYS):
        if valid_until is not None and day > valid_until:
            return None
        for start_minute in sorted(by_weekday.get(day.weekday(), ())):
            candidate = local_instant(day, start_minute, zone)
            if candidate > after:
                return candidate
        day += timedelta(days=1)
    return None


def _window_run_end(
    windows: Sequence[Window],
    *,
    zone: zoneinfo.ZoneInfo,
    day: date,
    end_minute: int,
    valid_until: date | None,
) -> datetime:
    """When an open window really closes, following windows that continue it without a gap."""
    for _step in range(8):
        continuing = None
        if end_minute == 1440:
            next_day = day + timedelta(days=1)
            if valid_until is None or next_day <= valid_until:
                continuing = next(
                    (w for w in windows if w.weekday == next_day.weekday() and w.start_minute == 0), None
                )
            if continuing is not None:
                day, end_minute = next_day, continuing.end_minute
                continue
        else:
            continuing = next(
                (w for w in windows if w.weekday == day.weekday() and w.start_minute == end_minute), None
            )
            if continuing is not None:
                end_minute = continuing.end_minute
                continue
        break
    return local_instant(day, end_minute, zone)


def _when(value: datetime, zone: zoneinfo.ZoneInfo, now: datetime | None) -> str:
    local = value.astimezone(zone)
    if now is not None:
        today = now.astimezone(zone).date()
        if local.date() == today:
            return dateformat.format(local, "H:i")
        if local.date() - today < timedelta(days=7) and local.date() > today:
            return dateformat.format(local, "l H:i")
    return dateformat.format(local, "l j F Y H:i")


def _day(value: date) -> str:
    return dateformat.format(value, "j F Y")


def sentence(
    reason: Reason | str, details: dict[str, Any], *, zone: zoneinfo.ZoneInfo, now: datetime | None = None
) -> str:
    """The decision in words, in the active language and the lot's local time."""
    reason = Reason(reason)
    if reason == Reason.GRANTED_RESERVATION:
        return _("Valid reservation until %(until)s.") % {"until": _when(details["until"], zone, now)}
    if reason == Reason.GRANTED_MEMBER:
        return _("Valid access until %(until)s.") % {"until": _when(details["until"], zone, now)}
    if reason == Reason.UNKNOWN_PARKER:
        return _("Unknown parker: no matching profile, plate or code.")
    if reason == Reason.NO_POLICY_AT_LOT:
        return _("No access at this car park.")
    if reason == Reason.WRONG_LOT:
        return _("This access is for another car park.")
    if reason == Reason.GATE_DIRECTION:
        if details.get("gate_direction") == "entry":
            return _("This gate is an entry only.")
        return _("This gate is an exit only.")
    if reason == Reason.OUTSIDE_TIMETABLE:
        if details.get("opens_at") is None:
            return _("Outside the timetable, and no later window is scheduled.")
        return _("Outside the timetable: next window opens %(when)s.") % {
            "when": _when(details["opens_at"], zone, now)
        }
    if reason == Reason.NOT_YET_VALID:
        return _("Not valid yet: validity starts on %(day)s.") % {"day": _day(details["valid_from"])}
    if reason == Reason.VALIDITY_ENDED:
        return _("Validity ended on %(day)s.") % {"day": _day(details["valid_until"])}
    if reason == Reason.RESERVATION_NOT_STARTED:
        return _("Booking starts at %(when)s.") % {"when": _when(details["starts_at"], zone, now)}
    if reason == Reason.RESERVATION_ENDED:
        return _("Booking ended at %(when)s.") % {"when": _when(details["ended_at"], zone, now)}
    if reason == Reason.RESERVATION_CANCELLED:
        return _("This booking was cancelled.")
    return _("This booking is not confirmed yet (payment pending).")


def details_to_json(details: dict[str, Any]) -> dict[str, str]:
    """Serialise decision details for storage (AccessEvent.data)."""
    return {
        key: value.isoformat()
        for key, value in details.items()
        if value is not None and hasattr(value, "isoformat")
    } | {key: value for key, value in details.items() if isinstance(value, str)}


def details_from_json(data: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("valid_from", "valid_until"):
            out[key] = date.fromisoformat(value)
        elif key in ("opens_at", "starts_at", "ended_at", "until"):
            out[key] = datetime.fromisoformat(value)
        else:
            out[key] = value
    return out
