"""Refunds of charges and refunds of application fees."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .. import params as p
from ..amounts import half_up
from ..errors import InvalidRequest, NotFound, ParamError
from ..state import PLATFORM, Store, new_id
from .common import (
    REFUND_SETTLE_SECONDS,
    Call,
    money,
)

# --- Refunds ----------------------------------------------------------------------------------


def _check_refund_target(params: dict[str, Any], path: str) -> None:
    if "charge" not in params and "payment_intent" not in params:
        raise ParamError(
            "One of the following params should be provided for this request: payment_intent or charge.",
            param="payment_intent",
            code="parameter_missing",
        )
    if "charge" in params and "payment_intent" in params:
        raise ParamError(
            "You may only specify one of these parameters: charge, payment_intent.", param="charge"
        )


REFUND_CREATE = p.request(
    {
        "amount": p.Int(minimum=1),
        "charge": p.Str(allow_empty=False),
        "payment_intent": p.Str(allow_empty=False),
        "metadata": p.Metadata(),
        "reason": p.Enum(("duplicate", "fraudulent", "requested_by_customer")),
        "refund_application_fee": p.Bool(),
        "reverse_transfer": p.Bool(),
    },
    rules=[_check_refund_target],
)


def refund_create(call: Call) -> tuple[int, dict[str, Any]]:
    store = call.store
    params = call.params
    if "payment_intent" in params:
        payment_intent = store.get(
            params["payment_intent"], call.account, kind="payment_intent", param="payment_intent"
        )
        if payment_intent["status"] != "succeeded" or not payment_intent["latest_charge"]:
            raise InvalidRequest(
                f"This PaymentIntent ({payment_intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge = store.objects[payment_intent["latest_charge"]]
    else:
        charge = store.get(params["charge"], call.account, kind="charge", param="charge")
    if charge["status"] != "succeeded":
        raise InvalidRequest(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge"
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining == 0:
        raise InvalidRequest(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = params.get("amount", remaining)
    if amount > remaining:
        raise InvalidRequest(
            f"Refund amount ({money(amount, charge['currency'])}) is greater than unrefunded amount "
            "on charge "
            f"({money(remaining, charge['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": charge["id"],
        "created": store.now(),
        "currency": charge["currency"],
        "metadata": params.get("metadata", {}),
        "payment_intent": charge["payment_intent"],
        "reason": params.get("reason"),
        "status": "pending",
        "failure_reason": None,
    }
    owner = call.account
    store.put(refund, owner)
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"], "refunds": None}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    charge["refunds"].append(refund["id"])
    if params.get("refund_application_fee") and charge["application_fee"]:
        fee = store.objects[charge["application_fee"]]
        left = fee["amount"] - fee["amount_refunded"]
        if charge["refunded"]:
            share = left
        else:
            share = min(left, half_up(Fraction(fee["amount"] * amount, charge["amount"])))
        if share > 0:
            _fee_refund(store, fee, share, {}, request=call.request)
    store.emit("refund.created", refund, owner=owner, request=call.request)
    store.emit("charge.refunded", charge, owner=owner, previous=previous, request=call.request)
    response = store.render(refund)
    store.schedule(REFUND_SETTLE_SECONDS, lambda: refund_settle(store, refund["id"]))
    return 200, response


def refund_settle(store: Store, refund_id: str) -> None:
    refund = store.objects[refund_id]
    if refund["status"] != "pending":
        return
    owner = store.owner_of(refund_id)
    charge = store.objects[refund["charge"]]
    if refund["charge"] in store.failing_refund_charges:
        refund.update(status="failed", failure_reason="expired_or_canceled_card")
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        store.emit("refund.failed", refund, owner=owner)
    else:
        refund["status"] = "succeeded"
    store.emit("refund.updated", refund, owner=owner, previous={"status": "pending"})


def refund_retrieve(call: Call, refund_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(
        call.store.get(refund_id, call.account, kind="refund"), call.params.get("expand")
    )


# --- Application fees -------------------------------------------------------------------------


def _fee(call: Call, fee_id: str) -> dict[str, Any]:
    # Application fees live on the platform: a connected account cannot see them.
    return call.store.get(fee_id, PLATFORM if call.account == PLATFORM else "\0", kind="application_fee")


def application_fee_retrieve(call: Call, fee_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(_fee(call, fee_id), call.params.get("expand"))


FEE_REFUND_CREATE = p.request({"amount": p.Int(minimum=1), "metadata": p.Metadata()})


def application_fee_refund_create(call: Call, fee_id: str) -> tuple[int, dict[str, Any]]:
    fee = _fee(call, fee_id)
    left = fee["amount"] - fee["amount_refunded"]
    if left == 0:
        raise InvalidRequest(f"Application fee {fee_id} has already been fully refunded.")
    amount = call.params.get("amount", left)
    if amount > left:
        raise InvalidRequest(
            f"Refund amount ({money(amount, fee['currency'])}) is greater than the unrefunded amount of the "
            f"application fee ({money(left, fee['currency'])})",
            param="amount",
            code="amount_too_large",
        )
    fee_refund = _fee_refund(call.store, fee, amount, call.params.get("metadata", {}), request=call.request)
    return 200, call.store.render(fee_refund)


def _fee_refund(
    store: Store,
    fee: dict[str, Any],
    amount: int,
    metadata: dict[str, str],
    *,
    request: tuple[str | None, str | None],
) -> dict[str, Any]:
    fee_refund = {
        "id": new_id("fr"),
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": None,
        "created": store.now(),
        "currency": fee["currency"],
        "fee": fee["id"],
        "metadata": metadata,
    }
    store.put(fee_refund, PLATFORM)
    previous = {"amount_refunded": fee["amount_refunded"], "refunded": fee["refunded"]}
    fee["amount_refunded"] += amount
    fee["refunded"] = fee["amount_refunded"] == fee["amount"]
    fee["refunds"].append(fee_refund["id"])
    store.emit("application_fee.refunded", fee, owner=PLATFORM, previous=previous, request=request)
    return fee_refund


def application_fee_refund_list(call: Call, fee_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(_fee(call, fee_id))["refunds"]


def application_fee_refund_retrieve(call: Call, fee_id: str, refund_id: str) -> tuple[int, dict[str, Any]]:
    fee = _fee(call, fee_id)
    if refund_id not in fee["refunds"]:
        raise NotFound("application fee refund", refund_id)
    return 200, call.store.render(call.store.objects[refund_id])
