"""The access decision engine: may this parker pass this gate of this lot at this instant?

A pure function. It reads no database and no clock: callers (remote control, ANPR, keypad,
control room) load snapshots of the facts and pass the instant. Every answer carries a
machine-readable reason and the details needed to say it in words, in the lot's local time.

Boundaries: a reservation grants [start, end), a timetable window [start, end) in the lot's
local wall-clock time, a validity period whole local days from ``valid_from`` to ``valid_until``
inclusive.

Clock changes: a window opens the first time the lot's clock reaches its start and closes the first
time it reaches its end (see ``local_instant``). On the night clocks go forward a wall time that
does not exist is reached when the clock jumps past it; on the night they go back, a window is
one stretch of real time even though the clock shows the repeated hour twice.

Every instant is compared in UTC: Python compares two datetimes that share a tzinfo by their wall
time and ignores ``fold``, which is wrong inside the repeated hour. Details carry UTC instants.
"""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# Nothing of Django at import time: the site agent (parkgate/sites/agent.py) decides with this very
# module on a box without Django. Only the sentences (``sentence``) need Django, imported there.


def gettext_noop(message: str) -> str:
    """Marks a message for extraction (makemessages knows the name); translated by ``sentence``."""
    return message


# How far ahead the engine looks for the next timetable window.
_LOOKAHEAD_DAYS = 366
# How far ahead "until" follows windows that continue each other (a policy open around the clock).
_RUN_LOOKAHEAD_DAYS = 7


class Reason(enum.StrEnum):
    GRANTED_RESERVATION = "granted_reservation"
    GRANTED_MEMBER = "granted_member"
    UNKNOWN_PARKER = "unknown_parker"
    NO_POLICY_AT_LOT = "no_policy_at_lot"
    WRONG_LOT = "wrong_lot"
    GATE_DIRECTION = "gate_direction"
    OUTSIDE_TIMETABLE = "outside_timetable"
    BOOKING_NEEDED = "booking_needed"
    SPOT_SHARED = "spot_shared"
    NOT_YET_VALID = "not_yet_valid"
    VALIDITY_ENDED = "validity_ended"
    RESERVATION_NOT_STARTED = "reservation_not_started"
    RESERVATION_ENDED = "reservation_ended"
    RESERVATION_CANCELLED = "reservation_cancelled"
    RESERVATION_NOT_CONFIRMED = "reservation_not_confirmed"
    # A site agent past its gate's offline limit (parkgate/sites/facts.py): the owner's fallback.
    GRANTED_OFFLINE_EXIT = "granted_offline_exit"
    OFFLINE_MEMBERS_ONLY = "offline_members_only"
    OFFLINE_CLOSED = "offline_closed"


GRANTED_REASONS = frozenset({Reason.GRANTED_RESERVATION, Reason.GRANTED_MEMBER, Reason.GRANTED_OFFLINE_EXIT})

# When every access is denied, the most useful one to tell the parker comes first: something
# that will open (the soonest first) beats something pending, which beats something that is over.
_DENIAL_PRIORITY = [
    Reason.RESERVATION_NOT_STARTED,
    Reason.OUTSIDE_TIMETABLE,
    Reason.NOT_YET_VALID,
    Reason.RESERVATION_NOT_CONFIRMED,
    Reason.SPOT_SHARED,
    Reason.BOOKING_NEEDED,
    Reason.RESERVATION_ENDED,
    Reason.VALIDITY_ENDED,
    Reason.RESERVATION_CANCELLED,
    Reason.WRONG_LOT,
]
_OPENING_REASONS = frozenset({Reason.RESERVATION_NOT_STARTED, Reason.OUTSIDE_TIMETABLE, Reason.NOT_YET_VALID})
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


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
    # Inside its windows the policy grants only through a reservation of it (a booked day).
    booking_required: bool = False
    # Local days the member shared their spot with colleagues: their access does not open then.
    shared_days: frozenset[date] = frozenset()


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
    at = at.astimezone(UTC)
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
            key=lambda s: (s.details.get("until") or _FAR_FUTURE, s.reason == Reason.GRANTED_RESERVATION),
        )
        return Decision(best.reason, best.access, best.details, states)

    best = min(states, key=_denial_sort_key)
    return Decision(best.reason, best.access, best.details, states)


def _denial_sort_key(state: AccessState) -> tuple[int, datetime, int, float]:
    rank = _DENIAL_PRIORITY.index(state.reason) if state.reason in _DENIAL_PRIORITY else len(_DENIAL_PRIORITY)
    if state.reason in _OPENING_REASONS:
        # The soonest opening wins, whichever access it comes from; "never" comes last of these.
        return 0, state.details.get("opens_at") or _FAR_FUTURE, rank, 0.0
    # Among ended bookings, the latest one explains best.
    ended_at = state.details.get("ended_at")
    return 1, _FAR_FUTURE, rank, -ended_at.timestamp() if ended_at is not None else 0.0


