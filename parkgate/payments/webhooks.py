"""Receiving Stripe's webhooks: verify, store each event once, hand it to its handler.

Stripe delivers at least once, in any order, and retries for days while we answer non-2xx.
So: the signature is checked on the raw body (with a timestamp tolerance against replays); the
event is stored in the same transaction as its effect, and its unique id turns a redelivery into
a no-op; a handler that meets a reference we do not know (yet) raises :class:`UnknownReference`,
the transaction rolls back (the event is NOT stored) and we answer 404 so Stripe tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import stripe
from django.db import IntegrityError, transaction

from parkgate.core.errors import ParkgateError
from parkgate.payments import checkout, gateway, refunds
from parkgate.payments.models import Payment, PaymentStatus, StripeEvent
from parkgate.payments.services import payment_account_sync

logger = logging.getLogger(__name__)

# Seconds a signature stays valid (Stripe's own default).
SIGNATURE_TOLERANCE_SECONDS = 300

Handler = Callable[[dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}


class UnknownReference(ParkgateError):
    """The event names something we do not know yet: answer non-2xx so Stripe retries."""


class BadWebhook(ParkgateError):
    """Not a genuine Stripe event (bad signature, stale timestamp, malformed body)."""


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a type we do not act on (stored all the same)


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a handler for these event types. It receives the event as a plain dict."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if event_type in HANDLERS:
                raise ValueError(f"{event_type} already has a handler")
            HANDLERS[event_type] = handler
        return handler

    return register


def webhook_receive(*, payload: bytes, signature: str) -> Outcome:
    """Verify and handle one delivery. Raises BadWebhook or UnknownReference."""
    try:
        event = stripe.Webhook.construct_event(
            payload.decode("utf-8"),
            signature,
            gateway.webhook_secret(),
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as error:
        raise BadWebhook(str(error)) from error
    data = event.to_dict()
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise BadWebhook("the event has no id or type")
    handler = HANDLERS.get(data["type"])
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=data["id"],
                    type=data["type"],
                    account=data.get("account") or "",
                    created=datetime.fromtimestamp(int(data.get("created") or 0), tz=UTC),
                    payload=data,
                )
        except IntegrityError:
            logger.info("stripe event %s (%s) already handled", data["id"], data["type"])
            return Outcome.DUPLICATE
        if handler is None:
            return Outcome.IGNORED
        handler(data)
    return Outcome.HANDLED


# --- Handlers ---------------------------------------------------------------------------------


@handles("account.updated")
def _account_updated(event: dict[str, Any]) -> None:
    if payment_account_sync(stripe_account=event["data"]["object"]) is None and event.get("account"):
        # A connected account we have not recorded yet (the webhook beat our own commit).
        # Without ``account`` it is the platform's own account: nothing to do.
        raise UnknownReference(f"no payment account for {event['data']['object'].get('id')}")


def _payment_of(event: dict[str, Any]) -> tuple[Payment, dict[str, Any]]:
    session = event["data"]["object"]
    reference = session.get("client_reference_id") or ""
    payment_id = reference.removeprefix("payment-")
    if not payment_id.isdigit():
        payment_id = str((session.get("metadata") or {}).get("payment") or "")
    payment = Payment.objects.filter(pk=int(payment_id)).first() if payment_id.isdigit() else None
    if payment is None:
        raise UnknownReference(f"no payment for session {session.get('id')}")
    if payment.stripe_account_id != (event.get("account") or ""):
        raise BadWebhook(f"session {session.get('id')} is not on the payment's account")
    return payment, session


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def _session_completed(event: dict[str, Any]) -> None:
    payment, session = _payment_of(event)
    intent = session.get("payment_intent") or ""
    intent_id = intent if isinstance(intent, str) else str(intent.get("id") or "")
    if session.get("payment_status") in ("paid", "no_payment_required"):
        checkout.payment_mark_paid(payment=payment, payment_intent_id=intent_id)
    else:
        checkout.payment_mark_processing(payment=payment, payment_intent_id=intent_id)


@handles("checkout.session.async_payment_failed")
def _session_failed(event: dict[str, Any]) -> None:
    payment, _session = _payment_of(event)
    checkout.payment_release(payment=payment, status=PaymentStatus.FAILED, reason=event["type"])


@handles("checkout.session.expired")
def _session_expired(event: dict[str, Any]) -> None:
    payment, _session = _payment_of(event)
    checkout.payment_release(payment=payment, status=PaymentStatus.EXPIRED, reason=event["type"])


@handles("refund.created", "refund.updated", "refund.failed")
def _refund_changed(event: dict[str, Any]) -> None:
    stripe_refund = event["data"]["object"]
    if refunds.refund_update(stripe_refund=stripe_refund) is None:
        metadata = stripe_refund.get("metadata") or {}
        if metadata.get("reservation"):
            # Ours, but our own call has not been recorded yet: ask Stripe to retry.
            raise UnknownReference(f"no refund for {stripe_refund.get('id')} yet")
