"""Receipts, invoices and credit notes: numbered without gaps per organisation, rendered as PDF.

Every paid payment gets ONE document when it is marked paid, in that same transaction: an
invoice in the organisation's name to the payer's company when the payer asked for one (company
name and VAT number given), otherwise a receipt (the same document without a company). Every
refund of a spot gets a credit note, in the transaction that requests the refund, correcting that
document with negative amounts. A refund that finally fails at Stripe (``refund.failed``) did not
give the money back: its credit note is then cancelled by a debit note (the same lines, positive,
in the sales series), issued in the transaction that records the failure.

Numbering, as accountants expect it: a yearly series with the organisation's prefix,
``ACME-2026-0001``, that starts again at 0001 on 1 January (in the lot's time zone: an organisation
has no zone of its own, its lots have one), receipts and invoices in one series (the sales) and
credit notes in their own (``ACME-CN-2026-0001``), each naming the document it corrects. The
``DocumentCounter`` of the series and year is locked (``select_for_update``) and incremented inside
the transaction that issues the document, so a rollback gives the number back and the committed
numbers of a series and year are 1..N without a gap or a duplicate (``one_document_per_number``
guards it in the database too). The prefix is the payment account's ``document_prefix`` (set with
the legal details) or, until one is set, made from the organisation's slug; each document keeps the
prefix it was issued with.

The PDF is rendered with WeasyPrint from the snapshot in ``BillingDocument.data`` (never from
live rows: an issued document does not change), in the booking's language, AFTER the commit (by
the booking outbox's e-mail writer or on the first download), and kept in ``pdf``.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from parkgate.core.audit import audit_log
from parkgate.payments.models import (
    BillingDocument,
    DocumentCounter,
    DocumentKind,
    DocumentSeries,
    Payment,
    PaymentAccount,
    Refund,
)
from parkgate.payments.money import format_amount

# An EU VAT number once spaces, dots and dashes are gone: the country's two letters, then 2 to 13
# letters/digits (e.g. BE0123456789, FR12345678901, NL123456789B01).
VAT_NUMBER = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,13}$")


def vat_number_normalise(text: str) -> str | None:
    """``"be 0123.456.789"`` -> ``"BE0123456789"``; None when it cannot be a VAT number."""
    compact = re.sub(r"[\s.\-]", "", text or "").upper()
    return compact if VAT_NUMBER.match(compact) else None


def _next_number(organisation_id: int, series: str, year: int) -> int:
    """The next number of the organisation's series in ``year``. Call inside the issuing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a document number is taken in the transaction that issues the document")
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(organisation_id=organisation_id, series=series, year=year)], ignore_conflicts=True
    )
    counter = DocumentCounter.objects.select_for_update().get(
        organisation_id=organisation_id, series=series, year=year
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def document_prefix_default(slug: str) -> str:
    """``acme`` -> ``ACME``, ``brussels-parking`` -> ``BRUSSELS``: letters and digits, at most 8."""
    return re.sub(r"[^A-Z0-9]", "", slug.upper())[:8] or "DOC"


def _prefix(payment: Payment) -> str:
    account = PaymentAccount.objects.filter(organisation_id=payment.organisation_id).first()
    return (account.document_prefix if account else "") or document_prefix_default(payment.organisation.slug)


def _seller(payment: Payment) -> dict[str, str]:
    account = PaymentAccount.objects.filter(organisation_id=payment.organisation_id).first()
    name = (account.legal_name if account else "") or payment.organisation.name
    return {
        "name": name,
        "trading_name": payment.organisation.name if name != payment.organisation.name else "",
        "address": account.legal_address if account else "",
        "vat_number": account.vat_number if account else "",
        "email": payment.organisation.email,
    }


def _line(description: str, rate: Decimal, total: int, vat: int) -> dict[str, Any]:
    return {
        "description": description,
        "vat_rate": str(rate.normalize()),
        "net": total - vat,
        "vat": vat,
        "total": total,
    }


def _vat_breakdown(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rates: dict[str, dict[str, Any]] = {}
    for line in lines:
        entry = rates.setdefault(
            line["vat_rate"], {"vat_rate": line["vat_rate"], "net": 0, "vat": 0, "total": 0}
        )
        for key in ("net", "vat", "total"):
            entry[key] += line[key]
    return [rates[key] for key in sorted(rates, key=Decimal)]


def _issue(
    *,
    payment: Payment,
    kind: DocumentKind,
    lines: list[dict[str, Any]],
    now: datetime,
    refund: Refund | None = None,
    corrects: BillingDocument | None = None,
) -> BillingDocument:
    booking = payment.booking
    zone = booking.portal.lot.zone
    # A debit note is a sale again (it cancels a credit note): it takes the sales series.
    series = DocumentSeries.CREDIT if kind == DocumentKind.CREDIT_NOTE else DocumentSeries.SALE
    year = now.astimezone(zone).year
    # The payment's own receipt or invoice, also behind a credit note that a debit note cancels.
    original = corrects.corrects if corrects is not None and corrects.corrects_id else corrects
    invoice = kind == DocumentKind.INVOICE or (original is not None and original.kind == DocumentKind.INVOICE)
    data = {
        "seller": _seller(payment),
        "buyer": {
            "company_name": payment.company_name if invoice else "",
            "company_address": payment.company_address if invoice else "",
            "company_vat_number": payment.company_vat_number if invoice else "",
            "email": booking.booker_email,
        },
        "booking_reference": booking.reference,
        "issued_date": now.astimezone(zone).date().isoformat(),
        "paid_date": payment.paid_at.astimezone(zone).date().isoformat() if payment.paid_at else "",
        "lines": lines,
        "vat_breakdown": _vat_breakdown(lines),
        "net_total": sum(line["net"] for line in lines),
        "corrects_number": corrects.display_number if corrects is not None else "",
        "corrects_kind": corrects.kind if corrects is not None else "",
        "corrects_date": corrects.data.get("issued_date", "") if corrects is not None else "",
    }
    document = BillingDocument.objects.create(
        organisation_id=payment.organisation_id,
        payment=payment,
        refund=refund,
        kind=kind,
        series=series,
        year=year,
        prefix=_prefix(payment),
        number=_next_number(payment.organisation_id, series, year),
        corrects=corrects,
        issued_at=now,
        language=booking.language if booking.language in ("en", "fr", "nl") else "en",
        currency=payment.currency,
        total=sum(line["total"] for line in lines),
        vat_total=sum(line["vat"] for line in lines),
        access_token=secrets.token_urlsafe(24),
        data=data,
    )
    audit_log(
        action=f"payments.document.{kind}",
        organisation=payment.organisation_id,
        actor_label="system",
        obj=document,
        data={"number": document.display_number, "payment": payment.pk, "total": document.total},
    )
    return document


def payment_document_issue(*, payment: Payment, now: datetime | None = None) -> BillingDocument:
    """The receipt or invoice of a paid payment (call in the transaction that marks it paid). Once."""
    existing = payment_document(payment)
    if existing is not None:
        return existing
    now = now or timezone.now()
    lines = [
        _line(line.description, Decimal(line.reservation.policy.vat_rate), line.amount, line.vat_amount)
        for line in payment.lines.select_related("reservation__policy").order_by("pk")
    ]
    kind = (
        DocumentKind.INVOICE if payment.invoice_requested and payment.company_name else DocumentKind.RECEIPT
    )
    return _issue(payment=payment, kind=kind, lines=lines, now=now)


def credit_note_issue(*, refund: Refund, now: datetime | None = None) -> BillingDocument | None:
    """The credit note of a refund (call in the transaction that requests it). Once per refund.

    None when the payment has no receipt or invoice to correct (never for a paid payment).
    """
    existing = BillingDocument.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    line = refund.line
    payment = line.payment
    corrects = payment_document(payment)
    if corrects is None:
        return None
    # The refunded part of the line's VAT, in proportion (the whole line today: a spot is refunded whole).
    vat = (
        line.vat_amount if refund.amount == line.amount else (line.vat_amount * refund.amount) // line.amount
    )
    lines = [_line(line.description, Decimal(line.reservation.policy.vat_rate), -refund.amount, -vat)]
    return _issue(
        payment=payment,
        kind=DocumentKind.CREDIT_NOTE,
        lines=lines,
        now=now or timezone.now(),
        refund=refund,
        corrects=corrects,
    )


def credit_note_cancel(*, refund: Refund, now: datetime | None = None) -> BillingDocument | None:
    """The debit note cancelling the credit note of a refund that failed (call in the transaction
    that records the failure). Once per credit note; None when the refund has no credit note."""
    note = BillingDocument.objects.filter(refund=refund, kind=DocumentKind.CREDIT_NOTE).first()
    if note is None:
        return None
    existing = BillingDocument.objects.filter(corrects=note, kind=DocumentKind.DEBIT_NOTE).first()
    if existing is not None:
        return existing
    lines = [
        {**line, "net": -line["net"], "vat": -line["vat"], "total": -line["total"]}
        for line in note.data["lines"]
    ]
    return _issue(
        payment=refund.line.payment,
        kind=DocumentKind.DEBIT_NOTE,
        lines=lines,
        now=now or timezone.now(),
        corrects=note,
    )


def payment_document(payment: Payment) -> BillingDocument | None:
    """The receipt or invoice of a payment, if issued."""
    return BillingDocument.objects.filter(
        payment=payment, kind__in=[DocumentKind.RECEIPT, DocumentKind.INVOICE]
    ).first()


def _corrects_label(data: dict[str, Any]) -> str:
    """ "Invoice No. ACME-2026-0001", the number kept on one line (a line may break before it, never
    at one of its hyphens). Call with the document's language active."""
    if not data.get("corrects_number"):
        return ""
    label = {
        DocumentKind.INVOICE: gettext("Invoice No. %(number)s"),
        DocumentKind.CREDIT_NOTE: gettext("Credit note No. %(number)s"),
    }.get(data.get("corrects_kind", ""), gettext("Receipt No. %(number)s"))
    number = format_html('<span class="nowrap">{}</span>', data["corrects_number"])
    return mark_safe(conditional_escape(label) % {"number": number})  # noqa: S308 - both parts escaped


def document_context(document: BillingDocument) -> dict[str, Any]:
    """What the PDF template prints, amounts formatted in the document's language."""
    data = document.data
    language = document.language

    def money(amount: int) -> str:
        return format_amount(amount, document.currency, language)

    def formatted(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **row,
            "net_text": money(row["net"]),
            "vat_text": money(row["vat"]),
            "total_text": money(row["total"]),
        }

    return {
        "document": document,
        "data": data,
        "corrects_label": _corrects_label(data),
        "issued_date": datetime.fromisoformat(data["issued_date"]).date(),
        "paid_date": datetime.fromisoformat(data["paid_date"]).date() if data.get("paid_date") else None,
        "corrects_date": datetime.fromisoformat(data["corrects_date"]).date()
        if data.get("corrects_date")
        else None,
        "lines": [formatted(row) for row in data["lines"]],
        "vat_breakdown": [formatted(row) for row in data["vat_breakdown"]],
        "net_total": money(data["net_total"]),
        "vat_total": money(document.vat_total),
        "total": money(document.total),
    }


def document_pdf(document: BillingDocument) -> bytes:
    """The document's PDF: rendered once (after commit, never under a lock), then the same bytes."""
    if document.pdf:
        return bytes(document.pdf)
    from weasyprint import HTML  # imported here: loading Pango is not needed by anything else

    # WeasyPrint logs seven INFO "progress" lines per PDF: keep its warnings and errors only.
    logging.getLogger("weasyprint").setLevel(max(logging.WARNING, logging.getLogger("weasyprint").level))

    with translation.override(document.language):
        html = render_to_string("payments/documents/document.html", document_context(document))
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    BillingDocument.objects.filter(pk=document.pk, pdf__isnull=True).update(pdf=pdf)
    stored = BillingDocument.objects.filter(pk=document.pk).values_list("pdf", flat=True).first()
    document.pdf = bytes(stored) if stored else pdf
    return bytes(document.pdf)
