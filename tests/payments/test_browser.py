"""A visitor pays for a group booking on the hosted test checkout page, one of them cancels, and
the refund shows to the visitor (page and e-mail) and to the organisation's staff (back office)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from parkgate.access.models import Reservation, ReservationStatus
from parkgate.payments.models import FeeRefundStatus, Payment, PaymentStatus, Refund, RefundStatus
from tests.booking.conftest import portal_world  # noqa: F401
from tests.booking.test_browser import axe_check
from tests.clock import lot_date
from tests.factories import PASSWORD
from tests.payments.conftest import wait_for
from tests.payments.paid import make_paid


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_visitor_pays_one_visitor_cancels_and_the_refund_shows(
    browser: Any,
    page: Any,
    portal_world: Any,  # noqa: F811
    gateway_server: Any,
    live_server: Any,
    settings: Any,
    world: Any,
    pinned_now: Any,
) -> None:
    settings.SITE_URL = live_server.url
    paid = make_paid(portal_world, gateway_server, live_server.url)
    paid.account.document_prefix = "ACME"
    paid.account.save(update_fields=["document_prefix"])
    year = lot_date(pinned_now).year
    pw = paid.pw
    mail.outbox.clear()

    page.goto(pw.url)
    page.locator("input[name=date]").fill(pw.monday.isoformat())
    page.locator("input[name=date]").dispatch_event("change")
    page.wait_for_load_state("networkidle")
    page.locator(f"label[for=slot-{pw.slot(9)}]").click()
    page.get_by_label("Number of spots").select_option("2")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_selector("input[name=v0-first_name]")
    price = page.locator(".price-summary")
    expect(price).to_contain_text("€15.00")
    expect(price).to_contain_text("€30.00")
    axe_check(page)
    people = [
        ("Jeanne", "Dupont", "1-abc-123", "jeanne@example.com"),
        ("Piet", "Peeters", "2 xyz 987", "piet@example.com"),
    ]
    for index, (first, last, plate, email) in enumerate(people):
        page.fill(f"#id_v{index}-first_name", first)
        page.fill(f"#id_v{index}-last_name", last)
        page.fill(f"#id_v{index}-plate", plate)
        page.fill(f"#id_v{index}-email", email)
    page.get_by_label("I need an invoice for my company").check()
    page.get_by_label("Company name").fill("Dupont SRL")
    page.get_by_label("Company address").fill("Rue Haute 1\n1000 Bruxelles")
    page.get_by_label("Company VAT number").fill("be 0123.456.789")
    page.get_by_role("button", name="Proceed to payment").click()

    # Stripe's hosted checkout (the bundled test server): the two spots, VAT included.
    page.wait_for_url(re.compile(re.escape(gateway_server.url) + r"/pay/cs_"))
    assert "Parking" in page.content() and "Jeanne Dupont" in page.content()
    page.get_by_role("button", name=re.compile(r"^Pay €30\.00")).click()

    # Back on the portal: confirmed by the webhook (the page waits for it if needed).
    page.get_by_role("heading", name="Your booking is confirmed").wait_for()
    assert "€30.00, VAT included" in page.content()
    expect(page.get_by_role("link", name=f"Invoice No. ACME-{year}-0001 (PDF)")).to_be_visible()
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PAID
    wait_for(lambda: len(mail.outbox) == 2, what="two confirmation e-mails")

    # Piet cancels his own spot from his e-mail.
    message = next(m for m in mail.outbox if m.to == ["piet@example.com"])
    cancel_url = re.search(r"https?://\S+/cancel/\S+/", message.body).group(0)  # type: ignore[union-attr]
    page.goto(cancel_url)
    assert "You paid €15.00 for this spot" in page.content()
    page.get_by_role("button", name="Cancel my reservation").click()
    page.get_by_text("We are refunding €15.00").wait_for()
    refund = wait_for(
        lambda: Refund.objects.filter(status=RefundStatus.SUCCEEDED).first(), what="refund settled"
    )
    assert (refund.amount, refund.fee_share, refund.fee_status) == (1500, 35, FeeRefundStatus.SUCCEEDED)
    assert Reservation.objects.get(parker__email="jeanne@example.com").status == ReservationStatus.CONFIRMED
    # Piet did not pay: his e-mail says who gets the money; Jeanne, who paid, gets the credit note.
    wait_for(lambda: len(mail.outbox) == 4, what="the cancellation and credit note e-mails")
    to_piet = next(m for m in mail.outbox[2:] if m.to == ["piet@example.com"])
    to_jeanne = next(m for m in mail.outbox[2:] if m.to == ["jeanne@example.com"])
    assert "Jeanne Dupont, who paid for this spot, receives €15.00 back." in to_piet.body
    assert "We are refunding €15.00" in to_jeanne.body
    assert [name for name, _content, _type in to_jeanne.attachments] == [
        f"credit-note-ACME-CN-{year}-0001.pdf"
    ]
    page.reload()
    assert "€15.00 has been refunded." in page.content()

    # The organisation's admin sees the payment and the refund in the back office.
    admin = browser.new_context(base_url=live_server.url, locale="en-GB")
    admin.set_default_timeout(10_000)
    office = admin.new_page()
    office.goto("/accounts/login/")
    office.fill("input[name=login]", world.admin.email)
    office.fill("input[name=password]", PASSWORD)
    office.get_by_role("button", name="Sign in", exact=True).click()
    office.wait_for_url("**/office/")  # signed in before the next page is asked for
    office.goto(f"/office/payments/{payment.pk}/")
    table = office.locator("table").first.inner_text()
    assert "Refunded" in table and refund.stripe_refund_id in table
    documents = office.locator("table").last.inner_text()
    assert f"ACME-{year}-0001" in documents and "Dupont SRL (BE0123456789)" in documents
    assert f"ACME-CN-{year}-0001" in documents and "Credit note" in documents and "-€15.00" in documents
    assert "€30.00" in office.content()
    axe_check(office)
    admin.close()
