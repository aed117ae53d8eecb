"""Lots, gates, allocations and parkers through the back office; dashboard, audit log, top bar."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from parkgate.accounts.models import Role
from parkgate.core.models import AuditEvent
from parkgate.parking.models import Allocation, Gate, Lot, Parker, Plate
from tests import factories as f
from tests.backoffice.conftest import Office


def test_an_owner_creates_a_lot_that_belongs_to_their_organisation(office: Office, client_for: Any) -> None:
    data = {"name": "North Garage", "address": "Rue 2", "timezone": "Europe/Paris", "total_spots": "30"}
    response = client_for(office.world.owner).post(reverse("backoffice:lot_create"), data)
    lot = Lot.objects.get(name="North Garage")
    assert response["Location"] == reverse("backoffice:lot_detail", args=[lot.pk])
    assert (lot.owner, lot.timezone, lot.total_spots) == (office.world.owner_org, "Europe/Paris", 30)
    assert AuditEvent.objects.filter(action="parking.lot.created", object_id=str(lot.pk)).count() == 1


def test_a_bad_time_zone_is_explained(office: Office, client_for: Any) -> None:
    data = {"name": "X", "address": "Y", "timezone": "Europe/Atlantis", "total_spots": "3"}
    response = client_for(office.world.owner).post(reverse("backoffice:lot_create"), data)
    assert "Europe/Atlantis is not a known time zone." in response.content.decode()
    assert not Lot.objects.filter(name="X").exists()


def test_spots_cannot_drop_below_what_is_allocated(office: Office, client_for: Any) -> None:
    lot = office.world.lot
    data = {"name": lot.name, "address": lot.address, "timezone": lot.timezone, "total_spots": "39"}
    response = client_for(office.world.owner).post(reverse("backoffice:lot_edit", args=[lot.pk]), data)
    assert response.status_code == 200
    assert "40 spots are already allocated in this lot." in response.content.decode()
    lot.refresh_from_db()
    assert lot.total_spots == 120


def test_the_tenant_sees_the_lot_read_only(office: Office, client_for: Any) -> None:
    response = client_for(office.world.admin).get(
        reverse("backoffice:lot_detail", args=[office.world.lot.pk])
    )
    html = response.content.decode()
    assert "Owned by Brussels Parking (read-only)" in html
    assert reverse("backoffice:lot_edit", args=[office.world.lot.pk]) not in html
    assert [a.organisation for a in response.context["allocations"]] == [office.world.tenant]


def test_gate_driver_settings_must_be_a_json_object(office: Office, client_for: Any) -> None:
    gate = office.world.entry
    url = reverse("backoffice:gate_edit", args=[gate.pk])
    client = client_for(office.world.owner)
    base = {"name": "Entry", "direction": "entry", "driver_kind": "simulated", "is_active": "on"}
    response = client.post(url, {**base, "driver_settings": '{"relay": 1,'})
    assert "This is not valid JSON (line 1, column 13" in response.content.decode()
    response = client.post(url, {**base, "driver_settings": "[1, 2]"})
    assert "The settings must be a JSON object" in response.content.decode()
    response = client.post(url, {**base, "driver_kind": "teleporter", "driver_settings": ""})
    assert "Select a valid choice." in response.content.decode()
    gate.refresh_from_db()
    assert (gate.driver_kind, gate.driver_settings) == ("simulated", {})
    # The driver judges its own settings: unknown names are refused.
    response = client.post(url, {**base, "driver_settings": '{"relay": 2}'})
    assert "Unknown settings: relay." in response.content.decode()
    response = client.post(url, {**base, "driver_settings": '{"outcome": "failed"}'})
    assert response.status_code == 302
    gate.refresh_from_db()
    assert gate.driver_settings == {"outcome": "failed"}
    assert AuditEvent.objects.get(action="parking.gate.updated").data["driver_settings"] == {
        "outcome": "failed"
    }


def test_a_gate_is_added_to_the_lot(office: Office, client_for: Any) -> None:
    data = {
        "name": "Side",
        "direction": "both",
        "driver_kind": "simulated",
        "driver_settings": "",
        "is_active": "on",
    }
    client_for(office.world.owner).post(reverse("backoffice:gate_create", args=[office.world.lot.pk]), data)
    gate = Gate.objects.get(name="Side")
    assert (gate.lot, gate.direction, gate.driver_settings) == (office.world.lot, "both", {})


def test_allocations_never_exceed_the_lot_and_the_message_is_beside_spots(
    office: Office, client_for: Any
) -> None:
    world = office.world
    client = client_for(world.owner)
    url = reverse("backoffice:allocation_create", args=[world.lot.pk])
    response = client.post(url, {"organisation": "brussels-parking", "spots": "81"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_spots_error"' in html
    assert "Only 80 of the lot&#x27;s 120 spots are not allocated yet." in html
    response = client.post(url, {"organisation": "no-such-org", "spots": "1"})
    assert "No organisation has this identifier." in response.content.decode()
    response = client.post(url, {"organisation": "acme", "spots": "1"})
    assert "already holds spots here" in response.content.decode()
    assert Allocation.objects.filter(lot=world.lot).count() == 1
    response = client.post(url, {"organisation": "brussels-parking", "spots": "80", "accepts_visitors": "on"})
    assert response.status_code == 302
    allocation = Allocation.objects.get(lot=world.lot, organisation=world.owner_org)
    assert (allocation.spots, allocation.accepts_visitors) == (80, True)
    # The form never lists the platform's organisations.
    assert "Other Corp" not in client.get(url).content.decode()


def test_allocation_edit_and_delete(office: Office, client_for: Any) -> None:
    allocation = office.world.allocation
    client = client_for(office.world.owner)
    response = client.post(reverse("backoffice:allocation_edit", args=[allocation.pk]), {"spots": "121"})
    assert "Only 120 of the lot&#x27;s 120 spots are not allocated yet." in response.content.decode()
    client.post(reverse("backoffice:allocation_edit", args=[allocation.pk]), {"spots": "12"})
    allocation.refresh_from_db()
    assert (allocation.spots, allocation.accepts_visitors) == (12, False)
    assert AuditEvent.objects.filter(action="parking.allocation.updated").count() == 1
    client.post(reverse("backoffice:allocation_delete", args=[allocation.pk]))
    assert not Allocation.objects.filter(pk=allocation.pk).exists()
    assert AuditEvent.objects.filter(action="parking.allocation.deleted").count() == 1


def test_parkers_with_several_normalised_plates(office: Office, client_for: Any) -> None:
    client = client_for(office.world.admin)
    data = {
        "first_name": "Émilie",
        "last_name": "Lefèvre",
        "email": "e@x.example",
        "plates": "gh-456-jk\n1 abc 999, GH 456 JK",
    }
    assert client.post(reverse("backoffice:parker_create"), data).status_code == 302
    parker = Parker.objects.get(last_name="Lefèvre")
    assert parker.organisation == office.world.tenant
    assert sorted(parker.plates.values_list("key", flat=True)) == ["1ABC999", "GH456JK"]
    response = client.get(reverse("backoffice:parker_list"), {"q": "emilie lefevre"})
    assert [p.pk for p in response.context["page"]] == [parker.pk]
    response = client.get(reverse("backoffice:parker_list"), {"q": "1-abc-999"})
    assert [p.pk for p in response.context["page"]] == [parker.pk]
    data.update(plates="1ABC999", is_visitor="on")
    client.post(reverse("backoffice:parker_edit", args=[parker.pk]), data)
    parker.refresh_from_db()
    assert parker.organisation is None
    assert list(parker.plates.values_list("text", flat=True)) == ["1ABC999"]


def test_a_parker_is_deleted_with_plates_unless_they_have_reservations(
    office: Office, client_for: Any
) -> None:
    client = client_for(office.world.admin)
    response = client.post(reverse("backoffice:parker_delete", args=[office.visitor.pk]), follow=True)
    assert "has reservations and cannot be deleted" in response.content.decode()
    assert Parker.objects.filter(pk=office.visitor.pk).exists()
    client.post(reverse("backoffice:parker_delete", args=[office.parker.pk]))
    assert not Parker.objects.filter(pk=office.parker.pk).exists()
    assert not Plate.objects.filter(parker_id=office.parker.pk).exists()
    event = AuditEvent.objects.get(action="parking.parker.deleted")
    assert sorted(event.data["plates"]) == ["1-ABC-123", "AB-123-CD"]


def test_a_receptionist_sees_parkers_read_only(office: Office, client_for: Any) -> None:
    response = client_for(office.tenant_receptionist).get(reverse("backoffice:parker_list"))
    html = response.content.decode()
    assert "Sophie Martin" in html
    assert reverse("backoffice:parker_edit", args=[office.parker.pk]) not in html
    assert reverse("backoffice:parker_create") not in html


def test_the_dashboard_shows_free_spots_now_and_todays_reservations(
    office: Office, client_for: Any, pinned_now: datetime
) -> None:
    now = pinned_now
    f.ReservationFactory(
        parker=office.parker,
        policy=office.world.member_policy,
        start=now - timezone.timedelta(minutes=5),
        end=now + timezone.timedelta(minutes=30),
    )
    response = client_for(office.world.admin).get(reverse("backoffice:home"))
    (row,) = response.context["lots"]
    assert (row.lot, row.allocated, row.occupied_now, row.free_now) == (office.world.lot, 40, 1, 39)
    assert row.reservations_today >= 1
    assert [e.action for e in response.context["recent_events"]] == list(
        AuditEvent.objects.filter(organisation=office.world.tenant).values_list("action", flat=True)[:8]
    )


def test_the_parker_sees_only_their_own_reservations(
    office: Office, client_for: Any, pinned_now: datetime
) -> None:
    now = pinned_now
    mine = f.ReservationFactory(
        parker=office.parker,
        policy=office.world.member_policy,
        start=now + timezone.timedelta(days=1),
        end=now + timezone.timedelta(days=1, hours=1),
    )
    response = client_for(office.world.parker_user).get(reverse("backoffice:my_reservations"))
    assert response.context["upcoming"] == [mine]
    assert response.context["past"] == []


def test_audit_log_filters_by_action_prefix_and_date(
    office: Office, client_for: Any, pinned_now: datetime
) -> None:
    from parkgate.core.audit import audit_log

    audit_log(
        action="parking.policy.created",
        organisation=office.world.tenant,
        actor=office.world.admin,
        obj=office.world.visitor_policy,
        data={"spot_cap": 10},
    )
    audit_log(action="access.reservation.cancelled", organisation=office.world.tenant, actor_label="visitor")
    audit_log(action="parking.policy.updated", organisation=office.world.outsider)
    client = client_for(office.world.admin)
    response = client.get(reverse("backoffice:audit_list"), {"action": "parking.policy"})
    events = list(response.context["page"])
    assert [e.action for e in events] == ["parking.policy.created"]
    html = response.content.decode()
    # The audit log reads as words (issue 14): the action named, the facts listed, no raw JSON.
    assert "Acme visitors" in html and "Access policy added" in html
    assert '<span class="muted">Spot cap:</span> 10' in html and "&quot;spot_cap&quot;" not in html
    today = pinned_now.astimezone(office.world.lot.zone).date()
    assert (
        len(client.get(reverse("backoffice:audit_list"), {"date_from": today.isoformat()}).context["page"])
        == 2
    )
    yesterday = today - timezone.timedelta(days=1)
    assert (
        len(
            client.get(reverse("backoffice:audit_list"), {"date_until": yesterday.isoformat()}).context[
                "page"
            ]
        )
        == 0
    )


def test_switching_organisation_changes_what_the_back_office_shows(office: Office, client_for: Any) -> None:
    user = office.world.admin
    f.MembershipFactory(user=user, organisation=office.world.owner_org, role=Role.OWNER)
    client = client_for(user)
    home = client.get(reverse("backoffice:home")).content.decode()
    assert 'id="org-switch"' in home
    response = client.post(
        reverse("organisation_switch"),
        {"organisation": office.world.owner_org.pk, "next": "/office/lots/"},
    )
    assert response["Location"] == "/office/lots/"
    assert client.get(reverse("backoffice:home")).context["current_organisation"] == office.world.owner_org
    # Now the tenant's policy belongs to "another" organisation: 404.
    assert (
        client.get(reverse("backoffice:policy_edit", args=[office.world.visitor_policy.pk])).status_code
        == 404
    )
    # An organisation the user is not a member of cannot be chosen.
    assert (
        client.post(reverse("organisation_switch"), {"organisation": office.world.outsider.pk}).status_code
        == 404
    )
    assert client.get(reverse("backoffice:home")).context["current_organisation"] == office.world.owner_org


def test_a_user_without_organisation_is_told_so_and_platform_staff_go_to_the_platform_pages(
    client_for: Any, db: None
) -> None:
    lonely = f.UserFactory()
    response = client_for(lonely).get(reverse("backoffice:home"))
    assert response.status_code == 403
    assert "Your account does not belong to any organisation yet." in response.content.decode()
    staff = f.UserFactory(is_superuser=True, is_staff=True)
    response = client_for(staff).get(reverse("backoffice:home"))
    assert response["Location"] == reverse("platform:home")


def test_a_parker_cancels_their_own_upcoming_reservation(office: Office, client_for: Any) -> None:
    from parkgate.access.models import ReservationStatus

    own = office.own_reservation
    client = client_for(office.world.parker_user)
    html = client.get(reverse("backoffice:my_reservations")).content.decode()
    assert reverse("backoffice:my_reservation_cancel", args=[own.pk]) in html
    assert client.post(reverse("backoffice:my_reservation_cancel", args=[own.pk])).status_code == 302
    own.refresh_from_db()
    assert (own.status, own.cancelled_by) == (ReservationStatus.CANCELLED, office.world.parker_user)
    # Someone else's reservation is not theirs to cancel: 404, unchanged.
    assert (
        client.post(reverse("backoffice:my_reservation_cancel", args=[office.reservation.pk])).status_code
        == 404
    )
    office.reservation.refresh_from_db()
    assert office.reservation.status == ReservationStatus.CONFIRMED


def test_the_lot_owner_sees_how_many_spots_each_organisation_uses_now(
    office: Office, client_for: Any, pinned_now: datetime
) -> None:
    now = pinned_now
    for _ in range(2):
        f.ReservationFactory(
            parker=office.parker,
            policy=office.world.member_policy,
            start=now - timezone.timedelta(hours=1),
            end=now + timezone.timedelta(hours=1),
        )
    response = client_for(office.world.owner).get(
        reverse("backoffice:lot_detail", args=[office.world.lot.pk])
    )
    assert response.context["in_use_total"] == 2
    assert [(a.organisation, a.in_use_now) for a in response.context["allocations"]] == [
        (office.world.tenant, 2)
    ]
    # The tenant does not get the lot-wide figures.
    response = client_for(office.world.admin).get(
        reverse("backoffice:lot_detail", args=[office.world.lot.pk])
    )
    assert response.context["in_use_total"] == 0
    assert "In use now" not in response.content.decode()
