"""Tax rates and Checkout Sessions (creation, retrieval, expiry)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from .. import params as p
from ..amounts import half_up, step
from ..errors import InvalidRequest, NotFound, ParamError
from ..state import PLATFORM, Store, new_id
from .common import (
    MAX_EXPIRY_SECONDS,
    MIN_EXPIRY_SECONDS,
    Call,
    money,
)

# --- Tax rates --------------------------------------------------------------------------------

TAX_RATE_CREATE = p.request(
    {
        "display_name": p.Str(max_length=50, allow_empty=False),
        "inclusive": p.Bool(),
        "percentage": p.Dec(minimum=Decimal(0), maximum=Decimal(100)),
        "active": p.Bool(),
        "country": p.Str(max_length=2),
        "description": p.Str(max_length=500),
        "jurisdiction": p.Str(max_length=50),
        "state": p.Str(max_length=2),
        "tax_type": p.Enum(
            (
                "amusement_tax",
                "communications_tax",
                "gst",
                "hst",
                "igst",
                "jct",
                "lease_tax",
                "pst",
                "qst",
                "retail_delivery_fee",
                "rst",
                "sales_tax",
                "service_tax",
                "vat",
            )
        ),
        "metadata": p.Metadata(),
    },
    required=("display_name", "inclusive", "percentage"),
)


def tax_rate_create(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.params
    percentage: Decimal = params["percentage"]
    rate = {
        "id": new_id("txr"),
        "object": "tax_rate",
        "active": params.get("active", True),
        "country": params.get("country"),
        "created": call.store.now(),
        "description": params.get("description"),
        "display_name": params["display_name"],
        "effective_percentage": float(percentage),
        "inclusive": params["inclusive"],
        "jurisdiction": params.get("jurisdiction"),
        "livemode": False,
        "metadata": params.get("metadata", {}),
        "percentage": float(percentage),
        "state": params.get("state"),
        "tax_type": params.get("tax_type"),
        # Kept exact for the tax maths; never sent (private keys are dropped on the way out).
        "_percentage": str(percentage),
    }
    call.store.put(rate, call.account)
    return 200, call.store.render(rate)


def tax_rate_retrieve(call: Call, rate_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(call.store.get(rate_id, call.account, kind="tax_rate"))


# --- Checkout sessions ------------------------------------------------------------------------


def _check_price_data(price_data: dict[str, Any], path: str) -> None:
    if "unit_amount" in price_data and "unit_amount_decimal" in price_data:
        raise ParamError(
            "You may only specify one of these parameters: "
            f"{path}[unit_amount], {path}[unit_amount_decimal].",
            param=f"{path}[unit_amount]",
        )
    if "unit_amount" not in price_data and "unit_amount_decimal" not in price_data:
        raise ParamError(
            f"Missing required param: {path}[unit_amount].",
            param=f"{path}[unit_amount]",
            code="parameter_missing",
        )
    if "product" not in price_data and "product_data" not in price_data:
        raise ParamError(
            f"Missing required param: {path}[product_data].",
            param=f"{path}[product_data]",
            code="parameter_missing",
        )


def _check_line_item(item: dict[str, Any], path: str) -> None:
    if "price" in item:
        raise NotFound("price", item["price"], param=f"{path}[price]")
    if "price_data" not in item:
        raise ParamError(
            f"Missing required param: {path}[price_data]. You must specify either `price` or `price_data`.",
            param=f"{path}[price_data]",
            code="parameter_missing",
        )
    if "quantity" not in item:
        raise ParamError(
            f"Missing required param: {path}[quantity].", param=f"{path}[quantity]", code="parameter_missing"
        )


_PRODUCT_DATA = p.Obj(
    {
        "name": p.Str(max_length=5000, allow_empty=False),
        "description": p.Str(max_length=40000),
        "images": p.Arr(p.Str(), max_items=8),
        "metadata": p.Metadata(),
        "tax_code": p.Str(max_length=100),
        "unit_label": p.Str(max_length=12),
    },
    required=("name",),
)
_PRICE_DATA = p.Obj(
    {
        "currency": p.Currency(),
        "unit_amount": p.Int(minimum=0, maximum=99999999),
        "unit_amount_decimal": p.Dec(minimum=Decimal(0)),
        "product": p.Str(),
        "product_data": _PRODUCT_DATA,
        "tax_behavior": p.Enum(("exclusive", "inclusive", "unspecified")),
    },
    required=("currency",),
    rules=[_check_price_data],
)
_LINE_ITEM = p.Obj(
    {
        "price": p.Str(),
        "price_data": _PRICE_DATA,
        "quantity": p.Int(minimum=1, maximum=999999),
        "tax_rates": p.Arr(p.Str(allow_empty=False), max_items=5),
        "dynamic_tax_rates": p.Arr(p.Str()),
        "adjustable_quantity": p.Obj({"enabled": p.Bool(), "minimum": p.Int(), "maximum": p.Int()}),
    },
    rules=[_check_line_item],
)
_INVOICE_DATA = p.Obj(
    {
        "description": p.Str(max_length=1500),
        "footer": p.Str(max_length=5000),
        "metadata": p.Metadata(),
        "account_tax_ids": p.Arr(p.Str()),
        "custom_fields": p.Arr(
            p.Obj({"name": p.Str(max_length=40), "value": p.Str(max_length=140)}, required=("name", "value")),
            max_items=4,
        ),
        "rendering_options": p.Obj({"amount_tax_display": p.Enum(("exclude_tax", "include_inclusive_tax"))}),
    }
)
CHECKOUT_SESSION_CREATE = p.request(
    {
        "mode": p.Enum(("payment", "setup", "subscription")),
        "line_items": p.Arr(_LINE_ITEM, max_items=100),
        "success_url": p.Url(),
        "cancel_url": p.Url(),
        "client_reference_id": p.Str(max_length=200),
        "customer_email": p.Email(),
        "customer_creation": p.Enum(("always", "if_required")),
        "metadata": p.Metadata(),
        "expires_at": p.Int(),
        "locale": p.Enum(("auto", "de", "en", "en-GB", "es", "fr", "it", "nl", "pt")),
        "payment_method_types": p.Arr(p.Enum(("bancontact", "card", "ideal", "sepa_debit"))),
        "billing_address_collection": p.Enum(("auto", "required")),
        "submit_type": p.Enum(("auto", "book", "donate", "pay", "subscribe")),
        "ui_mode": p.Enum(("hosted",)),
        "invoice_creation": p.Obj(
            {"enabled": p.Bool(), "invoice_data": _INVOICE_DATA}, required=("enabled",)
        ),
        "tax_id_collection": p.Obj(
            {"enabled": p.Bool(), "required": p.Enum(("if_supported", "never"))}, required=("enabled",)
        ),
        "payment_intent_data": p.Obj(
            {
                "application_fee_amount": p.Int(),
                "metadata": p.Metadata(),
                "description": p.Str(max_length=1000),
                "capture_method": p.Enum(("automatic", "automatic_async", "manual")),
                "receipt_email": p.Email(),
                "statement_descriptor": p.Str(max_length=22),
                "statement_descriptor_suffix": p.Str(max_length=22),
                "on_behalf_of": p.Str(),
                "transfer_group": p.Str(),
                "transfer_data": p.Obj(
                    {"destination": p.Str(allow_empty=False), "amount": p.Int(minimum=1)},
                    required=("destination",),
                ),
            }
        ),
    },
    required=("mode", "success_url"),
)


# Stripe's minimum charge per currency, in minor units (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
# currencies not listed here only need a positive total.
MINIMUM_CHARGE = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "chf": 50,
    "jpy": 50,
    "cad": 50,
    "aud": 50,
    "nzd": 50,
    "sgd": 50,
    "hkd": 400,
    "dkk": 250,
    "nok": 300,
    "sek": 300,
    "pln": 200,
    "czk": 1500,
    "huf": 17500,
    "ron": 200,
    "bgn": 100,
    "mxn": 1000,
}


def _check_expires_at(expires_at: int, now: int) -> None:
    if expires_at < now + MIN_EXPIRY_SECONDS:
        raise ParamError(
            "The `expires_at` timestamp must be at least 30 minutes after Checkout Session creation "
            f"(now {now}, requested {expires_at}).",
            param="expires_at",
        )
    if expires_at > now + MAX_EXPIRY_SECONDS:
        raise ParamError(
            "The `expires_at` timestamp must be less than 24 hours after Checkout Session creation "
            f"(now {now}, requested {expires_at}).",
            param="expires_at",
        )


def _line_amounts(call: Call, item: dict[str, Any], path: str) -> dict[str, Any]:
    """One line's subtotal, tax and total in minor units, with the tax rates it uses."""
    price_data = item["price_data"]
    if "unit_amount_decimal" in price_data:
        unit = price_data["unit_amount_decimal"]
        if unit != unit.to_integral_value():
            raise ParamError("This test server only accepts whole minor units.", param=f"{path}[price_data]")
        price_data["unit_amount"] = int(unit)
    gross = price_data["unit_amount"] * item["quantity"]
    behavior = price_data.get("tax_behavior", "unspecified")
    rates = []
    for index, rate_id in enumerate(item.get("tax_rates", [])):
        rate = call.store.get(rate_id, call.account, kind="tax_rate", param=f"{path}[tax_rates][{index}]")
        if behavior != "unspecified" and rate["inclusive"] != (behavior == "inclusive"):
            raise ParamError(
                f"The tax rate {rate_id} is {'inclusive' if rate['inclusive'] else 'exclusive'} but the "
                f"price's tax_behavior is {behavior}; they must match.",
                param=f"{path}[tax_rates][{index}]",
            )
        rates.append(rate)
    inclusive = [r for r in rates if r["inclusive"]]
    exclusive = [r for r in rates if not r["inclusive"]]
    taxes = []
    if inclusive:
        total_fraction = sum((Fraction(Decimal(r["_percentage"])) / 100 for r in inclusive), Fraction(0))
        for rate in inclusive:
            share = Fraction(Decimal(rate["_percentage"])) / 100
            taxes.append((rate, half_up(gross * share / (1 + total_fraction)), gross))
    for rate in exclusive:
        taxes.append((rate, half_up(gross * Fraction(Decimal(rate["_percentage"])) / 100), gross))
    exclusive_tax = sum(amount for rate, amount, _ in taxes if not rate["inclusive"])
    return {
        "gross": gross,
        "subtotal": gross,
        "tax": sum(amount for _, amount, _ in taxes),
        "total": gross + exclusive_tax,
        "taxes": taxes,
    }


