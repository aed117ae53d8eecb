"""Receipts, invoices and credit notes: issued with the payment and the refund, numbered without gaps
per organisation, e-mailed to the payer as PDF and downloadable again by whoever holds the link.

End to end through the portal, the bundled Stripe test server and its signed webhooks; the PDF's
text is read back with pdftotext (Debian's poppler-utils).
"""

from __future__ import annotations

import base64
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from devtools.stripe_test_server import StripeTestServer
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.booking.models import Booking, BookingNotice
from parkgate.booking.notices import booking_notices_due
from parkgate.core.models import OutboundEmail
from parkgate.payments.documents import credit_note_issue, document_pdf, payment_document_issue
from parkgate.payments.models import (
    BillingDocument,
    DocumentCounter,
    DocumentKind,
    Payment,
    PaymentAccount,
    PaymentStatus,
    Refund,
    StripeEvent,
)
from tests.booking.conftest import PortalWorld, booking_post, portal_world  # noqa: F401
from tests.clock import lot_date
from tests.factories import PASSWORD
from tests.payments.conftest import control, wait_for
from tests.payments.paid import Paid, make_paid, paid_booking_record, portal_booking_record

pytestmark = pytest.mark.django_db(transaction=True)

INVOICE_POST = {
    "invoice-invoice": "on",
    "invoice-company_name": "Dupont SRL",
    "invoice-company_address": "Rue Haute 1\n1000 Bruxelles",
    "invoice-vat_number": "be 0123.456.789",
}


@pytest.fixture
def paid(portal_world: PortalWorld, gateway_server: StripeTestServer, live_server: Any) -> Paid:  # noqa: F811
    result = make_paid(portal_world, gateway_server, live_server.url)
    result.account.legal_name = "Acme Consulting SA"
    result.account.legal_address = "Avenue Louise 54\n1050 Ixelles"
    result.account.vat_number = "BE0999888777"
    result.account.document_prefix = "ACME"
    result.account.save()
    return result


def _year(instant: datetime) -> int:
    """The year of the documents' numbers: the instant's year in the lot's time zone."""
    return lot_date(instant).year


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return " ".join(text.stdout.replace("\u00a0", " ").split())


def _attachments(email: OutboundEmail) -> dict[str, bytes]:
    return {a["filename"]: base64.b64decode(a["content_b64"]) for a in email.attachments}


def _book_and_pay(paid: Paid, client: Client, **extra: str) -> tuple[Booking, Payment]:
    booking, url = paid.book(client, spots=2, **extra)
    payment = Payment.objects.get(booking=booking)
    paid.pay(url)
    return booking, paid.wait_status(payment, PaymentStatus.PAID)


def _confirmations(booking: Booking) -> dict[str, OutboundEmail]:
    wait_for(
        lambda: (
            OutboundEmail.objects.filter(kind="booking.confirmation", object_id=str(booking.pk)).count() == 2
        ),
        what="two confirmation e-mails",
    )
    return {
        e.to[0]: e
        for e in OutboundEmail.objects.filter(kind="booking.confirmation", object_id=str(booking.pk))
    }


def _document_url(booking: Booking, document: BillingDocument, *, token: str | None = None) -> str:
    assert booking.invitation is not None
    return reverse(
        "booking:document",
        args=[
            booking.portal.slug,
            token or booking.invitation.token,
            booking.reference,
            document.access_token,
        ],
    )


