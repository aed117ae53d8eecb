"""The members' page: my access, open the gate, book my day, plates, this device; tenancy on each."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Reservation, ReservationStatus
from parkgate.access.simulator import ShellySimulator
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.members.models import SignedInDevice, WaitingListEntry, WaitingStatus
from parkgate.parking.models import Plate
from tests import factories as f
from tests.access.gate_support import mqtt_prefix, shelly, use_shelly
from tests.members.conftest import MONDAY_10, SATURDAY_10

FIXTURES = (mqtt_prefix, shelly)
MONDAY = date(2026, 11, 30)


def _day_url(members, day: date = MONDAY) -> str:
    return reverse("members:book_day", args=[members.flex.pk, day.isoformat()])


# -- My access -------------------------------------------------------------------------------
@time_machine.travel(MONDAY_10, tick=False)
def test_valid_member_sees_the_engine_words_and_a_button_per_gate(members, client_for) -> None:
    response = client_for(members.world.parker_user).get(reverse("members:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Valid access until 21:00." in html
    # The flex policy explains itself in the engine's own words too.
    assert "Booking needed for this day." in html
    assert reverse("members:gate_open", args=[members.world.entry.pk]) in html
    assert reverse("members:gate_open", args=[members.world.exit.pk]) in html
    assert reverse("members:book", args=[members.flex.pk]) in html
    assert reverse("members:manifest") in html


@time_machine.travel(SATURDAY_10, tick=False)
def test_outside_the_timetable_the_member_sees_why_and_no_button(members, client_for) -> None:
    html = client_for(members.world.parker_user).get(reverse("members:home")).content.decode()
    assert "Outside the timetable: the next window opens at 06:00 on Monday." in html
    assert reverse("members:gate_open", args=[members.world.entry.pk]) not in html


@time_machine.travel(MONDAY_10, tick=False)
def test_booking_needed_then_valid_once_booked(members, client_for) -> None:
    members.world.member_policy.members.remove(members.parker)
    client = client_for(members.world.parker_user)
    html = client.get(reverse("members:home")).content.decode()
    assert "Booking needed for this day." in html
    assert reverse("members:gate_open", args=[members.world.entry.pk]) not in html
    client.post(_day_url(members), {"action": "book"})
    html = client.get(reverse("members:home")).content.decode()
    # Booked 07:00-19:00; the remote control's grace adds 15 minutes.
    assert "Valid reservation until 19:15." in html
    assert reverse("members:gate_open", args=[members.world.entry.pk]) in html


def test_a_user_without_parker_profile_is_told_so(world, client_for) -> None:
    response = client_for(world.parker_user).get(reverse("members:home"))
    assert response.status_code == 200
    assert "No parker profile has your e-mail address" in response.content.decode()


def test_other_roles_are_refused(members, client_for) -> None:
    assert client_for(members.world.admin).get(reverse("members:home")).status_code == 403


def test_parkers_land_on_their_page(members, client_for) -> None:
    response = client_for(members.world.parker_user).get(reverse("backoffice:home"))
    assert response.status_code == 302 and response["Location"] == reverse("members:home")


# -- Open the gate ---------------------------------------------------------------------------
@time_machine.travel(MONDAY_10, tick=False)
def test_open_goes_through_the_remote_control_and_pulses_the_relay_once(
    members, client_for, shelly: ShellySimulator
) -> None:
    use_shelly(members.world.entry, shelly.prefix)
    client = client_for(members.world.parker_user)
    url = reverse("members:gate_open", args=[members.world.entry.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Entry is opening." in response.content.decode()
    event = AccessEvent.objects.get()
    assert (event.method, event.parker, event.gate, event.reservation) == (
        AccessMethod.REMOTE_CONTROL,
        members.parker,
        members.world.entry,
        None,
    )
    assert (event.granted, event.reason, event.result) == (True, "granted_member", GateResult.OPENED)
    assert event.message == "Valid access until 21:00."
    [pulse] = shelly.pulses
    assert pulse.request_id == str(event.command_id)


@time_machine.travel(SATURDAY_10, tick=False)
def test_open_outside_the_timetable_is_refused_with_the_reason(
    members, client_for, shelly: ShellySimulator
) -> None:
    use_shelly(members.world.entry, shelly.prefix)
    response = client_for(members.world.parker_user).post(
        reverse("members:gate_open", args=[members.world.entry.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "The gate stays closed." in html
    assert "Outside the timetable: the next window opens at 06:00 on Monday." in html
    event = AccessEvent.objects.get()
    assert (event.granted, event.result) == (False, GateResult.NOT_ATTEMPTED)
    assert shelly.pulses == []


@time_machine.travel(MONDAY_10, tick=False)
def test_open_without_javascript_redirects_to_the_result(members, client_for) -> None:
    client = client_for(members.world.parker_user)
    response = client.post(reverse("members:gate_open", args=[members.world.exit.pk]))
    event = AccessEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('members:home')}?attempt={event.pk}"
    assert "Exit is opening." in client.get(response["Location"]).content.decode()


@time_machine.travel(MONDAY_10, tick=False)
def test_open_shares_the_remote_control_rate_limit(members, client_for, settings) -> None:
    settings.REMOTE_CONTROL_OPENS_PER_MINUTE = 2
    client = client_for(members.world.parker_user)
    url = reverse("members:gate_open", args=[members.world.exit.pk])
    for _ in range(2):
        client.post(url, HTTP_HX_REQUEST="true")
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert "Too many attempts. Wait a minute, then try again." in response.content.decode()
    assert AccessEvent.objects.count() == 2


@time_machine.travel(MONDAY_10, tick=False)
def test_another_organisations_member_cannot_open_our_gate(members, client_for) -> None:
    response = client_for(members.outsider_user).post(
        reverse("members:gate_open", args=[members.world.entry.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    assert not AccessEvent.objects.exists()


# -- Book my day -----------------------------------------------------------------------------
@time_machine.travel(SATURDAY_10, tick=False)
def test_the_coming_three_weeks_show_free_spots(members, client_for) -> None:
    html = (
        client_for(members.world.parker_user)
        .get(reverse("members:book", args=[members.flex.pk]))
        .content.decode()
    )
    # 15 weekdays from Monday 30 November to Friday 18 December; weekends are closed.
    assert html.count("1 spot free") == 15
    assert "Monday 30 November" in html and "Friday 18 December" in html
    assert "Saturday 28 November" not in html


@time_machine.travel(SATURDAY_10, tick=False)
def test_book_then_full_then_wait_then_promoted_on_cancel(members, client_for) -> None:
    client = client_for(members.world.parker_user)
    response = client.post(_day_url(members), {"action": "book"})
    assert response.status_code == 302
    [mine] = Reservation.objects.filter(parker=members.parker)
    assert (mine.status, mine.source, mine.policy) == (
        ReservationStatus.CONFIRMED,
        "member_page",
        members.flex,
    )
    assert (mine.start, mine.end) == (
        MONDAY_10.replace(hour=7),
        MONDAY_10.replace(hour=19),
    )
    # Booking the same day twice is refused, and books nothing more.
    client.post(_day_url(members), {"action": "book"})
    assert Reservation.objects.filter(parker=members.parker).count() == 1

    colleague = client_for(members.colleague_user)
    page = colleague.post(_day_url(members), {"action": "book"}, follow=True).content.decode()
    assert "This day is full. Join the waiting list to get the next free spot." in page
    assert not Reservation.objects.filter(parker=members.colleague).exists()
    colleague.post(_day_url(members), {"action": "wait"})
    entry = WaitingListEntry.objects.get(parker=members.colleague)
    assert entry.status == WaitingStatus.WAITING
    assert (
        "Waiting list: number 1"
        in colleague.get(reverse("members:book", args=[members.flex.pk])).content.decode()
    )

    client = client_for(members.world.parker_user)
    client.post(_day_url(members), {"action": "cancel"})
    mine.refresh_from_db()
    entry.refresh_from_db()
    assert mine.status == ReservationStatus.CANCELLED
    assert entry.status == WaitingStatus.PROMOTED
    [given] = Reservation.objects.filter(parker=members.colleague, status=ReservationStatus.CONFIRMED)
    assert given.group_id == entry.reservation_group
    email = OutboundEmail.objects.get(kind="members.spot_given")
    assert email.to == [members.colleague.email]
    assert email.subject == "You have a spot at Central Garage on Monday 30 November"
    assert AuditEvent.objects.filter(action="members.waiting.promoted").count() == 1


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_day_outside_the_coming_weeks_or_closed_books_nothing(members, client_for) -> None:
    client = client_for(members.world.parker_user)
    page = client.post(_day_url(members, date(2027, 1, 4)), {"action": "book"}, follow=True).content.decode()
    assert "Choose a day of the coming three weeks." in page
    page = client.post(
        _day_url(members, date(2026, 11, 29)), {"action": "book"}, follow=True
    ).content.decode()
    assert "The car park is closed on this day." in page
    assert (
        client.post(
            _day_url(members, date(2026, 11, 30)).replace("2026-11-30", "nope"), {"action": "book"}
        ).status_code
        == 404
    )
    assert not Reservation.objects.exists()


@time_machine.travel(SATURDAY_10, tick=False)
def test_another_organisations_member_cannot_see_or_book_our_days(members, client_for) -> None:
    client = client_for(members.outsider_user)
    assert client.get(reverse("members:book", args=[members.flex.pk])).status_code == 404
    assert client.post(_day_url(members), {"action": "book"}).status_code == 404
    assert client.post(_day_url(members), {"action": "wait"}).status_code == 404
    assert not Reservation.objects.exists() and not WaitingListEntry.objects.exists()


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_policy_without_booking_has_no_booking_page(members, client_for) -> None:
    client = client_for(members.world.parker_user)
    assert client.get(reverse("members:book", args=[members.world.member_policy.pk])).status_code == 404


# -- Plates and keypad code ------------------------------------------------------------------
def test_add_a_plate_with_the_plate_rule_and_a_warning_when_someone_else_has_it(members, client_for) -> None:
    Plate.objects.create(parker=members.colleague, text="7-COL-777", key="7COL777")
    client = client_for(members.world.parker_user)
    response = client.post(reverse("members:plates"), {"plate": " 7-col  777 "}, follow=True)
    html = response.content.decode()
    plate = members.parker.plates.get(key="7COL777")
    assert plate.text == "7-COL 777"
    assert "Plate 7-COL 777 added." in html
    assert "This plate is also registered to someone else." in html
    # The same plate spelled otherwise is the same plate.
    html = client.post(reverse("members:plates"), {"plate": "7 COL 777"}).content.decode()
    assert "This plate is already yours." in html
    assert members.parker.plates.count() == 2
    # Another organisation's parker, at car parks this member never uses, is not revealed.
    html = client.post(reverse("members:plates"), {"plate": "9-OUT-999"}, follow=True).content.decode()
    assert "Plate 9-OUT-999 added." in html
    assert "This plate is also registered to someone else." not in html


def test_bad_plate_is_refused_and_changes_nothing(members, client_for) -> None:
    response = client_for(members.world.parker_user).post(reverse("members:plates"), {"plate": "!!"})
    assert response.status_code == 400
    assert (
        "Enter the licence plate as it appears on the car: 2 to 12 letters and digits."
        in response.content.decode()
    )
    assert list(members.parker.plates.values_list("text", flat=True)) == ["1-ABC-123"]


def test_remove_a_plate(members, client_for) -> None:
    plate = members.parker.plates.get()
    client_for(members.world.parker_user).post(reverse("members:plate_remove", args=[plate.pk]))
    assert not members.parker.plates.exists()
    assert AuditEvent.objects.filter(action="members.plate.removed").count() == 1


def test_another_organisations_member_cannot_remove_our_plate(members, client_for) -> None:
    plate = members.parker.plates.get()
    response = client_for(members.outsider_user).post(reverse("members:plate_remove", args=[plate.pk]))
    assert response.status_code == 404
    assert Plate.objects.filter(pk=plate.pk).exists()


@time_machine.travel(SATURDAY_10, tick=False)
def test_keypad_code_of_each_booking_is_shown(members, client_for) -> None:
    client = client_for(members.world.parker_user)
    client.post(_day_url(members), {"action": "book"})
    code = Reservation.objects.get().keypad_code
    html = client.get(reverse("members:plates")).content.decode()
    assert code in html and "Monday 30 November, 07:00 \u2013 19:00" in html


# -- This device, installable app -------------------------------------------------------------
def test_remember_this_device_keeps_the_session_for_90_days(members, client: Client) -> None:
    client.login(username=members.world.parker_user.username, password=f.PASSWORD)
    response = client.post(reverse("members:device"), {"action": "remember", "remember": "on"})
    assert response.status_code == 302
    assert client.session.get_expiry_age() == 90 * 24 * 3600
    device = SignedInDevice.objects.get(session_key=client.session.session_key)
    assert device.remembered and device.user == members.world.parker_user


def test_sign_out_other_devices(members) -> None:
    user = members.world.parker_user
    phone, laptop = Client(), Client()
    phone.force_login(user)
    laptop.force_login(user)
    other = Client()
    other.force_login(members.colleague_user)
    assert phone.get(reverse("members:device")).status_code == 200
    phone.post(reverse("members:device"), {"action": "sign_out_others"})
    assert laptop.get(reverse("members:home")).status_code == 302  # back to the sign-in page
    assert phone.get(reverse("members:home")).status_code == 200
    assert other.get(reverse("members:home")).status_code == 200  # someone else stays signed in
    assert Session.objects.count() == 2


def test_manifest_and_service_worker_are_served_with_the_members_scope(client: Client) -> None:
    manifest = client.get(reverse("members:manifest"))
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert (data["start_url"], data["scope"], data["display"]) == ("/me/", "/me/", "standalone")
    worker = client.get(reverse("members:service_worker"))
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/me/"
    assert b"caches.match" in b"".join(worker.streaming_content if worker.streaming else [worker.content])


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_spot_freed_at_the_desk_goes_to_the_first_in_line_at_the_next_housekeeping(
    members, client_for
) -> None:
    from parkgate.access.capacity import reservation_cancel
    from parkgate.backoffice.housekeeping import housekeeping_run

    client_for(members.world.parker_user).post(_day_url(members), {"action": "book"})
    client_for(members.colleague_user).post(_day_url(members), {"action": "wait"})
    reservation_cancel(reservation=Reservation.objects.get(parker=members.parker), actor=members.world.admin)
    assert not Reservation.objects.filter(parker=members.colleague).exists()  # nobody served yet
    assert housekeeping_run()["waiting lists served"] == 1
    assert Reservation.objects.get(parker=members.colleague).status == ReservationStatus.CONFIRMED
    assert WaitingListEntry.objects.get(parker=members.colleague).status == WaitingStatus.PROMOTED
    assert housekeeping_run()["waiting lists served"] == 0  # served once


def test_waiting_for_a_day_that_is_over_lapses(members) -> None:
    from parkgate.members.services import member_day_book, waiting_lists_serve

    member_day_book(
        parker=members.parker, policy=members.flex, day=MONDAY, actor=None, language="en", now=SATURDAY_10
    )
    member_day_book(
        parker=members.colleague,
        policy=members.flex,
        day=MONDAY,
        actor=None,
        language="en",
        wait_if_full=True,
        now=SATURDAY_10,
    )
    Reservation.objects.filter(parker=members.parker).update(status=ReservationStatus.CANCELLED)
    assert waiting_lists_serve(now=MONDAY_10 + timedelta(hours=10)) == 0
    assert WaitingListEntry.objects.get().status == WaitingStatus.LAPSED
    assert not Reservation.objects.filter(parker=members.colleague).exists()
