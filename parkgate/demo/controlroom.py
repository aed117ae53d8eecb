"""Demo data for the control room: a link to the demo lot's desk and a few logged gate attempts."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from parkgate.access.decisions import decide, details_to_json, sentence
from parkgate.access.models import AccessEvent, AccessMethod, GateResult
from parkgate.access.selectors import accesses_for_parker, lot_facts
from parkgate.demo.base import DemoContext
from parkgate.parking.models import Parker


def load(ctx: DemoContext) -> None:
    ctx.links.append(("Control room", f"/control-room/{ctx.lot.pk}/"))
    if AccessEvent.objects.filter(lot=ctx.lot).exists():
        return
    now = timezone.now()
    gates = {g.direction: g for g in ctx.lot.gates.all()}
    entry, exit_gate = gates.get("entry"), gates.get("exit")
    sophie = Parker.objects.filter(managed_by=ctx.acme, last_name="Martin").first()
    thomas = Parker.objects.filter(managed_by=ctx.bluefin, last_name="Janssens").first()
    samples = [
        (sophie, entry, AccessMethod.ANPR, "1-ABC-123", timedelta(minutes=42)),
        (thomas, entry, AccessMethod.REMOTE_CONTROL, "", timedelta(minutes=25)),
        (None, entry, AccessMethod.ANPR, "1-ZZZ-999", timedelta(minutes=12)),
        (sophie, exit_gate, AccessMethod.ANPR, "1-ABC-123", timedelta(minutes=3)),
    ]
    facts = lot_facts(ctx.lot)
    for parker, gate, method, plate, ago in samples:
        at = now - ago
        accesses = accesses_for_parker(parker, at=at) if parker is not None else None
        decision = decide(lot=facts, at=at, accesses=accesses)
        AccessEvent.objects.create(
            lot=ctx.lot,
            gate=gate,
            method=method,
            parker=parker,
            policy_id=decision.policy_id,
            plate_text=plate,
            granted=decision.granted,
            reason=decision.reason,
            message=sentence(decision.reason, decision.details, zone=ctx.lot.zone, now=at)[:300],
            result=GateResult.OPENED if decision.granted else GateResult.NOT_ATTEMPTED,
            requested_at=at,
            completed_at=at if decision.granted else None,
            data={"decision": details_to_json(decision.details), "demo": True},
        )
