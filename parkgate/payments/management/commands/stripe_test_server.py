from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parkgate.payments import gateway
from parkgate.payments.stripe_test_server import StripeTestServer


class Command(BaseCommand):
    help = (
        "Run the bundled Stripe-compatible test server (API, hosted onboarding and checkout pages, "
        "signed webhooks) until interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        default_port = urlsplit(gateway.TEST_SERVER_URL).port
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=default_port, help=f"default {default_port}")
        parser.add_argument(
            "--webhook-url",
            action="append",
            default=[],
            help="Deliver every event here (repeatable), e.g. http://127.0.0.1:8000/payments/webhook/",
        )
        parser.add_argument(
            "--webhook-secret",
            default=None,
            help="Signing secret (default: STRIPE_WEBHOOK_SECRET, else the built-in test secret in DEBUG)",
        )
        parser.add_argument(
            "--state-file",
            default=None,
            help="Keep the state in this JSON file across restarts, e.g. var/stripe-test-server.json",
        )
        parser.add_argument("--webhook-attempts", type=int, default=8, help="deliveries tried per event")
        parser.add_argument(
            "--webhook-retry-base", type=float, default=1.0, help="first retry delay, seconds"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not gateway.uses_test_server():
            raise CommandError(
                "This installation uses the real Stripe (STRIPE_SECRET_KEY is set, or DEBUG is off "
                "without the test server's key)."
            )
        secret = options["webhook_secret"] or gateway.webhook_secret()
        for url in options["webhook_url"]:
            if urlsplit(url).scheme not in ("http", "https"):
                raise CommandError(f"--webhook-url {url!r} must be an http(s) address")
        if options["webhook_attempts"] < 1:
            raise CommandError("--webhook-attempts must be at least 1")
        try:
            server = StripeTestServer(
                host=options["host"],
                port=options["port"],
                webhooks=[(url, secret) for url in options["webhook_url"]],
                webhook_max_attempts=options["webhook_attempts"],
                webhook_retry_base=options["webhook_retry_base"],
                state_file=options["state_file"],
            )
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {error}") from error
        self.stdout.write(f"Stripe test server on {server.url} (API under {server.url}/v1)")
        for url in options["webhook_url"]:
            self.stdout.write(f"  webhooks -> {url}")
        if not options["webhook_url"]:
            self.stdout.write("  no --webhook-url: events are recorded (GET /v1/events) but not delivered")
        self.stdout.write("Ctrl+C to stop.")
        server.serve_forever()
