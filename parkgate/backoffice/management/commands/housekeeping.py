from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from parkgate.backoffice.housekeeping import housekeeping_run


class Command(BaseCommand):
    help = "Run the periodic jobs (expired holds, e-mail and refund retries) once, or every N seconds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds (0: run once)")

    def handle(self, *args: Any, every: int = 0, **options: Any) -> None:
        while True:
            done = housekeeping_run()
            self.stdout.write(", ".join(f"{name}: {count}" for name, count in done.items()))
            self.stdout.flush()
            if every <= 0:
                return
            connections.close_all()
            time.sleep(every)  # a service loop, not a wait for a condition
