"""Back office payments and refunds: per organisation and portal, CSV, tenancy and roles."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from parkgate.booking.models import Booking, BookingStatus
from parkgate.payments.models import (
    FeeRefundStatus,
    Payment,
    PaymentLine,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from tests import factories as f
from tests.booking.factories import VisitorPortalFactory

pytestmark = pytest.mark.django_db


def _payment(world: Any, *, organisation: Any, lot: Any, slug: str, now: datetime, spots: int = 2) -> Payment:
    policy = f.AccessPolicyFactory(organisation=organisation, lot=lot, vat_rate=Decimal("21"))
    portal = VisitorPortalFactory(
        organisation=organisation, lot=lot, slug=slug, name=f"Portal {slug}", payment_enabled=True
    )
    group = uuid.uuid4()
    booking = Booking.objects.create(
        portal=portal,
        group_id=group,
        reference=slug.upper()[:8],
        language="en",
        booker_email="jeanne@example.com",
        spots=spots,
        status=BookingStatus.CONFIRMED,
    )
    payment = Payment.objects.create(
        booking=booking,
        organisation=organisation,
        stripe_account_id=f"acct_{slug}",
        currency="EUR",
        amount=1500 * spots,
        vat_amount=260 * spots,
        platform_fee=35 * spots,
        status=PaymentStatus.PAID,
        checkout_session_id=f"cs_{slug}",
        payment_intent_id=f"pi_{slug}",
        paid_at=now,
    )
    for n in range(spots):
        reservation = f.ReservationFactory(policy=policy, group_id=group)
        PaymentLine.objects.create(
            payment=payment,
            reservation=reservation,
            description=f"=Parking spot {n + 1}",
            amount=1500,
            vat_amount=260,
            fee_share=35,
        )
    return payment


@pytest.fixture
def payments(world: Any, pinned_now: datetime) -> tuple[Payment, Payment]:
    ours = _payment(world, organisation=world.tenant, lot=world.lot, slug="acme", now=pinned_now)
    Refund.objects.create(
        line=ours.lines.order_by("pk")[0],
        amount=1500,
        fee_share=35,
        status=RefundStatus.SUCCEEDED,
        stripe_refund_id="re_1",
        fee_status=FeeRefundStatus.SUCCEEDED,
        stripe_fee_refund_id="fr_1",
    )
    theirs = _payment(
        world, organisation=world.outsider, lot=world.outsider_lot, slug="other", now=pinned_now
    )
    return ours, theirs


def _snapshot() -> list[Any]:
    return list(Payment.objects.order_by("pk").values_list("status", "amount")) + list(
        Refund.objects.values_list("status", "amount")
    )


def test_admin_sees_own_payments_totals_and_refund_states(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, _theirs = payments
    page = client_for(world.admin).get(reverse("backoffice:payment_list")).content.decode()
    assert "ACME" in page and "OTHER" not in page
    # Paid €30.00 (VAT €5.20, fees €0.70), €15.00 refunded, €0.35 of fees given back.
    for text in ("€30.00", "€5.20", "€0.70", "€15.00", "€0.35"):
        assert text in page
    detail = (
        client_for(world.admin).get(reverse("backoffice:payment_detail", args=[ours.pk])).content.decode()
    )
    assert "re_1" in detail and "fr_1" in detail and "pi_acme" in detail and "Refunded" in detail


def test_filter_by_portal_and_bad_dates(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, _theirs = payments
    other_portal = VisitorPortalFactory(
        organisation=world.tenant, lot=world.lot, slug="acme-2", payment_enabled=True
    )
    client = client_for(world.admin)
    assert (
        "ACME"
        not in client.get(reverse("backoffice:payment_list"), {"portal": other_portal.pk}).content.decode()
    )
    assert (
        "ACME"
        in client.get(reverse("backoffice:payment_list"), {"portal": ours.booking.portal_id}).content.decode()
    )
    response = client.get(reverse("backoffice:payment_list"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 400
    assert "The end cannot be before the start." in response.content.decode()


def test_csv_export_one_row_per_spot(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, _theirs = payments
    response = client_for(world.admin).get(reverse("backoffice:payment_export"))
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0][:4] == ["Payment", "Organisation", "Portal", "Booking"]
    assert len(rows) == 3
    first = rows[1]
    assert first[0] == f"payment-{ours.pk}"
    assert first[7] == "'=Parking spot 1"  # a formula typed into a name never runs in a spreadsheet
    assert first[8:14] == ["15.00", "2.60", "0.35", "15.00", "Refunded", "0.35"]
    assert first[14:] == ["acct_acme", "cs_acme", "pi_acme", "re_1"]
    assert rows[2][11:14] == ["", "", ""]


def test_other_organisations_get_404_and_change_nothing(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = payments
    before = _snapshot()
    for user in (world.outsider_admin, world.outsider_owner, world.owner):
        client = client_for(user)
        assert client.get(reverse("backoffice:payment_detail", args=[ours.pk])).status_code == 404
        assert "ACME" not in client.get(reverse("backoffice:payment_list")).content.decode()
        assert f"payment-{ours.pk}" not in client.get(reverse("backoffice:payment_export")).content.decode()
    assert (
        client_for(world.admin).get(reverse("backoffice:payment_detail", args=[theirs.pk])).status_code == 404
    )
    assert _snapshot() == before


def test_wrong_roles_get_403(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, _theirs = payments
    before = _snapshot()
    for user in (world.receptionist, world.parker_user):
        client = client_for(user)
        for url in (
            reverse("backoffice:payment_list"),
            reverse("backoffice:payment_export"),
            reverse("backoffice:payment_detail", args=[ours.pk]),
            reverse("backoffice:staff_payment_list"),
            reverse("backoffice:staff_payment_export"),
            reverse("backoffice:staff_payment_detail", args=[ours.pk]),
        ):
            assert client.get(url).status_code == 403, url
    for url in (
        reverse("backoffice:staff_payment_list"),
        reverse("backoffice:staff_payment_detail", args=[ours.pk]),
    ):
        assert client_for(world.admin).get(url).status_code == 403
    assert _snapshot() == before


def test_platform_staff_see_every_organisation(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = payments
    staff = f.UserFactory(is_superuser=True, is_staff=True)
    client = client_for(staff)
    page = client.get(reverse("backoffice:staff_payment_list")).content.decode()
    assert "ACME" in page and "OTHER" in page
    page = client.get(
        reverse("backoffice:staff_payment_list"), {"organisation": world.outsider.pk}
    ).content.decode()
    assert "OTHER" in page and "ACME" not in page
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("backoffice:staff_payment_export")).content.decode()))
    )
    assert len(rows) == 5
    assert client.get(reverse("backoffice:staff_payment_detail", args=[theirs.pk])).status_code == 200
    assert ours.pk != theirs.pk


def test_booking_office_shows_the_payment_and_refund_state(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, _theirs = payments
    page = (
        client_for(world.admin)
        .get(reverse("backoffice:booking_detail", args=[ours.booking.pk]))
        .content.decode()
    )
    assert "€30.00 · Paid" in page and "Payment details" in page
    assert page.count('class="badge ok">Refunded<') == 1


def test_lot_owner_desk_sees_the_booking_but_not_the_money(client_for, world, payments) -> None:  # type: ignore[no-untyped-def]
    ours, _theirs = payments
    for user in (world.owner, world.receptionist):
        response = client_for(user).get(reverse("backoffice:booking_detail", args=[ours.booking.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert ours.booking.reference in page and "€30.00" not in page and "Refunded" not in page
