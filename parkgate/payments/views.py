"""Payment views: an organisation's Stripe account, platform staff approval and fees, the webhook.

Views are thin: they authenticate, parse a form, call one service, and render or redirect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from parkgate.access.capacity import CapacityBusy
from parkgate.accounts.models import MANAGER_ROLES, User
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.core.metrics import metric_count
from parkgate.payments.forms import FeesForm, LegalDetailsForm
from parkgate.payments.models import PaymentAccount
from parkgate.payments.money import amount_as_text, format_amount
from parkgate.payments.selectors import payment_account_of, payment_accounts_for_staff
from parkgate.payments.services import (
    payment_account_connect,
    payment_account_fees_set,
    payment_account_legal_details_set,
    payment_account_refresh,
)
from parkgate.payments.webhooks import BadWebhook, UnknownReference, webhook_receive

logger = logging.getLogger(__name__)


def platform_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in as platform staff (superuser), else 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- The organisation's own account -----------------------------------------------------------


@require_GET
@require_role(*MANAGER_ROLES)
def account_overview(request: TenantRequest) -> HttpResponse:
    account = payment_account_of(request.organisation)
    return _account_page(request, account, _legal_form(account))


def _legal_form(account: PaymentAccount | None, data: Any = None) -> LegalDetailsForm | None:
    if account is None:
        return None
    initial = {
        "legal_name": account.legal_name or account.organisation.name,
        "legal_address": account.legal_address,
        "vat_number": account.vat_number,
        "document_prefix": account.document_prefix,
    }
    return LegalDetailsForm(data, initial=initial)


def _account_page(
    request: TenantRequest,
    account: PaymentAccount | None,
    legal_form: LegalDetailsForm | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "payments/account.html",
        {"nav": "payments", "account": account, "legal_form": legal_form, **_fees(account)},
        status=status,
    )


@require_POST
@require_role(*MANAGER_ROLES)
def account_legal_details(request: TenantRequest) -> HttpResponse:
    """The organisation's legal name, address and VAT number, printed on its invoices."""
    account = payment_account_of(request.organisation)
    if account is None:
        return redirect("payments:account_overview")
    form = _legal_form(account, request.POST)
    assert form is not None
    if not form.is_valid():
        return _account_page(request, account, form, status=400)
    try:
        payment_account_legal_details_set(
            organisation=request.organisation,
            actor=cast(User, request.user),
            legal_name=form.cleaned_data["legal_name"],
            legal_address=form.cleaned_data["legal_address"],
            vat_number=form.cleaned_data["vat_number"],
            document_prefix=form.cleaned_data["document_prefix"],
        )
    except ValidationError as error:
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
        return _account_page(request, account, form, status=400)
    messages.success(request, _("Invoice details saved."))
    return redirect("payments:account_overview")


def _fees(account: PaymentAccount | None) -> dict[str, str]:
    if account is None:
        return {}
    return {"fee_fixed_display": format_amount(account.fee_fixed, account.currency, _language())}


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _onboarding_redirect(request: TenantRequest) -> HttpResponse:
    try:
        _account, url = payment_account_connect(
            organisation=request.organisation,
            actor=request.user,
            refresh_url=settings.SITE_URL + reverse("payments:account_refresh"),
            return_url=settings.SITE_URL + reverse("payments:account_return"),
        )
    except stripe.StripeError:
        logger.exception("Stripe onboarding for organisation %s", request.organisation.pk)
        messages.error(request, _("Stripe could not be reached. Nothing was changed; please try again."))
        return redirect("payments:account_overview")
    return HttpResponseRedirect(url, status=303)


@require_POST
@require_role(*MANAGER_ROLES)
def account_connect(request: TenantRequest) -> HttpResponse:
    return _onboarding_redirect(request)


