from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from parkgate.access.models import GateResult
from parkgate.parking.models import Gate


@dataclass(frozen=True)
class GateCommand:
    command_id: uuid.UUID
    reason: str
    expires_at: datetime


@dataclass(frozen=True)
class DriverOutcome:
    result: GateResult  # OPENED, FAILED or TIMED_OUT
    detail: str = ""


class GateDriver(Protocol):
    def open(self, gate: Gate, command: GateCommand) -> DriverOutcome:
        """Pulse the gate's OPEN input; block until acknowledged, failed or timed out."""
        ...
