"""Listen to the keypads that publish their codes on MQTT and open the gates they allow."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from parkgate.access.keypad_listener import KeypadListener
from parkgate.access.mqtt import close_links


class Command(BaseCommand):
    help = "Subscribe to every active keypad's MQTT topic and act on the codes typed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--refresh", type=float, default=60.0, help="Seconds between re-reading the keypads (default 60)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        listener = KeypadListener()
        stop = threading.Event()
        # systemd and container runtimes stop services with SIGTERM: leave cleanly.
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        try:
            while not stop.is_set():
                listener.refresh()
                self.stdout.write(f"Listening to {len(listener.topics)} keypad topic(s).")
                stop.wait(options["refresh"])
        except KeyboardInterrupt:
            pass
        finally:
            listener.stop()
            close_links()
