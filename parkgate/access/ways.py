"""The three ways in: the virtual remote control, number-plate cameras and keypads.

Each one turns what the visitor or the device presented into the decision engine's facts, decides,
and hands the decision to ``access_attempt`` (which records the event and commands the gate). The
short-lived shared state (rate limits, repeated reads, keypad lockouts) lives in the Django cache,
which every process shares (Redis in production, the database otherwise).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from parkgate.access.anpr import PlateRead
from parkgate.access.decisions import Access, Decision, Reason, decide
from parkgate.access.gates import access_attempt, grace
from parkgate.access.lockout import Lockout, reserve_guess, settle_guess
from parkgate.access.matching import match_identity, plate_decision, shown_plate
from parkgate.access.models import AccessEvent, AccessMethod, Camera, GateResult, Keypad, Reservation
from parkgate.access.selectors import (
    accesses_for_parker,
    gate_facts,
    keypad_reservations,
    lot_facts,
    plate_matches,
    reservation_access,
)
from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError
from parkgate.core.ratelimit import rate_hit
from parkgate.parking.models import Gate, Lot, Parker
from parkgate.parking.plates import usable_keys


@dataclass
class WayOutcome:
    """What a device is told: ``status`` is decided, repeat, ignored or locked_out."""

    status: str
    decision: Decision | None = None
    event: AccessEvent | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "granted": False}
        if self.decision is not None:
            body["granted"] = self.decision.granted
            body["reason"] = self.decision.reason.value
        if self.event is not None:
            body.update(
                event_id=self.event.pk,
                message=self.event.message,
                result=self.event.result,
                plate=self.event.plate_text,
            )
        if self.detail:
            body["detail"] = self.detail
        return body | self.extra


def _decide(
    gate: Gate, accesses: list[Access] | None, *, at: datetime, travel: str | None = None
) -> Decision:
    before, after = grace()
    return decide(
        lot=lot_facts(gate.lot),
        at=at,
        accesses=accesses,
        gate=gate_facts(gate),
        travel=travel,
        grace_before=before,
        grace_after=after,
    )


# -- Virtual remote control ------------------------------------------------------------------
# Two holders: the link of one reservation (e-mailed to a visitor), and a signed-in member on the
# members' page (their member policies and reservations at the gate's lot). One decision, one
# rate limit, one way to record and command the gate.
def remote_control_state(reservation: Reservation, *, at: datetime) -> Decision:
    """May this reservation's link open a gate now (any gate of its lot)?"""
    before, after = grace()
    return decide(
        lot=lot_facts(reservation.lot),
        at=at,
        accesses=[reservation_access(reservation)],
        grace_before=before,
        grace_after=after,
    )


def member_accesses_at(parker: Parker, lot: Lot, *, at: datetime) -> list[Access]:
    """A member's accesses (member policies, nearby reservations) at one lot."""
    return [access for access in accesses_for_parker(parker, at=at) if access.lot_id == lot.pk]


def remote_control_member_state(parker: Parker, lot: Lot, *, at: datetime) -> Decision:
    """May this member open a gate of ``lot`` from their page now (any gate of the lot)?"""
    before, after = grace()
    return decide(
        lot=lot_facts(lot),
        at=at,
        accesses=member_accesses_at(parker, lot, at=at),
        grace_before=before,
        grace_after=after,
    )


def remote_control_rate_ok(reservation: Reservation | None = None, *, parker: Parker | None = None) -> bool:
    """False once the link (or the member) asked for more openings this minute than allowed.

    Every process counts in the shared cache.
    """
    holder = (
        f"reservation:{reservation.pk}"
        if reservation is not None
        else f"parker:{parker.pk if parker else '-'}"
    )
    rate = f"{settings.REMOTE_CONTROL_OPENS_PER_MINUTE}/m"
    return not rate_hit(None, scope="access.remote_control", rate=rate, key=holder)


def remote_control_open(
    *,
    gate: Gate,
    reservation: Reservation | None = None,
    parker: Parker | None = None,
    now: datetime | None = None,
) -> AccessEvent:
    """Decide and open ``gate`` for the holder of a reservation's link, or for a signed-in member.

    Exactly one of ``reservation`` and ``parker`` is given. A member's decision rests on all their
    accesses at the gate's lot; the event names the reservation when one granted.
    """
    if (reservation is None) == (parker is None):
        raise ValueError("give a reservation or a parker")
    now = now or timezone.now()
    if reservation is not None:
        if gate.lot_id != reservation.lot_id:
            raise ValueError("the gate is not at the reservation's car park")
        decision = _decide(gate, [reservation_access(reservation)], at=now)
        return access_attempt(
            lot=reservation.lot,
            gate=gate,
            method=AccessMethod.REMOTE_CONTROL,
            decision=decision,
            parker=reservation.parker,
            reservation=reservation,
            plate_text=reservation.plate_text,
            now=now,
        )
    assert parker is not None
    decision = _decide(gate, member_accesses_at(parker, gate.lot, at=now), at=now)
    granting = Reservation(pk=decision.reservation_id) if decision.reservation_id is not None else None
    return access_attempt(
        lot=gate.lot,
        gate=gate,
        method=AccessMethod.REMOTE_CONTROL,
        decision=decision,
        parker=parker,
        reservation=granting,
        now=now,
        data={"holder": "member"},
    )


