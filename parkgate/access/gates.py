"""Open a gate and record the attempt. Every attempt, whatever its source, is an AccessEvent."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from parkgate.access.decisions import Decision, Reason, details_to_json, sentence
from parkgate.access.drivers import driver_for
from parkgate.access.drivers.base import GateCommand
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Reservation
from parkgate.accounts.models import User
from parkgate.parking.models import Gate, Lot, Parker


def command_lifetime() -> timedelta:
    """A command older than this never opens a gate, even if it reaches the device later.

    It equals the time we wait for the gate's answer: once we have recorded "timed out", the gate
    must not open any more, or the access log would lie.
    """
    return timedelta(seconds=settings.GATE_COMMAND_TIMEOUT_SECONDS)


def access_attempt(
    *,
    lot: Lot,
    gate: Gate | None,
    method: AccessMethod | str,
    decision: Decision,
    parker: Parker | None = None,
    reservation: Reservation | None = None,
    actor: User | None = None,
    plate_text: str = "",
    forced: bool = False,
    force_reason: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AccessEvent:
    """Record a decision and, when it grants (or a parking owner forces it), open the gate.

    Never call this inside a transaction or a lock: the gate answer can take seconds. The event
    records who forced and why; the caller audits the action with its own context and the result. The event
    is written first (result "in progress"), then completed with the gate's answer and timings.
    """
    if _in_transaction():
        raise RuntimeError("access_attempt() talks to a gate; call it outside any transaction")
    if forced and not force_reason.strip():
        raise ValueError("a forced opening needs a written reason")
    now = now or timezone.now()
    will_open = gate is not None and (decision.granted or forced)
    event = AccessEvent.objects.create(
        lot=lot,
        gate=gate,
        method=method,
        parker=parker,
        reservation=reservation,
        policy_id=decision.policy_id,
        plate_text=plate_text,
        granted=decision.granted,
        reason=decision.reason,
        message=sentence(decision.reason, decision.details, zone=lot.zone, now=now)[:300],
        forced=forced,
        force_reason=force_reason,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        result=GateResult.PENDING if will_open else GateResult.NOT_ATTEMPTED,
        command_id=uuid.uuid4() if will_open else None,
        requested_at=now,
        data={"decision": details_to_json(decision.details), **(data or {})},
    )
    if not will_open:
        return event
    assert gate is not None and event.command_id is not None
    started = time.monotonic()
    command = GateCommand(
        command_id=event.command_id,
        reason=Reason(decision.reason).value if not forced else "forced",
        expires_at=timezone.now() + command_lifetime(),
    )
    try:
        outcome = driver_for(gate).open(gate, command)
        result, detail = outcome.result, outcome.detail
    except Exception as error:  # a driver bug must still leave a clear record, never a 500 at the gate
        result, detail = GateResult.FAILED, f"driver error: {type(error).__name__}: {error}"[:300]
    event.result = result
    event.result_detail = detail[:300]
    event.completed_at = timezone.now()
    event.duration_ms = int((time.monotonic() - started) * 1000)
    event.save(update_fields=["result", "result_detail", "completed_at", "duration_ms"])
    return event


def _in_transaction() -> bool:
    """True inside a transaction of our own; the wrapper a Django test case adds does not count."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def grace() -> tuple[timedelta, timedelta]:
    """How long before its start and after its end a reservation opens the gate."""
    return (
        timedelta(minutes=settings.ACCESS_GRACE_BEFORE_MINUTES),
        timedelta(minutes=settings.ACCESS_GRACE_AFTER_MINUTES),
    )