def test_invoice_numbered_attached_to_the_payers_email_and_downloadable(
    paid: Paid, client: Client, tmp_path: Path, pinned_now: datetime
) -> None:
    number = f"ACME-{_year(pinned_now)}-0001"
    booking, payment = _book_and_pay(paid, client, **INVOICE_POST)
    invoice = BillingDocument.objects.get(payment=payment)
    assert (invoice.kind, invoice.number, invoice.total, invoice.vat_total, invoice.language) == (
        DocumentKind.INVOICE,
        1,
        3000,
        520,
        "en",
    )
    emails = _confirmations(booking)
    payer, other = emails["jeanne@example.com"], emails["piet@example.com"]
    # The payer gets the invoice; the visitor she booked for gets only their calendar file.
    assert sorted(_attachments(payer)) == [f"invoice-{number}.pdf", f"parking-{booking.reference}.ics"]
    assert sorted(_attachments(other)) == [f"parking-{booking.reference}.ics"]
    assert "You have booked a parking spot." in payer.body_text
    assert "has booked a parking spot for you" not in payer.body_text
    assert "Jeanne Dupont has booked a parking spot for you." in other.body_text
    assert f"Your invoice No. {number} is attached (PDF)." in payer.body_text

    pdf = _attachments(payer)[f"invoice-{number}.pdf"]
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path, "invoice.pdf")
    day = paid.pw.monday.strftime("%d/%m/%Y")
    for expected in (
        "Invoice",
        f"No. {number}",
        "Acme Consulting SA",
        "Avenue Louise 54",
        "VAT number: BE0999888777",
        "Invoiced to",
        "Dupont SRL",
        "Rue Haute 1",
        "VAT number: BE0123456789",
        f"Booking reference {booking.reference}",
        f"Parking {day} 09:00-13:00, Jeanne Dupont 21 % €12.40 €2.60 €15.00",
        f"Parking {day} 09:00-13:00, Piet Peeters 21 % €12.40 €2.60 €15.00",
        "Total excl. VAT €24.80",
        "VAT 21 % on €24.80 €5.20",
        "Total paid incl. VAT €30.00",
    ):
        assert expected in text, (expected, text)

    # Downloadable again from the confirmation page, by whoever holds the link (a fresh browser too).
    page = client.get(
        reverse(
            "booking:confirmation",
            args=["acme", paid.pw.invitation.token, booking.reference, booking.link_key],
        )
    ).content.decode()
    link = _document_url(booking, invoice)
    assert f'href="http://testserver{link}"' in page or link in page
    assert f"Invoice No. {number} (PDF)" in page
    for browser in (client, Client()):
        response = browser.get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="invoice-{number}.pdf"'
        assert response.content == pdf  # the very PDF that was e-mailed
    (tmp_path / "screens").mkdir(exist_ok=True)
    (tmp_path / "screens" / f"invoice-{number}.pdf").write_bytes(pdf)


def test_document_links_404_for_another_booking_token_or_organisation(
    paid: Paid, client: Client, world: Any
) -> None:
    booking, payment = _book_and_pay(paid, client)
    receipt = BillingDocument.objects.get(payment=payment)
    assert receipt.kind == DocumentKind.RECEIPT and receipt.data["buyer"]["company_name"] == ""
    other_booking, other_payment = _book_and_pay(paid, Client())
    other_receipt = BillingDocument.objects.get(payment=other_payment)
    assert other_receipt.number == receipt.number + 1
    fresh = Client()
    assert fresh.get(_document_url(booking, receipt)).status_code == 200
    # Another booking's reference with this document's token, and the reverse: the same 404.
    assert fresh.get(_document_url(other_booking, receipt)).status_code == 404
    assert fresh.get(_document_url(booking, other_receipt)).status_code == 404
    assert fresh.get(_document_url(booking, receipt, token="not-the-invitation")).status_code == 404
    wrong = reverse("booking:document", args=["acme", paid.pw.invitation.token, booking.reference, "x" * 32])
    assert fresh.get(wrong).status_code == 404

    # The back office: the organisation's admin downloads it; another organisation's staff get 404.
    office = reverse("backoffice:payment_document", args=[payment.pk, receipt.pk])
    admin = Client()
    admin.login(username=world.admin.username, password=PASSWORD)
    response = admin.get(office)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    detail = admin.get(reverse("backoffice:payment_detail", args=[payment.pk])).content.decode()
    assert receipt.display_number in detail and office in detail
    for outsider in (world.outsider_admin, world.outsider_owner):
        intruder = Client()
        intruder.login(username=outsider.username, password=PASSWORD)
        assert intruder.get(office).status_code == 404
    # The right payment with another payment's document id: 404 as well.
    mixed = reverse("backoffice:payment_document", args=[payment.pk, other_receipt.pk])
    assert admin.get(mixed).status_code == 404


