"""Writes of the control room: open a gate for a parker, force it open, register a walk-in visitor.

Gate commands never run inside a transaction: ``access_attempt`` talks to the gate and can take
seconds, so every gate opening here happens after the writes it depends on have committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from parkgate.access.capacity import ReservationRequest, policy_windows, reservations_create
from parkgate.access.decisions import Decision, decide
from parkgate.access.gates import access_attempt
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Reservation, ReservationSource
from parkgate.access.selectors import gate_facts, lot_facts, reservation_access, ways_in
from parkgate.access.timetable import covers
from parkgate.accounts.models import User
from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError
from parkgate.core.mail import email_queue
from parkgate.core.models import OutboundEmail
from parkgate.parking.models import AccessPolicy, Gate, Lot, Parker
from parkgate.parking.plates import plate_display
from parkgate.parking.services import parker_save

from .selectors import access_key, parker_accesses_at_lot


class ControlRoomError(ParkgateError):
    """An action the desk cannot take; ``message`` is for the user, in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _gate_audit_action(event: AccessEvent) -> str:
    if event.result == GateResult.OPENED:
        return "controlroom.gate.opened"
    if event.result == GateResult.NOT_ATTEMPTED:
        return "controlroom.gate.refused"
    return "controlroom.gate.failed"


def _reservation_of(decision: Decision) -> Reservation | None:
    if decision.reservation_id is None:
        return None
    return Reservation.objects.filter(pk=decision.reservation_id).first()


def gate_open(
    *,
    lot: Lot,
    gate: Gate,
    parker: Parker,
    access: str,
    actor: User | None,
    now: datetime | None = None,
) -> AccessEvent:
    """Open ``gate`` for ``parker`` on the access the desk chose (``m<policy>`` or ``r<reservation>``).

    The engine decides again at this instant: an access that stopped being valid since the page
    was shown opens nothing and is recorded as refused. Raises ControlRoomError when the parker
    holds no such access at this lot.
    """
    now = now or timezone.now()
    chosen = [a for a in parker_accesses_at_lot(lot, parker, now=now) if access_key(a) == access]
    if not chosen:
        raise ControlRoomError(_("This access no longer exists. Search again."))
    decision = decide(lot=lot_facts(lot), at=now, accesses=chosen, gate=gate_facts(gate))
    return _attempt_and_audit(
        lot=lot, gate=gate, parker=parker, decision=decision, actor=actor, now=now, data={"access": access}
    )


def gate_force_open(
    *,
    lot: Lot,
    gate: Gate,
    parker: Parker,
    reason: str,
    actor: User | None,
    now: datetime | None = None,
) -> AccessEvent:
    """Open ``gate`` for a parker the engine refuses, on a parking owner's written reason.

    Who may force is the view's business (parking owners only); this records the engine's
    refusal, the forced opening and the reason together.
    """
    reason = reason.strip()
    if not reason:
        raise ControlRoomError(_("Write why you force the gate open."))
    now = now or timezone.now()
    accesses = parker_accesses_at_lot(lot, parker, now=now)
    decision = decide(lot=lot_facts(lot), at=now, accesses=accesses, gate=gate_facts(gate))
    return _attempt_and_audit(
        lot=lot, gate=gate, parker=parker, decision=decision, actor=actor, now=now, force_reason=reason
    )


def _attempt_and_audit(
    *,
    lot: Lot,
    gate: Gate,
    parker: Parker,
    decision: Decision,
    actor: User | None,
    now: datetime,
    force_reason: str = "",
    data: dict[str, Any] | None = None,
) -> AccessEvent:
    """Ask the gate (forced when a reason is given) and audit the outcome with the desk's details."""
    event = access_attempt(
        lot=lot,
        gate=gate,
        method=AccessMethod.CONTROL_ROOM,
        decision=decision,
        parker=parker,
        reservation=_reservation_of(decision),
        actor=actor,
        plate_text=_first_plate(parker),
        forced=bool(force_reason),
        force_reason=force_reason,
        now=now,
    )
    audit_data: dict[str, Any] = {"lot": lot.pk, "gate": gate.pk, "parker": parker.pk, **(data or {})}
    if force_reason:
        audit_data["reason"] = force_reason
    audit_data |= {"decision": str(decision.reason), "result": event.result}
    audit_log(
        action="controlroom.gate.forced" if force_reason else _gate_audit_action(event),
        organisation=lot.owner,
        actor=actor,
        obj=event,
        data=audit_data,
    )
    return event


