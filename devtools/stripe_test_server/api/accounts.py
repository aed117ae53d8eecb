"""Connected accounts and account links (onboarding)."""

from __future__ import annotations

import secrets
from typing import Any

from .. import params as p
from ..errors import Forbidden
from ..state import PLATFORM, Store, new_id
from .common import (
    ACCOUNT_LINK_SECONDS,
    Call,
    platform_only,
)

# --- Accounts ---------------------------------------------------------------------------------

_CAPABILITY = p.Obj({"requested": p.Bool()})
_ACCOUNT_FIELDS: dict[str, p.Spec] = {
    "email": p.Email(),
    "country": p.Str(max_length=2),
    "default_currency": p.Currency(),
    "business_type": p.Enum(("company", "government_entity", "individual", "non_profit")),
    "business_profile": p.Obj(
        {
            "name": p.Str(max_length=200),
            "url": p.Str(max_length=5000),
            "mcc": p.Str(max_length=4),
            "support_email": p.Email(),
            "product_description": p.Str(max_length=40000),
        }
    ),
    "capabilities": p.Obj({"card_payments": _CAPABILITY, "transfers": _CAPABILITY}),
    "metadata": p.Metadata(),
}
ACCOUNT_CREATE = p.request(
    {
        **_ACCOUNT_FIELDS,
        "type": p.Enum(("custom", "express", "standard")),
        "controller": p.Obj(
            {
                "fees": p.Obj({"payer": p.Enum(("account", "application"))}),
                "losses": p.Obj({"payments": p.Enum(("application", "stripe"))}),
                "requirement_collection": p.Enum(("application", "stripe")),
                "stripe_dashboard": p.Obj({"type": p.Enum(("express", "full", "none"))}),
            }
        ),
    }
)
ACCOUNT_UPDATE = p.request(_ACCOUNT_FIELDS)
_ONBOARDING_REQUIREMENTS = [
    "business_profile.url",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def account_create(call: Call) -> tuple[int, dict[str, Any]]:
    platform_only(call, "Connected accounts")
    params = call.params
    country = params.get("country", "BE").upper()
    requested = [name for name, value in params.get("capabilities", {}).items() if value.get("requested")]
    account = {
        "id": new_id("acct", 16),
        "object": "account",
        "business_profile": {"name": None, "url": None, "mcc": None, "support_email": None}
        | params.get("business_profile", {}),
        "business_type": params.get("business_type"),
        "capabilities": dict.fromkeys(requested, "inactive"),
        "charges_enabled": False,
        "controller": params.get("controller", {"type": "application"}),
        "country": country,
        "created": call.store.now(),
        "default_currency": params.get("default_currency", "usd" if country == "US" else "eur"),
        "details_submitted": False,
        "email": params.get("email"),
        "metadata": params.get("metadata", {}),
        "payouts_enabled": False,
        "requirements": {
            "currently_due": list(_ONBOARDING_REQUIREMENTS),
            "eventually_due": list(_ONBOARDING_REQUIREMENTS),
            "past_due": [],
            "disabled_reason": "requirements.past_due",
        },
        "type": params.get("type", "standard" if "controller" not in params else "none"),
    }
    call.store.put(account, PLATFORM)
    return 200, call.store.render(account, params.get("expand"))


def _account(call: Call, account_id: str) -> dict[str, Any]:
    if call.account not in (PLATFORM, account_id):
        raise Forbidden("You cannot access another connected account's details.")
    return call.store.get(account_id, PLATFORM, kind="account")


def account_retrieve(call: Call, account_id: str) -> tuple[int, dict[str, Any]]:
    return 200, call.store.render(_account(call, account_id), call.params.get("expand"))


def account_update(call: Call, account_id: str) -> tuple[int, dict[str, Any]]:
    account = _account(call, account_id)
    previous: dict[str, Any] = {}
    for key, value in call.params.items():
        if key == "expand":
            continue
        previous[key] = account.get(key)
        if key in ("metadata", "business_profile") and isinstance(value, dict):
            merged = {**(account.get(key) or {}), **value}
            account[key] = {k: v for k, v in merged.items() if v != ""} if key == "metadata" else merged
        else:
            account[key] = value
    if previous:
        call.store.emit(
            "account.updated", account, owner=account["id"], previous=previous, request=call.request
        )
    return 200, call.store.render(account, call.params.get("expand"))


def account_complete_onboarding(store: Store, account_id: str) -> None:
    """The hosted onboarding page's "complete" button: what Stripe does once the forms are done."""
    account = store.get(account_id, PLATFORM, kind="account")
    if account["charges_enabled"]:
        return
    previous = {
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "capabilities": dict(account["capabilities"]),
        "requirements": dict(account["requirements"]),
    }
    account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
    account["capabilities"] = dict.fromkeys(account["capabilities"], "active") or {
        "card_payments": "active",
        "transfers": "active",
    }
    account["requirements"] = {
        "currently_due": [],
        "eventually_due": [],
        "past_due": [],
        "disabled_reason": None,
    }
    store.emit("account.updated", account, owner=account_id, previous=previous)


ACCOUNT_LINK_CREATE = p.request(
    {
        "account": p.Str(max_length=100, allow_empty=False),
        "type": p.Enum(("account_onboarding", "account_update")),
        "refresh_url": p.Url(),
        "return_url": p.Url(),
        "collect": p.Enum(("currently_due", "eventually_due")),
        "collection_options": p.Obj(
            {
                "fields": p.Enum(("currently_due", "eventually_due")),
                "future_requirements": p.Enum(("include", "omit")),
            }
        ),
    },
    required=("account", "type", "refresh_url", "return_url"),
)


def account_link_create(call: Call) -> tuple[int, dict[str, Any]]:
    platform_only(call, "Account links")
    params = call.params
    account = call.store.get(params["account"], PLATFORM, kind="account", param="account")
    token = secrets.token_urlsafe(24)
    created = call.store.now()
    call.store.onboarding_links[token] = {
        "account": account["id"],
        "refresh_url": params["refresh_url"],
        "return_url": params["return_url"],
        "expires_at": created + ACCOUNT_LINK_SECONDS,
        "used": False,
    }
    link = {
        "object": "account_link",
        "created": created,
        "expires_at": created + ACCOUNT_LINK_SECONDS,
        "url": f"{call.base_url}/setup/{token}",
    }
    return 200, link
