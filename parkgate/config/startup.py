"""What the web process does before it serves: refuse to start on a system check error.

``runserver`` runs the system checks; a production WSGI/ASGI server (gunicorn, uvicorn) does not,
so config/wsgi.py and config/asgi.py call this: a production configured with the bundled Stripe
test server's public key or webhook secret (or none) must not serve (parkgate/payments/checks.py).
"""

from __future__ import annotations

from django.core import checks
from django.core.management.base import SystemCheckError


def refuse_on_check_errors() -> None:
    serious = [m for m in checks.run_checks() if m.is_serious() and not m.is_silenced()]
    if serious:
        raise SystemCheckError(
            "Parkgate refuses to start:\n" + "\n".join(str(message) for message in serious)
        )
