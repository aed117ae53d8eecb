"""Paying on the hosted checkout page, and reading payment intents, charges and invoices."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequest
from ..state import PLATFORM, Store, new_id
from .common import (
    Call,
)

# --- Paying on the hosted page ----------------------------------------------------------------


def session_pay(
    store: Store,
    session: dict[str, Any],
    *,
    method: str,
    email: str | None,
    name: str,
    tax_id: str,
    refunds_fail: bool = False,
) -> None:
    """The visitor pays: ``card`` settles at once; ``delayed`` leaves the payment processing."""
    if session["status"] != "open":
        raise InvalidRequest("This Checkout Session is no longer open.")
    owner = store.owner_of(session["id"])
    now = store.now()
    pi_data = session["_payment_intent_data"]
    payment_intent = {
        "id": new_id("pi"),
        "object": "payment_intent",
        "amount": session["amount_total"],
        "amount_received": 0,
        "application_fee_amount": pi_data.get("application_fee_amount"),
        "capture_method": pi_data.get("capture_method", "automatic_async"),
        "created": now,
        "currency": session["currency"],
        "customer": None,
        "description": pi_data.get("description"),
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(pi_data.get("metadata", {})),
        "on_behalf_of": pi_data.get("on_behalf_of"),
        "payment_method_types": [method if method != "delayed" else "sepa_debit"],
        "receipt_email": pi_data.get("receipt_email"),
        "status": "processing",
        "transfer_data": pi_data.get("transfer_data"),
        "transfer_group": pi_data.get("transfer_group"),
    }
    store.put(payment_intent, owner)
    charge = {
        "id": new_id("ch"),
        "object": "charge",
        "amount": payment_intent["amount"],
        "amount_captured": 0,
        "amount_refunded": 0,
        "application_fee": None,
        "application_fee_amount": payment_intent["application_fee_amount"],
        "billing_details": {"email": email, "name": name or None},
        "captured": False,
        "created": now,
        "currency": payment_intent["currency"],
        "description": payment_intent["description"],
        "livemode": False,
        "metadata": dict(payment_intent["metadata"]),
        "paid": False,
        "payment_intent": payment_intent["id"],
        "refunded": False,
        "refunds": [],
        "status": "pending",
    }
    store.put(charge, owner)
    if refunds_fail:
        store.failing_refund_charges.add(charge["id"])
    payment_intent["latest_charge"] = charge["id"]
    session["payment_intent"] = payment_intent["id"]
    session["status"] = "complete"
    session["customer_details"] = {
        "address": None,
        "email": email,
        "name": name or None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [{"type": "eu_vat", "value": tax_id}] if tax_id else [],
    }
    if session["invoice_creation"]["enabled"]:
        invoice = {
            "id": new_id("in"),
            "object": "invoice",
            "amount_due": session["amount_total"],
            "currency": session["currency"],
            "customer_email": email,
            "customer_name": name or None,
            "customer_tax_ids": session["customer_details"]["tax_ids"],
            "metadata": dict(session["invoice_creation"]["invoice_data"].get("metadata") or {}),
            "payment_intent": payment_intent["id"],
            "status": "open",
        }
        store.put(invoice, owner)
        session["invoice"] = invoice["id"]
    if method == "delayed":
        store.emit("payment_intent.processing", payment_intent, owner=owner)
        store.emit("checkout.session.completed", session, owner=owner)
        return
    _charge_succeeded(store, session, payment_intent, charge)
    store.emit("checkout.session.completed", session, owner=owner)


def _charge_succeeded(
    store: Store, session: dict[str, Any], payment_intent: dict[str, Any], charge: dict[str, Any]
) -> None:
    owner = store.owner_of(session["id"])
    charge.update(status="succeeded", paid=True, captured=True, amount_captured=charge["amount"])
    payment_intent.update(status="succeeded", amount_received=payment_intent["amount"])
    session["payment_status"] = "paid"
    if session["invoice"]:
        store.objects[session["invoice"]]["status"] = "paid"
    fee_amount = payment_intent["application_fee_amount"]
    if fee_amount:
        fee = {
            "id": new_id("fee"),
            "object": "application_fee",
            "account": owner if owner != PLATFORM else payment_intent["transfer_data"]["destination"],
            "amount": fee_amount,
            "amount_refunded": 0,
            "application": "ca_parkgate_test_platform",
            "charge": charge["id"],
            "created": store.now(),
            "currency": charge["currency"],
            "livemode": False,
            "originating_transaction": None,
            "refunded": False,
            "refunds": [],
        }
        store.put(fee, PLATFORM)
        charge["application_fee"] = fee["id"]
        store.emit("application_fee.created", fee, owner=PLATFORM)
    store.emit("charge.succeeded", charge, owner=owner)
    store.emit("payment_intent.succeeded", payment_intent, owner=owner)


def session_settle_delayed(store: Store, session: dict[str, Any], *, succeed: bool) -> None:
    """The delayed payment of a completed, unpaid session finally succeeds or fails."""
    payment_intent = store.objects.get(session["payment_intent"] or "")
    if session["status"] != "complete" or payment_intent is None or payment_intent["status"] != "processing":
        raise InvalidRequest("This Checkout Session has no payment waiting to settle.")
    owner = store.owner_of(session["id"])
    charge = store.objects[payment_intent["latest_charge"]]
    if succeed:
        _charge_succeeded(store, session, payment_intent, charge)
        store.emit("checkout.session.async_payment_succeeded", session, owner=owner)
        return
    charge.update(
        status="failed", failure_code="debit_not_authorized", failure_message="The debit was refused."
    )
    payment_intent.update(
        status="requires_payment_method",
        last_payment_error={"code": "debit_not_authorized", "message": "The debit was refused."},
    )
    store.emit("charge.failed", charge, owner=owner)
    store.emit("payment_intent.payment_failed", payment_intent, owner=owner)
    store.emit("checkout.session.async_payment_failed", session, owner=owner)


# --- Payment intents, charges, invoices -------------------------------------------------------


def payment_intent_retrieve(call: Call, object_id: str) -> tuple[int, dict[str, Any]]:
    obj = call.store.get(object_id, call.account, kind="payment_intent")
    return 200, call.store.render(obj, call.params.get("expand"))


def charge_retrieve(call: Call, object_id: str) -> tuple[int, dict[str, Any]]:
    obj = call.store.get(object_id, call.account, kind="charge")
    return 200, call.store.render(obj, call.params.get("expand"))


def invoice_retrieve(call: Call, object_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(call.store.get(object_id, call.account, kind="invoice"))
