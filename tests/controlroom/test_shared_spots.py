"""The control room sees who uses a shared spot: on the colleague's booking, whose spot it is; on the
owner's line, who booked it today. Another organisation's desk sees none of it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse

from parkgate.accounts.models import Role
from parkgate.members.services import shared_spot_book, shared_spot_cancel, spot_share
from parkgate.parking.models import Parker
from parkgate.parking.services import parker_save
from tests import factories as f

from .conftest import Desk

HTMX = {"HTTP_HX_REQUEST": "true"}


def _acme(desk: Desk, first: str, last: str) -> Parker:
    return parker_save(
        parker=Parker(
            managed_by=desk.world.tenant, organisation=desk.world.tenant, first_name=first, last_name=last
        ),
        plates=[],
        actor=None,
    )


def _search(client, desk: Desk, query: str, lot=None) -> str:  # type: ignore[no-untyped-def]
    lot = lot or desk.world.lot
    return client.get(reverse("controlroom:search", args=[lot.pk]), {"q": query}, **HTMX).content.decode()


def test_the_desk_sees_whose_spot_a_colleague_uses_and_who_uses_a_shared_spot(  # type: ignore[no-untyped-def]
    desk: Desk, client_for, pinned_now: datetime
) -> None:
    sophie, lucas = _acme(desk, "Sophie", "Martin"), _acme(desk, "Lucas", "Peeters")
    desk.world.member_policy.members.add(sophie)
    today = pinned_now.astimezone(desk.world.lot.zone).date()
    release = spot_share(parker=sophie, policy=desk.world.member_policy, day=today, now=pinned_now)
    client = client_for(desk.world.receptionist)

    # Shared, nobody booked it yet: the owner's line says so in the engine's words, nobody named.
    page = _search(client, desk, "Sophie Martin")
    assert "You shared your spot with a colleague for this day." in page
    assert "booked today by" not in page

    shared_spot_book(release=release, parker=lucas, actor=None, language="en", now=pinned_now)
    page = _search(client, desk, "Sophie Martin")
    assert "Their spot is booked today by Lucas Peeters." in page
    page = _search(client, desk, "Lucas Peeters")
    assert "On a spot shared by Sophie Martin." in page
    assert page.count("On a spot shared by") == 1

    # Tomorrow's shared spot, booked then given back before it starts: named, then not any more.
    tomorrow = release.day + timedelta(days=1)
    later = spot_share(parker=sophie, policy=desk.world.member_policy, day=tomorrow, now=pinned_now)
    shared_spot_book(release=later, parker=lucas, actor=None, language="en", now=pinned_now)
    assert _search(client, desk, "Lucas Peeters").count("On a spot shared by Sophie Martin.") == 2
    shared_spot_cancel(release=later, parker=lucas, actor=None, now=pinned_now)
    assert _search(client, desk, "Lucas Peeters").count("On a spot shared by Sophie Martin.") == 1


def test_another_organisations_desk_sees_nothing_of_it(desk: Desk, client_for, pinned_now: datetime) -> None:  # type: ignore[no-untyped-def]
    sophie, lucas = _acme(desk, "Sophie", "Martin"), _acme(desk, "Lucas", "Peeters")
    desk.world.member_policy.members.add(sophie)
    today = pinned_now.astimezone(desk.world.lot.zone).date()
    release = spot_share(parker=sophie, policy=desk.world.member_policy, day=today, now=pinned_now)
    shared_spot_book(release=release, parker=lucas, actor=None, language="en", now=pinned_now)
    outsider_reception = f.MembershipFactory(organisation=desk.world.outsider, role=Role.RECEPTIONIST).user
    client = client_for(outsider_reception)
    # Our lot is not theirs: 404.
    response = client.get(reverse("controlroom:search", args=[desk.world.lot.pk]), {"q": "Lucas"}, **HTMX)
    assert response.status_code == 404
    # At their own lot, our members are not found and nobody is named.
    for query in ("Lucas Peeters", "Sophie Martin"):
        page = _search(client, desk, query, lot=desk.world.outsider_lot)
        assert "No parker found" in page
        assert "shared by" not in page and "booked today by" not in page
