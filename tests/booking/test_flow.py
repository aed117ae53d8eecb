"""The public booking flow through the test client: choices, visitors, Proceed, confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from parkgate.access.capacity import CapacityFull, ReservationRequest, reservations_create
from parkgate.access.models import Reservation, ReservationSource, ReservationStatus
from parkgate.booking.models import Booking, BookingStatus
from parkgate.core.models import AuditEvent
from parkgate.parking.models import Parker
from tests import factories as f
from tests.booking.conftest import booking_post, visitor_post
from tests.booking.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def _fill(world, day, hour, count):  # type: ignore[no-untyped-def]
    """Book ``count`` spots of the visitor policy directly (someone else got there first)."""
    start = f.aware(day.year, day.month, day.day, hour)
    requests = [
        ReservationRequest(
            parker=f.ParkerFactory(managed_by=world.tenant),
            policy=world.visitor_policy,
            start=start,
            end=start + timedelta(hours=4),
        )
        for _ in range(count)
    ]
    return reservations_create(requests=requests, source=ReservationSource.BACK_OFFICE)


def _choice(pw, hour: int = 9) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"date": pw.monday.isoformat(), "time": pw.slot(hour), "spots": "1"}


def test_start_page_shows_each_slot_with_its_free_spots(client, world, portal_world) -> None:  # type: ignore[no-untyped-def]
    _fill(world, portal_world.monday, 9, 10)
    response = client.get(portal_world.url + f"?date={portal_world.monday.isoformat()}")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="' + portal_world.slot(9) + '" disabled' in body  # full: disabled
    assert "Full" in body
    assert "10 spots free" in body  # the afternoon slot


def test_free_portal_books_every_visitor_at_once(
    client, portal_world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(portal_world.url, booking_post(portal_world, spots=2))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.status, booking.spots, booking.days, booking.language) == (
        BookingStatus.CONFIRMED,
        2,
        1,
        "en",
    )
    assert booking.booker_email == "jeanne@example.com"
    reservations = list(Reservation.objects.filter(group_id=booking.group_id).order_by("plate_text"))
    assert [(r.plate_text, r.plate_key, r.status, r.source) for r in reservations] == [
        ("1-ABC-123", "1ABC123", ReservationStatus.CONFIRMED, ReservationSource.PORTAL),
        ("2 XYZ 987", "2XYZ987", ReservationStatus.CONFIRMED, ReservationSource.PORTAL),
    ]
    start = f.aware(portal_world.monday.year, portal_world.monday.month, portal_world.monday.day, 9)
    assert {(r.start, r.end) for r in reservations} == {(start, start + timedelta(hours=4))}
    visitors = Parker.objects.filter(reservations__in=reservations).order_by("first_name")
    assert [(p.first_name, p.organisation_id, p.managed_by_id) for p in visitors] == [
        ("Jeanne", None, portal_world.portal.organisation_id),
        ("Piet", None, portal_world.portal.organisation_id),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["jeanne@example.com", "piet@example.com"]
    assert AuditEvent.objects.filter(action="booking.booking.created", object_id=str(booking.pk)).count() == 1
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert booking.reference in body and "Piet Peeters" in body and "2 XYZ 987" in body


def test_the_confirmation_link_works_in_any_browser_but_only_with_its_key(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(portal_world.url, booking_post(portal_world))
    booking = Booking.objects.get()
    assert len(booking.link_key) == 43
    assert response["Location"] == reverse(
        "booking:confirmation",
        args=[portal_world.portal.slug, portal_world.invitation.token, booking.reference, booking.link_key],
    )
    other_browser = Client()  # a forwarded link, a phone, a bank app: no session of the booking
    page = other_browser.get(response["Location"])
    assert page.status_code == 200 and booking.reference in page.content.decode()
    # Whoever holds only the invitation and the reference (read aloud, printed) sees nothing.
    args = [portal_world.portal.slug, portal_world.invitation.token, booking.reference]
    assert other_browser.get(reverse("booking:confirmation_keyless", args=args)).status_code == 404
    wrong = reverse("booking:confirmation", args=[*args, booking.link_key[:-1] + "x"])
    assert "Jeanne" not in other_browser.get(wrong).content.decode()
    assert other_browser.get(wrong).status_code == 404
    # The key of one booking opens no other booking.
    second = client.post(portal_world.url, booking_post(portal_world, hour=13))
    assert second.status_code == 302
    other = Booking.objects.exclude(pk=booking.pk).get()
    crossed = reverse("booking:confirmation", args=[*args[:2], other.reference, booking.link_key])
    assert other_browser.get(crossed).status_code == 404


def test_a_booking_from_before_link_keys_stays_with_the_browser_that_booked(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    client.post(portal_world.url, booking_post(portal_world))
    booking = Booking.objects.get()
    Booking.objects.filter(pk=booking.pk).update(link_key="")
    keyless = reverse(
        "booking:confirmation_keyless",
        args=[portal_world.portal.slug, portal_world.invitation.token, booking.reference],
    )
    assert client.get(keyless).status_code == 200
    assert Client().get(keyless).status_code == 404


def test_several_days_book_the_same_slot_each_open_day(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    monday = portal_world.monday
    sunday = monday + timedelta(days=6)
    response = client.post(portal_world.url, booking_post(portal_world, until=sunday.isoformat()))
    assert response.status_code == 302
    booking = Booking.objects.get()
    days = [r.start.date() for r in Reservation.objects.filter(group_id=booking.group_id)]
    assert days == [monday + timedelta(days=n) for n in range(5)]  # the weekend is closed: skipped
    assert booking.days == 5
    codes = set(
        Reservation.objects.filter(group_id=booking.group_id).values_list("remote_control_token", flat=True)
    )
    assert len(codes) == 5


def test_several_days_are_all_or_nothing(client, world, portal_world) -> None:  # type: ignore[no-untyped-def]
    wednesday = portal_world.monday + timedelta(days=2)
    _fill(world, wednesday, 9, 10)
    before = Reservation.objects.count()
    response = client.post(
        portal_world.url,
        booking_post(portal_world, until=(portal_world.monday + timedelta(days=4)).isoformat()),
    )
    assert response.status_code == 409
    assert "No spot is left at this time on" in response.content.decode()
    assert Reservation.objects.count() == before and not Booking.objects.exists()


def test_last_spot_taken_while_typing_books_nothing(client, world, portal_world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The details page saw a free spot; someone booked it before Proceed. The lot lock says full,
    and the visitor gets the first step's answer: which day has no spot left."""
    from parkgate.booking import services

    _fill(world, portal_world.monday, 9, 9)
    refused = []
    real = services.reservations_create

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        try:
            return real(**kwargs)
        except CapacityFull as error:
            refused.append(error)
            raise

    monkeypatch.setattr(services, "reservations_create", spy)
    details = client.get(portal_world.url, {"step": "details", **_choice(portal_world)})
    assert details.status_code == 200
    _fill(world, portal_world.monday, 9, 1)  # the last spot goes now
    response = client.post(portal_world.url, booking_post(portal_world))
    assert response.status_code == 409
    body = response.content.decode()
    assert "Nothing was booked: please check your choice." in body
    assert "No spot is left at this time on " + portal_world.monday.strftime("%d/%m/%Y") in body
    assert len(refused) == 1  # counted once, under the lock
    assert not Booking.objects.exists()
    assert not Reservation.objects.filter(source=ReservationSource.PORTAL).exists()
    assert not Parker.objects.filter(email="jeanne@example.com").exists()
    # What they typed is kept for the next time they choose.
    again = client.get(portal_world.url, {"step": "details", **_choice(portal_world, hour=13)})
    assert 'value="jeanne@example.com"' in again.content.decode()


