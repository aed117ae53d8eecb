from __future__ import annotations

import pytest
from django.core.management import call_command

from parkgate.access.models import AccessEvent
from parkgate.parking.models import Lot


@pytest.mark.django_db
def test_the_demo_links_the_control_room_and_fills_its_log_once(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("demo")
    lot = Lot.objects.get(name="Brussels Central Garage")
    assert f"http://testserver/control-room/{lot.pk}/" in capsys.readouterr().out
    events = list(AccessEvent.objects.filter(lot=lot).values_list("method", "plate_text"))
    assert sorted(events) == sorted(
        [("anpr", "1-ABC-123"), ("remote_control", ""), ("anpr", "1-ZZZ-999"), ("anpr", "1-ABC-123")]
    )
    assert AccessEvent.objects.get(plate_text="1-ZZZ-999").reason == "unknown_parker"
    call_command("demo")
    assert AccessEvent.objects.filter(lot=lot).count() == 4
