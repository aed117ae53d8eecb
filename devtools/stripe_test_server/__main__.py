"""``python -m devtools.stripe_test_server``: run the Stripe test server until interrupted.

    python -m devtools.stripe_test_server --port 8111 \
        --webhook-url http://127.0.0.1:8000/payments/webhook/ --state-file var/stripe-test-server.json
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from .server import StripeTestServer

DEFAULT_PORT = 8111
# Signs the webhooks when neither --webhook-secret nor STRIPE_WEBHOOK_SECRET is given. Public: it
# only ever protects a local test server.
DEFAULT_WEBHOOK_SECRET = "whsec_parkgate_local_test_server"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_test_server",
        description=(
            "Run the Stripe-compatible test server (API, hosted onboarding and checkout pages, "
            "signed webhooks) until interrupted."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        help="Deliver every event here (repeatable), e.g. http://127.0.0.1:8000/payments/webhook/",
    )
    parser.add_argument(
        "--webhook-secret",
        default=None,
        help="Signing secret (default: STRIPE_WEBHOOK_SECRET, else the built-in test secret)",
    )
    parser.add_argument(
        "--state-file",
        default=None,
        help="Keep the state in this JSON file across restarts, e.g. var/stripe-test-server.json",
    )
    parser.add_argument("--webhook-attempts", type=int, default=8, help="deliveries tried per event")
    parser.add_argument("--webhook-retry-base", type=float, default=1.0, help="first retry delay, seconds")
    return parser


def build(
    argv: Sequence[str] | None = None, environ: dict[str, str] | None = None
) -> tuple[StripeTestServer, list[str]]:
    """Parse the arguments and bind the server (not started): the server and its webhook URLs.

    Exits (status 2, the reason on stderr) on bad input, or when STRIPE_SECRET_KEY is set.
    """
    environ = dict(os.environ) if environ is None else environ
    args_parser = parser()
    args = args_parser.parse_args(argv)
    if environ.get("STRIPE_SECRET_KEY"):
        args_parser.error("STRIPE_SECRET_KEY is set: this installation uses the real Stripe.")
    for url in args.webhook_url:
        if urlsplit(url).scheme not in ("http", "https"):
            args_parser.error(f"--webhook-url {url!r} must be an http(s) address")
    if args.webhook_attempts < 1:
        args_parser.error("--webhook-attempts must be at least 1")
    secret = args.webhook_secret or environ.get("STRIPE_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET
    try:
        server = StripeTestServer(
            host=args.host,
            port=args.port,
            webhooks=[(url, secret) for url in args.webhook_url],
            webhook_max_attempts=args.webhook_attempts,
            webhook_retry_base=args.webhook_retry_base,
            state_file=args.state_file,
        )
    except (OSError, ValueError) as error:
        args_parser.error(f"cannot listen on {args.host}:{args.port}: {error}")
    return server, list(args.webhook_url)


def main(argv: Sequence[str] | None = None) -> None:
    server, urls = build(argv)
    print(f"Stripe test server on {server.url} (API under {server.url}/v1)")
    for url in urls:
        print(f"  webhooks -> {url}")
    if not urls:
        print("  no --webhook-url: events are recorded (GET /v1/events) but not delivered")
    print("Ctrl+C to stop.")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
