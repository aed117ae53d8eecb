"""A paid portal on the Stripe test server: the tenant's portal with prices and an approved account."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe
from django.test import Client

from devtools.stripe_test_server import StripeTestServer
from parkgate.accounts.models import User
from parkgate.booking.models import Booking, BookingStatus
from parkgate.payments import gateway
from parkgate.payments.models import Payment, PaymentAccount, PaymentLine, PaymentStatus
from parkgate.payments.services import payment_account_approve
from tests.booking.conftest import PortalWorld, booking_post
from tests.factories import ReservationFactory, UserFactory
from tests.payments.conftest import WEBHOOK_SECRET, http, onboarded_account, wait_for

# 09:00-13:00 costs €15.00 per spot (the slot's price), 13:00-17:00 the policy's hourly price
# (€4.00 an hour, at most €14.00 a day): €14.00. VAT 21 %, included. Fee: €0.25 + 1.5 %.
SLOT_PRICE = 1500
FEE_FIXED = 25
FEE_PERCENT = Decimal("1.5")


@dataclass
class Paid:
    pw: PortalWorld
    account: PaymentAccount
    server: StripeTestServer
    sdk: stripe.StripeClient

    def book(self, client: Client, *, spots: int = 2, hour: int = 9, **extra: str) -> tuple[Booking, str]:
        """Proceed on the portal; returns the booking and the hosted checkout address."""
        response = client.post(self.pw.url, booking_post(self.pw, spots=spots, hour=hour, **extra))
        assert response.status_code == 302, response.content.decode()[:2000]
        booking = Booking.objects.latest("id")
        return booking, response["Location"]

    def pay(self, checkout_url: str, action: str = "pay") -> None:
        status, _location, body = http(checkout_url, {"action": action, "email": "jeanne@example.com"})
        assert status in (200, 303), body[:500]

    def wait_status(self, payment: Payment, status: str) -> Payment:
        return wait_for(
            lambda: Payment.objects.filter(pk=payment.pk, status=status).first(),
            what=f"payment {status}",
        )

    def session(self, payment: Payment) -> Any:
        payment.refresh_from_db()
        assert payment.checkout_session_id
        return self.sdk.v1.checkout.sessions.retrieve(
            payment.checkout_session_id, options={"stripe_account": self.account.stripe_account_id}
        )


def make_paid(pw: PortalWorld, server: StripeTestServer, live_url: str) -> Paid:
    server.add_webhook(live_url + "/payments/webhook/", WEBHOOK_SECRET)
    sdk = gateway.stripe_client()
    stripe_account = onboarded_account(sdk)
    account = PaymentAccount.objects.create(
        organisation=pw.portal.organisation,
        stripe_account_id=stripe_account.id,
        charges_enabled=True,
        details_submitted=True,
        fee_fixed=FEE_FIXED,
        fee_percent=FEE_PERCENT,
    )
    staff = User.objects.filter(is_superuser=True).first() or UserFactory(is_superuser=True)
    payment_account_approve(payment_account=account, actor=staff)
    policy = pw.portal.policies.get()
    policy.price_per_hour = 400
    policy.price_per_day = 1400
    policy.vat_rate = Decimal("21")
    policy.save()
    pw.portal.payment_enabled = True
    pw.portal.save(update_fields=["payment_enabled"])
    pw.portal.slots.filter(start_minute=9 * 60).update(price=SLOT_PRICE)
    return Paid(pw=pw, account=account, server=server, sdk=sdk)


def portal_booking_record(
    pw: PortalWorld, *, reference: str, email: str, start: Any, end: Any, status: str
) -> tuple[Booking, Any]:
    """A confirmed booking of one spot through the portal's invitation, and its reservation
    (``status``), written directly: what a booking leaves behind, for a payment to be recorded on."""
    reservation = ReservationFactory(policy=pw.portal.policies.get(), start=start, end=end, status=status)
    booking = Booking.objects.create(
        portal=pw.portal,
        invitation=pw.invitation,
        group_id=reservation.group_id,
        reference=reference,
        language="en",
        booker_email=email,
        spots=1,
        status=BookingStatus.CONFIRMED,
    )
    return booking, reservation


def paid_booking_record(
    booking: Booking, reservation: Any, *, amount: int, vat: int, paid_at: Any, **company: str
) -> Payment:
    """A paid payment of ``booking`` with one line for ``reservation``, written directly (what the
    checkout webhook leaves behind, without Stripe). ``company`` (company_name, company_address,
    company_vat_number) asks for an invoice."""
    payment = Payment.objects.create(
        booking=booking,
        organisation=booking.portal.organisation,
        stripe_account_id="acct_test",
        currency="EUR",
        amount=amount,
        vat_amount=vat,
        platform_fee=0,
        status=PaymentStatus.PAID,
        paid_at=paid_at,
        invoice_requested=bool(company),
        **company,
    )
    PaymentLine.objects.create(
        payment=payment,
        reservation=reservation,
        description="Parking",
        amount=amount,
        vat_amount=vat,
        fee_share=0,
    )
    return payment
