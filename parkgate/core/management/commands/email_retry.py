from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from parkgate.core.mail import email_retry_due


class Command(BaseCommand):
    help = "Send every e-mail whose retry is due (cron it every minute when tasks cannot be deferred)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Retried {email_retry_due()} e-mail(s).")
