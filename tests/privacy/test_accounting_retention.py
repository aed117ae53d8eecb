"""Accounting records are kept for the accounting period (7 full years after their year), then deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from parkgate.access.models import ReservationStatus
from parkgate.booking.models import Booking
from parkgate.payments.documents import credit_note_cancel, credit_note_issue, payment_document_issue
from parkgate.payments.models import (
    BillingDocument,
    Payment,
    PaymentAnomaly,
    PaymentLine,
    Refund,
    StripeEvent,
)
from parkgate.privacy.retention import accounting_cutoff, retention_run
from tests.booking.conftest import PortalWorld, portal_world  # noqa: F401
from tests.payments.paid import paid_booking_record, portal_booking_record
from tests.privacy.conftest import BRUSSELS, at


def _payment(pw: PortalWorld, reference: str, paid_at: datetime) -> Payment:
    """A paid booking of one spot with its receipt, every row dated ``paid_at``."""
    booking, reservation = portal_booking_record(
        pw,
        reference=reference,
        email="[anonymised]",
        start=paid_at,
        end=paid_at + timedelta(hours=1),
        status=ReservationStatus.CANCELLED,
    )
    payment = paid_booking_record(booking, reservation, amount=1500, vat=260, paid_at=paid_at)
    Payment.objects.filter(pk=payment.pk).update(created_at=paid_at)
    payment_document_issue(payment=payment, now=paid_at)
    return payment


def _refund(payment: Payment, when: datetime, *, fails: bool = False) -> None:
    with transaction.atomic():
        refund = Refund.objects.create(line=payment.lines.get(), amount=1500, fee_share=0)
        Refund.objects.filter(pk=refund.pk).update(created_at=when, settled_at=when)
        credit_note_issue(refund=refund, now=when)
        if fails:
            credit_note_cancel(refund=refund, now=when)


def _anomaly(payment: Payment, event_id: str, when: datetime) -> None:
    event = StripeEvent.objects.create(
        event_id=event_id, type="checkout.session.completed", created=when, payload={"id": event_id}
    )
    StripeEvent.objects.filter(pk=event.pk).update(received_at=when)
    anomaly = PaymentAnomaly.objects.create(
        event=event, payment=payment, organisation=payment.organisation, reasons=["amount"]
    )
    PaymentAnomaly.objects.filter(pk=anomaly.pk).update(created_at=when)


def test_the_cutoff_is_the_first_of_january_seven_full_years_back() -> None:
    assert accounting_cutoff(at(date(2026, 11, 25), 10), BRUSSELS) == at(date(2019, 1, 1), 0)
    assert accounting_cutoff(at(date(2026, 12, 31), 23, 59), BRUSSELS) == at(date(2019, 1, 1), 0)
    # 00:30 on New Year's Day in Brussels is still 31 December in UTC: the zone of the books decides.
    assert accounting_cutoff(at(date(2027, 1, 1), 0, 30), BRUSSELS) == at(date(2020, 1, 1), 0)
    assert accounting_cutoff(at(date(2027, 1, 1), 0, 30), UTC) == datetime(2019, 1, 1, tzinfo=UTC)


@pytest.mark.django_db
def test_payments_older_than_the_accounting_period_are_deleted_with_everything_on_them(
    portal_world: PortalWorld,  # noqa: F811
) -> None:
    old = _payment(portal_world, "OLD00001", at(date(2018, 12, 31), 23, 30))
    _refund(old, at(date(2018, 12, 31), 23, 45), fails=True)
    _anomaly(old, "evt_old", at(date(2018, 6, 1), 12))
    kept_by_year = _payment(portal_world, "KEPT0001", at(date(2019, 1, 1), 0, 30))
    kept_by_credit_note = _payment(portal_world, "KEPT0002", at(date(2018, 3, 1), 12))
    _refund(kept_by_credit_note, at(date(2019, 2, 1), 12))
    kept_by_anomaly = _payment(portal_world, "KEPT0003", at(date(2018, 3, 2), 12))
    _anomaly(kept_by_anomaly, "evt_kept", at(date(2019, 3, 1), 12))
    loose_old = StripeEvent.objects.create(
        event_id="evt_loose_old", type="charge.refunded", created=at(date(2018, 5, 1), 12), payload={}
    )
    StripeEvent.objects.filter(pk=loose_old.pk).update(received_at=at(date(2018, 5, 1), 12))
    StripeEvent.objects.create(
        event_id="evt_loose_new", type="charge.refunded", created=at(date(2019, 5, 1), 12), payload={}
    )
    kept = [kept_by_year.pk, kept_by_credit_note.pk, kept_by_anomaly.pk]
    documents_kept = list(
        BillingDocument.objects.filter(payment_id__in=kept).order_by("number").values_list("number", "kind")
    )

    totals = retention_run(now=at(date(2026, 11, 25), 10))

    assert sorted(Payment.objects.values_list("pk", flat=True)) == sorted(kept)
    assert not BillingDocument.objects.filter(payment_id=old.pk).exists()
    assert not Refund.objects.filter(line__payment_id=old.pk).exists()
    assert not PaymentLine.objects.filter(payment_id=old.pk).exists()
    assert sorted(StripeEvent.objects.values_list("event_id", flat=True)) == ["evt_kept", "evt_loose_new"]
    assert list(BillingDocument.objects.order_by("number").values_list("number", "kind")) == documents_kept
    # The booking's anonymised facts stay: only the accounting records went.
    assert Booking.objects.filter(reference="OLD00001").exists()
    assert {k: totals[k] for k in ("payments", "payment lines", "refunds", "billing documents")} == {
        "payments": 1,
        "payment lines": 1,
        "refunds": 1,
        "billing documents": 3,
    }
    assert (totals["payment anomalies"], totals["Stripe events deleted"]) == (1, 2)

    # A second run deletes nothing more.
    again = retention_run(now=at(date(2026, 11, 25), 10))
    assert again.get("payments", 0) == 0 and again["Stripe events deleted"] == 0
    assert Payment.objects.count() == 3

    # At 00:30 on New Year's Day 2027 in Brussels (still 2026 in UTC), 2019 is past: the three go.
    retention_run(now=at(date(2027, 1, 1), 0, 30))
    assert Payment.objects.count() == 0
    assert BillingDocument.objects.count() == 0
