"""Migration 0003: approvals recorded on payment accounts move to the one PaymentApproval."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("payments", "0002_payment_line_refund"), ("portal", "0002_payment_approval")]
AFTER = [("payments", "0003_one_payment_approval")]


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """Leave the database on the latest migrations for the tests that follow (0004 and later)."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_account_approvals_move_to_payment_approval() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Organisation = apps.get_model("accounts", "Organisation")
    User = apps.get_model("accounts", "User")
    PaymentAccount = apps.get_model("payments", "PaymentAccount")
    PaymentApproval = apps.get_model("portal", "PaymentApproval")
    staff = User.objects.create(username="staff-m", is_superuser=True)
    approved_org = Organisation.objects.create(name="Approved", slug="approved-m")
    pending_org = Organisation.objects.create(name="Pending", slug="pending-m")
    plain_org = Organisation.objects.create(name="Plain", slug="plain-m")
    when = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    PaymentAccount.objects.create(
        organisation=approved_org, stripe_account_id="acct_m1", approved_at=when, approved_by=staff
    )
    PaymentAccount.objects.create(
        organisation=pending_org, stripe_account_id="acct_m2", approved_at=when, approved_by=staff
    )
    PaymentApproval.objects.create(organisation=pending_org, status="pending", requested_at=when)
    PaymentAccount.objects.create(organisation=plain_org, stripe_account_id="acct_m3")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    PaymentApproval = apps.get_model("portal", "PaymentApproval")
    rows = {
        a.organisation.slug: (a.status, a.decided_at, a.decided_by_id)
        for a in PaymentApproval.objects.select_related("organisation")
    }
    assert rows == {
        "approved-m": ("approved", when, staff.pk),
        "pending-m": ("approved", when, staff.pk),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_documents_issued_before_the_yearly_series_keep_their_numbers() -> None:
    """Migration 0007: each document gets its year in the lot's zone and its series; the counters
    continue after the highest number already given, so no number is given twice."""
    executor = MigrationExecutor(connection)
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "payments"]
    before = [*others, ("payments", "0006_billing_documents")]
    after = [*others, ("payments", "0007_document_series_per_year")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Organisation = apps.get_model("accounts", "Organisation")
    Lot = apps.get_model("parking", "Lot")
    VisitorPortal = apps.get_model("portal", "VisitorPortal")
    Booking = apps.get_model("booking", "Booking")
    Payment = apps.get_model("payments", "Payment")
    BillingDocument = apps.get_model("payments", "BillingDocument")
    DocumentCounter = apps.get_model("payments", "DocumentCounter")
    organisation = Organisation.objects.create(name="Acme M", slug="acme-m")
    lot = Lot.objects.create(
        owner=organisation, name="Lot M", address="Rue 1", timezone="Europe/Brussels", total_spots=10
    )
    portal = VisitorPortal.objects.create(
        organisation=organisation, lot=lot, name="Portal M", slug="portal-m", max_spots_per_booking=1
    )
    # 23:30 UTC on 31 December is already 1 January in Brussels: that document is of the new year.
    issued = [
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 22, 30, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    ]
    for number, when in enumerate(issued, start=1):
        booking = Booking.objects.create(
            portal=portal,
            group_id=uuid.uuid4(),
            reference=f"MIG{number}",
            language="en",
            booker_email="payer@example.com",
            spots=1,
            status="confirmed",
        )
        payment = Payment.objects.create(
            booking=booking,
            organisation=organisation,
            stripe_account_id="acct_m",
            currency="EUR",
            amount=1500,
            vat_amount=260,
            platform_fee=0,
            status="paid",
        )
        BillingDocument.objects.create(
            organisation=organisation,
            payment=payment,
            kind="receipt",
            number=number,
            issued_at=when,
            language="en",
            currency="EUR",
            total=1500,
            vat_total=260,
            access_token=f"token-m-{number}",
        )
    DocumentCounter.objects.create(organisation=organisation, last_number=3)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    BillingDocument = apps.get_model("payments", "BillingDocument")
    DocumentCounter = apps.get_model("payments", "DocumentCounter")
    documents = BillingDocument.objects.filter(organisation__slug="acme-m").order_by("number")
    assert [(d.number, d.series, d.year, d.prefix) for d in documents] == [
        (1, "sale", 2026, ""),
        (2, "sale", 2026, ""),
        (3, "sale", 2027, ""),
    ]
    counters = DocumentCounter.objects.filter(organisation__slug="acme-m")
    assert sorted(counters.values_list("series", "year", "last_number")) == [
        ("sale", 2026, 2),
        ("sale", 2027, 3),
    ]
