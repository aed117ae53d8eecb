"""Gate drivers: one interface, a registry by gate kind (``Gate.driver_kind``).

A driver opens a gate for a command that carries an id, a reason and an expiry, and answers
opened, failed or timed out. A command that reaches a gate after its expiry never opens it, and a
command delivered twice opens once.
"""

from __future__ import annotations

from collections.abc import Callable

from parkgate.access.drivers.base import DriverOutcome, GateCommand, GateDriver
from parkgate.parking.models import Gate

_REGISTRY: dict[str, Callable[[], GateDriver]] = {}


def register(kind: str) -> Callable[[Callable[[], GateDriver]], Callable[[], GateDriver]]:
    def decorator(factory: Callable[[], GateDriver]) -> Callable[[], GateDriver]:
        _REGISTRY[kind] = factory
        return factory

    return decorator


def driver_kinds() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def driver_for(gate: Gate) -> GateDriver:
    _load_builtin()
    try:
        factory = _REGISTRY[gate.driver_kind]
    except KeyError:
        raise LookupError(f"no gate driver for kind {gate.driver_kind!r}") from None
    return factory()


def _load_builtin() -> None:
    # Imported for their @register side effect; late, so drivers may import models freely.
    from parkgate.access.drivers import simulated  # noqa: F401


__all__ = ["DriverOutcome", "GateCommand", "GateDriver", "driver_for", "driver_kinds", "register"]