@dataclass(frozen=True)
class WalkIn:
    parker: Parker
    reservation: Reservation
    event: AccessEvent | None  # the gate opening, when asked for


def walk_in_register(
    *,
    lot: Lot,
    policy: AccessPolicy,
    first_name: str,
    last_name: str,
    email: str,
    plate_text: str,
    start: datetime,
    end: datetime,
    actor: User | None,
    language: str = "en",
    open_gate: Gate | None = None,
    outside_reason: str = "",
    now: datetime | None = None,
) -> WalkIn:
    """Create a visitor's profile and visit in one transaction, then (optionally) open a gate.

    The visitor belongs to the visited organisation (``policy.organisation``). The visit goes
    through the capacity engine: when it is full (or the time is outside the visitor timetable)
    the ReservationError propagates and nothing at all is created. The gate opens after commit.

    A visit outside the visitor timetable is registered only with ``outside_reason`` (the desk's
    written reason, like a forced opening): the timetable is waived, the capacity limits are not;
    the reason is audited, and the gate opening it asks for shows in the live log as forced, with
    the reason. A visitor with an e-mail address receives their ways in.
    """
    if policy.lot_id != lot.pk:
        raise ValueError("the visitor policy belongs to another lot")
    if open_gate is not None and open_gate.lot_id != lot.pk:
        raise ValueError("the gate belongs to another lot")
    now = now or timezone.now()
    plate_text = plate_display(plate_text)
    outside_reason = " ".join(outside_reason.split())
    outside = outside_reason != "" and not within_visitor_timetable(policy, start, end)
    with transaction.atomic():
        parker = parker_save(
            parker=Parker(
                managed_by=policy.organisation,
                organisation=None,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                email=email.strip(),
            ),
            plates=[plate_text] if plate_text else [],
            actor=actor,
        )
        (reservation,) = reservations_create(
            requests=[
                ReservationRequest(
                    parker=parker,
                    policy=policy,
                    start=start,
                    end=end,
                    plate_text=plate_text,
                    language=language,
                )
            ],
            source=ReservationSource.CONTROL_ROOM,
            created_by=actor,
            now=now,
            timetable_exempt=outside,
        )
        audit_log(
            action="controlroom.visitor.registered_outside_timetable"
            if outside
            else "controlroom.visitor.registered",
            organisation=lot.owner,
            actor=actor,
            obj=reservation,
            data={
                "lot": lot.pk,
                "parker": parker.pk,
                "visited_organisation": policy.organisation_id,
                "policy": policy.pk,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "plate": plate_text,
                **({"reason": outside_reason} if outside else {}),
            },
        )
        if parker.email:
            walk_in_email_queue(reservation=reservation, language=language)
    event = None
    if open_gate is not None and outside:
        event = gate_force_open(lot=lot, gate=open_gate, parker=parker, reason=outside_reason, actor=actor)
    elif open_gate is not None:
        event = gate_open(
            lot=lot,
            gate=open_gate,
            parker=parker,
            access=access_key(reservation_access(reservation)),
            actor=actor,
        )
    return WalkIn(parker=parker, reservation=reservation, event=event)


def within_visitor_timetable(policy: AccessPolicy, start: datetime, end: datetime) -> bool:
    return covers(
        policy_windows(policy),
        zone=policy.lot.zone,
        start=start,
        end=end,
        valid_from=policy.valid_from,
        valid_until=policy.valid_until,
    )


def walk_in_email_queue(*, reservation: Reservation, language: str) -> OutboundEmail:
    """The walk-in's confirmation with their ways in (sent after the registration commits)."""
    lot = reservation.lot
    organisation = reservation.organisation
    return email_queue(
        to=[reservation.parker.email],
        template="controlroom/email/walk_in",
        context={
            "organisation": organisation,
            "lot": lot,
            "parker": reservation.parker,
            "plate": reservation.plate_text,
            "ways_in": ways_in(lot),
            "items": [
                {
                    "reservation": reservation,
                    "remote_control_url": settings.SITE_URL
                    + reverse("access:remote_control", args=[reservation.remote_control_token]),
                }
            ],
        },
        language=language,
        kind="controlroom.walk_in",
        organisation=organisation,
        sender_name=organisation.name,
        reply_to=[organisation.email] if organisation.email else [],
        obj=reservation,
    )


def _first_plate(parker: Parker) -> str:
    plate = parker.plates.order_by("pk").first()
    return plate.text if plate is not None else ""
