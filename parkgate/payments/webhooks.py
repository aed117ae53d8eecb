"""Receiving Stripe's webhooks: verify, store each event once, hand it to its handler.

Stripe delivers at least once, in any order, and retries for days while we answer non-2xx.
So: the signature is checked on the raw body (with a timestamp tolerance against replays); the
event is stored in the same transaction as its effect, and its unique id turns a redelivery into
a no-op; a handler that meets a reference we do not know (yet) raises :class:`UnknownReference`,
the transaction rolls back (the event is NOT stored) and we answer 404 so Stripe tries again.

A checkout event moves a payment only when it is about the money we asked for: its session id,
connected account, amount and currency are the recorded payment's. A genuine event that differs
raises :class:`PaymentMismatch`: its effect is rolled back, the event is stored with a
:class:`PaymentAnomaly` naming what differed (shown to platform staff) and answered 200, so a
redelivery is a no-op and the booking stays exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import stripe
from django.db import IntegrityError, transaction

from parkgate.core.audit import audit_log
from parkgate.core.errors import ParkgateError
from parkgate.payments import checkout, gateway, refunds
from parkgate.payments.models import (
    Payment,
    PaymentAnomaly,
    PaymentAnomalyReason,
    PaymentStatus,
    StripeEvent,
)
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


class PaymentMismatch(Exception):
    """A genuine event about our payment, but not about the money we asked for."""

    def __init__(
        self, payment: Payment, reasons: list[str], expected: dict[str, Any], received: dict[str, Any]
    ) -> None:
        super().__init__(f"payment {payment.pk}: {', '.join(reasons)} differ")
        self.payment, self.reasons, self.expected, self.received = payment, reasons, expected, received


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a type we do not act on (stored all the same)
    ANOMALY = "anomaly"  # stored with a PaymentAnomaly; nothing else changed


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
                stored = StripeEvent.objects.create(
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
        try:
            with transaction.atomic():
                handler(data)
        except PaymentMismatch as mismatch:
            _anomaly_record(event=stored, mismatch=mismatch)
            return Outcome.ANOMALY
    return Outcome.HANDLED


def _anomaly_record(*, event: StripeEvent, mismatch: PaymentMismatch) -> PaymentAnomaly:
    payment = mismatch.payment
    logger.warning(
        "stripe event %s (%s) is not about payment %s's money: %s",
        event.event_id,
        event.type,
        payment.pk,
        ", ".join(mismatch.reasons),
    )
    anomaly = PaymentAnomaly.objects.create(
        event=event,
        payment=payment,
        organisation_id=payment.organisation_id,
        reasons=mismatch.reasons,
        expected=mismatch.expected,
        received=mismatch.received,
    )
    audit_log(
        action="payments.payment.anomaly",
        organisation=payment.organisation_id,
        actor_label="Stripe",
        obj=payment,
        data={"event": event.event_id, "type": event.type, "reasons": mismatch.reasons},
    )
    return anomaly


# --- Handlers ---------------------------------------------------------------------------------


@handles("account.updated")
def _account_updated(event: dict[str, Any]) -> None:
    if payment_account_sync(stripe_account=event["data"]["object"]) is None and event.get("account"):
        # A connected account we have not recorded yet (the webhook beat our own commit).
        # Without ``account`` it is the platform's own account: nothing to do.
        raise UnknownReference(f"no payment account for {event['data']['object'].get('id')}")


def _payment_of(event: dict[str, Any], *, money: bool) -> tuple[Payment, dict[str, Any]]:
    """The payment a checkout event is about, once it is certain the event is about its money.

    The payment is named by the session's ``client_reference_id`` (else its metadata, else the
    session id we recorded). Raises UnknownReference when we do not know it yet (Stripe retries),
    PaymentMismatch when the account, the session or (``money``) the amount or currency differ.
    """
    session = event["data"]["object"]
    session_id = str(session.get("id") or "")
    reference = str(session.get("client_reference_id") or "")
    payment_id = reference.removeprefix("payment-")
    if not payment_id.isdigit():
        payment_id = str((session.get("metadata") or {}).get("payment") or "")
    if payment_id.isdigit():
        payment = Payment.objects.filter(pk=int(payment_id)).first()
    else:
        payment = Payment.objects.filter(checkout_session_id=session_id).first() if session_id else None
    if payment is None:
        raise UnknownReference(f"no payment for session {session_id}")
    expected: dict[str, Any] = {}
    received: dict[str, Any] = {}
    account = str(event.get("account") or "")
    if account != payment.stripe_account_id:
        expected[PaymentAnomalyReason.ACCOUNT] = payment.stripe_account_id
        received[PaymentAnomalyReason.ACCOUNT] = account
    if not payment.checkout_session_id and not expected:
        # Our own call created the session but has not recorded its id yet: ask Stripe to retry.
        raise UnknownReference(f"payment {payment.pk} has no session recorded yet ({session_id})")
    if session_id != payment.checkout_session_id:
        expected[PaymentAnomalyReason.SESSION] = payment.checkout_session_id or ""
        received[PaymentAnomalyReason.SESSION] = session_id
    if money:
        amount = session.get("amount_total")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount != payment.amount:
            expected[PaymentAnomalyReason.AMOUNT] = payment.amount
            received[PaymentAnomalyReason.AMOUNT] = amount
        currency = str(session.get("currency") or "")
        if currency.lower() != payment.currency.lower():
            expected[PaymentAnomalyReason.CURRENCY] = payment.currency.lower()
            received[PaymentAnomalyReason.CURRENCY] = currency
    if expected:
        reasons = [str(reason) for reason in PaymentAnomalyReason if reason in expected]
        raise PaymentMismatch(
            payment,
            reasons,
            {str(k): v for k, v in expected.items()},
            {str(k): v for k, v in received.items()},
        )
    return payment, session


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def _session_completed(event: dict[str, Any]) -> None:
    payment, session = _payment_of(event, money=True)
    intent = session.get("payment_intent") or ""
    intent_id = intent if isinstance(intent, str) else str(intent.get("id") or "")
    if session.get("payment_status") in ("paid", "no_payment_required"):
        checkout.payment_mark_paid(payment=payment, payment_intent_id=intent_id)
    else:
        checkout.payment_mark_processing(payment=payment, payment_intent_id=intent_id)


@handles("checkout.session.async_payment_failed")
def _session_failed(event: dict[str, Any]) -> None:
    payment, _session = _payment_of(event, money=False)
    checkout.payment_release(payment=payment, status=PaymentStatus.FAILED, reason=event["type"])


@handles("checkout.session.expired")
def _session_expired(event: dict[str, Any]) -> None:
    payment, _session = _payment_of(event, money=False)
    checkout.payment_release(payment=payment, status=PaymentStatus.EXPIRED, reason=event["type"])


@handles("refund.created", "refund.updated", "refund.failed")
def _refund_changed(event: dict[str, Any]) -> None:
    stripe_refund = event["data"]["object"]
    if refunds.refund_update(stripe_refund=stripe_refund) is None:
        metadata = stripe_refund.get("metadata") or {}
        if metadata.get("reservation"):
            # Ours, but our own call has not been recorded yet: ask Stripe to retry.
            raise UnknownReference(f"no refund for {stripe_refund.get('id')} yet")
