"""Run a simulated Shelly Gen2 relay on MQTT until interrupted (demos, manual tests)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from parkgate.access.simulator import ShellySimulator


class Command(BaseCommand):
    help = "Behave like a Shelly Gen2 relay on MQTT: answer Switch.Set, publish status, pulse."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--device-id", required=True, help="Device id, e.g. shellyplus1-a8032ab1c2d3")
        parser.add_argument("--prefix", default="", help="MQTT topic prefix (defaults to the device id)")
        parser.add_argument("--url", default="", help="Broker URL (defaults to MQTT_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        simulator = ShellySimulator(
            url=options["url"] or settings.MQTT_URL,
            device_id=options["device_id"],
            prefix=options["prefix"] or None,
        )
        simulator.start()
        self.stdout.write(
            f"Simulated relay {simulator.device_id} listening on {simulator.prefix}/rpc "
            f"at {simulator.host}:{simulator.port}. Ctrl+C to stop."
        )
        seen = 0
        stop = threading.Event()
        # systemd and container runtimes stop services with SIGTERM: leave cleanly.
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        try:
            while not stop.is_set():
                if simulator.wait_for_pulses(seen + 1, timeout=1.0):
                    for pulse in simulator.pulses[seen:]:
                        self.stdout.write(
                            f"pulse switch:{pulse.switch_id} for {pulse.toggle_after} s ({pulse.request_id})"
                        )
                    seen = len(simulator.pulses)
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
