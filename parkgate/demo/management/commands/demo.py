from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from parkgate.demo import base as demo


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins and main links."

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = demo.load()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD}):")
        for role, user in ctx.users.items():
            self.stdout.write(f"  {role:<20} {user.username}")
        self.stdout.write("\nLinks:")
        for label, path in ctx.links:
            self.stdout.write(f"  {label:<28} {settings.SITE_URL}{path}")