def checkout_session_create(call: Call) -> tuple[int, dict[str, Any]]:
    params = call.params
    store = call.store
    now = store.now()
    if params["mode"] != "payment":
        raise ParamError("This test server only implements mode=payment.", param="mode")
    if call.account != PLATFORM and not store.objects[call.account]["charges_enabled"]:
        raise InvalidRequest(
            f"The account {call.account} cannot create charges yet: its onboarding is not complete "
            "(charges_enabled is false).",
            code="account_invalid",
        )
    line_items = params.get("line_items", [])
    if not line_items:
        raise ParamError(
            "In `payment` mode, you must provide `line_items`.", param="line_items", code="parameter_missing"
        )
    currency = line_items[0]["price_data"]["currency"]
    for index, item in enumerate(line_items):
        if item["price_data"]["currency"] != currency:
            raise ParamError(
                "All line items must use the same currency.",
                param=f"line_items[{index}][price_data][currency]",
            )
    expires_at = params.get("expires_at", now + MAX_EXPIRY_SECONDS)
    _check_expires_at(expires_at, now)
    lines = [_line_amounts(call, item, f"line_items[{i}]") for i, item in enumerate(line_items)]
    increment = step(currency)
    for index, item in enumerate(line_items):
        if item["price_data"]["unit_amount"] % increment:
            raise ParamError(
                f"Amounts in {currency.upper()} must be a multiple of {increment} "
                "(the last digit must be 0).",
                param=f"line_items[{index}][price_data][unit_amount]",
            )
    amount_total = sum(line["total"] for line in lines)
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount_total < minimum:
        raise ParamError(
            "The Checkout Session's total amount due must add up to at least "
            f"{money(minimum, currency)} {currency}",
            param="line_items",
        )
    pi_data = params.get("payment_intent_data", {})
    fee = pi_data.get("application_fee_amount")
    if fee is not None:
        if call.account == PLATFORM and "transfer_data" not in pi_data:
            raise ParamError(
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct "
                "payment "
                "(using an OAuth key or Stripe-Account header) or destination payment (using "
                "`transfer_data[destination]`).",
                param="payment_intent_data[application_fee_amount]",
            )
        if fee <= 0:
            raise ParamError(
                "The application fee must be a positive integer.",
                param="payment_intent_data[application_fee_amount]",
            )
        if fee >= amount_total:
            raise ParamError(
                f"The application fee ({money(fee, currency)}) must be less than the amount of the payment "
                f"({money(amount_total, currency)}).",
                param="payment_intent_data[application_fee_amount]",
            )
    invoice_creation = params.get("invoice_creation", {"enabled": False})
    session_id = new_id("cs", 58)
    line_item_objects = []
    for item, line in zip(line_items, lines, strict=True):
        price_data = item["price_data"]
        product_name = price_data.get("product_data", {}).get("name", "")
        line_item_objects.append(
            {
                "id": new_id("li"),
                "object": "item",
                "amount_discount": 0,
                # Before exclusive taxes; an inclusive tax is part of the price, so of the subtotal.
                "amount_subtotal": line["subtotal"],
                "amount_tax": line["tax"],
                "amount_total": line["total"],
                "currency": currency,
                "description": product_name,
                "price": {
                    "id": new_id("price"),
                    "object": "price",
                    "active": False,
                    "currency": currency,
                    "product": new_id("prod"),
                    "tax_behavior": price_data.get("tax_behavior", "unspecified"),
                    "type": "one_time",
                    "unit_amount": price_data["unit_amount"],
                },
                "quantity": item["quantity"],
                "taxes": [
                    {
                        "amount": amount,
                        "rate": store.render(rate),
                        "taxability_reason": None,
                        "taxable_amount": taxable,
                    }
                    for rate, amount, taxable in line["taxes"]
                ],
            }
        )
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": sum(line["subtotal"] for line in lines),
        "amount_total": amount_total,
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "created": now,
        "currency": currency,
        "customer": None,
        "customer_creation": params.get("customer_creation", "if_required"),
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": {
            "enabled": invoice_creation["enabled"],
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "metadata": {},
                "rendering_options": None,
            }
            | invoice_creation.get("invoice_data", {}),
        },
        "livemode": False,
        "locale": params.get("locale"),
        "metadata": params.get("metadata", {}),
        "mode": "payment",
        "payment_intent": None,
        "payment_method_types": params.get("payment_method_types", ["card"]),
        "payment_status": "unpaid",
        "status": "open",
        "success_url": params["success_url"],
        "tax_id_collection": {"enabled": False, "required": "never"} | params.get("tax_id_collection", {}),
        "total_details": {
            "amount_discount": 0,
            "amount_shipping": 0,
            "amount_tax": sum(ln["tax"] for ln in lines),
        },
        "ui_mode": "hosted",
        "url": f"{call.base_url}/pay/{session_id}",
        # Private: what the payment intent will be made of, and the line items.
        "_payment_intent_data": pi_data,
        "_line_items": line_item_objects,
    }
    store.put(session, call.account)
    return 200, store.render(session, params.get("expand"))


