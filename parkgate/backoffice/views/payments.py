"""Back office: payments and refunds per portal and per organisation, with a CSV export.

Who: admins and owners of the organisation the money is paid to (its own Stripe account); platform
staff see every organisation. Another organisation's payment is a 404; a receptionist or parker 403.
"""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from parkgate.accounts.models import MANAGER_ROLES, Organisation
from parkgate.accounts.tenancy import TenantRequest, require_role
from parkgate.core.spreadsheet import csv_cell
from parkgate.payments import selectors
from parkgate.payments.documents import document_pdf
from parkgate.payments.models import Payment, PaymentAnomaly, PaymentAnomalyReason, PaymentStatus
from parkgate.payments.money import MoneyError, format_amount
from parkgate.payments.views import platform_staff_required
from parkgate.portal.models import VisitorPortal


class PaymentFilterForm(forms.Form):
    organisation = forms.TypedChoiceField(
        label=gettext_lazy("Organisation"), required=False, coerce=int, empty_value=None
    )
    portal = forms.TypedChoiceField(
        label=gettext_lazy("Portal"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, organisation: Organisation | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        portals = VisitorPortal.objects.filter(payment_enabled=True).select_related("organisation")
        if organisation is not None:
            portals = portals.filter(organisation=organisation)
            del self.fields["organisation"]
        else:
            organisations = (
                Organisation.objects.filter(Q(payment_account__isnull=False) | Q(payments__isnull=False))
                .distinct()
                .order_by("name")
            )
            cast(forms.ChoiceField, self.fields["organisation"]).choices = every + [
                (o.pk, o.name) for o in organisations
            ]
        cast(forms.ChoiceField, self.fields["portal"]).choices = every + [
            (p.pk, p.name if organisation else f"{p.name} ({p.organisation.name})") for p in portals
        ]
        cast(forms.ChoiceField, self.fields["status"]).choices = every + list(PaymentStatus.choices)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("since") and cleaned.get("until") and cleaned["until"] < cleaned["since"]:
            self.add_error("until", _("The end cannot be before the start."))
        return cleaned


def _filtered(
    request: HttpRequest, organisation: Organisation | None
) -> tuple[PaymentFilterForm, QuerySet[Payment]]:
    form = PaymentFilterForm(request.GET or None, organisation=organisation)
    payments = selectors.payments_of(organisation).order_by("-created_at", "-id")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        zone = timezone.get_current_timezone()
        if data.get("organisation"):
            payments = payments.filter(organisation_id=data["organisation"])
        if data["portal"]:
            payments = payments.filter(booking__portal_id=data["portal"])
        if data["status"]:
            payments = payments.filter(status=data["status"])
        if data["since"]:
            payments = payments.filter(created_at__gte=datetime.combine(data["since"], time(0), tzinfo=zone))
        if data["until"]:
            end = datetime.combine(data["until"], time(0), tzinfo=zone) + timedelta(days=1)
            payments = payments.filter(created_at__lt=end)
    elif form.is_bound:
        payments = payments.none()
    return form, payments


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _money(amount: int, currency: str) -> str:
    return format_amount(amount, currency, _language())


def _row(payment: Payment) -> dict[str, Any]:
    lines = list(payment.lines.all())
    refunds = [line.refund for line in lines if hasattr(line, "refund")]
    return {
        "payment": payment,
        "amount": _money(payment.amount, payment.currency),
        "vat": _money(payment.vat_amount, payment.currency),
        "fee": _money(payment.platform_fee, payment.currency),
        "refunded": _money(sum(r.amount for r in refunds if r.status == "succeeded"), payment.currency),
        "refunds": refunds,
        "pending_refunds": sum(1 for r in refunds if r.status == "pending"),
        "failed_refunds": sum(1 for r in refunds if r.status == "failed"),
    }


def _list(request: HttpRequest, organisation: Organisation | None, nav: str) -> HttpResponse:
    form, payments = _filtered(request, organisation)
    page = Paginator(payments, 50).get_page(request.GET.get("page"))
    totals = [
        {
            "currency": currency,
            "count": t.count,
            "amount": _money(t.amount, currency),
            "vat": _money(t.vat, currency),
            "fee": _money(t.platform_fee, currency),
            "refunded": _money(t.refunded, currency),
            "fee_refunded": _money(t.fee_refunded, currency),
        }
        for currency, t in selectors.payment_totals(payments).items()
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/payments/list.html",
        {
            "nav": nav,
            "form": form,
            "page": page,
            "rows": [_row(p) for p in page],
            "totals": totals,
            "query": query.urlencode(),
            "staff": organisation is None,
            "anomalies": _anomalies() if organisation is None else [],
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _anomalies() -> list[dict[str, Any]]:
    """Platform staff: each recorded anomaly with what differed, in the reader's language."""
    return [
        {"anomaly": anomaly, "differences": _differences(anomaly)}
        for anomaly in selectors.payment_anomalies_for_staff()
    ]


def _differences(anomaly: PaymentAnomaly) -> list[str]:
    currency = anomaly.payment.currency
    received_currency = str(anomaly.received.get("currency") or currency)
    lines = []
    for reason in anomaly.reasons:
        expected, received = anomaly.expected.get(reason), anomaly.received.get(reason)
        if reason == PaymentAnomalyReason.AMOUNT:
            expected = _money(expected, currency) if isinstance(expected, int) else expected
            try:
                received = _money(received, received_currency) if isinstance(received, int) else received
            except MoneyError:
                received = f"{received} {received_currency}"
        elif reason == PaymentAnomalyReason.CURRENCY:
            expected, received = str(expected).upper(), str(received).upper()
        label = PaymentAnomalyReason(reason).label if reason in PaymentAnomalyReason.values else reason
        lines.append(
            _("%(what)s: expected %(expected)s, received %(received)s")
            % {"what": label, "expected": expected or "—", "received": received or "—"}
        )
    return lines


def _export(request: HttpRequest, organisation: Organisation | None) -> HttpResponse:
    _form, payments = _filtered(request, organisation)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="payments.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Payment"),
            _("Organisation"),
            _("Portal"),
            _("Booking"),
            _("Created"),
            _("Status"),
            _("Currency"),
            _("Line"),
            _("Amount"),
            _("VAT"),
            _("Platform fee"),
            _("Refund"),
            _("Refund status"),
            _("Platform fee refunded"),
            _("Stripe account"),
            _("Checkout Session"),
            _("Payment intent"),
            _("Stripe refund"),
        ]
    )
    for payment in payments[:10000]:
        created = timezone.localtime(payment.created_at).strftime("%Y-%m-%d %H:%M")
        for line in payment.lines.all():
            refund = getattr(line, "refund", None)
            writer.writerow(
                [
                    payment.client_reference,
                    csv_cell(payment.organisation.name),
                    csv_cell(payment.booking.portal.name),
                    payment.booking.reference,
                    created,
                    payment.get_status_display(),
                    payment.currency,
                    csv_cell(line.description),
                    _decimal(line.amount, payment.currency),
                    _decimal(line.vat_amount, payment.currency),
                    _decimal(line.fee_share, payment.currency),
                    _decimal(refund.amount, payment.currency) if refund else "",
                    refund.get_status_display() if refund else "",
                    _decimal(refund.fee_share, payment.currency)
                    if refund and refund.fee_status == "succeeded"
                    else "",
                    payment.stripe_account_id,
                    payment.checkout_session_id or "",
                    payment.payment_intent_id,
                    (refund.stripe_refund_id or "") if refund else "",
                ]
            )
    return response


def _decimal(amount: int, currency: str) -> str:
    from parkgate.payments.money import amount_as_text

    return amount_as_text(amount, currency)


def _detail(
    request: HttpRequest, organisation: Organisation | None, payment_id: int, nav: str
) -> HttpResponse:
    payment = selectors.get_payment_for(organisation, payment_id)
    lines = [
        {
            "line": line,
            "amount": _money(line.amount, payment.currency),
            "vat": _money(line.vat_amount, payment.currency),
            "fee": _money(line.fee_share, payment.currency),
            "refund": getattr(line, "refund", None),
        }
        for line in payment.lines.all()
    ]
    return render(
        request,
        "backoffice/payments/detail.html",
        {
            "nav": nav,
            "row": _row(payment),
            "payment": payment,
            "lines": lines,
            "staff": organisation is None,
            "documents": [
                {"document": d, "total": _money(d.total, d.currency)}
                for d in selectors.payment_documents(payment)
            ],
        },
    )


def _document(organisation: Organisation | None, payment_id: int, document_id: int) -> HttpResponse:
    payment = selectors.get_payment_for(organisation, payment_id)  # 404 for another organisation's
    document = selectors.organisation_document(
        organisation=organisation, payment=payment, document_id=document_id
    )
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@require_role(*MANAGER_ROLES)
def payment_document(request: TenantRequest, payment_id: int, document_id: int) -> HttpResponse:
    return _document(request.organisation, payment_id, document_id)


@require_GET
@platform_staff_required
def staff_payment_document(request: HttpRequest, payment_id: int, document_id: int) -> HttpResponse:
    return _document(None, payment_id, document_id)


@require_GET
@require_role(*MANAGER_ROLES)
def payment_list(request: TenantRequest) -> HttpResponse:
    return _list(request, request.organisation, "payment_list")


@require_GET
@require_role(*MANAGER_ROLES)
def payment_export(request: TenantRequest) -> HttpResponse:
    return _export(request, request.organisation)


@require_GET
@require_role(*MANAGER_ROLES)
def payment_detail(request: TenantRequest, payment_id: int) -> HttpResponse:
    return _detail(request, request.organisation, payment_id, "payment_list")


@require_GET
@platform_staff_required
def staff_payment_list(request: HttpRequest) -> HttpResponse:
    return _list(request, None, "staff_payments")


@require_GET
@platform_staff_required
def staff_payment_export(request: HttpRequest) -> HttpResponse:
    return _export(request, None)


@require_GET
@platform_staff_required
def staff_payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    return _detail(request, None, payment_id, "staff_payments")