def test_refund_issues_a_credit_note_with_negative_amounts(
    paid: Paid, client: Client, tmp_path: Path, pinned_now: datetime
) -> None:
    year = _year(pinned_now)
    first, second = f"ACME-CN-{year}-0001", f"ACME-CN-{year}-0002"
    booking, payment = _book_and_pay(paid, client, **INVOICE_POST)
    _confirmations(booking)
    spots = list(
        Reservation.objects.filter(group_id=booking.group_id).select_related("parker").order_by("pk")
    )
    jeanne, piet = spots
    # Piet (not the payer) cancels: his e-mail says who gets the money; Jeanne gets the credit note.
    assert client.post(reverse("booking:cancel", args=["acme", piet.cancel_token])).status_code == 200
    refund = Refund.objects.get(line__reservation=piet)
    note = BillingDocument.objects.get(refund=refund)
    invoice = BillingDocument.objects.get(payment=payment, kind=DocumentKind.INVOICE)
    assert (note.kind, note.number, note.total, note.vat_total, note.corrects_id) == (
        DocumentKind.CREDIT_NOTE,
        1,  # credit notes have their own series
        -1500,
        -260,
        invoice.pk,
    )
    wait_for(
        lambda: OutboundEmail.objects.filter(kind="booking.credit_note").exists(), what="credit note e-mail"
    )
    to_payer = OutboundEmail.objects.get(kind="booking.credit_note")
    assert to_payer.to == ["jeanne@example.com"]
    assert sorted(_attachments(to_payer)) == [f"credit-note-{first}.pdf"]
    cancelled = OutboundEmail.objects.get(kind="booking.cancellation", to=["piet@example.com"])
    assert f"credit-note-{first}.pdf" not in _attachments(cancelled)
    assert "Jeanne Dupont, who paid for this spot, receives €15.00 back." in cancelled.body_text

    text = pdf_text(_attachments(to_payer)[f"credit-note-{first}.pdf"], tmp_path, "credit.pdf")
    issued = invoice.issued_at.astimezone(paid.pw.portal.lot.zone)
    invoice_day = f"{issued.day} {issued:%B %Y}"
    day = paid.pw.monday.strftime("%d/%m/%Y")
    for expected in (
        "Credit note",
        f"No. {first}",
        f"Corrects Invoice No. ACME-{year}-0001",
        invoice_day,
        "Dupont SRL",
        "VAT number: BE0123456789",
        f"Parking {day} 09:00-13:00, Piet Peeters 21 % -€12.40 -€2.60 -€15.00",
        "VAT 21 % on -€12.40 -€2.60",
        "Total refunded incl. VAT -€15.00",
    ):
        assert expected in text, (expected, text)
    (tmp_path / "screens").mkdir(exist_ok=True)
    (tmp_path / "screens" / f"credit-note-{first}.pdf").write_bytes(
        _attachments(to_payer)[f"credit-note-{first}.pdf"]
    )

    # Jeanne (the payer) cancels her own spot: the credit note is attached to her cancellation e-mail.
    assert client.post(reverse("booking:cancel", args=["acme", jeanne.cancel_token])).status_code == 200
    own = BillingDocument.objects.get(refund__line__reservation=jeanne)
    assert (own.number, own.total) == (2, -1500)
    wait_for(
        lambda: OutboundEmail.objects.filter(kind="booking.cancellation", to=["jeanne@example.com"]).exists(),
        what="Jeanne's cancellation",
    )
    mine = OutboundEmail.objects.get(kind="booking.cancellation", to=["jeanne@example.com"])
    assert f"credit-note-{second}.pdf" in _attachments(mine)
    assert OutboundEmail.objects.filter(kind="booking.credit_note").count() == 1  # no second copy
    # Both credit notes are listed on the confirmation page and download.
    response = Client().get(_document_url(booking, own))
    assert response.status_code == 200 and response["Content-Disposition"].endswith(
        f'"credit-note-{second}.pdf"'
    )
    assert [d.display_number for d in BillingDocument.objects.order_by("series", "number")] == [
        first,
        second,
        f"ACME-{year}-0001",
    ]


