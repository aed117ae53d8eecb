"""Demo for `make run`: where to connect Stripe and approve it.

No payment account is created here: connecting one needs the Stripe test server running
(`manage.py stripe_test_server`), and goes through the same pages a real organisation uses.
"""

from __future__ import annotations

from django.urls import reverse

from parkgate.core.demo import DemoContext


def load(ctx: DemoContext) -> None:
    ctx.links.append(("Payments (owner, admin)", reverse("payments:account_overview")))
    ctx.links.append(("Payment accounts (staff)", reverse("payments:staff_accounts")))
