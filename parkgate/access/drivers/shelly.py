"""Shelly Gen2+ relays over MQTT JSON-RPC: ``Switch.Set`` with ``toggle_after`` makes a pulse.

Wire the relay to the barrier controller's OPEN input, never to its step-by-step (START) input.

Settings (``Gate.driver_settings``)::

    {"switch_id": 0,          # relay number
     "pulse_seconds": 1.0}    # how long the OPEN contact stays closed

The topic prefix is not a setting: it is the gate's ``mqtt_namespace`` (``pg/g<random>``), which
Parkgate assigns, and the relay signs in to the broker with the gate's own account, allowed under
that namespace only. The request goes to ``<namespace>/rpc`` with ``src`` =
``<namespace>/<this process's client id>``, so the device answers on ``<src>/rpc``, inside its own
namespace, with the same ``id`` (the command id). The payload also carries
``parkgate_expires_at`` (Unix milliseconds) for devices that check it (our simulator does); the
MQTT v5 message expiry makes the broker drop a late command for every device.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from parkgate.access.drivers import register
from parkgate.access.drivers.base import (
    DriverOutcome,
    GateCommand,
    clean_number,
    reject_assigned_topics,
    reject_unknown,
)
from parkgate.access.models import GateResult
from parkgate.access.mqtt import BrokerUnavailable, mqtt_link
from parkgate.access.relay_payloads import switch_set_request
from parkgate.parking.models import Gate


class ShellyGen2Driver:
    label = gettext_lazy("Shelly Gen2+ relay (MQTT RPC)")

    def validate_settings(self, data: dict[str, Any]) -> dict[str, Any]:
        reject_assigned_topics(data, ("topic_prefix",))
        reject_unknown(data, {"switch_id", "pulse_seconds"})
        errors: dict[str, Any] = {}
        cleaned: dict[str, Any] = {}
        for name, check in (
            (
                "switch_id",
                lambda: int(
                    clean_number(
                        data.get("switch_id"),
                        field="switch_id",
                        default=0,
                        minimum=0,
                        maximum=3,
                        integer=True,
                    )
                ),
            ),
            (
                "pulse_seconds",
                lambda: clean_number(
                    data.get("pulse_seconds"), field="pulse_seconds", default=1.0, minimum=0.2, maximum=10
                ),
            ),
        ):
            try:
                cleaned[name] = check()
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)
        return cleaned

    def open(self, gate: Gate, command: GateCommand) -> DriverOutcome:
        config = self.validate_settings(gate.driver_settings or {})
        link = mqtt_link()
        remaining = (command.expires_at - timezone.now()).total_seconds()
        timeout = min(float(settings.GATE_COMMAND_TIMEOUT_SECONDS), remaining)
        if timeout <= 0:
            return DriverOutcome(GateResult.FAILED, "command expired before it was sent")
        namespace = gate.mqtt_namespace
        src = f"{namespace}/{link.client_id}"
        request = switch_set_request(
            command_id=str(command.command_id),
            expires_at=command.expires_at,
            src=src,
            switch_id=config["switch_id"],
            pulse_seconds=config["pulse_seconds"],
        )
        wanted_id = request["id"]

        def is_reply(topic: str, payload: bytes) -> bool:
            try:
                return bool(json.loads(payload).get("id") == wanted_id)
            except (ValueError, AttributeError):
                return False

        try:
            reply = link.request(
                topic=f"{namespace}/rpc",
                payload=json.dumps(request, separators=(",", ":")),
                reply_topic=f"{src}/rpc",
                match=is_reply,
                timeout=timeout,
                expires_in=remaining,
            )
        except BrokerUnavailable as error:
            return DriverOutcome(GateResult.FAILED, str(error))
        if reply is None:
            return DriverOutcome(
                GateResult.TIMED_OUT, f"no answer from the relay within {round(timeout, 1):g} s"
            )
        answer = json.loads(reply)
        if "error" in answer:
            refusal = answer["error"] if isinstance(answer["error"], dict) else {"message": answer["error"]}
            return DriverOutcome(
                GateResult.FAILED,
                f"relay refused: {refusal.get('code', '')} {refusal.get('message', '')}".strip(),
            )
        return DriverOutcome(GateResult.OPENED, "acknowledged by the relay")


@register("shelly-gen2-mqtt")
def shelly_gen2() -> ShellyGen2Driver:
    return ShellyGen2Driver()
