"""Migration 0003: approvals recorded on payment accounts move to the one PaymentApproval."""

from __future__ import annotations

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
