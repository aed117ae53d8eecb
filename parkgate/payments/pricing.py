"""Prices of paid visitor spots: from the portal slot, or from the visitor access policy.

All amounts are VAT included, in minor units of the policy's currency (a slot's price is in the
currency of the policy it is booked under).

* A predefined slot with a price costs that price per spot and day.
* Otherwise the policy: per started hour (``price_per_hour``), capped at the full-day price when
  there is one (``price_per_day``); a policy priced only per full day costs that price whatever
  the length of the visit.
* A policy without any price on a paid portal cannot be sold: None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from parkgate.parking.models import AccessPolicy
from parkgate.payments.money import vat_included_part

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class SpotPrice:
    amount: int  # VAT included
    vat_amount: int
    currency: str
    vat_rate: Decimal


def started_hours(start: datetime, end: datetime) -> int:
    """Hours begun between two instants (real elapsed time: a day clocks go back has 25).

    In UTC: Python subtracts two datetimes of the same zone as wall-clock times.
    """
    seconds = int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
    return max(1, -(-seconds // SECONDS_PER_HOUR))


def spot_price(
    *, policy: AccessPolicy, start: datetime, end: datetime, slot_price: int | None = None
) -> SpotPrice | None:
    """What one spot costs for [start, end) under ``policy``; None when nothing sets a price."""
    if slot_price is not None:
        amount = slot_price
    elif policy.price_per_hour is not None:
        amount = started_hours(start, end) * policy.price_per_hour
        if policy.price_per_day is not None:
            amount = min(amount, policy.price_per_day)
    elif policy.price_per_day is not None:
        amount = policy.price_per_day
    else:
        return None
    rate = Decimal(policy.vat_rate)
    return SpotPrice(
        amount=amount,
        vat_amount=vat_included_part(amount, rate),
        currency=policy.currency,
        vat_rate=rate,
    )