def evaluate(
    access: Access,
    *,
    lot: LotFacts,
    at: datetime,
    grace_before: timedelta = timedelta(0),
    grace_after: timedelta = timedelta(0),
) -> AccessState:
    """The state of one access at one instant (used per access by the control room)."""
    if at.tzinfo is None:
        raise ValueError("evaluate() needs an aware datetime")
    at = at.astimezone(UTC)
    if access.lot_id != lot.lot_id:
        return AccessState(access, Reason.WRONG_LOT)
    if isinstance(access, ReservationAccess):
        return _evaluate_reservation(access, at=at, grace_before=grace_before, grace_after=grace_after)
    return _evaluate_member(access, zone=lot.zone, at=at)


def _evaluate_reservation(
    access: ReservationAccess, *, at: datetime, grace_before: timedelta, grace_after: timedelta
) -> AccessState:
    if access.status in ("cancelled", "expired"):
        return AccessState(access, Reason.RESERVATION_CANCELLED, {"status": access.status})
    if access.status != "confirmed":
        return AccessState(access, Reason.RESERVATION_NOT_CONFIRMED)
    start, end = access.start.astimezone(UTC), access.end.astimezone(UTC)
    opens_at = start - grace_before
    closes_at = end + grace_after
    if at < opens_at:
        return AccessState(access, Reason.RESERVATION_NOT_STARTED, {"opens_at": opens_at, "starts_at": start})
    if at >= closes_at:
        return AccessState(access, Reason.RESERVATION_ENDED, {"ended_at": end})
    return AccessState(access, Reason.GRANTED_RESERVATION, {"until": closes_at})


def _evaluate_member(access: MemberAccess, *, zone: zoneinfo.ZoneInfo, at: datetime) -> AccessState:
    today = at.astimezone(zone).date()
    if access.valid_until is not None and today > access.valid_until:
        return AccessState(access, Reason.VALIDITY_ENDED, {"valid_until": access.valid_until})
    if access.valid_from is not None and today < access.valid_from:
        opens_at = next_window_start(
            access.windows, zone=zone, after=at, valid_from=access.valid_from, valid_until=access.valid_until
        )
        return AccessState(
            access, Reason.NOT_YET_VALID, {"valid_from": access.valid_from, "opens_at": opens_at}
        )
    # A window that follows without a gap (24:00 then 00:00, or 12:00 then 12:00) continues the
    # access: "until" is when the parker really has to be out.
    last_day = today + timedelta(days=_RUN_LOOKAHEAD_DAYS)
    if access.valid_until is not None:
        last_day = min(last_day, access.valid_until)
    for start, end in occurrences(access.windows, zone=zone, first_day=today, last_day=last_day):
        if start <= at < end:
            if today in access.shared_days:
                return AccessState(access, Reason.SPOT_SHARED, {"until": end})
            if access.booking_required:
                return AccessState(access, Reason.BOOKING_NEEDED, {"until": end})
            return AccessState(access, Reason.GRANTED_MEMBER, {"until": end})
        if start > at:
            break
    opens_at = next_window_start(
        access.windows, zone=zone, after=at, valid_from=access.valid_from, valid_until=access.valid_until
    )
    return AccessState(access, Reason.OUTSIDE_TIMETABLE, {"opens_at": opens_at})


