from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from parkgate.access.capacity import CapacityBusy
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.core.models import AuditEvent
from tests import factories as f
from tests.backoffice.conftest import Office
from tests.clock import lot_date, next_weekday

URL = "/office/reservations/new/"


def next_monday() -> date:
    """A Monday at least three days after the lot's (pinned) today: never the day of the office's own
    reservation (two days ahead), whatever the weekday and hour of the pinned instant."""
    return next_weekday(lot_date(timezone.now()), 0, at_least=3)


def post(office: Office, **overrides: Any) -> dict[str, Any]:
    data = {
        "parker": office.visitor.pk,
        "policy": office.world.visitor_policy.pk,
        "date": next_monday().isoformat(),
        "start": "09:00",
        "end": "12:30",
    }
    data.update(overrides)
    return data


def test_the_url_is_the_published_contract() -> None:
    assert reverse("backoffice:reservation_create") == URL


def test_creating_a_reservation_in_lot_time_redirects_to_the_list(office: Office, client_for: Any) -> None:
    client = client_for(office.world.admin)
    response = client.post(URL, post(office))
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:reservation_list")
    reservation = Reservation.objects.exclude(pk=office.reservation.pk).get()
    day = next_monday()
    assert reservation.start == f.aware(day.year, day.month, day.day, 9, 0)
    assert reservation.end == f.aware(day.year, day.month, day.day, 12, 30)
    assert reservation.status == ReservationStatus.CONFIRMED
    assert reservation.source == ReservationSource.BACK_OFFICE
    assert reservation.created_by == office.world.admin
    assert reservation.plate_text == "GH-456-JK"  # the parker's first plate
    assert (
        AuditEvent.objects.filter(action="access.reservation.created", object_id=str(reservation.pk)).count()
        == 1
    )


def test_a_receptionist_may_create_a_reservation(office: Office, client_for: Any) -> None:
    response = client_for(office.tenant_receptionist).post(URL, post(office, plate="1 xyz 987"))
    assert response.status_code == 302
    assert Reservation.objects.exclude(pk=office.reservation.pk).get().plate_key == "1XYZ987"


def test_a_full_lot_shows_the_capacity_message_and_creates_nothing(office: Office, client_for: Any) -> None:
    day = next_monday()
    for _ in range(office.world.visitor_policy.spot_cap):
        f.ReservationFactory(
            parker=office.visitor,
            policy=office.world.visitor_policy,
            start=f.aware(day.year, day.month, day.day, 8),
            end=f.aware(day.year, day.month, day.day, 18),
        )
    count = Reservation.objects.count()
    response = client_for(office.world.admin).post(URL, post(office))
    assert response.status_code == 200
    assert "No spot is left for this time." in response.content.decode()
    assert Reservation.objects.count() == count


def test_a_busy_lock_shows_try_again_never_a_500(office: Office, client_for: Any, monkeypatch: Any) -> None:
    def busy(**kwargs: Any) -> None:
        raise CapacityBusy("Many people are booking right now. Please try again.")

    monkeypatch.setattr("parkgate.backoffice.views.reservations.reservations_create", busy)
    count = Reservation.objects.count()
    response = client_for(office.world.admin).post(URL, post(office))
    assert response.status_code == 200
    assert "Many people are booking right now. Please try again." in response.content.decode()
    assert Reservation.objects.count() == count


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"start": "9h"}, "start", "Use HH:MM between 00:00 and 24:00"),
        ({"end": "25:00"}, "end", "Use HH:MM between 00:00 and 24:00"),
        ({"start": "12:00", "end": "11:00"}, "end", "The end must be after the start."),
        ({"date": "21/11/2026"}, "date", "Enter a valid date."),
        ({"start": "20:00", "end": "21:00"}, None, "outside the opening hours"),
    ],
)
def test_bad_input_is_explained_and_creates_nothing(
    office: Office, client_for: Any, overrides: dict[str, str], field: str | None, message: str
) -> None:
    count = Reservation.objects.count()
    response = client_for(office.world.admin).post(URL, post(office, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    if field:
        assert f'id="id_{field}_error"' in response.content.decode()
        assert "aria-invalid" in response.content.decode()
    assert Reservation.objects.count() == count


def test_another_organisations_parker_or_policy_is_refused(office: Office, client_for: Any) -> None:
    outsider_policy = f.AccessPolicyFactory(organisation=office.world.outsider, lot=office.world.outsider_lot)
    client = client_for(office.world.admin)
    count = Reservation.objects.count()
    for data in (post(office, parker=office.outsider_parker.pk), post(office, policy=outsider_policy.pk)):
        response = client.post(URL, data)
        assert response.status_code == 200
        assert "Select a valid choice." in response.content.decode()
    assert Reservation.objects.count() == count


def test_cancel_frees_the_reservation_and_audits(office: Office, client_for: Any) -> None:
    response = client_for(office.tenant_receptionist).post(
        reverse("backoffice:reservation_cancel", args=[office.reservation.pk])
    )
    assert response.status_code == 302
    office.reservation.refresh_from_db()
    assert office.reservation.status == ReservationStatus.CANCELLED
    assert office.reservation.cancelled_by == office.tenant_receptionist
    event = AuditEvent.objects.get(action="access.reservation.cancelled")
    assert event.actor == office.tenant_receptionist
    assert event.object_id == str(office.reservation.pk)


def test_the_list_filters_by_name_plate_status_lot_policy_and_local_date(
    office: Office, client_for: Any, pinned_now: datetime
) -> None:
    world = office.world
    day = next_monday()
    monday = f.ReservationFactory(
        parker=office.parker,
        policy=world.member_policy,
        start=f.aware(day.year, day.month, day.day, 0, 30),  # 23:30 UTC the day before
        end=f.aware(day.year, day.month, day.day, 6, 0),
        plate_text="1-ABC-123",
        plate_key="1ABC123",
    )
    cancelled = f.ReservationFactory(
        parker=office.visitor, policy=world.visitor_policy, status=ReservationStatus.CANCELLED
    )
    f.ReservationFactory(
        parker=office.outsider_parker, policy=f.AccessPolicyFactory(organisation=world.outsider)
    )
    client = client_for(world.admin)
    url = reverse("backoffice:reservation_list")

    def ids(**params: Any) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {r.pk for r in response.context["page"]}

    assert ids() == {office.reservation.pk, monday.pk, cancelled.pk}
    assert ids(q="sophie") == {monday.pk}
    assert ids(q="zoe dubois") == {office.reservation.pk, cancelled.pk}
    assert ids(q="1abc 123") == {monday.pk}
    assert ids(status="cancelled") == {cancelled.pk}
    assert ids(policy=world.member_policy.pk) == {monday.pk}
    assert ids(lot=world.lot.pk, date_from=day.isoformat(), date_until=day.isoformat()) == {monday.pk}
    today = pinned_now.astimezone(world.lot.zone).date()
    assert office.reservation.start.astimezone(world.lot.zone).date() not in (today, day)
    assert ids(date_from=today.isoformat(), date_until=today.isoformat()) == {cancelled.pk}
