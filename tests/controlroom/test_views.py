"""The control room through the test client: who may do what, and the three desk cases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parkgate.access.drivers.simulated import STATE
from parkgate.access.models import AccessEvent, AccessMethod, GateResult, Reservation, ReservationSource
from parkgate.core.models import AuditEvent
from parkgate.parking.models import Parker
from tests import factories as f

from .conftest import Desk

HTMX = {"HTTP_HX_REQUEST": "true"}
# Opening a gate happens outside any transaction: these tests cannot run inside one.
GATE = pytest.mark.django_db(transaction=True)


def _url(name: str, desk: Desk, *args: int) -> str:
    return reverse(f"controlroom:{name}", args=[desk.world.lot.pk, *args])


def _counts() -> tuple[int, int, int, int]:
    return (
        AccessEvent.objects.count(),
        Parker.objects.count(),
        Reservation.objects.count(),
        AuditEvent.objects.filter(action__startswith="controlroom.").count(),
    )


def _walk_in_data(desk: Desk, **overrides: str) -> dict[str, str]:
    local = timezone.now().astimezone(desk.world.lot.zone)
    data = {
        "policy": str(desk.world.visitor_policy.pk),
        "day": local.date().isoformat(),
        "start": local.strftime("%H:%M"),
        "end": "00:00",
        "plate": "9-new-999",
        "first_name": "Zoë",
        "last_name": "Nieuwkomer",
        "email": "",
        "gate": str(desk.world.entry.pk),
        "action": "confirm_open",
    }
    data.update(overrides)
    return data


# --- Authorisation matrix ---------------------------------------------------------------------

GET_VIEWS = ["lot", "search", "log", "walk_in"]


@pytest.mark.parametrize("view", GET_VIEWS)
def test_get_views_follow_the_authorisation_matrix(view: str, desk: Desk, client, client_for) -> None:  # type: ignore[no-untyped-def]
    url = _url(view, desk) + "?q=chloe"
    w = desk.world
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert client_for(w.outsider_owner).get(url).status_code == 404
    assert client_for(w.outsider_admin).get(url).status_code == 403
    assert client_for(w.admin).get(url).status_code == 403
    assert client_for(w.parker_user).get(url).status_code == 403
    assert client_for(w.owner).get(url, **HTMX).status_code == 200
    assert client_for(w.receptionist).get(url, **HTMX).status_code == 200


def test_log_event_follows_the_authorisation_matrix(desk: Desk, client, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    event = f_event(desk)
    url = _url("log_event", desk, event.pk)
    assert client.get(url).status_code == 302
    assert client_for(w.outsider_owner).get(url).status_code == 404
    assert client_for(w.admin).get(url).status_code == 403
    assert client_for(w.parker_user).get(url).status_code == 403
    assert client_for(w.receptionist).get(url).status_code == 200
    # An event of another lot is not found from this lot's room.
    other = f_event(desk, lot=w.outsider_lot)
    assert client_for(w.receptionist).get(_url("log_event", desk, other.pk)).status_code == 404


def test_index_lists_only_the_lots_the_organisation_owns(desk: Desk, client, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    url = reverse("controlroom:index")
    assert client.get(url).status_code == 302
    assert client_for(w.admin).get(url).status_code == 403
    assert client_for(w.parker_user).get(url).status_code == 403
    page = client_for(w.receptionist).get(url).content.decode()
    assert _url("lot", desk) in page
    assert reverse("controlroom:lot", args=[w.outsider_lot.pk]) not in page
    outsider_page = client_for(w.outsider_owner).get(url).content.decode()
    assert _url("lot", desk) not in outsider_page


def test_the_menu_shows_the_control_room_to_desk_roles_only(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    index = reverse("controlroom:index")
    office = reverse("backoffice:home")
    assert index in client_for(desk.world.receptionist).get(office).content.decode()
    assert index in client_for(desk.world.owner).get(office).content.decode()
    assert index not in client_for(desk.world.admin).get(office).content.decode()


@pytest.mark.parametrize("user_attr", ["outsider_owner", "outsider_admin", "admin", "parker_user"])
def test_post_views_refuse_outsiders_and_wrong_roles_and_change_nothing(  # type: ignore[no-untyped-def]
    user_attr: str, desk: Desk, client_for
) -> None:
    w = desk.world
    client = client_for(getattr(w, user_attr))
    expected = 404 if user_attr == "outsider_owner" else 403
    before = _counts()
    posts = [
        ("open_gate", {"parker": desk.valid.pk, "access": f"m{w.member_policy.pk}", "gate": w.entry.pk}),
        ("force_open", {"parker": desk.ended.pk, "gate": w.entry.pk, "reason": "Delivery"}),
        ("walk_in", _walk_in_data(desk)),
    ]
    for view, data in posts:
        assert client.post(_url(view, desk), data, **HTMX).status_code == expected, view
    assert _counts() == before
    assert STATE.pulses == []


def test_a_receptionist_cannot_force_a_gate_open(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    before = _counts()
    response = client_for(w.receptionist).post(
        _url("force_open", desk),
        {"parker": desk.ended.pk, "gate": w.entry.pk, "reason": "He insists"},
        **HTMX,
    )
    assert response.status_code == 403
    assert _counts() == before
    assert STATE.pulses == []
    # And the page offers them no such button.
    page = client_for(w.receptionist).get(_url("search", desk) + "?q=vieux", **HTMX).content.decode()
    assert "Force the gate open" not in page
    page = client_for(w.owner).get(_url("search", desk) + "?q=vieux", **HTMX).content.decode()
    assert "Force the gate open" in page


# --- Search -----------------------------------------------------------------------------------


def _found(desk: Desk, client_for, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = client_for(desk.world.receptionist).get(_url("search", desk), {"q": query}, **HTMX)
    assert response.status_code == 200
    return [r.parker.pk for r in response.context["results"]]


@pytest.mark.parametrize("query", ["chloe", "CHLOÉ", "lefevre", "LefÈv", "chloé lefèvre", "lefevre chloe"])
def test_search_ignores_accents_and_case_and_word_order(query: str, desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    assert _found(desk, client_for, query) == [desk.valid.pk]


@pytest.mark.parametrize("query", ["1-abc", "abc-12", "1 ABC 123", "1abc123", "ABC.123"])
def test_search_matches_partial_plates_on_their_canonical_key(query: str, desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    assert _found(desk, client_for, query) == [desk.valid.pk]


def test_search_finds_parkers_by_organisation(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    assert sorted(_found(desk, client_for, "acme cons")) == sorted([desk.valid.pk, desk.ended.pk])


def test_search_never_shows_parkers_of_organisations_outside_the_lot(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    assert _found(desk, client_for, "dehors") == []
    assert _found(desk, client_for, "abc-999") == []


def test_search_needs_three_characters(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(desk.world.receptionist).get(_url("search", desk), {"q": "ch"}, **HTMX)
    assert response.context["results"] == []
    assert "Type at least 3 letters or digits." in response.content.decode()


def test_each_result_shows_its_accesses_at_this_lot_in_words(
    desk: Desk, client_for, pinned_now: datetime
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(desk.world.receptionist)
    valid = client.get(_url("search", desk), {"q": "lefevre"}, **HTMX).content.decode()
    assert "Acme staff" in valid
    assert "Valid access until" in valid
    assert "Open Entry" in valid and "Open Exit" in valid
    ended = client.get(_url("search", desk), {"q": "vieux"}, **HTMX)
    day = (pinned_now.astimezone(desk.world.lot.zone).date() - timedelta(days=1)).strftime("%-d %B %Y")
    assert f"Validity ended on {day}." in ended.content.decode()
    assert "Open Entry" not in ended.content.decode()
    # A parker of the lot's organisations without any access here says so.
    nothing = f.ParkerFactory(managed_by=desk.world.tenant, first_name="Nina", last_name="Nulle")
    page = client.get(_url("search", desk), {"q": "nulle"}, **HTMX).content.decode()
    assert nothing.last_name in page
    assert "No access at this car park." in page


def test_the_page_works_without_javascript(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(desk.world.receptionist)
    response = client.get(_url("search", desk), {"q": "lefevre"})
    assert response.status_code == 302
    assert response["Location"] == _url("lot", desk) + "?q=lefevre"
    page = client.get(response["Location"])
    assert [r.parker.pk for r in page.context["results"]] == [desk.valid.pk]
    assert "autofocus" in page.content.decode()


# --- Case 1: a valid access -------------------------------------------------------------------


@GATE
@pytest.mark.parametrize(
    ("outcome", "result", "words", "audit"),
    [
        ("opened", GateResult.OPENED, "Entry opened.", "controlroom.gate.opened"),
        ("failed", GateResult.FAILED, "Entry could not be opened.", "controlroom.gate.failed"),
        ("timed_out", GateResult.TIMED_OUT, "Entry did not answer in time", "controlroom.gate.failed"),
    ],
)
def test_case_1_open_the_gate_for_a_valid_access(  # type: ignore[no-untyped-def]
    outcome: str, result: str, words: str, audit: str, desk: Desk, client_for
) -> None:
    w = desk.world
    w.entry.driver_settings = {"outcome": outcome}
    w.entry.save(update_fields=["driver_settings"])
    response = client_for(w.receptionist).post(
        _url("open_gate", desk),
        {"parker": desk.valid.pk, "access": f"m{w.member_policy.pk}", "gate": w.entry.pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert words in response.content.decode()
    event = AccessEvent.objects.get()
    assert (event.gate, event.parker, event.method, event.granted, event.result, event.actor) == (
        w.entry,
        desk.valid,
        AccessMethod.CONTROL_ROOM,
        True,
        result,
        w.receptionist,
    )
    assert event.policy == w.member_policy
    assert event.forced is False
    assert [p.gate_id for p in STATE.pulses] == ([w.entry.pk] if outcome == "opened" else [])
    assert AuditEvent.objects.filter(action=audit, actor=w.receptionist, object_id=str(event.pk)).count() == 1


@GATE
def test_case_1_an_access_that_is_no_longer_valid_opens_nothing(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    response = client_for(w.receptionist).post(
        _url("open_gate", desk),
        {"parker": desk.ended.pk, "access": f"m{desk.ended_policy.pk}", "gate": w.entry.pk},
        **HTMX,
    )
    assert "Not opened: Validity ended on" in response.content.decode()
    event = AccessEvent.objects.get()
    assert (event.granted, event.result) == (False, GateResult.NOT_ATTEMPTED)
    assert STATE.pulses == []
    assert AuditEvent.objects.filter(action="controlroom.gate.refused").count() == 1


def test_case_1_an_access_of_someone_else_is_refused(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    before = _counts()
    response = client_for(w.receptionist).post(
        _url("open_gate", desk),
        {"parker": desk.ended.pk, "access": f"m{w.member_policy.pk}", "gate": w.entry.pk},
        **HTMX,
    )
    assert "This access no longer exists. Search again." in response.content.decode()
    assert _counts() == before
    # A parker outside the lot's organisations is not found at all.
    response = client_for(w.receptionist).post(
        _url("open_gate", desk),
        {"parker": desk.stranger.pk, "access": f"m{w.member_policy.pk}", "gate": w.entry.pk},
        **HTMX,
    )
    assert response.status_code == 404
    # Nor is a gate of another lot.
    other_gate = f.GateFactory(lot=w.outsider_lot, name="Elsewhere")
    response = client_for(w.receptionist).post(
        _url("open_gate", desk),
        {"parker": desk.valid.pk, "access": f"m{w.member_policy.pk}", "gate": other_gate.pk},
        **HTMX,
    )
    assert "Choose a gate to open." in response.content.decode()
    assert _counts() == before
    assert STATE.pulses == []


@GATE
def test_case_1_without_javascript_redirects_with_the_result(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    response = client_for(w.receptionist).post(
        _url("open_gate", desk),
        {"parker": desk.valid.pk, "access": f"m{w.member_policy.pk}", "gate": w.exit.pk, "q": "chloe"},
        follow=True,
    )
    assert response.redirect_chain == [(_url("lot", desk) + "?q=chloe", 302)]
    assert [str(m) for m in response.context["messages"]] == ["Exit opened."]


# --- Case 2: no valid access, forced open by a parking owner --------------------------------------


@GATE
def test_case_2_a_parking_owner_forces_the_gate_with_a_reason(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    response = client_for(w.owner).post(
        _url("force_open", desk),
        {"parker": desk.ended.pk, "gate": w.entry.pk, "reason": "  Contract renewed,   badge pending "},
        **HTMX,
    )
    assert "Entry opened." in response.content.decode()
    assert "(forced open, logged)" in response.content.decode()
    event = AccessEvent.objects.get()
    assert (event.granted, event.forced, event.result, event.actor, event.reason) == (
        False,
        True,
        GateResult.OPENED,
        w.owner,
        "validity_ended",
    )
    assert event.force_reason == "Contract renewed, badge pending"
    assert [p.gate_id for p in STATE.pulses] == [w.entry.pk]
    audit = AuditEvent.objects.get(action="controlroom.gate.forced")
    assert (audit.actor, audit.data["reason"], audit.data["result"]) == (
        w.owner,
        "Contract renewed, badge pending",
        "opened",
    )
    # The live log says who forced it and why.
    row = client_for(w.owner).get(_url("log_event", desk, event.pk)).content.decode()
    assert f"Forced by {w.owner}" in row
    assert "Contract renewed, badge pending" in row


@pytest.mark.parametrize("reason", ["", "   "])
def test_case_2_forcing_needs_a_written_reason(reason: str, desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    before = _counts()
    response = client_for(w.owner).post(
        _url("force_open", desk), {"parker": desk.ended.pk, "gate": w.entry.pk, "reason": reason}, **HTMX
    )
    assert "Write why you force the gate open." in response.content.decode()
    assert _counts() == before
    assert STATE.pulses == []


# --- Case 3: an unknown visitor ------------------------------------------------------------------


def test_case_3_a_search_without_result_offers_to_create_a_profile(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(desk.world.receptionist)
    page = client.get(_url("search", desk), {"q": "Nieuwkomer"}, **HTMX).content.decode()
    assert "No parker found for “Nieuwkomer”." in page
    assert "Create profile +" in page
    form = client.get(_url("walk_in", desk), {"last_name": "Nieuwkomer"}, **HTMX)
    assert form.context["form"]["last_name"].value() == "Nieuwkomer"
    # Only organisations accepting visitors, with a visitor policy at this lot, are offered.
    assert [label for _pk, label in form.context["form"].fields["policy"].choices] == ["Acme Consulting"]


def test_case_3_offers_only_organisations_that_accept_visitors(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    closed = f.OrganisationFactory(name="Closed Doors")
    f.AllocationFactory(lot=w.lot, organisation=closed, spots=5, accepts_visitors=False)
    closed_policy = f.AccessPolicyFactory(organisation=closed, lot=w.lot, name="Closed visitors")
    second = f.AccessPolicyFactory(organisation=w.tenant, lot=w.lot, name="Acme interviews")
    form = client_for(w.receptionist).get(_url("walk_in", desk), **HTMX).context["form"]
    assert [label for _pk, label in form.fields["policy"].choices] == [
        "Acme Consulting · Acme interviews",
        "Acme Consulting · Acme visitors",
    ]
    before = _counts()
    response = client_for(w.receptionist).post(
        _url("walk_in", desk), _walk_in_data(desk, policy=str(closed_policy.pk)), **HTMX
    )
    assert response.context["form"].errors["policy"]
    assert _counts() == before
    assert second.pk in dict(form.fields["policy"].choices)


@GATE
def test_case_3_confirm_and_open_registers_the_visitor_and_opens_the_gate(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    response = client_for(w.receptionist).post(_url("walk_in", desk), _walk_in_data(desk), **HTMX)
    page = response.content.decode()
    assert "Zoë Nieuwkomer is registered" in page
    assert "Entry opened." in page
    parker = Parker.objects.get(last_name="Nieuwkomer")
    assert (parker.managed_by, parker.organisation, parker.search_text) == (w.tenant, None, "zoe nieuwkomer")
    assert [p.key for p in parker.plates.all()] == ["9NEW999"]
    reservation = Reservation.objects.get(parker=parker)
    assert (reservation.policy, reservation.source, reservation.created_by, reservation.plate_text) == (
        w.visitor_policy,
        ReservationSource.CONTROL_ROOM,
        w.receptionist,
        "9-NEW-999",
    )
    local_end = reservation.end.astimezone(w.lot.zone)
    assert (local_end.hour, local_end.minute) == (0, 0)
    event = AccessEvent.objects.get()
    assert (event.parker, event.reservation, event.granted, event.result) == (
        parker,
        reservation,
        True,
        GateResult.OPENED,
    )
    audit = AuditEvent.objects.get(action="controlroom.visitor.registered")
    assert (audit.actor, audit.data["visited_organisation"], audit.object_id) == (
        w.receptionist,
        w.tenant.pk,
        str(reservation.pk),
    )
    assert [p.gate_id for p in STATE.pulses] == [w.entry.pk]


def test_case_3_confirm_only_registers_without_opening(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    response = client_for(desk.world.receptionist).post(
        _url("walk_in", desk), _walk_in_data(desk, action="confirm", email="zoe@example.com"), **HTMX
    )
    assert "Zoë Nieuwkomer is registered" in response.content.decode()
    assert Parker.objects.get(last_name="Nieuwkomer").email == "zoe@example.com"
    assert Reservation.objects.filter(parker__last_name="Nieuwkomer").count() == 1
    assert AccessEvent.objects.count() == 0
    assert STATE.pulses == []


def test_case_3_when_full_nothing_is_created(desk: Desk, client_for, pinned_now: datetime) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    w.visitor_policy.spot_cap = 1
    w.visitor_policy.save(update_fields=["spot_cap"])
    now = pinned_now
    f.ReservationFactory(policy=w.visitor_policy, start=now - timedelta(hours=1), end=now + timedelta(days=2))
    before = _counts()
    response = client_for(w.receptionist).post(_url("walk_in", desk), _walk_in_data(desk), **HTMX)
    assert response.status_code == 200
    assert "No spot is left for this time." in response.content.decode()
    assert _counts() == before
    assert not Parker.objects.filter(last_name="Nieuwkomer").exists()
    assert STATE.pulses == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "This field is required."),
        (
            {"plate": " - "},
            "plate",
            "Enter the licence plate as it appears on the car: 2 to 12 letters and digits.",
        ),
        ({"start": "10:00", "end": "09:00"}, "end", "The departure must be after the arrival."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"gate": ""}, "gate", "Choose the gate to open."),
    ],
)
def test_case_3_bad_input_is_explained_beside_the_field(  # type: ignore[no-untyped-def]
    overrides: dict[str, str], field: str, message: str, desk: Desk, client_for
) -> None:
    before = _counts()
    response = client_for(desk.world.receptionist).post(
        _url("walk_in", desk), _walk_in_data(desk, **overrides), **HTMX
    )
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert _counts() == before


# --- Live log ---------------------------------------------------------------------------------


def f_event(desk: Desk, **fields: object) -> AccessEvent:
    values: dict[str, object] = {
        "lot": desk.world.lot,
        "gate": desk.world.entry,
        "method": AccessMethod.ANPR,
        "granted": False,
        "reason": "unknown_parker",
        "message": "Unknown parker: no matching profile, plate or code.",
        "result": GateResult.NOT_ATTEMPTED,
        "requested_at": timezone.now(),
        "plate_text": "1-ZZZ-999",
    }
    values.update(fields)
    return AccessEvent.objects.create(**values)


def test_the_log_polls_with_a_cursor(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(desk.world.receptionist)
    first = f_event(desk)
    page = client.get(_url("lot", desk))
    assert page.context["cursor"] == first.pk
    assert client.get(_url("log", desk), {"after": first.pk}, **HTMX).status_code == 204
    second = f_event(desk, method=AccessMethod.KEYPAD, reason="granted_reservation", granted=True)
    response = client.get(_url("log", desk), {"after": first.pk}, **HTMX)
    assert [e.pk for e in response.context["events"]] == [second.pk]
    body = response.content.decode()
    assert f'data-cursor="{second.pk}"' in body and 'hx-swap-oob="true"' in body
    # Another lot's events never appear.
    f_event(desk, lot=desk.world.outsider_lot, gate=None)
    assert client.get(_url("log", desk), {"after": second.pk}, **HTMX).status_code == 204


def test_the_log_filters_by_gate_method_and_denied(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    w = desk.world
    entry_denied = f_event(desk)
    exit_granted = f_event(
        desk, gate=w.exit, method=AccessMethod.KEYPAD, granted=True, reason="granted_member", result="opened"
    )
    client = client_for(w.receptionist)

    def shown(**params: object) -> list[int]:
        return [e.pk for e in client.get(_url("log", desk), params, **HTMX).context["events"]]

    assert shown() == [exit_granted.pk, entry_denied.pk]
    assert shown(gate=w.exit.pk) == [exit_granted.pk]
    assert shown(method="anpr") == [entry_denied.pk]
    assert shown(denied="1") == [entry_denied.pk]
    assert shown(gate=w.outsider_lot.pk + 1000, method="nonsense") == [exit_granted.pk, entry_denied.pk]


def test_the_log_says_the_decision_in_the_readers_language(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    event = f_event(desk)
    client = client_for(desk.world.receptionist)
    client.post(reverse("set_language"), {"language": "fr"})
    row = client.get(_url("log_event", desk, event.pk)).content.decode()
    assert "Refusé" in row
    assert "Inconnu" in row


def test_case_3_without_javascript_is_a_page_and_a_redirect(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(desk.world.receptionist)
    page = client.get(_url("walk_in", desk), {"last_name": "Nieuwkomer"})
    assert page.status_code == 200
    assert page.templates[0].name == "controlroom/walk_in.html"
    response = client.post(_url("walk_in", desk), _walk_in_data(desk, action="confirm"), follow=True)
    assert response.redirect_chain == [(_url("lot", desk) + "?q=Nieuwkomer", 302)]
    assert [str(m) for m in response.context["messages"]] == ["Zoë Nieuwkomer is registered."]
    assert [r.parker.last_name for r in response.context["results"]] == ["Nieuwkomer"]
