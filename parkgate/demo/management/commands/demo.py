from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from parkgate.demo import base as demo


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins and main links."

    def handle(self, *args: Any, **options: Any) -> None:
        # Loading logs each Stripe request and e-mail task at INFO: useful in a server's log, noise
        # between `make run`'s install and the logins a first-time user reads. Warnings still show.
        root = logging.getLogger()
        level = root.level
        root.setLevel(max(level, logging.WARNING))
        try:
            ctx = demo.load()
        finally:
            root.setLevel(level)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"\nDemo sign-ins by e-mail (password for all: {demo.DEMO_PASSWORD}):")
        for role, user in ctx.users.items():
            self.stdout.write(f"  {role:<20} {user.email}")
        self.stdout.write("  (platform staff set up two-factor authentication at their first sign-in)")
        self.stdout.write("\nLinks:")
        for label, path in ctx.links:
            self.stdout.write(f"  {label:<28} {settings.SITE_URL}{path}")