def test_last_spot_taken_in_the_same_instant_books_nothing(client, world, portal_world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Someone else's booking held the last spot when this one reached the lock, and was gone again
    when the answer was written: the visitor is told the last spots were just taken."""
    from parkgate.booking import services

    _fill(world, portal_world.monday, 9, 9)
    real = services.reservations_create

    def racing(**kwargs):  # type: ignore[no-untyped-def]
        _fill(world, portal_world.monday, 9, 1)  # in the booking's transaction: rolled back with it
        return real(**kwargs)

    monkeypatch.setattr(services, "reservations_create", racing)
    response = client.post(portal_world.url, booking_post(portal_world))
    assert response.status_code == 409
    assert "Nothing was booked. The last spots for this time on" in response.content.decode()
    assert not Booking.objects.exists()
    assert not Reservation.objects.filter(source=ReservationSource.PORTAL).exists()
    assert Reservation.objects.count() == 9
    assert not Parker.objects.filter(email="jeanne@example.com").exists()


def test_visitor_details_are_all_required_and_errors_sit_beside_the_field_in_french(
    client, portal_world
) -> None:  # type: ignore[no-untyped-def]
    client.get(portal_world.url + "?lang=fr")
    data = booking_post(portal_world, spots=2)
    data["v1-plate"] = "??"
    data["v1-email"] = "not-an-email"
    data["v0-first_name"] = ""
    response = client.post(portal_world.url, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_v0-first_name_error">Ce champ est obligatoire.' in body
    assert 'id="id_v1-plate_error">Indiquez la plaque' in body
    assert 'id="id_v1-email_error">' in body
    assert not Booking.objects.exists() and not Reservation.objects.exists()


def test_two_visitors_cannot_share_an_email_or_a_plate(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    data = booking_post(portal_world, spots=2) | visitor_post(
        1, "Piet", "Peeters", "1 ABC 123", "JEANNE@example.com"
    )
    response = client.post(portal_world.url, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Each visitor needs their own e-mail address." in body
    assert "Each visitor needs their own car" in body
    assert not Reservation.objects.exists()


def test_spots_above_the_portal_maximum_are_refused(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    data = booking_post(portal_world, spots=3)
    data["spots"] = "4"
    response = client.post(portal_world.url, data)
    assert response.status_code == 409
    assert not Reservation.objects.exists()


def test_a_fixed_date_invitation_ignores_another_date(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    tuesday = portal_world.monday + timedelta(days=1)
    invitation = InvitationFactory(portal=portal_world.portal, date=tuesday)
    url = reverse("booking:invitation", args=[portal_world.portal.slug, invitation.token])
    page = client.get(url)
    assert 'name="date"' not in page.content.decode()
    response = client.post(url, booking_post(portal_world, day=portal_world.monday))
    assert response.status_code == 302
    assert Reservation.objects.get().start.date() == tuesday


def test_a_date_range_invitation_refuses_a_day_outside_it(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    monday = portal_world.monday
    invitation = InvitationFactory(
        portal=portal_world.portal,
        date_from=monday + timedelta(days=1),
        date_until=monday + timedelta(days=3),
    )
    url = reverse("booking:invitation", args=[portal_world.portal.slug, invitation.token])
    response = client.post(url, booking_post(portal_world, day=monday))
    assert response.status_code == 409
    assert "Choose a day between" in response.content.decode()
    assert not Reservation.objects.exists()


def test_custom_time_within_the_timetable(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    data = booking_post(portal_world) | {"time": "custom", "start": "10:30", "end": "12:00"}
    assert client.post(portal_world.url, data).status_code == 302
    reservation = Reservation.objects.get()
    day = portal_world.monday
    assert (reservation.start, reservation.end) == (
        f.aware(day.year, day.month, day.day, 10, 30),
        f.aware(day.year, day.month, day.day, 12),
    )


def test_custom_time_outside_the_timetable_is_refused(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    data = booking_post(portal_world) | {"time": "custom", "start": "18:00", "end": "20:00"}
    response = client.post(portal_world.url, data)
    assert response.status_code == 409
    assert "not open for visitors at this time" in response.content.decode()
    assert not Reservation.objects.exists()


def test_max_bookings_of_an_invitation(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    portal_world.invitation.max_bookings = 1
    portal_world.invitation.save()
    assert client.post(portal_world.url, booking_post(portal_world)).status_code == 302
    second = client.post(portal_world.url, booking_post(portal_world, hour=13))
    assert "already been used for all the bookings it allows" in second.content.decode()
    assert Booking.objects.count() == 1


def test_paid_portal_refuses_politely_and_books_nothing(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    portal_world.portal.payment_enabled = True
    portal_world.portal.save()
    page = client.get(portal_world.url)
    assert "Online payment is not available yet" in page.content.decode()
    response = client.post(portal_world.url, booking_post(portal_world))
    assert "Online payment is not available yet" in response.content.decode()
    assert not Reservation.objects.exists() and not Booking.objects.exists()


@pytest.mark.parametrize("case", ["unknown", "revoked", "other_portal", "inactive"])
def test_bad_links_get_the_same_friendly_404(client, portal_world, case, pinned_now) -> None:  # type: ignore[no-untyped-def]
    invitation = portal_world.invitation
    slug, token = portal_world.portal.slug, invitation.token
    if case == "unknown":
        token = "x" * 32
    elif case == "revoked":
        invitation.revoked_at = pinned_now
        invitation.save()
    elif case == "other_portal":
        from tests.booking.factories import VisitorPortalFactory

        slug = VisitorPortalFactory().slug
    else:
        portal_world.portal.is_active = False
        portal_world.portal.save()
    response = client.get(reverse("booking:invitation", args=[slug, token]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "This link does not work" in body
    # The portal's public page names it anyway (issue 14): a dead link on a live portal wears its
    # brand; a switched-off portal (or another portal's address) shows nothing of this one.
    shows_portal = case in ("unknown", "revoked")
    assert (portal_world.portal.name in body) is shows_portal
    assert (portal_world.portal.organisation.name in body) is shows_portal
    post = client.post(reverse("booking:invitation", args=[slug, token]), booking_post(portal_world))
    assert post.status_code == 404 and not Reservation.objects.exists()


def test_each_opening_is_recorded(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    client.get(portal_world.url)
    portal_world.invitation.refresh_from_db()
    first = portal_world.invitation.first_opened_at
    assert portal_world.invitation.open_count == 1 and first is not None
    client.get(portal_world.url)
    client.get(portal_world.url + "?lang=nl")  # a language switch is not a new opening
    portal_world.invitation.refresh_from_db()
    assert portal_world.invitation.open_count == 2
    assert portal_world.invitation.first_opened_at == first
    assert portal_world.invitation.last_opened_at >= first


def test_language_follows_the_invitation_then_the_visitors_choice_within_the_portal(
    client, portal_world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    portal_world.invitation.language = "nl"
    portal_world.invitation.save()
    portal_world.portal.languages = ["nl", "fr"]
    portal_world.portal.save()
    assert 'lang="nl"' in client.get(portal_world.url).content.decode()[:200]
    assert 'lang="nl"' in client.get(portal_world.url + "?lang=en").content.decode()[:200]  # not offered
    assert 'lang="fr"' in client.get(portal_world.url + "?lang=fr").content.decode()[:200]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(portal_world.url, booking_post(portal_world))
    booking = Booking.objects.get()
    assert booking.language == "fr"
    assert Reservation.objects.get().language == "fr"
    assert mail.outbox[0].subject.startswith("Votre stationnement")


def test_htmx_panel_shows_the_free_spots_of_the_chosen_day(client, world, portal_world) -> None:  # type: ignore[no-untyped-def]
    tuesday = portal_world.monday + timedelta(days=1)
    _fill(world, tuesday, 13, 7)
    url = reverse("booking:availability", args=[portal_world.portal.slug, portal_world.invitation.token])
    response = client.get(url + f"?date={tuesday.isoformat()}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="availability"')
    assert "10 spots free" in body and "3 spots free" in body


def test_junk_posts_from_one_address_do_not_lock_the_link_for_other_visitors(
    client, portal_world, settings
) -> None:  # type: ignore[no-untyped-def]
    """The attack: 30 junk POSTs (the per-address budget) used to block the invitation for an hour.

    Before: the 21st POST from anyone got 429 (a global 20-per-invitation budget), so the real visitor
    was refused. Now the attacker's own address is refused and the visitor books.
    """
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # every request arrives through the TLS proxy
    junk = booking_post(portal_world) | {"v0-email": "bad"}
    attacker = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    statuses = [client.post(portal_world.url, junk, **attacker).status_code for _ in range(31)]
    assert statuses == [400] * 30 + [429]
    visitor = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    response = client.post(portal_world.url, booking_post(portal_world), **visitor)
    assert response.status_code == 302
    assert Reservation.objects.count() == 1
    created = AuditEvent.objects.get(action="booking.booking.created")
    assert created.client_ip == "198.51.100.7"  # the audit names the visitor, not the proxy


def test_a_spoofed_forwarded_for_does_not_buy_a_fresh_budget(client, portal_world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = []  # nothing in front: the header is the client's own invention
    junk = booking_post(portal_world) | {"v0-email": "bad"}
    statuses = [
        client.post(
            portal_world.url, junk, REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        ).status_code
        for i in range(31)
    ]
    assert statuses == [400] * 30 + [429]
    assert not Reservation.objects.exists()


def test_without_javascript_the_refresh_button_shows_another_days_free_spots(
    client, world, portal_world
) -> None:  # type: ignore[no-untyped-def]
    tuesday = portal_world.monday + timedelta(days=1)
    _fill(world, tuesday, 9, 4)
    response = client.get(portal_world.url + f"?step=refresh&date={tuesday.isoformat()}&spots=2")
    body = response.content.decode()
    assert "6 spots free" in body and f'value="{tuesday.isoformat()}"' in body
    assert '<option value="2" selected>' in body
    portal_world.invitation.refresh_from_db()
    assert portal_world.invitation.open_count == 0  # moving between steps is not a new opening


def test_changing_the_choice_from_the_details_step_keeps_it(client, portal_world) -> None:  # type: ignore[no-untyped-def]
    query = f"date={portal_world.monday.isoformat()}&time={portal_world.slot(13)}&spots=2"
    details = client.get(portal_world.url + "?step=details&" + query).content.decode()
    assert 'name="v1-email"' in details
    # The invited visitor is prefilled as the first visitor; the others start empty.
    assert (
        'id="id_v0-first_name" value="Jeanne"' in details and 'id="id_v0-last_name" value="Dupont"' in details
    )
    assert 'id="id_v0-email" value="jeanne@example.com"' in details and 'id="id_v1-email" value=""' in details
    back = client.get(portal_world.url + "?step=edit&" + query).content.decode()
    assert f'value="{portal_world.slot(13)}" checked' in back.replace("  ", " ")


def test_the_portal_counts_exactly_the_booking_states_that_hold_an_invitation_use() -> None:
    # The portal app sits below booking and names these two states by value: they must stay equal.
    from parkgate.portal.selectors import COUNTED_BOOKING_STATUSES

    assert set(COUNTED_BOOKING_STATUSES) == {BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT}
    assert set(COUNTED_BOOKING_STATUSES) < set(BookingStatus.values)
