"""A Stripe-compatible test server: the Stripe API subset Parkgate uses, hosted test pages, signed webhooks.

Tests and ``make run`` point the official SDK at it (``STRIPE_API_BASE``) so a paid booking and a
refund work end to end without a Stripe account. It checks what Stripe checks for these calls;
``tests/payments/contract/`` runs the same flows against it and, given STRIPE_TEST_SECRET_KEY,
against Stripe's test mode, so the two cannot drift apart unnoticed.

Dependencies: the Python standard library only. It imports nothing from ``parkgate`` (an
import-linter contract checks it) and has its own money arithmetic (``amounts.py``), so a rounding
bug in the product is not copied here. It is a developer tool, not part of the ``parkgate``
package. State is in memory, or in a JSON file (``--state-file``). Run it with
``python -m devtools.stripe_test_server``.
"""

from .server import StripeTestServer
from .webhooks import sign

__all__ = ["StripeTestServer", "sign"]
