"""Issue 14 item 4: a walk-in outside the visitor timetable, on the desk's written reason."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from parkgate.access.devices import device_save
from parkgate.access.drivers.simulated import STATE
from parkgate.access.models import AccessEvent, GateResult, Keypad, Reservation
from parkgate.core.models import AuditEvent, OutboundEmail
from parkgate.parking.models import Parker, TimetableWindow

from .conftest import Desk

HTMX = {"HTTP_HX_REQUEST": "true"}
# Saturday 28 November 2026, 10:00 in Brussels: the visitor timetable is weekdays 08:00-18:00.
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))


def _weekdays_only(desk: Desk) -> None:
    policy = desk.world.visitor_policy
    policy.windows.all().delete()
    TimetableWindow.objects.bulk_create(
        TimetableWindow(policy=policy, weekday=d, start_minute=8 * 60, end_minute=18 * 60) for d in range(5)
    )


def _data(desk: Desk, **overrides: str) -> dict[str, str]:
    data = {
        "policy": str(desk.world.visitor_policy.pk),
        "day": "2026-11-28",
        "start": "10:00",
        "end": "12:00",
        "plate": "9-new-999",
        "first_name": "Zoë",
        "last_name": "Nieuwkomer",
        "email": "zoe@example.com",
        "gate": str(desk.world.entry.pk),
        "action": "confirm_open",
    }
    return data | overrides


def _url(desk: Desk, name: str = "walk_in") -> str:
    return reverse(f"controlroom:{name}", args=[desk.world.lot.pk])


@time_machine.travel(SATURDAY, tick=False)
def test_outside_the_timetable_without_a_reason_nothing_is_created(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    _weekdays_only(desk)
    parkers = Parker.objects.count()
    response = client_for(desk.world.receptionist).post(_url(desk), _data(desk), **HTMX)
    page = response.content.decode()
    assert "outside the opening hours" in page
    assert response.context["form"].errors["outside_reason"] == ["To let this visitor in anyway, write why."]
    assert (Parker.objects.count(), Reservation.objects.count(), AccessEvent.objects.count()) == (
        parkers,
        0,
        0,
    )
    assert OutboundEmail.objects.count() == 0
    assert STATE.pulses == []


@pytest.mark.django_db(transaction=True)
@time_machine.travel(SATURDAY, tick=False)
def test_a_receptionist_lets_a_walk_in_in_on_saturday_with_a_reason(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    _weekdays_only(desk)
    w = desk.world
    device_save(device=Keypad(gate=w.entry, name="Entry keypad"), actor=None)  # a way in to promise
    client = client_for(w.receptionist)
    reason = "Delivery for the Monday fair, approved by Ann"
    response = client.post(_url(desk), _data(desk, outside_reason=f"  {reason} "), **HTMX)
    page = response.content.decode()
    assert "Zoë Nieuwkomer is registered" in page and "Entry opened." in page
    reservation = Reservation.objects.get(parker__last_name="Nieuwkomer")
    zone = w.lot.zone
    assert (reservation.start.astimezone(zone).hour, reservation.end.astimezone(zone).hour) == (10, 12)
    audit = AuditEvent.objects.get(action="controlroom.visitor.registered_outside_timetable")
    assert (audit.actor, audit.data["reason"], audit.object_id) == (
        w.receptionist,
        reason,
        str(reservation.pk),
    )
    assert not AuditEvent.objects.filter(action="controlroom.visitor.registered").exists()
    event = AccessEvent.objects.get()
    assert (event.forced, event.force_reason, event.result, event.actor) == (
        True,
        reason,
        GateResult.OPENED,
        w.receptionist,
    )
    assert [p.gate_id for p in STATE.pulses] == [w.entry.pk]
    # The live log shows the opening with who and why.
    log = client.get(reverse("controlroom:log", args=[w.lot.pk]), **HTMX).content.decode()
    assert "Forced by" in log and reason in log
    # The visitor's e-mail: their ways in (keypad code, remote control), no cancel link of a portal.
    (email,) = OutboundEmail.objects.filter(kind="controlroom.walk_in")
    assert email.to == ["zoe@example.com"]
    assert reservation.keypad_code in email.body_text
    assert reverse("access:remote_control", args=[reservation.remote_control_token]) in email.body_text
    assert "Cancel this reservation" not in email.body_text


@time_machine.travel(SATURDAY, tick=False)
def test_within_the_timetable_a_reason_changes_nothing(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    """The desk fixture's timetable is open all day: the walk-in is ordinary, not audited as outside."""
    response = client_for(desk.world.receptionist).post(
        _url(desk), _data(desk, action="confirm", outside_reason="just because"), **HTMX
    )
    assert "Zoë Nieuwkomer is registered" in response.content.decode()
    assert AuditEvent.objects.filter(action="controlroom.visitor.registered").count() == 1
    assert not AuditEvent.objects.filter(action="controlroom.visitor.registered_outside_timetable").exists()
    assert OutboundEmail.objects.filter(kind="controlroom.walk_in").count() == 1


@time_machine.travel(SATURDAY, tick=False)
def test_another_organisations_desk_cannot_register_here(desk: Desk, client_for) -> None:  # type: ignore[no-untyped-def]
    _weekdays_only(desk)
    response = client_for(desk.world.outsider_owner).post(
        _url(desk), _data(desk, outside_reason="let me in"), **HTMX
    )
    assert response.status_code in (403, 404)
    assert Reservation.objects.count() == 0 and STATE.pulses == []


@pytest.mark.parametrize(
    ("language", "name"), [("en", "Entry"), ("fr", "Entrée principale"), ("nl", "Inrijslagboom")]
)
def test_the_gates_to_open_are_named_in_the_desks_language(  # type: ignore[no-untyped-def]
    desk: Desk, client_for, language: str, name: str
) -> None:
    gate = desk.world.entry
    gate.name_fr, gate.name_nl = "Entrée principale", "Inrijslagboom"
    gate.save(update_fields=["name_fr", "name_nl"])
    client = client_for(desk.world.receptionist)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(_url(desk)).content.decode()
    assert f"{name}</label>" in page
    others = {"Entry", "Entrée principale", "Inrijslagboom"} - {name}
    assert not any(f"{other}</label>" in page for other in others)
