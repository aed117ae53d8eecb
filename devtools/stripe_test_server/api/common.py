"""What every endpoint handler shares: the call it answers and small helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..amounts import show
from ..errors import InvalidRequest
from ..state import PLATFORM, Store

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
ACCOUNT_LINK_SECONDS = 300
REFUND_SETTLE_SECONDS = 0.2


@dataclass
class Call:
    store: Store
    base_url: str  # where the hosted pages live, e.g. http://127.0.0.1:8111
    account: str  # PLATFORM or the connected account of the Stripe-Account header
    params: dict[str, Any]
    request_id: str
    idempotency_key: str | None

    @property
    def request(self) -> tuple[str | None, str | None]:
        return self.request_id, self.idempotency_key


Handler = Callable[..., tuple[int, dict[str, Any]]]


def platform_only(call: Call, what: str) -> None:
    if call.account != PLATFORM:
        raise InvalidRequest(f"{what} can only be made by the platform, without a Stripe-Account header.")


def money(amount: int, currency: str) -> str:
    return show(amount, currency, "en")
