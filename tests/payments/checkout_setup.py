"""A payment for held spots, built without Stripe (the Checkout Session is not created)."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from parkgate.access.capacity import ReservationRequest, reservations_create
from parkgate.access.models import ReservationSource
from parkgate.booking.models import Booking, BookingStatus
from parkgate.payments.checkout import PAYMENT_HOLD, PricedSpot, payment_create
from parkgate.payments.models import Payment, PaymentAccount
from parkgate.payments.pricing import spot_price
from tests import factories as f
from tests.booking.factories import VisitorPortalFactory
from tests.conftest import World

BXL = zoneinfo.ZoneInfo("Europe/Brussels")


def paid_setup(
    world: World,
    *,
    now: datetime,
    spots: int,
    fee_fixed: int,
    fee_percent: str,
    price: int,
    slug: str = "paid",
) -> Payment:
    """Held spots on a paid portal of the tenant and their payment (account ``acct_units``)."""
    world.visitor_policy.price_per_day = price
    world.visitor_policy.vat_rate = Decimal("21")
    world.visitor_policy.save()
    portal = VisitorPortalFactory(
        organisation=world.tenant,
        lot=world.lot,
        slug=slug,
        policies=[world.visitor_policy],
        payment_enabled=True,
    )
    account, _created = PaymentAccount.objects.get_or_create(
        organisation=world.tenant,
        defaults={
            "stripe_account_id": "acct_units",
            "charges_enabled": True,
            "fee_fixed": fee_fixed,
            "fee_percent": Decimal(fee_percent),
        },
    )
    day = (now.astimezone(BXL) + timedelta(days=7)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 9, tzinfo=BXL)
    parkers = [
        f.ParkerFactory(managed_by=world.tenant, organisation=None, first_name=f"V{n}", last_name="Test")
        for n in range(spots)
    ]
    reservations = reservations_create(
        requests=[
            ReservationRequest(
                parker=p, policy=world.visitor_policy, start=start, end=start + timedelta(hours=4)
            )
            for p in parkers
        ],
        source=ReservationSource.PORTAL,
        hold_for=PAYMENT_HOLD,
    )
    booking = Booking.objects.create(
        portal=portal,
        group_id=reservations[0].group_id,
        reference="REF" + uuid.uuid4().hex[:5].upper(),
        language="fr",
        booker_email="booker@example.com",
        spots=spots,
        status=BookingStatus.AWAITING_PAYMENT,
    )
    spot = spot_price(policy=world.visitor_policy, start=start, end=start + timedelta(hours=4))
    assert spot is not None
    return payment_create(
        booking=booking,
        account=account,
        spots=[PricedSpot(reservation=r, price=spot, description=f"Spot {r.pk}") for r in reservations],
        invoice_requested=False,
    )
