"""Environment defaults for the test suite, loaded by pytest before Django (``-p parkgate.config.testenv``).

Only defaults: anything already set in the environment wins (CI sets DATABASE_URL).
"""

import os

_DEFAULTS = {
    "DEBUG": "false",
    "SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "SITE_URL": "http://testserver",
    "TASK_BACKEND": "immediate",
    "STATIC_MANIFEST": "false",
    "TEST_ONLY_FAST_PASSWORD_HASHING": "true",
    "CACHE_BACKEND": "database",
    # The bundled Stripe test server's public key and secret, set explicitly: outside DEBUG nothing
    # falls back to them (a system check refuses them in production; tests never run the checks).
    "STRIPE_SECRET_KEY": "sk_test_parkgate_local_test_server",
    "STRIPE_WEBHOOK_SECRET": "whsec_parkgate_local_test_server",
    # Nowhere (nothing listens on port 1): without it the key above sends the client to
    # 127.0.0.1:8111, where a developer's `make run` keeps its own test server, and the demo's
    # tests connected accounts there (whose webhooks then knocked on that `make run`). The
    # payment tests start their own server on a free port (tests/payments/conftest.py).
    "STRIPE_API_BASE": "http://127.0.0.1:1",
    # Playwright drives a live server in another thread; Django refuses sync ORM calls from
    # an event loop thread unless told this is a test.
    "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
