"""Gate drivers: one interface, a registry by gate kind (``Gate.driver_kind``).

A driver opens a gate for a command that carries an id, a reason and an expiry, and answers
opened, failed or timed out. A command that reaches a gate after its expiry never opens it, and a
command delivered twice opens once.

Kinds: ``simulated`` (in process, the ``make run`` default), ``shelly-gen2-mqtt`` (Switch.Set with
``toggle_after`` over MQTT JSON-RPC) and ``mqtt-generic`` (a configurable topic and payload with an
optional acknowledgement topic, Tasmota / ESPHome style). ``validate_driver_settings`` checks a
gate's settings for its kind; the back office calls it before saving a gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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


def driver_choices() -> list[tuple[str, str]]:
    """(kind, label) pairs for a select box."""
    _load_builtin()
    return [(kind, _REGISTRY[kind]().label) for kind in sorted(_REGISTRY)]


def driver_for(gate: Gate) -> GateDriver:
    return driver_of_kind(gate.driver_kind)


def driver_of_kind(kind: str) -> GateDriver:
    _load_builtin()
    try:
        factory = _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no gate driver for kind {kind!r}") from None
    return factory()


def validate_driver_settings(kind: str, data: Any) -> dict[str, Any]:
    """The cleaned settings of a gate driver, or ValidationError (messages in the active language)."""
    _load_builtin()
    if kind not in _REGISTRY:
        raise ValidationError({"driver_kind": _("Unknown gate driver %(kind)s.") % {"kind": kind}})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError({"driver_settings": _("Driver settings must be a JSON object.")})
    return driver_of_kind(kind).validate_settings(data)


def _load_builtin() -> None:
    # Imported for their @register side effect; late, so drivers may import models freely.
    from parkgate.access.drivers import mqtt_generic, shelly, simulated  # noqa: F401


__all__ = [
    "DriverOutcome",
    "GateCommand",
    "GateDriver",
    "driver_choices",
    "driver_for",
    "driver_kinds",
    "register",
    "validate_driver_settings",
]
