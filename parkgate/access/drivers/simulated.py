"""The in-process simulated gate: the default for ``make run`` and tests; no broker needed.

Settings (``Gate.driver_settings``): ``{"outcome": "opened" | "failed" | "timed_out"}``.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkgate.access.drivers import register
from parkgate.access.drivers.base import DriverOutcome, GateCommand, reject_unknown
from parkgate.access.models import GateResult
from parkgate.parking.models import Gate


@dataclass(frozen=True)
class SimulatedPulse:
    gate_id: int
    command_id: uuid.UUID


class SimulatedGateState:
    """What the simulated gates did in this process (tests and the demo read it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pulses: list[SimulatedPulse] = []
        self._seen: set[uuid.UUID] = set()

    def pulse(self, gate_id: int, command_id: uuid.UUID) -> bool:
        with self._lock:
            if command_id in self._seen:
                return False
            self._seen.add(command_id)
            self.pulses.append(SimulatedPulse(gate_id, command_id))
            return True

    def reset(self) -> None:
        with self._lock:
            self.pulses.clear()
            self._seen.clear()


STATE = SimulatedGateState()


class SimulatedDriver:
    label = gettext_lazy("Simulated (no hardware)")

    def validate_settings(self, data: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(data, {"outcome"})
        outcome = data.get("outcome", "opened")
        if outcome not in ("opened", "failed", "timed_out"):
            raise ValidationError({"outcome": _("Choose opened, failed or timed_out.")})
        return {"outcome": outcome} if outcome != "opened" else {}

    def open(self, gate: Gate, command: GateCommand) -> DriverOutcome:
        outcome = (gate.driver_settings or {}).get("outcome", "opened")
        if outcome == "failed":
            return DriverOutcome(GateResult.FAILED, "simulated failure")
        if outcome == "timed_out":
            return DriverOutcome(GateResult.TIMED_OUT, "simulated time-out")
        if timezone.now() >= command.expires_at:
            return DriverOutcome(GateResult.FAILED, "command expired before it reached the gate")
        if not STATE.pulse(gate.pk, command.command_id):
            return DriverOutcome(GateResult.OPENED, "duplicate command ignored")
        return DriverOutcome(GateResult.OPENED)


@register("simulated")
def simulated() -> SimulatedDriver:
    return SimulatedDriver()