def _session(call: Call, session_id: str) -> dict[str, Any]:
    return call.store.get(session_id, call.account, kind="checkout.session")


def checkout_session_retrieve(call: Call, session_id: str) -> tuple[int, dict[str, Any]]:
    session = _session(call, session_id)
    out = call.store.render(session, [e for e in call.params.get("expand", []) if e != "line_items"])
    if "line_items" in call.params.get("expand", []):
        out["line_items"] = _line_items_list(session)
    return 200, out


def _line_items_list(session: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": session["_line_items"],
        "has_more": False,
        "url": f"/v1/checkout/sessions/{session['id']}/line_items",
    }


def checkout_session_line_items(call: Call, session_id: str) -> tuple[int, dict[str, Any]]:
    return 200, _line_items_list(_session(call, session_id))


def checkout_session_expire(call: Call, session_id: str) -> tuple[int, dict[str, Any]]:
    session = _session(call, session_id)
    if session["status"] != "open":
        raise InvalidRequest(
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            code="checkout_session_not_open",
        )
    session_mark_expired(call.store, session, request=call.request)
    return 200, call.store.render(session)


def session_mark_expired(
    store: Store, session: dict[str, Any], *, request: tuple[str | None, str | None] = (None, None)
) -> None:
    session["status"] = "expired"
    store.emit(
        "checkout.session.expired",
        session,
        owner=store.owner_of(session["id"]),
        request=request,
    )


def sessions_expire_due(store: Store) -> None:
    """Expire every open session whose ``expires_at`` has passed on the server clock."""
    now = store.now()
    for obj in list(store.objects.values()):
        if obj["object"] == "checkout.session" and obj["status"] == "open" and obj["expires_at"] <= now:
            session_mark_expired(store, obj)
