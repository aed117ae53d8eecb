"""The Stripe API endpoints the test server answers, with the validation Stripe applies to them.

Each handler takes the :class:`Call` (who is calling, on which account, with what parameters)
and returns ``(status, body)``; it raises an :mod:`..errors` exception for a Stripe error.
Handlers run under the store lock.
"""

from __future__ import annotations

import re

from .. import params as p
from .accounts import (
    ACCOUNT_CREATE,
    ACCOUNT_LINK_CREATE,
    ACCOUNT_UPDATE,
    account_complete_onboarding,
    account_create,
    account_link_create,
    account_retrieve,
    account_update,
)
from .checkout import (
    CHECKOUT_SESSION_CREATE,
    TAX_RATE_CREATE,
    checkout_session_create,
    checkout_session_expire,
    checkout_session_line_items,
    checkout_session_retrieve,
    session_mark_expired,
    sessions_expire_due,
    tax_rate_create,
    tax_rate_retrieve,
)
from .common import Call, Handler
from .events import (
    EVENT_LIST,
    WEBHOOK_ENDPOINT_CREATE,
    event_list,
    event_retrieve,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)
from .payments import (
    charge_retrieve,
    invoice_retrieve,
    payment_intent_retrieve,
    session_pay,
    session_settle_delayed,
)
from .refunds import (
    FEE_REFUND_CREATE,
    REFUND_CREATE,
    application_fee_refund_create,
    application_fee_refund_list,
    application_fee_refund_retrieve,
    application_fee_retrieve,
    refund_create,
    refund_retrieve,
    refund_settle,
)

__all__ = [
    "ROUTES",
    "Call",
    "account_complete_onboarding",
    "refund_settle",
    "session_mark_expired",
    "session_pay",
    "session_settle_delayed",
    "sessions_expire_due",
]

EMPTY = p.request({})

# (method, path pattern, spec, handler)
_TABLE: list[tuple[str, str, p.Obj, Handler]] = [
    ("POST", r"/v1/accounts", ACCOUNT_CREATE, account_create),
    ("GET", r"/v1/accounts/([^/]+)", EMPTY, account_retrieve),
    ("POST", r"/v1/accounts/([^/]+)", ACCOUNT_UPDATE, account_update),
    ("POST", r"/v1/account_links", ACCOUNT_LINK_CREATE, account_link_create),
    ("POST", r"/v1/tax_rates", TAX_RATE_CREATE, tax_rate_create),
    ("GET", r"/v1/tax_rates/([^/]+)", EMPTY, tax_rate_retrieve),
    ("POST", r"/v1/checkout/sessions", CHECKOUT_SESSION_CREATE, checkout_session_create),
    ("GET", r"/v1/checkout/sessions/([^/]+)", EMPTY, checkout_session_retrieve),
    (
        "GET",
        r"/v1/checkout/sessions/([^/]+)/line_items",
        p.request({"limit": p.Int()}),
        checkout_session_line_items,
    ),
    ("POST", r"/v1/checkout/sessions/([^/]+)/expire", EMPTY, checkout_session_expire),
    ("GET", r"/v1/payment_intents/([^/]+)", EMPTY, payment_intent_retrieve),
    ("GET", r"/v1/charges/([^/]+)", EMPTY, charge_retrieve),
    ("GET", r"/v1/invoices/([^/]+)", EMPTY, invoice_retrieve),
    ("POST", r"/v1/refunds", REFUND_CREATE, refund_create),
    ("GET", r"/v1/refunds/([^/]+)", EMPTY, refund_retrieve),
    ("GET", r"/v1/application_fees/([^/]+)", EMPTY, application_fee_retrieve),
    ("POST", r"/v1/application_fees/([^/]+)/refunds", FEE_REFUND_CREATE, application_fee_refund_create),
    (
        "GET",
        r"/v1/application_fees/([^/]+)/refunds",
        p.request({"limit": p.Int()}),
        application_fee_refund_list,
    ),
    ("GET", r"/v1/application_fees/([^/]+)/refunds/([^/]+)", EMPTY, application_fee_refund_retrieve),
    ("GET", r"/v1/events", EVENT_LIST, event_list),
    ("GET", r"/v1/events/([^/]+)", EMPTY, event_retrieve),
    ("POST", r"/v1/webhook_endpoints", WEBHOOK_ENDPOINT_CREATE, webhook_endpoint_create),
    ("DELETE", r"/v1/webhook_endpoints/([^/]+)", EMPTY, webhook_endpoint_delete),
]
ROUTES: list[tuple[str, re.Pattern[str], p.Obj, Handler]] = [
    (method, re.compile("^" + pattern + "$"), spec, handler) for method, pattern, spec, handler in _TABLE
]
