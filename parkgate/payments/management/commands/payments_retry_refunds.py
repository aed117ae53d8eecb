from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from parkgate.payments.refunds import refunds_retry


class Command(BaseCommand):
    help = (
        "Send again every refund (and platform fee refund) Stripe has not accepted yet, with the same "
        "idempotency keys, so nothing is ever refunded twice. Cron it every few minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Retried {refunds_retry()} refund(s).")