@require_GET
@require_role(*MANAGER_ROLES)
def account_return(request: TenantRequest) -> HttpResponse:
    """Stripe sends the owner back here after onboarding: read the account's state before showing it."""
    account = payment_account_of(request.organisation)
    if account is not None and not account.charges_enabled:
        try:
            payment_account_refresh(account=account)
        except stripe.StripeError:
            logger.warning("Stripe account refresh for organisation %s failed", request.organisation.pk)
    return redirect("payments:account_overview")


@require_GET
@require_role(*MANAGER_ROLES)
def account_refresh(request: TenantRequest) -> HttpResponse:
    """Stripe sends the owner here when an onboarding link has expired: make a fresh one."""
    if payment_account_of(request.organisation) is None:
        return redirect("payments:account_overview")
    return _onboarding_redirect(request)


# --- Platform staff ---------------------------------------------------------------------------


@require_GET
@platform_staff_required
def staff_accounts(request: HttpRequest) -> HttpResponse:
    rows = [
        (
            account,
            FeesForm(currency=account.currency, initial=_fees_initial(account), prefix=f"a{account.pk}"),
        )
        for account in payment_accounts_for_staff()
    ]
    return render(request, "payments/staff_accounts.html", {"nav": "payment_accounts", "rows": rows})


def _fees_initial(account: PaymentAccount) -> dict[str, Any]:
    return {
        "fee_fixed": amount_as_text(account.fee_fixed, account.currency),
        "fee_percent": account.fee_percent,
    }


@require_POST
@platform_staff_required
def staff_account_approve(request: HttpRequest, account_id: int) -> HttpResponse:
    """Approving asks for the fees: it is done on the platform console, never here with 0 + 0 %."""
    get_object_or_404(PaymentAccount, pk=account_id)
    return redirect("platform:payment_approvals")


@require_POST
@platform_staff_required
def staff_account_fees(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(PaymentAccount.objects.select_related("organisation"), pk=account_id)
    form = FeesForm(request.POST, currency=account.currency, prefix=f"a{account.pk}")
    if not form.is_valid():
        rows = [
            (
                other,
                form
                if other.pk == account.pk
                else FeesForm(currency=other.currency, initial=_fees_initial(other), prefix=f"a{other.pk}"),
            )
            for other in payment_accounts_for_staff()
        ]
        return render(
            request, "payments/staff_accounts.html", {"nav": "payment_accounts", "rows": rows}, status=400
        )
    payment_account_fees_set(
        payment_account=account,
        actor=cast(User, request.user),
        fee_fixed=form.cleaned_data["fee_fixed"],
        fee_percent=form.cleaned_data["fee_percent"],
    )
    messages.success(request, _("Fees saved for %(name)s.") % {"name": account.organisation.name})
    return redirect("payments:staff_accounts")


# --- Stripe's webhook -------------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except BadWebhook as error:
        logger.warning("refused a Stripe webhook: %s", error)
        metric_count("webhook_events", "bad")
        return HttpResponse("bad signature or payload", status=400, content_type="text/plain")
    except ImproperlyConfigured as error:
        # No webhook secret (never the test server's outside DEBUG): verify nothing, Stripe retries.
        logger.error("cannot verify Stripe webhooks: %s", error)
        metric_count("webhook_events", "unconfigured")
        return HttpResponse("payments are not configured", status=503, content_type="text/plain")
    except CapacityBusy:
        logger.info("Stripe webhook met a busy lot lock, asking for a retry")
        metric_count("webhook_events", "busy")
        return HttpResponse("busy, retry later", status=503, content_type="text/plain")
    except UnknownReference as error:
        # Not stored: Stripe retries, by when our own transaction will have committed.
        logger.info("Stripe webhook for an unknown reference, asking for a retry: %s", error)
        metric_count("webhook_events", "unknown_reference")
        return HttpResponse("unknown reference, retry later", status=404, content_type="text/plain")
    metric_count("webhook_events", outcome.value)
    return HttpResponse(outcome.value, content_type="text/plain")
