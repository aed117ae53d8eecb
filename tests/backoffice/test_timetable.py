"""The timetable editor: pure parsing and editing, then through the policy form without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from parkgate.backoffice.timetable import Timetable, parse_time
from parkgate.core.models import AuditEvent
from parkgate.parking.models import AccessPolicy, TimetableWindow
from parkgate.parking.services import WindowSpec
from tests import factories as f
from tests.backoffice.conftest import Office


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("00:00", 0),
        ("08:30", 510),
        ("8:30", 510),
        ("23:59", 1439),
        ("24:00", 1440),
        ("24:01", None),
        ("12:60", None),
        ("noon", None),
        ("", None),
    ],
)
def test_parse_time(text: str, minutes: int | None) -> None:
    assert parse_time(text) == minutes


def test_several_windows_a_day_and_midnight_end() -> None:
    timetable = Timetable.from_post(
        {
            "w0-0-start": "13:00",
            "w0-0-end": "24:00",
            "w0-1-start": "07:00",
            "w0-1-end": "12:00",
            "w6-5-start": " ",
            "w6-5-end": "",
        }
    )
    assert timetable.specs() == [WindowSpec(0, 420, 720), WindowSpec(0, 780, 1440)]


def test_overlapping_and_inverted_windows_get_a_message_beside_them() -> None:
    timetable = Timetable.from_post(
        {
            "w1-0-start": "08:00",
            "w1-0-end": "12:00",
            "w1-1-start": "11:00",
            "w1-1-end": "14:00",
            "w2-0-start": "18:00",
            "w2-0-end": "09:00",
            "w3-0-start": "24:00",
            "w3-0-end": "24:00",
        }
    )
    assert timetable.specs() is None
    tuesday, wednesday, thursday = timetable.days[1], timetable.days[2], timetable.days[3]
    assert tuesday.error == "08:00-12:00 and 11:00-14:00 overlap on Tuesday."
    assert tuesday.windows[1].error == "Overlaps another window."
    assert wednesday.windows[0].error == "The end (09:00) must be after the start (18:00)."
    assert thursday.windows[0].error == "Use HH:MM between 00:00 and 24:00, for example 08:30."


def test_editing_actions() -> None:
    timetable = Timetable.from_windows(
        [WindowSpec(0, 480, 720), WindowSpec(0, 780, 1080), WindowSpec(5, 600, 660)]
    )
    assert timetable.apply("copy-monday")
    assert [len(day.windows) for day in timetable.days] == [2, 2, 2, 2, 2, 1, 0]
    assert timetable.apply("remove:1:0")
    assert [(w.start, w.end) for w in timetable.days[1].windows] == [("13:00", "18:00")]
    assert timetable.apply("add:6")
    assert [(w.start, w.end) for w in timetable.days[6].windows] == [("", "")]
    assert timetable.apply("clear:5")
    assert timetable.days[5].windows == []
    assert not timetable.apply("add:9")
    assert not timetable.apply("drop everything")
    specs = timetable.specs()
    assert specs is not None
    assert len(specs) == 9  # the blank Sunday window is ignored


def policy_data(office: Office, **windows: str) -> dict[str, Any]:
    return {
        "name": "Acme visitors",
        "kind": "visitor",
        "lot": office.world.lot.pk,
        "spot_cap": "10",
        "hourly_booking": "on",
        "currency": "EUR",
        "vat_rate": "21",
        "price_per_hour": "2.50",
        "price_per_day": "",
        **windows,
    }


def test_without_javascript_add_window_redisplays_without_saving(office: Office, client_for: Any) -> None:
    policy = office.world.visitor_policy
    url = reverse("backoffice:policy_edit", args=[policy.pk])
    before = list(
        TimetableWindow.objects.filter(policy=policy).values_list("weekday", "start_minute", "end_minute")
    )
    data = policy_data(office, **{"w0-0-start": "07:00", "w0-0-end": "12:00", "timetable_action": "add:0"})
    response = client_for(office.world.admin).post(url, data)
    assert response.status_code == 200
    days = response.context["timetable"].days
    assert [(w.start, w.end) for w in days[0].windows] == [("07:00", "12:00"), ("", "")]
    html = response.content.decode()
    assert 'name="w0-1-start"' in html
    assert 'data-focus="w0-1-start"' in html
    assert 'value="2.50"' in html  # what was typed stays
    assert (
        list(
            TimetableWindow.objects.filter(policy=policy).values_list("weekday", "start_minute", "end_minute")
        )
        == before
    )


def test_saving_a_policy_with_its_timetable_stores_minor_units_and_audits(
    office: Office, client_for: Any
) -> None:
    policy = office.world.visitor_policy
    url = reverse("backoffice:policy_edit", args=[policy.pk])
    data = policy_data(
        office,
        **{
            "w0-0-start": "07:00",
            "w0-0-end": "12:00",
            "w0-1-start": "13:00",
            "w0-1-end": "24:00",
            "w4-0-start": "08:00",
            "w4-0-end": "16:00",
        },
    )
    response = client_for(office.world.admin).post(url, data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.price_per_hour == 250
    assert policy.price_per_day is None
    assert list(policy.windows.values_list("weekday", "start_minute", "end_minute")) == [
        (0, 420, 720),
        (0, 780, 1440),
        (4, 480, 960),
    ]
    event = AuditEvent.objects.get(action="parking.policy.updated")
    assert event.data["windows"] == [[0, 420, 720], [0, 780, 1440], [4, 480, 960]]


def test_an_overlap_is_refused_with_a_message_and_nothing_changes(office: Office, client_for: Any) -> None:
    policy = office.world.visitor_policy
    before = list(policy.windows.values_list("weekday", "start_minute", "end_minute"))
    data = policy_data(
        office, **{"w2-0-start": "08:00", "w2-0-end": "12:00", "w2-1-start": "11:30", "w2-1-end": "13:00"}
    )
    response = client_for(office.world.admin).post(reverse("backoffice:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "08:00-12:00 and 11:30-13:00 overlap on Wednesday." in html
    assert 'aria-describedby="day-2-error"' in html
    assert list(policy.windows.values_list("weekday", "start_minute", "end_minute")) == before
    assert not AuditEvent.objects.filter(action="parking.policy.updated").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price_per_hour", "2.505", "Ensure that there are no more than 2 decimal places."),
        ("price_per_hour", "-1", "Ensure this value is greater than or equal to 0."),
        ("lot", "outsider", "Select a valid choice."),
        ("valid_until", "2020-01-01", "The end of validity must not be before its start."),
    ],
)
def test_policy_field_errors(office: Office, client_for: Any, field: str, value: str, message: str) -> None:
    data = policy_data(office, **{"w0-0-start": "08:00", "w0-0-end": "12:00"})
    data["valid_from"] = "2021-01-01"
    data[field] = str(office.world.outsider_lot.pk) if value == "outsider" else value
    count = AccessPolicy.objects.count()
    response = client_for(office.world.admin).post(reverse("backoffice:policy_create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert f'id="id_{field}_error"' in response.content.decode()
    assert AccessPolicy.objects.count() == count


def test_yen_prices_have_no_decimals(office: Office, client_for: Any) -> None:
    data = policy_data(office, **{"w0-0-start": "08:00", "w0-0-end": "12:00"})
    data.update(name="Tokyo", currency="JPY", price_per_hour="300", price_per_day="1.5")
    response = client_for(office.world.admin).post(reverse("backoffice:policy_create"), data)
    assert "Use at most 0 decimals for JPY." in response.content.decode()
    data["price_per_day"] = "2000"
    assert client_for(office.world.admin).post(reverse("backoffice:policy_create"), data).status_code == 302
    policy = AccessPolicy.objects.get(name="Tokyo")
    assert (policy.price_per_hour, policy.price_per_day, policy.organisation) == (
        300,
        2000,
        office.world.tenant,
    )


def test_members_are_added_and_removed_by_search(office: Office, client_for: Any) -> None:
    policy = office.world.member_policy
    url = reverse("backoffice:policy_members", args=[policy.pk])
    client = client_for(office.world.admin)
    response = client.get(url, {"q": "gh456"})
    assert [p.pk for p in response.context["candidates"]] == [office.visitor.pk]
    assert client.post(url, {"parker": office.visitor.pk, "operation": "add"}).status_code == 302
    assert set(policy.members.all()) == {office.parker, office.visitor}
    assert client.post(url, {"parker": office.parker.pk, "operation": "remove"}).status_code == 302
    assert set(policy.members.all()) == {office.visitor}
    actions = list(
        AuditEvent.objects.filter(action__startswith="parking.policy.member").values_list("action", flat=True)
    )
    assert sorted(actions) == ["parking.policy.member_added", "parking.policy.member_removed"]
    # Another organisation's parker cannot be added (404, nothing changed).
    assert client.post(url, {"parker": office.outsider_parker.pk, "operation": "add"}).status_code == 404
    assert set(policy.members.all()) == {office.visitor}


def test_a_policy_with_reservations_cannot_move_to_another_lot(office: Office, client_for: Any) -> None:
    other_lot = f.LotFactory(owner=office.world.tenant, name="Acme yard")
    data = policy_data(office, **{"w0-0-start": "08:00", "w0-0-end": "12:00"})
    data["lot"] = other_lot.pk
    policy = office.world.visitor_policy  # has office.reservation
    response = client_for(office.world.admin).post(reverse("backoffice:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 200
    assert "This policy already has reservations in its lot" in response.content.decode()
    policy.refresh_from_db()
    assert policy.lot == office.world.lot
