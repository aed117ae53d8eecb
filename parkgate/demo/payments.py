"""Demo for `make run`: a paid visitor portal that a new user can pay on and get refunds from.

Acme's Stripe account is connected on the bundled Stripe test server (which `make run` starts),
onboarded and approved by the demo platform staff, so the paid portal takes payments at once:
Proceed, pay on the test checkout page, then cancel one visitor from their e-mail and see the
refund in the back office. Without the test server (or with a real STRIPE_SECRET_KEY) the account
is left out and the paid portal politely refuses bookings. Idempotent.
"""

from __future__ import annotations

import secrets
import socket
from decimal import Decimal
from urllib.parse import urlsplit

import requests
import stripe
from django.urls import reverse

from parkgate.demo.base import DemoContext
from parkgate.parking.models import AccessPolicy, PolicyKind
from parkgate.parking.services import WindowSpec, policy_save
from parkgate.payments import gateway
from parkgate.payments.models import PaymentAccount
from parkgate.payments.services import payment_account_approve
from parkgate.portal.models import Invitation, VisitorPortal
from parkgate.portal.services import SlotSpec, portal_save

PAID_SLUG = "acme-paid-parking"
DEMO_VISITOR_EMAIL = "marc.lambert@example.com"


def load(ctx: DemoContext) -> None:
    portal = _paid_portal(ctx)
    invitation = Invitation.objects.filter(portal=portal, revoked_at__isnull=True).order_by("pk").first()
    if invitation is None:
        invitation = Invitation.objects.create(
            portal=portal,
            token=secrets.token_urlsafe(24),
            language="en",
            visitor_name="Marc Lambert",
            visitor_email=DEMO_VISITOR_EMAIL,
            message="Book and pay for your parking spot before your visit.",
        )
    account_ready = _demo_account(ctx)
    ctx.links += [
        ("Payments (owner, admin)", reverse("payments:account_overview")),
        ("Payment accounts (staff)", reverse("payments:staff_accounts")),
        (
            "Paid visitor portal (demo invitation)",
            reverse("booking:invitation", args=[portal.slug, invitation.token]),
        ),
        ("Payments and refunds (admin)", reverse("backoffice:payment_list")),
        ("All payments (staff)", reverse("backoffice:staff_payment_list")),
    ]
    if not account_ready:
        ctx.links.append(
            (
                "Paid portal off: no Stripe test server (make run starts it)",
                reverse("payments:account_overview"),
            )
        )


def _paid_portal(ctx: DemoContext) -> VisitorPortal:
    policy = AccessPolicy.objects.filter(
        organisation=ctx.acme, lot=ctx.lot, name="Acme paid visitors"
    ).first()
    if policy is None:
        policy = policy_save(
            policy=AccessPolicy(
                organisation=ctx.acme,
                lot=ctx.lot,
                name="Acme paid visitors",
                kind=PolicyKind.VISITOR,
                spot_cap=6,
                price_per_day=1500,
                vat_rate=Decimal("21"),
            ),
            windows=[WindowSpec(d, 7 * 60, 19 * 60) for d in range(5)],
            actor=None,
        )
    portal = VisitorPortal.objects.filter(slug=PAID_SLUG).first()
    if portal is None:
        # Through the portal service, as an admin would: "authorise payment" asks for the
        # organisation's approval, which the platform staff then give (below, once Stripe is ready).
        portal = portal_save(
            portal=VisitorPortal(
                organisation=ctx.acme,
                lot=ctx.lot,
                name="Acme paid parking",
                slug=PAID_SLUG,
                languages=["en", "fr", "nl"],
                default_language="en",
                brand_colour="6B2E5F",
                max_spots_per_booking=3,
                allow_slots=True,
                allow_custom_time=False,
                payment_enabled=True,
            ),
            policies=[policy],
            # Half days at their own price; the full day at the policy's price per full day.
            slots=[
                SlotSpec(7 * 60, 720),
                SlotSpec(9 * 60, 240, price=800),
                SlotSpec(13 * 60, 240, price=800),
            ],
            actor=ctx.users["organisation admin"],
        )
    return portal


def _listening(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=0.5):
            return True
    except OSError:
        return False


def _demo_account(ctx: DemoContext) -> bool:
    """Acme's connected account on the test server, onboarded and approved. False when unavailable."""
    if not gateway.uses_test_server() or not _listening(gateway.api_base()):
        account = PaymentAccount.objects.filter(organisation=ctx.acme).first()
        return account is not None and account.can_take_payments
    client = gateway.stripe_client()
    account = PaymentAccount.objects.filter(organisation=ctx.acme).first()
    try:
        if account is not None:
            try:
                client.v1.accounts.retrieve(account.stripe_account_id)
            except stripe.InvalidRequestError:
                # The test server forgot it (its state file was removed): start over.
                account.delete()
                account = None
        if account is None:
            created = client.v1.accounts.create(
                params={"type": "standard", "country": "BE", "email": ctx.acme.email or "office@acme.example"}
            )
            link = client.v1.account_links.create(
                params={
                    "account": created.id,
                    "type": "account_onboarding",
                    "refresh_url": "http://127.0.0.1/",
                    "return_url": "http://127.0.0.1/",
                }
            )
            _complete_onboarding(link.url)
            stripe_account = client.v1.accounts.retrieve(created.id)
            account = PaymentAccount.objects.create(
                organisation=ctx.acme,
                stripe_account_id=created.id,
                charges_enabled=bool(stripe_account.charges_enabled),
                details_submitted=bool(stripe_account.details_submitted),
                fee_fixed=25,
                fee_percent=Decimal("1.5"),
                # What Acme's receipts and invoices print as the seller (its payments page).
                legal_name="Acme Consulting SA",
                legal_address="Avenue Louise 54\n1050 Ixelles",
                vat_number="BE0999888777",
            )
    except (stripe.StripeError, OSError, requests.RequestException):
        return False
    # The account manager's approval: the same one staff give on the portal approvals page.
    payment_account_approve(payment_account=account, actor=ctx.users["platform staff"])
    return account.can_take_payments


def _complete_onboarding(url: str) -> None:
    """What the organisation owner does on the hosted onboarding page: "complete"."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise OSError(f"unexpected onboarding address {url!r}")
    response = requests.post(url, data={"action": "complete"}, allow_redirects=False, timeout=5)
    if response.status_code != 303:
        raise OSError(f"onboarding answered {response.status_code}")
