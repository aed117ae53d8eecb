from __future__ import annotations

import pytest

from parkgate.core import demo
from parkgate.payments.models import PaymentAccount


@pytest.mark.django_db
def test_demo_lists_the_payment_pages_and_creates_no_account() -> None:
    ctx = demo.load()
    assert ("Payments (owner, admin)", "/payments/account/") in ctx.links
    assert ("Payment accounts (staff)", "/payments/staff/accounts/") in ctx.links
    assert PaymentAccount.objects.count() == 0
