"""A Stripe-compatible test server: the Stripe API subset Parkgate uses, hosted test pages, signed webhooks.

Tests and ``make run`` point the official SDK at it (``STRIPE_API_BASE``) so a paid booking and a
refund work end to end without a Stripe account. It validates what Stripe validates for these
calls, so code that passes here does not drift from the real API. Standard library only; state is
in memory. Run it with ``manage.py stripe_test_server``.
"""

from .server import StripeTestServer
from .webhooks import sign

__all__ = ["StripeTestServer", "sign"]