def local_instant(day: date, minute: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first instant at which the lot's clock reads ``minute`` minutes past midnight of ``day``.

    Minute 1440 is the next day's midnight. A wall time repeated when clocks go back is its first
    occurrence. A wall time skipped when clocks go forward is reached when the clock jumps past it
    (02:30 on the night Brussels goes from 02:00 to 03:00 is 03:00 local, 01:00 UTC). So the result
    never decreases as ``minute`` grows. Returned in the lot's zone.
    """
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return min(first, second).astimezone(zone)
    # Skipped: fold=1 reads the wall time with the offset after the change (an instant before the
    # change), fold=0 with the offset before it (an instant after). The change lies between them,
    # at a whole second in every time zone database: find it.
    before = int(second.timestamp())
    after = int(first.timestamp())
    offset_before = datetime.fromtimestamp(before, zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, zone)


def _day_spans_utc(
    windows: Iterable[Window], *, zone: zoneinfo.ZoneInfo, day: date
) -> list[tuple[datetime, datetime]]:
    """The windows of one local day as UTC instants, in order, without empty ones."""
    spans = []
    for window in windows:
        if window.weekday != day.weekday():
            continue
        start = local_instant(day, window.start_minute, zone).astimezone(UTC)
        end = local_instant(day, window.end_minute, zone).astimezone(UTC)
        if start < end:  # 02:00-02:30 on the night clocks go forward never opens
            spans.append((start, end))
    spans.sort()
    return spans


def occurrences(
    windows: Iterable[Window], *, zone: zoneinfo.ZoneInfo, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """Every window occurrence between two local days (inclusive), merged when they touch, in UTC."""
    windows = tuple(windows)
    merged: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        for start, end in _day_spans_utc(windows, zone=zone, day=day):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        day += timedelta(days=1)
    return merged


def next_window_start(
    windows: Iterable[Window],
    *,
    zone: zoneinfo.ZoneInfo,
    after: datetime,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> datetime | None:
    """The first window start strictly after ``after`` within the validity period (UTC), or None."""
    windows = tuple(windows)
    if not windows:
        return None
    after = after.astimezone(UTC)
    day = after.astimezone(zone).date()
    if valid_from is not None and day < valid_from:
        day = valid_from
    for _offset in range(_LOOKAHEAD_DAYS):
        if valid_until is not None and day > valid_until:
            return None
        for start, _end in _day_spans_utc(windows, zone=zone, day=day):
            if start > after:
                return start
        day += timedelta(days=1)
    return None


class Phrases:
    """The words of the sentences in one language: Django's translations on the server.

    The site agent has no Django: it uses ``CataloguePhrases``, the same words that the server
    translated into the snapshot (``phrase_catalogue``), so the site says what the server says.
    Dates are spelt as Django's ``dateformat`` spells "H:i", "l" and "j F Y" (the weekday and month
    names are the translated ones of ``django.utils.dates``).
    """

    def text(self, message: str) -> str:
        from django.utils.translation import gettext

        return gettext(message)

    def weekday(self, index: int) -> str:  # 0 is Monday
        from django.utils.dates import WEEKDAYS

        return str(WEEKDAYS[index])

    def month(self, number: int) -> str:  # 1 is January
        from django.utils.dates import MONTHS

        return str(MONTHS[number])


class CataloguePhrases(Phrases):
    """Phrases from a catalogue made by ``phrase_catalogue`` (a missing text stays in English)."""

    def __init__(self, catalogue: dict[str, Any]) -> None:
        self.texts: dict[str, str] = dict(catalogue.get("texts") or {})
        self.weekdays: list[str] = list(catalogue.get("weekdays") or _ENGLISH_WEEKDAYS)
        self.months: list[str] = list(catalogue.get("months") or _ENGLISH_MONTHS)

    def text(self, message: str) -> str:
        return self.texts.get(message, message)

    def weekday(self, index: int) -> str:
        return self.weekdays[index]

    def month(self, number: int) -> str:
        return self.months[number - 1]


_ENGLISH_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def phrase_catalogue(phrases: Phrases | None = None) -> dict[str, Any]:
    """Every word ``sentence`` may say, in the active language (for the site agent's snapshot)."""
    phrases = phrases or Phrases()
    return {
        "texts": {message: phrases.text(message) for message in SENTENCE_TEXTS},
        "weekdays": [phrases.weekday(i) for i in range(7)],
        "months": [phrases.month(n) for n in range(1, 13)],
    }


def _when(
    value: datetime, zone: zoneinfo.ZoneInfo, now: datetime | None, phrases: Phrases
) -> tuple[str | None, str]:
    """The local time of an instant and, unless it is today, its day as a parker would say it."""
    _ = phrases.text
    local = value.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if now is not None:
        days = (local.date() - now.astimezone(zone).date()).days
        if days == 0:
            return None, clock
        if days == 1:
            return _("tomorrow"), clock
        if days == -1:
            return _("yesterday"), clock
        if 1 < days < 7:  # a week ahead, "Monday" alone would read as today
            return _("on %(day)s") % {"day": phrases.weekday(local.weekday())}, clock
    return _("on %(day)s") % {
        "day": f"{phrases.weekday(local.weekday())} {_day(local.date(), phrases)}"
    }, clock


def _day(value: date, phrases: Phrases) -> str:
    return f"{value.day} {phrases.month(value.month)} {value.year}"


def sentence(
    reason: Reason | str,
    details: dict[str, Any],
    *,
    zone: zoneinfo.ZoneInfo,
    now: datetime | None = None,
    phrases: Phrases | None = None,
) -> str:
    """The decision in words, in the active language (or ``phrases``'s) and the lot's local time.

    Times of today read "at 17:00"; other days "at 17:00 tomorrow", "at 17:00 on Monday" (within
    the coming week) or "at 17:00 on Monday 30 March 2026". Without ``now`` the full date is given.
    Every text said here is listed in ``SENTENCE_TEXTS`` (the site agent's catalogue).
    """
    phrases = phrases or Phrases()
    _ = phrases.text
    reason = Reason(reason)
    if reason in _TIMED_SENTENCES:
        key = _TIMED_DETAIL[reason]
        if reason == Reason.OUTSIDE_TIMETABLE and details.get(key) is None:
            return _("Outside the timetable, and no later window is scheduled.")
        day, clock = _when(details[key], zone, now, phrases)
        today_text, other_day_text = _TIMED_SENTENCES[reason]
        if day is None:
            return _(today_text) % {"time": clock}
        return _(other_day_text) % {"day": day, "time": clock}
    if reason == Reason.UNKNOWN_PARKER:
        return _("Unknown parker: no matching profile, plate or code.")
    if reason == Reason.NO_POLICY_AT_LOT:
        return _("No access at this car park.")
    if reason == Reason.WRONG_LOT:
        return _("This access is for another car park.")
    if reason == Reason.GATE_DIRECTION:
        if details.get("gate_direction") == "entry":
            return _("This gate is for entry only.")
        return _("This gate is for exit only.")
    if reason == Reason.BOOKING_NEEDED:
        return _("Booking needed for this day.")
    if reason == Reason.GRANTED_OFFLINE_EXIT:
        return _("The car park is offline: the exit opens for everyone.")
    if reason == Reason.OFFLINE_MEMBERS_ONLY:
        return _("The car park is offline: only members can enter now. Please call the desk.")
    if reason == Reason.OFFLINE_CLOSED:
        return _("The car park is offline: this gate does not open now. Please call the desk.")
    if reason == Reason.SPOT_SHARED:
        return _("You shared your spot with a colleague for this day.")
    if reason == Reason.NOT_YET_VALID:
        return _("Not valid yet: validity starts on %(day)s.") % {"day": _day(details["valid_from"], phrases)}
    if reason == Reason.VALIDITY_ENDED:
        return _("Validity ended on %(day)s.") % {"day": _day(details["valid_until"], phrases)}
    if reason == Reason.RESERVATION_CANCELLED:
        if details.get("status") == "expired":
            return _("This booking expired before it was confirmed.")
        return _("This booking was cancelled.")
    return _("This booking is not confirmed yet (payment pending).")


# Whole sentences, so that translators can order words as their language needs.
_TIMED_SENTENCES = {
    Reason.GRANTED_RESERVATION: (
        gettext_noop("Valid reservation until %(time)s."),
        gettext_noop("Valid reservation until %(time)s %(day)s."),
    ),
    Reason.GRANTED_MEMBER: (
        gettext_noop("Valid access until %(time)s."),
        gettext_noop("Valid access until %(time)s %(day)s."),
    ),
    Reason.OUTSIDE_TIMETABLE: (
        gettext_noop("Outside the timetable: the next window opens at %(time)s."),
        gettext_noop("Outside the timetable: the next window opens at %(time)s %(day)s."),
    ),
    Reason.RESERVATION_NOT_STARTED: (
        gettext_noop("Booking starts at %(time)s."),
        gettext_noop("Booking starts at %(time)s %(day)s."),
    ),
    Reason.RESERVATION_ENDED: (
        gettext_noop("Booking ended at %(time)s."),
        gettext_noop("Booking ended at %(time)s %(day)s."),
    ),
}
# Every text ``sentence`` says (a test checks that it says no other): the catalogue the server
# translates into a site agent's snapshot.
SENTENCE_TEXTS: tuple[str, ...] = (
    *(text for pair in _TIMED_SENTENCES.values() for text in pair),
    gettext_noop("tomorrow"),
    gettext_noop("yesterday"),
    gettext_noop("on %(day)s"),
    gettext_noop("Outside the timetable, and no later window is scheduled."),
    gettext_noop("Unknown parker: no matching profile, plate or code."),
    gettext_noop("No access at this car park."),
    gettext_noop("This access is for another car park."),
    gettext_noop("This gate is for entry only."),
    gettext_noop("This gate is for exit only."),
    gettext_noop("Booking needed for this day."),
    gettext_noop("The car park is offline: the exit opens for everyone."),
    gettext_noop("The car park is offline: only members can enter now. Please call the desk."),
    gettext_noop("The car park is offline: this gate does not open now. Please call the desk."),
    gettext_noop("You shared your spot with a colleague for this day."),
    gettext_noop("Not valid yet: validity starts on %(day)s."),
    gettext_noop("Validity ended on %(day)s."),
    gettext_noop("This booking expired before it was confirmed."),
    gettext_noop("This booking was cancelled."),
    gettext_noop("This booking is not confirmed yet (payment pending)."),
)
_TIMED_DETAIL = {
    Reason.GRANTED_RESERVATION: "until",
    Reason.GRANTED_MEMBER: "until",
    Reason.OUTSIDE_TIMETABLE: "opens_at",
    Reason.RESERVATION_NOT_STARTED: "starts_at",
    Reason.RESERVATION_ENDED: "ended_at",
}


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