# -- Number-plate cameras --------------------------------------------------------------------
def anpr_read_handle(*, camera: Camera, read: PlateRead, now: datetime | None = None) -> WayOutcome:
    """Act on one plate read from ``camera``: decide, open at most once per car, say what happened."""
    if read.ignored:
        return WayOutcome("ignored", detail=read.ignored)
    if not read.candidates:
        return WayOutcome("ignored", detail="no plate in this read")
    now = now or timezone.now()
    gate = camera.gate
    keys = usable_keys(read.candidates, min_confidence=camera.min_confidence / 100)
    decision, match, how = plate_decision(
        keys,
        lookup=lambda wanted: plate_matches(gate.lot, wanted, at=now),
        decide_for=lambda accesses: _decide(
            gate, list(accesses) if accesses is not None else None, at=now, travel=read.direction
        ),
    )
    best = read.best
    if match is not None:
        identity = match_identity(match)
    else:
        identity = "plate:" + (keys[0] if keys else (best.key if best else "-"))
    # The same car with the same answer at the same gate: one event, one opening. A different
    # answer (it entered its window, it now drives the right way) is acted on.
    repeat_key = f"access:anpr:{gate.pk}:{identity}:{decision.reason.value}"
    if not cache.add(repeat_key, now.isoformat(), settings.ANPR_REPEAT_WINDOW_SECONDS):
        return WayOutcome("repeat", decision, detail="same car read again at this gate")
    # Only their ids are needed to record the event: no extra query before the gate command.
    reservation = Reservation(pk=decision.reservation_id) if decision.reservation_id is not None else None
    parker = Parker(pk=match.parker_id) if match is not None else None
    event = access_attempt(
        lot=gate.lot,
        gate=gate,
        method=AccessMethod.ANPR,
        decision=decision,
        parker=parker,
        reservation=reservation,
        plate_text=shown_plate(read, match),
        now=now,
        data={
            "camera": camera.pk,
            "format": read.format,
            "match": how,
            "matched_key": match.key if match else "",
            "candidates": [[c.text, round(c.confidence, 3)] for c in read.candidates[:10]],
            "source_ref": read.source_ref,
            "direction": read.direction or "",
        },
    )
    if decision.granted and event.result != GateResult.OPENED:
        cache.delete(repeat_key)  # the gate did not open: the next read may try again
    return WayOutcome("decided", decision, event, extra={"match": how})


# -- Keypads ---------------------------------------------------------------------------------
IGNORED_KEYPAD_VALUES = frozenset({"", "unknown", "unavailable", "none", "null"})


class KeypadInputError(ParkgateError, ValueError):
    """Not a code: the device sent something else (answered with 400)."""


def _keypad_key(keypad: Keypad, name: str) -> str:
    return f"access:keypad:{keypad.pk}:{name}"


def _locked_out(lockout: Lockout, now: datetime) -> WayOutcome:
    seconds = lockout.retry_after(now)
    return WayOutcome(
        "locked_out",
        detail="too many wrong codes; try again later, or use the link in your booking e-mail",
        extra={"retry_after": seconds},
    )


def keypad_code_enter(*, keypad: Keypad, code: str, now: datetime | None = None) -> WayOutcome:
    """Act on a code typed at ``keypad``, within the keypad's lockout limits (see lockout.py)."""
    value = (code or "").strip()
    if value.lower() in IGNORED_KEYPAD_VALUES:
        return WayOutcome("ignored", detail="no code")
    if not value.isdigit() or not value.isascii() or not 4 <= len(value) <= 8:
        raise KeypadInputError("a code is 4 to 8 digits")
    window = settings.KEYPAD_REPEAT_WINDOW_SECONDS
    # Only a digest of the code goes into the shared cache.
    digest = hashlib.sha256(f"{keypad.pk}:{value}".encode()).hexdigest()[:32]
    if window and not cache.add(_keypad_key(keypad, f"last:{digest}"), 1, window):
        return WayOutcome("ignored", detail="same code sent again")
    now = now or timezone.now()
    # Counted before it is evaluated, atomically: concurrent codes cannot slip past the limit.
    guess = reserve_guess(keypad, now=now)
    if isinstance(guess, Lockout):
        return _locked_out(guess, now)
    gate = keypad.gate
    try:
        reservations = keypad_reservations(gate.lot, value, at=now)
        decision = _decide(gate, [reservation_access(r) for r in reservations] or None, at=now)
    except BaseException:
        settle_guess(guess, granted=False)
        raise
    reservation = next((r for r in reservations if r.pk == decision.reservation_id), None)
    lockout = settle_guess(guess, granted=decision.granted)
    if lockout is not None:
        audit_log(
            action="access.keypad.locked_out",
            organisation=gate.lot.owner,
            actor_label=f"keypad {keypad.name}",
            obj=keypad,
            data={"reason": lockout.reason, "until": lockout.until.isoformat()},
        )
    event = access_attempt(
        lot=gate.lot,
        gate=gate,
        method=AccessMethod.KEYPAD,
        decision=decision,
        parker=reservation.parker if reservation else None,
        reservation=reservation,
        plate_text=reservation.plate_text if reservation else "",
        now=now,
        data={"keypad": keypad.pk},
    )
    return WayOutcome("decided", decision, event)


__all__ = [
    "KeypadInputError",
    "Reason",
    "WayOutcome",
    "anpr_read_handle",
    "keypad_code_enter",
    "member_accesses_at",
    "remote_control_member_state",
    "remote_control_open",
    "remote_control_rate_ok",
    "remote_control_state",
]
