"""The authorisation matrix of every back-office view.

For each view and each kind of user: anonymous → login, another organisation → 404, wrong role →
403, right role → 200/302. Every refusal leaves the database exactly as it was; every accepted
write changes it (so the refusal checks can fail).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from parkgate.access.models import Reservation
from parkgate.core.models import AuditEvent
from parkgate.parking.models import AccessPolicy, Allocation, Gate, Lot, Parker, Plate, TimetableWindow
from tests.backoffice.conftest import Office


def snapshot() -> tuple[Any, ...]:
    """Everything a back-office write could change."""
    return (
        list(Lot.objects.order_by("pk").values_list("pk", "name", "total_spots")),
        list(Gate.objects.order_by("pk").values_list("pk", "name", "direction", "driver_settings")),
        list(Allocation.objects.order_by("pk").values_list("pk", "spots", "accepts_visitors")),
        list(AccessPolicy.objects.order_by("pk").values_list("pk", "name", "spot_cap")),
        list(
            TimetableWindow.objects.order_by("pk").values_list(
                "policy_id", "weekday", "start_minute", "end_minute"
            )
        ),
        list(AccessPolicy.members.through.objects.order_by("pk").values_list("accesspolicy_id", "parker_id")),
        list(Parker.objects.order_by("pk").values_list("pk", "first_name", "last_name", "organisation_id")),
        list(Plate.objects.order_by("pk").values_list("parker_id", "key")),
        list(Reservation.objects.order_by("pk").values_list("pk", "status")),
        AuditEvent.objects.count(),
    )


Users = Callable[[Office], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    name: str
    url: Callable[[Office], str]
    # user attribute name (on Office or World) -> expected status
    expect: dict[str, int]
    method: str = "get"
    data: Callable[[Office], dict[str, Any]] = field(default=lambda o: {})


def _user(office: Office, who: str) -> Any:
    return getattr(office, who, None) or getattr(office.world, who)


def _lot(o: Office) -> int:
    return o.world.lot.pk


ANY_MEMBER = {"owner": 200, "receptionist": 200, "admin": 200, "tenant_receptionist": 200}
MANAGERS_ONLY = {
    "owner": 200,
    "admin": 200,
    "receptionist": 403,
    "parker_user": 403,
    "tenant_receptionist": 403,
}
STAFF = {"owner": 200, "admin": 200, "receptionist": 200, "tenant_receptionist": 200, "parker_user": 403}
# Lot-owner pages: the tenant admin sees the lot but may not change it; other organisations get 404.
LOT_OWNER = {"owner": 200, "admin": 403, "receptionist": 403, "parker_user": 403, "outsider_admin": 404}
LOT_OWNER_POST = {**LOT_OWNER, "owner": 302}
# Tenant objects (policies, parkers, reservations): the tenant's managers; other organisations 404.
TENANT_MANAGER = {
    "admin": 200,
    "tenant_receptionist": 403,
    "parker_user": 403,
    "owner": 404,
    "outsider_admin": 404,
}
TENANT_MANAGER_POST = {**TENANT_MANAGER, "admin": 302}


def _policy_post(o: Office) -> dict[str, Any]:
    return {
        "name": "Renamed",
        "kind": "visitor",
        "lot": o.world.lot.pk,
        "spot_cap": 5,
        "currency": "EUR",
        "vat_rate": "21",
        "w0-0-start": "08:00",
        "w0-0-end": "12:00",
    }


CASES = [
    Case("home", lambda o: reverse("backoffice:home"), {**ANY_MEMBER, "parker_user": 302}),
    Case(
        "my_reservations",
        lambda o: reverse("backoffice:my_reservations"),
        {"parker_user": 200, "admin": 403, "owner": 403, "receptionist": 403},
    ),
    Case("lot_list", lambda o: reverse("backoffice:lot_list"), MANAGERS_ONLY),
    Case("lot_create", lambda o: reverse("backoffice:lot_create"), MANAGERS_ONLY),
    Case(
        "lot_create_post",
        lambda o: reverse("backoffice:lot_create"),
        {"owner": 302, "receptionist": 403, "parker_user": 403},
        "post",
        lambda o: {
            "name": "North",
            "address": "Somewhere 1",
            "timezone": "Europe/Brussels",
            "total_spots": 10,
        },
    ),
    Case(
        "lot_detail",
        lambda o: reverse("backoffice:lot_detail", args=[_lot(o)]),
        {"owner": 200, "admin": 200, "receptionist": 403, "parker_user": 403, "outsider_admin": 404},
    ),
    Case("lot_edit", lambda o: reverse("backoffice:lot_edit", args=[_lot(o)]), LOT_OWNER),
    Case(
        "lot_edit_post",
        lambda o: reverse("backoffice:lot_edit", args=[_lot(o)]),
        LOT_OWNER_POST,
        "post",
        lambda o: {"name": "Renamed", "address": "Rue 1", "timezone": "Europe/Brussels", "total_spots": 130},
    ),
    Case("gate_create", lambda o: reverse("backoffice:gate_create", args=[_lot(o)]), LOT_OWNER),
    Case(
        "gate_create_post",
        lambda o: reverse("backoffice:gate_create", args=[_lot(o)]),
        LOT_OWNER_POST,
        "post",
        lambda o: {
            "name": "Side",
            "direction": "both",
            "driver_kind": "simulated",
            "driver_settings": "{}",
            "is_active": "on",
        },
    ),
    Case("gate_edit", lambda o: reverse("backoffice:gate_edit", args=[o.world.entry.pk]), LOT_OWNER),
    Case(
        "gate_edit_post",
        lambda o: reverse("backoffice:gate_edit", args=[o.world.entry.pk]),
        LOT_OWNER_POST,
        "post",
        lambda o: {
            "name": "Main entry",
            "direction": "entry",
            "driver_kind": "simulated",
            "driver_settings": '{"outcome": "failed"}',
        },
    ),
    Case("allocation_create", lambda o: reverse("backoffice:allocation_create", args=[_lot(o)]), LOT_OWNER),
    Case(
        "allocation_create_post",
        lambda o: reverse("backoffice:allocation_create", args=[_lot(o)]),
        LOT_OWNER_POST,
        "post",
        lambda o: {"organisation": "brussels-parking", "spots": 5},
    ),
    # An allocation is the lot owner's record: the tenant admin cannot even address it (404).
    Case(
        "allocation_edit",
        lambda o: reverse("backoffice:allocation_edit", args=[o.world.allocation.pk]),
        {**LOT_OWNER, "admin": 404},
    ),
    Case(
        "allocation_edit_post",
        lambda o: reverse("backoffice:allocation_edit", args=[o.world.allocation.pk]),
        {**LOT_OWNER_POST, "admin": 404},
        "post",
        lambda o: {"spots": 30},
    ),
    Case(
        "allocation_delete",
        lambda o: reverse("backoffice:allocation_delete", args=[o.world.allocation.pk]),
        {**LOT_OWNER_POST, "admin": 404},
        "post",
    ),
    Case("policy_list", lambda o: reverse("backoffice:policy_list"), MANAGERS_ONLY),
    Case("policy_create", lambda o: reverse("backoffice:policy_create"), MANAGERS_ONLY),
    Case(
        "policy_create_post",
        lambda o: reverse("backoffice:policy_create"),
        {"admin": 302, "tenant_receptionist": 403, "parker_user": 403},
        "post",
        _policy_post,
    ),
    Case(
        "policy_edit",
        lambda o: reverse("backoffice:policy_edit", args=[o.world.visitor_policy.pk]),
        TENANT_MANAGER,
    ),
    Case(
        "policy_edit_post",
        lambda o: reverse("backoffice:policy_edit", args=[o.world.visitor_policy.pk]),
        TENANT_MANAGER_POST,
        "post",
        _policy_post,
    ),
    Case(
        "policy_members",
        lambda o: reverse("backoffice:policy_members", args=[o.world.member_policy.pk]),
        TENANT_MANAGER,
    ),
    Case(
        "policy_members_post",
        lambda o: reverse("backoffice:policy_members", args=[o.world.member_policy.pk]),
        TENANT_MANAGER_POST,
        "post",
        lambda o: {"parker": o.visitor.pk, "operation": "add"},
    ),
    Case("parker_list", lambda o: reverse("backoffice:parker_list"), STAFF),
    Case("parker_create", lambda o: reverse("backoffice:parker_create"), {**MANAGERS_ONLY}),
    Case(
        "parker_create_post",
        lambda o: reverse("backoffice:parker_create"),
        {"admin": 302, "tenant_receptionist": 403, "parker_user": 403},
        "post",
        lambda o: {"first_name": "New", "last_name": "Person", "plates": "1-NEW-001"},
    ),
    Case("parker_edit", lambda o: reverse("backoffice:parker_edit", args=[o.parker.pk]), TENANT_MANAGER),
    Case(
        "parker_edit_post",
        lambda o: reverse("backoffice:parker_edit", args=[o.parker.pk]),
        TENANT_MANAGER_POST,
        "post",
        lambda o: {"first_name": "Sofie", "last_name": "Martin", "plates": "1-ABC-123"},
    ),
    Case(
        "parker_delete",
        lambda o: reverse("backoffice:parker_delete", args=[o.parker.pk]),
        TENANT_MANAGER_POST,
        "post",
    ),
    Case("reservation_list", lambda o: reverse("backoffice:reservation_list"), STAFF),
    Case("reservation_create", lambda o: reverse("backoffice:reservation_create"), STAFF),
    Case(
        "reservation_cancel",
        lambda o: reverse("backoffice:reservation_cancel", args=[o.reservation.pk]),
        {"admin": 302, "tenant_receptionist": 302, "parker_user": 403, "owner": 404, "outsider_admin": 404},
        "post",
    ),
    # The parker's own reservation (office.parker has the parker user's e-mail); others get 404.
    Case(
        "my_reservation_cancel",
        lambda o: reverse("backoffice:my_reservation_cancel", args=[o.own_reservation.pk]),
        {
            "parker_user": 302,
            "admin": 403,
            "owner": 403,
            "tenant_receptionist": 403,
            "outsider_parker_user": 404,
        },
        "post",
    ),
    Case(
        "my_reservation_cancel_of_someone_else",
        lambda o: reverse("backoffice:my_reservation_cancel", args=[o.reservation.pk]),
        {"parker_user": 404},
        "post",
    ),
    Case("audit_list", lambda o: reverse("backoffice:audit_list"), MANAGERS_ONLY),
]

MATRIX = [(case, who, status) for case in CASES for who, status in case.expect.items()]


@pytest.mark.parametrize(("case", "who", "status"), MATRIX, ids=[f"{c.name}-{w}-{s}" for c, w, s in MATRIX])
def test_matrix(
    case: Case, who: str, status: int, office: Office, client_for: Callable[[Any], Client]
) -> None:
    client = client_for(_user(office, who))
    url = case.url(office)
    before = snapshot()
    response = getattr(client, case.method)(url, case.data(office))
    assert response.status_code == status, response.content[:500]
    if status in (403, 404):
        assert snapshot() == before
    elif case.method == "post":
        assert snapshot() != before, "an accepted write must change something"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_anonymous_is_sent_to_login(case: Case, office: Office, client: Client) -> None:
    url = case.url(office)
    before = snapshot()
    response = getattr(client, case.method)(url, case.data(office))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert snapshot() == before
