"""Share my spot: a member away for a day shares it, one colleague books it, taking it back never
cancels the colleague's booking; the gate and the cameras follow."""

from __future__ import annotations

from datetime import date

import time_machine
from django.urls import reverse

from parkgate.access.decisions import LotFacts, Reason, decide
from parkgate.access.models import Reservation, ReservationStatus
from parkgate.access.selectors import plate_matches
from parkgate.core.models import AuditEvent
from parkgate.parking.models import SpotRelease, SpotReleaseStatus
from tests import factories as f
from tests.members.conftest import MONDAY_10, SATURDAY_10

MONDAY = date(2026, 11, 30)


def _share(members):  # type: ignore[no-untyped-def]
    return reverse("members:share_day", args=[members.world.member_policy.pk, MONDAY.isoformat()])


@time_machine.travel(SATURDAY_10, tick=False)
def test_share_a_day_a_colleague_books_it_and_it_stays_theirs(members, client_for) -> None:  # type: ignore[no-untyped-def]
    owner = client_for(members.world.parker_user)
    page = owner.get(reverse("members:share", args=[members.world.member_policy.pk])).content.decode()
    assert page.count("Share this day") == 15  # weekdays of the coming three weeks
    owner.post(_share(members), {"action": "share"})
    release = SpotRelease.objects.get()
    assert (release.parker, release.day, release.status) == (
        members.parker,
        MONDAY,
        SpotReleaseStatus.RELEASED,
    )

    colleague = client_for(members.colleague_user)
    home = colleague.get(reverse("members:home")).content.decode()
    assert "1 spot shared by colleagues" in home
    shared_url = reverse("members:shared", args=[members.world.lot.pk])
    assert "Shared by Sophie" in colleague.get(shared_url).content.decode()
    colleague.post(reverse("members:shared_spot", args=[release.pk]), {"action": "book"})
    [booking] = Reservation.objects.filter(parker=members.colleague)
    assert (booking.policy, booking.status) == (members.world.member_policy, ReservationStatus.CONFIRMED)
    assert (booking.start, booking.end) == (MONDAY_10.replace(hour=6), MONDAY_10.replace(hour=21))
    release.refresh_from_db()
    assert release.reservation == booking

    # A third colleague comes too late: one spot, one booking.
    third_user = f.MembershipFactory(organisation=members.world.tenant, role="parker").user
    third = f.ParkerFactory(managed_by=members.world.tenant, email=third_user.email)
    members.flex.members.add(third)
    page = client_for(third_user).post(
        reverse("members:shared_spot", args=[release.pk]), {"action": "book"}, follow=True
    )
    assert "A colleague was quicker: this spot is taken." in page.content.decode()
    assert not Reservation.objects.filter(parker=third).exists()

    # The owner sees who uses it, and cannot take it back from under the colleague.
    owner = client_for(members.world.parker_user)
    page = owner.get(reverse("members:share", args=[members.world.member_policy.pk])).content.decode()
    assert f"Used by Lucas {members.colleague.last_name}" in page
    page = owner.post(_share(members), {"action": "take_back"}, follow=True).content.decode()
    assert "A colleague booked your spot for this day: it stays theirs." in page
    booking.refresh_from_db()
    release.refresh_from_db()
    assert booking.status == ReservationStatus.CONFIRMED and release.status == SpotReleaseStatus.RELEASED

    # The colleague gives it back; now the owner may take it back, and nobody else sees it.
    client_for(members.colleague_user).post(
        reverse("members:shared_spot", args=[release.pk]), {"action": "cancel"}
    )
    booking.refresh_from_db()
    assert booking.status == ReservationStatus.CANCELLED
    client_for(members.world.parker_user).post(_share(members), {"action": "take_back"})
    release.refresh_from_db()
    assert release.status == SpotReleaseStatus.TAKEN_BACK
    assert "Shared by Sophie" not in client_for(members.colleague_user).get(shared_url).content.decode()
    assert AuditEvent.objects.filter(action__startswith="members.spot.").count() == 3


def test_on_a_shared_day_the_owner_does_not_enter_and_the_colleague_does(members, client_for) -> None:  # type: ignore[no-untyped-def]
    from parkgate.members.services import shared_spot_book, spot_share

    release = spot_share(
        parker=members.parker, policy=members.world.member_policy, day=MONDAY, now=SATURDAY_10
    )
    with time_machine.travel(MONDAY_10, tick=False):
        html = client_for(members.world.parker_user).get(reverse("members:home")).content.decode()
        assert "You shared your spot with a colleague for this day." in html
        assert reverse("members:gate_open", args=[members.world.entry.pk]) not in html
        # The cameras say the same for the owner's plate.
        accesses = [m.access for m in plate_matches(members.world.lot, ["1ABC123"], at=MONDAY_10)]
        lot = LotFacts(members.world.lot.pk, "Europe/Brussels")
        assert decide(lot=lot, at=MONDAY_10, accesses=accesses).reason == Reason.SPOT_SHARED
    shared_spot_book(release=release, parker=members.colleague, actor=None, language="en", now=SATURDAY_10)
    with time_machine.travel(MONDAY_10, tick=False):
        html = client_for(members.colleague_user).get(reverse("members:home")).content.decode()
        assert "Valid reservation until 21:15." in html
        assert reverse("members:gate_open", args=[members.world.entry.pk]) in html


@time_machine.travel(SATURDAY_10, tick=False)
def test_another_organisations_member_cannot_share_see_or_book(members, client_for) -> None:  # type: ignore[no-untyped-def]
    from parkgate.members.services import spot_share

    release = spot_share(
        parker=members.parker, policy=members.world.member_policy, day=MONDAY, now=SATURDAY_10
    )
    outsider = client_for(members.outsider_user)
    assert outsider.get(reverse("members:share", args=[members.world.member_policy.pk])).status_code == 404
    assert outsider.post(_share(members), {"action": "take_back"}).status_code == 404
    assert outsider.get(reverse("members:shared", args=[members.world.lot.pk])).status_code == 404
    assert (
        outsider.post(reverse("members:shared_spot", args=[release.pk]), {"action": "book"}).status_code
        == 404
    )
    release.refresh_from_db()
    assert release.status == SpotReleaseStatus.RELEASED and release.reservation is None
    assert not Reservation.objects.exists()


@time_machine.travel(SATURDAY_10, tick=False)
def test_a_day_outside_the_coming_weeks_cannot_be_shared(members, client_for) -> None:  # type: ignore[no-untyped-def]
    url = reverse("members:share_day", args=[members.world.member_policy.pk, "2027-02-01"])
    assert client_for(members.world.parker_user).post(url, {"action": "share"}).status_code == 404
    assert not SpotRelease.objects.exists()
