"""Issue 11 (medium): keypad lockout an attacker cannot bypass and a visitor is not hurt by.

Attacks measured: "4 wrong guesses, my own code, repeat" (a granted code used to reset the
counter), and 40 concurrent wrong codes (they used to be evaluated before the lock was noticed).
Goal: at most KEYPAD_MAX_WRONG_PER_HOUR (20) evaluated wrong guesses per keypad per hour, whatever
the attacker does; a visitor waits at most KEYPAD_BURST_SECONDS (2 minutes) after a burst.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connections
from django.urls import reverse

from parkgate.access.models import AccessEvent, AccessMethod, Keypad
from parkgate.access.ways import keypad_code_enter
from tests import factories as f
from tests.access.gate_support import fast_passwords

FIXTURES = (fast_passwords,)
KEY = "keypad-key-0123456789-abcdefghijklmnop"
BRUSSELS = ZoneInfo("Europe/Brussels")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=BRUSSELS)  # inside the visitor policy's window
OWN_CODE = "482913"


@pytest.fixture
def keypad(world) -> Keypad:
    return Keypad.objects.create(gate=world.entry, name="Entry keypad", public_id="kp-entry", secret_key=KEY)


@pytest.fixture
def own_reservation(world):
    """The attacker's (or the visitor's) own valid booking, all day."""
    return f.ReservationFactory(
        parker=f.ParkerFactory(managed_by=world.tenant),
        policy=world.visitor_policy,
        start=MONDAY_9 - timedelta(hours=1),
        end=MONDAY_9 + timedelta(hours=8),
        keypad_code=OWN_CODE,
    )


@pytest.fixture(autouse=True)
def _clean(world, settings):
    settings.KEYPAD_REPEAT_WINDOW_SECONDS = 0  # the attacker varies codes anyway
    cache.clear()


def _wrong_evaluated() -> int:
    return AccessEvent.objects.filter(method=AccessMethod.KEYPAD, granted=False).count()


def test_a_granted_code_does_not_reset_the_count(world, keypad, own_reservation) -> None:
    """The attack: 4 wrong guesses, the attacker's own code, repeat, one cycle every 30 s for an hour."""
    guess = 100000
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        for _cycle in range(120):
            for _ in range(4):
                guess += 1
                keypad_code_enter(keypad=keypad, code=str(guess))
            keypad_code_enter(keypad=keypad, code=OWN_CODE)
            clock.shift(timedelta(seconds=30))
    assert _wrong_evaluated() == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_codes_are_counted_before_evaluation(world, keypad) -> None:
    start = threading.Barrier(40)
    statuses: list[str] = []

    def attempt(number: int) -> None:
        try:
            start.wait(5)
            outcome = keypad_code_enter(keypad=keypad, code=f"{900000 + number}", now=MONDAY_9)
            statuses.append(outcome.status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 40
    assert _wrong_evaluated() == 5  # KEYPAD_BURST_FAILURES
    assert sorted(set(statuses)) == ["decided", "locked_out"]
    assert statuses.count("decided") == 5


def test_a_visitor_waits_at_most_two_minutes_after_a_burst(world, keypad, own_reservation, client) -> None:
    url = reverse("access:keypad_code", args=[keypad.public_id])

    def enter(code: str):
        return client.post(url, {"code": code}, content_type="application/json", HTTP_X_PARKGATE_KEY=KEY)

    with time_machine.travel(MONDAY_9, tick=False) as clock:
        for code in ("000001", "000002", "000003", "000004", "000005"):
            assert enter(code).json()["granted"] is False
        locked = enter(OWN_CODE)
        assert locked.status_code == 429
        assert locked.json()["status"] == "locked_out"
        assert locked.json()["retry_after"] == 120
        assert locked["Retry-After"] == "120"
        clock.shift(timedelta(seconds=119))
        assert enter(OWN_CODE).status_code == 429
        clock.shift(timedelta(seconds=1))
        opened = enter(OWN_CODE)
        assert (opened.status_code, opened.json()["granted"]) == (200, True)


def test_at_most_twenty_wrong_guesses_an_hour_then_the_hour_ends(world, keypad, own_reservation) -> None:
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        for burst in range(5):
            for n in range(5):
                keypad_code_enter(keypad=keypad, code=f"{700000 + burst * 10 + n}")
            clock.shift(timedelta(seconds=121))
        assert _wrong_evaluated() == 20
        refused = keypad_code_enter(keypad=keypad, code="123456")
        assert refused.status == "locked_out"
        # The oldest of the 20 leaves the hour 3600 s after it was typed, 5 x 121 s ago.
        assert refused.extra["retry_after"] == 3600 - 5 * 121
        clock.shift(timedelta(seconds=3600 - 5 * 121 - 1))
        assert keypad_code_enter(keypad=keypad, code=OWN_CODE).status == "locked_out"
        clock.shift(timedelta(seconds=1))
        assert keypad_code_enter(keypad=keypad, code=OWN_CODE).decision.granted is True
    assert _wrong_evaluated() == 20


def test_another_keypad_is_not_locked(world, keypad, own_reservation) -> None:
    other = Keypad.objects.create(gate=world.exit, name="Exit keypad", public_id="kp-exit", secret_key="k")
    with time_machine.travel(MONDAY_9, tick=False):
        for n in range(6):
            keypad_code_enter(keypad=keypad, code=f"{600000 + n}")
        assert keypad_code_enter(keypad=keypad, code=OWN_CODE).status == "locked_out"
        assert keypad_code_enter(keypad=other, code="600100").status == "decided"


def test_the_control_room_shows_a_keypad_under_attack(world, keypad, client_for) -> None:
    lot_url = reverse("controlroom:lot", args=[world.lot.pk])
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        desk = client_for(world.receptionist)
        assert "under attack" not in desk.get(lot_url).content.decode()
        for burst in range(2):
            for n in range(5):
                keypad_code_enter(keypad=keypad, code=f"{500000 + burst * 10 + n}")
            clock.shift(timedelta(seconds=121))
        page = desk.get(lot_url).content.decode()
        assert "Keypad Entry keypad (Entry) may be under attack: 10 wrong codes in the last hour." in page
        # The live log's poll brings the alert too.
        cursor = AccessEvent.objects.order_by("pk").first().pk
        poll = desk.get(reverse("controlroom:log", args=[world.lot.pk]), {"after": cursor}).content.decode()
        assert "may be under attack" in poll
        # Another organisation's control room does not see it (and cannot open this lot's page).
        outsider = client_for(world.outsider_owner)
        assert outsider.get(lot_url).status_code == 404
        outsider_lot = reverse("controlroom:lot", args=[world.outsider_lot.pk])
        assert "under attack" not in outsider.get(outsider_lot).content.decode()
        # An hour later the alert is gone.
        clock.shift(timedelta(hours=1))
        assert "under attack" not in client_for(world.receptionist).get(lot_url).content.decode()