def test_bad_company_details_are_refused_and_nothing_is_booked(paid: Paid, client: Client) -> None:
    data = booking_post(paid.pw, spots=1) | {
        "invoice-invoice": "on",
        "invoice-company_name": " ",
        "invoice-company_address": "Rue Haute 1",
        "invoice-vat_number": "0123456789",
    }
    response = client.post(paid.pw.url, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter your company&#x27;s name for the invoice." in page
    assert "This is not a VAT number: it starts with the country code, for example BE0123456789." in page
    assert Booking.objects.count() == 0 and Payment.objects.count() == 0 and Reservation.objects.count() == 0
    # The same details without the box ticked: booked, as a receipt (the fields are ignored).
    data.pop("invoice-invoice")
    booking, _url = paid.book(client, spots=1, **{k: v for k, v in data.items() if k.startswith("invoice-")})
    payment = Payment.objects.get(booking=booking)
    assert (payment.invoice_requested, payment.company_name, payment.company_vat_number) == (False, "", "")


def test_the_document_is_in_the_bookings_language(
    paid: Paid, client: Client, tmp_path: Path, pinned_now: datetime
) -> None:
    client.get(paid.pw.url + "?lang=fr")
    booking, payment = _book_and_pay(paid, client, **INVOICE_POST)
    assert booking.language == "fr"
    invoice = BillingDocument.objects.get(payment=payment)
    text = pdf_text(document_pdf(invoice), tmp_path)
    for expected in (
        "Facture",
        f"N° ACME-{_year(pinned_now)}-0001",
        "Facturé à",
        "Numéro de TVA : BE0123456789",
        "30,00 €",
        "5,20 €",
    ):
        assert expected in text, (expected, text)
    assert "Invoice" not in text and "From" not in text and text.startswith("De Facture")
    emails = _confirmations(booking)
    assert "Vous avez réservé une place de parking." in emails["jeanne@example.com"].body_text


def _payments(pw: PortalWorld, count: int, pinned_now: datetime) -> list[Payment]:
    """``count`` paid payments of the tenant, made directly (no Stripe needed to number documents)."""
    PaymentAccount.objects.get_or_create(
        organisation=pw.portal.organisation,
        defaults={"stripe_account_id": "acct_test", "document_prefix": "ACME"},
    )
    start = pinned_now + timedelta(days=2)
    made = []
    for index in range(count):
        booking, reservation = portal_booking_record(
            pw,
            reference=f"REF{index:05d}",
            email=f"payer{index}@example.com",
            start=start,
            end=start + timedelta(hours=4),
            status=ReservationStatus.CONFIRMED,
        )
        made.append(paid_booking_record(booking, reservation, amount=1500, vat=260, paid_at=pinned_now))
    return made


def test_dutch_receipt_and_credit_note(portal_world: PortalWorld, tmp_path: Path, pinned_now) -> None:  # noqa: F811
    (payment,) = _payments(portal_world, 1, pinned_now)
    Booking.objects.filter(pk=payment.booking_id).update(language="nl")
    payment.refresh_from_db()
    with transaction.atomic():
        receipt = payment_document_issue(payment=payment)
        refund = Refund.objects.create(line=payment.lines.get(), amount=1500, fee_share=0)
        note = credit_note_issue(refund=refund)
    assert note is not None
    year = _year(pinned_now)
    assert (receipt.kind, receipt.number, note.number, note.total, note.vat_total) == (
        "receipt",
        1,
        1,
        -1500,
        -260,
    )
    text = pdf_text(document_pdf(receipt), tmp_path, "receipt.pdf")
    for expected in (
        "Ontvangstbewijs",
        f"Nr. ACME-{year}-0001",
        "Betaald door",
        "payer0@example.com",
        "Totaal betaald incl. btw € 15,00",
    ):
        assert expected in text, (expected, text)
    assert "Gefactureerd aan" not in text  # a receipt names no company
    text = pdf_text(document_pdf(note), tmp_path, "note.pdf")
    for expected in (
        "Creditnota",
        f"Nr. ACME-CN-{year}-0001",
        "Corrigeert",
        f"Ontvangstbewijs nr. ACME-{year}-0001",
        "Totaal terugbetaald incl. btw -€ 15,00",
    ):
        assert expected in text, (expected, text)
    # The second download is the very same bytes (kept, not rendered again).
    assert document_pdf(BillingDocument.objects.get(pk=note.pk)) == document_pdf(note)


def test_concurrent_issuing_numbers_without_gap_or_duplicate(portal_world: PortalWorld, pinned_now) -> None:  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (CI and DATABASE_URL)")
    payments = _payments(portal_world, 24, pinned_now)
    doomed = {p.pk for p in payments[::4]}  # 6 issues roll back after taking their number
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    class Rollback(Exception):
        pass

    def worker(chunk: list[Payment]) -> None:
        try:
            barrier.wait()
            for payment in chunk:
                try:
                    with transaction.atomic():
                        payment_document_issue(payment=Payment.objects.get(pk=payment.pk))
                        if payment.pk in doomed:
                            raise Rollback
                except Rollback:
                    pass
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(payments[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    numbers = list(BillingDocument.objects.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, 19))  # 24 - 6 rolled back: 1..18, no gap, no duplicate
    assert set(BillingDocument.objects.values_list("payment_id", flat=True)) == {
        p.pk for p in payments if p.pk not in doomed
    }
    counter = DocumentCounter.objects.get(organisation=portal_world.portal.organisation)
    assert (counter.series, counter.year, counter.last_number) == ("sale", _year(pinned_now), 18)


def test_numbers_start_again_each_first_of_january_in_the_lots_time_zone(
    portal_world: PortalWorld,  # noqa: F811
    pinned_now: datetime,
) -> None:
    year = _year(pinned_now)
    zone = portal_world.portal.lot.zone
    new_years_eve = datetime(year, 12, 31, 23, 30, tzinfo=zone)
    # 00:10 on 1 January in Brussels is still 31 December in UTC: the lot's calendar decides.
    new_year = datetime(year + 1, 1, 1, 0, 10, tzinfo=zone)
    assert new_year.astimezone(UTC).year == year
    late, early, second = _payments(portal_world, 3, pinned_now)
    with transaction.atomic():
        last_of_year = payment_document_issue(payment=late, now=new_years_eve)
        refund = Refund.objects.create(line=late.lines.get(), amount=1500, fee_share=0)
        note_of_year = credit_note_issue(refund=refund, now=new_years_eve)
    with transaction.atomic():
        first_of_next = payment_document_issue(payment=early, now=new_year)
        second_of_next = payment_document_issue(payment=second, now=new_year + timedelta(hours=9))
        refund = Refund.objects.create(line=early.lines.get(), amount=1500, fee_share=0)
        note_of_next = credit_note_issue(refund=refund, now=new_year + timedelta(hours=10))
    assert note_of_year is not None and note_of_next is not None
    assert [
        d.display_number for d in (last_of_year, note_of_year, first_of_next, second_of_next, note_of_next)
    ] == [
        f"ACME-{year}-0001",
        f"ACME-CN-{year}-0001",
        f"ACME-{year + 1}-0001",
        f"ACME-{year + 1}-0002",
        f"ACME-CN-{year + 1}-0001",
    ]
    assert note_of_next.data["corrects_number"] == f"ACME-{year + 1}-0001"
    assert first_of_next.filename == f"receipt-ACME-{year + 1}-0001.pdf"
    counters = DocumentCounter.objects.filter(organisation=portal_world.portal.organisation)
    assert sorted(counters.values_list("series", "year", "last_number")) == [
        ("credit", year, 1),
        ("credit", year + 1, 1),
        ("sale", year, 1),
        ("sale", year + 1, 2),
    ]


def test_a_prefix_change_applies_to_new_documents_only(
    portal_world: PortalWorld,  # noqa: F811
    pinned_now: datetime,
) -> None:
    year = _year(pinned_now)
    first, second = _payments(portal_world, 2, pinned_now)
    with transaction.atomic():
        before = payment_document_issue(payment=first)
    PaymentAccount.objects.filter(organisation=portal_world.portal.organisation).update(document_prefix="ACS")
    with transaction.atomic():
        after = payment_document_issue(payment=second)
    before.refresh_from_db()
    assert (before.display_number, after.display_number) == (f"ACME-{year}-0001", f"ACS-{year}-0002")


def test_a_payment_confirmed_after_the_payer_left_emails_the_invoice_once(
    paid: Paid, client: Client, pinned_now: datetime
) -> None:
    number = f"ACME-{_year(pinned_now)}-0001"
    booking, url = paid.book(client, spots=2, **INVOICE_POST)
    payment = Payment.objects.get(booking=booking)
    control(paid.server, "webhooks", {"action": "pause"})
    paid.pay(url)
    # The payer closed the tab: no return to the portal; nothing is confirmed and nothing is sent.
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.OPEN
    assert not OutboundEmail.objects.filter(kind="booking.confirmation").exists()
    assert not BillingDocument.objects.exists()
    # Stripe's webhook arrives later: the booking's outbox e-mails the invoice to the payer.
    control(paid.server, "webhooks", {"action": "resume"})
    paid.wait_status(payment, PaymentStatus.PAID)
    emails = _confirmations(booking)
    payer = emails["jeanne@example.com"]
    pdf = _attachments(payer)[f"invoice-{number}.pdf"]
    assert pdf.startswith(b"%PDF-")
    assert f"Your invoice No. {number} is attached (PDF)." in payer.body_text
    # Stripe delivers the event again, and housekeeping looks for unwritten notices: still once.
    wait_for(lambda: control(paid.server, "settled")["settled"], what="deliveries settled")
    completed = StripeEvent.objects.get(type="checkout.session.completed")
    control(paid.server, "replay", {"event": completed.event_id, "times": 3})
    wait_for(lambda: control(paid.server, "settled")["settled"], what="replays delivered")
    assert booking_notices_due(now=pinned_now + timedelta(hours=1)) == 0
    to_payer = OutboundEmail.objects.filter(kind="booking.confirmation", to=["jeanne@example.com"])
    assert to_payer.count() == 1
    assert BookingNotice.objects.filter(booking=booking).count() == 1
    assert BillingDocument.objects.filter(payment=payment).count() == 1
