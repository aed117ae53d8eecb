"""A relay that takes a fixed MQTT command (Tasmota, ESPHome, home-made controllers).

Settings (``Gate.driver_settings``)::

    {"command_topic": "cmnd/POWER1",   # required
     "command_payload": "ON",          # may use {command_id}, {expires_at}, {reason}
     "ack_topic": "stat/POWER1",       # optional: wait for a message here
     "ack_payload": "ON"}              # optional: the acknowledgement must equal this

Both topics are relative to the gate's own namespace (``Gate.mqtt_namespace``, assigned by
Parkgate): the command goes to ``<namespace>/cmnd/POWER1``. A tenant cannot name any other topic,
and the relay's broker account may use that namespace only. Tasmota: set its full topic to
``<namespace>/%prefix%/``; ESPHome: ``topic_prefix: <namespace>``.

Tasmota: configure ``PulseTime`` on the device so ``ON`` is a pulse. ESPHome: a template switch
that turns itself off after the pulse. Without an acknowledgement topic the gate is reported
opened as soon as the broker has the command (the device cannot tell us more).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parkgate.access.drivers import register
from parkgate.access.drivers.base import (
    DriverOutcome,
    GateCommand,
    clean_relative_topic,
    reject_unknown,
)
from parkgate.access.models import GateResult
from parkgate.access.mqtt import BrokerUnavailable, mqtt_link
from parkgate.access.relay_payloads import render_payload
from parkgate.parking.models import Gate

_PLACEHOLDERS = ("{command_id}", "{expires_at}", "{reason}")


class MqttGenericDriver:
    label = gettext_lazy("Generic MQTT relay (Tasmota, ESPHome)")

    def validate_settings(self, data: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(data, {"command_topic", "command_payload", "ack_topic", "ack_payload"})
        errors: dict[str, Any] = {}
        cleaned: dict[str, Any] = {}
        for name, required in (("command_topic", True), ("ack_topic", False)):
            try:
                cleaned[name] = clean_relative_topic(data.get(name), field=name, required=required)
            except ValidationError as error:
                errors.update(error.message_dict)
        for name, default in (("command_payload", "ON"), ("ack_payload", "")):
            value = data.get(name, default)
            if not isinstance(value, str) or len(value) > 500:
                errors[name] = [_("Enter text of at most 500 characters.")]
            else:
                cleaned[name] = value
        if not errors and cleaned["command_payload"] == "":
            errors["command_payload"] = [_("This field is required.")]
        if not errors and cleaned["ack_payload"] and not cleaned["ack_topic"]:
            errors["ack_topic"] = [_("An expected acknowledgement needs an acknowledgement topic.")]
        if not errors and cleaned["ack_topic"] == cleaned["command_topic"]:
            errors["ack_topic"] = [_("The acknowledgement topic must differ from the command topic.")]
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
        payload = render_payload(
            config["command_payload"],
            command_id=str(command.command_id),
            expires_at=command.expires_at,
            reason=command.reason,
        )
        expected = config["ack_payload"]
        command_topic = f"{gate.mqtt_namespace}/{config['command_topic']}"
        try:
            if not config["ack_topic"]:
                link.publish(command_topic, payload, expires_in=remaining)
                return DriverOutcome(GateResult.OPENED, "sent; this relay sends no acknowledgement")
            reply = link.request(
                topic=command_topic,
                payload=payload,
                reply_topic=f"{gate.mqtt_namespace}/{config['ack_topic']}",
                match=lambda _topic, body: not expected or body.decode(errors="replace").strip() == expected,
                timeout=timeout,
                expires_in=remaining,
            )
        except BrokerUnavailable as error:
            return DriverOutcome(GateResult.FAILED, str(error))
        if reply is None:
            return DriverOutcome(GateResult.TIMED_OUT, f"no acknowledgement within {round(timeout, 1):g} s")
        return DriverOutcome(GateResult.OPENED, "acknowledged by the relay")


@register("mqtt-generic")
def mqtt_generic() -> MqttGenericDriver:
    return MqttGenericDriver()
