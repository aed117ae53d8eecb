from __future__ import annotations

import pytest
from django.core.management import call_command

from parkgate.access.models import Reservation
from parkgate.accounts.models import Membership, Organisation, Role, User
from parkgate.core.models import AuditEvent
from parkgate.parking.models import AccessPolicy, Allocation, Gate, Lot, Parker, Plate


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Organisation,
            User,
            Membership,
            Lot,
            Gate,
            Allocation,
            AccessPolicy,
            Parker,
            Plate,
            Reservation,
            AuditEvent,
        )
    }


@pytest.mark.django_db
def test_the_demo_has_what_the_issue_promises_and_loading_it_twice_changes_nothing(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("demo")
    first = _counts()
    output = capsys.readouterr().out
    call_command("demo")
    assert _counts() == first

    lot = Lot.objects.get(name="Brussels Central Garage")
    assert (lot.total_spots, lot.timezone, lot.owner.slug) == (120, "Europe/Brussels", "brussels-parking")
    assert sorted(lot.gates.values_list("name", "direction")) == [
        ("Entry barrier", "entry"),
        ("Exit barrier", "exit"),
    ]
    tenants = {a.organisation.slug: a.spots for a in lot.allocations.select_related("organisation")}
    assert tenants["acme"] == 40 and tenants["bluefin"] == 25
    visitor = AccessPolicy.objects.get(name="Acme visitors")
    assert sorted(visitor.windows.values_list("weekday", "start_minute", "end_minute")) == [
        (d, 420, 1140) for d in range(5)
    ]
    plates = set(Plate.objects.values_list("text", flat=True))
    assert {"1-ABC-123", "AB-123-CD", "XX-999-X"} <= plates  # Belgian, French, Dutch
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {Role.ADMIN, Role.OWNER, Role.RECEPTIONIST, Role.PARKER}
    assert User.objects.filter(is_superuser=True, username="staff").exists()
    assert "parkgate-demo" in output and "http://testserver/office/" in output


def test_the_tests_never_reach_the_stripe_test_server_a_developer_runs() -> None:
    """`make run` keeps the bundled Stripe test server on 127.0.0.1:8111. The suite, run beside it,
    used to connect Acme's demo account there on every demo load, and that server then posted the
    accounts' webhooks to the developer's `make run` for ever (404: no such account). Unless a test
    starts its own server, the tests' Stripe address is one nothing listens on."""
    from parkgate.demo.payments import _listening
    from parkgate.payments import gateway

    assert gateway.uses_test_server() is True
    assert gateway.api_base() == "http://127.0.0.1:1" != gateway.TEST_SERVER_URL
    assert _listening(gateway.api_base()) is False
