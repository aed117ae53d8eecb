"""Keypad lockout: how many codes a keypad may evaluate, counted before each evaluation.

Two limits, both over a sliding window, on the codes that were not granted ("wrong guesses"):

* a short lock after a burst: at most ``KEYPAD_BURST_FAILURES`` wrong guesses in any
  ``KEYPAD_BURST_SECONDS`` (5 in 2 minutes): a visitor who mistypes waits 2 minutes at most;
* an hourly cap: at most ``KEYPAD_MAX_WRONG_PER_HOUR`` (20) wrong guesses evaluated per keypad in
  any hour, whatever the attacker does. A granted code does not reset anything: it simply does
  not count as a wrong guess.

Counting is atomic and happens BEFORE the code is evaluated: under a row lock on the keypad
(``SELECT ... FOR UPDATE``; SQLite serialises writers anyway), the ledger of recent guesses is read
and, when there is room, a pending guess is written; concurrent codes therefore queue on the lock
and the 6th of 40 simultaneous wrong codes already sees the 5 before it. The ledger lives in the
database (``KeypadGuess``), which every process shares on every deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from parkgate.access.models import Keypad, KeypadGuess
from parkgate.parking.models import Lot

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Lockout:
    until: datetime
    reason: str  # "burst" or "hourly"

    def retry_after(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


def _wrong(keypad: Keypad, since: datetime) -> list[datetime]:
    """Instants of the recent guesses that were not granted (pending ones count), newest first."""
    return list(
        KeypadGuess.objects.filter(keypad=keypad, at__gt=since)
        .exclude(granted=True)
        .order_by("-at")
        .values_list("at", flat=True)
    )


def _lockout(wrong: list[datetime], now: datetime) -> Lockout | None:
    cap = settings.KEYPAD_MAX_WRONG_PER_HOUR
    if len(wrong) >= cap:
        return Lockout(wrong[cap - 1] + HOUR, "hourly")
    burst_window = timedelta(seconds=settings.KEYPAD_BURST_SECONDS)
    burst = [at for at in wrong if at > now - burst_window]
    if len(burst) >= settings.KEYPAD_BURST_FAILURES:
        return Lockout(burst[settings.KEYPAD_BURST_FAILURES - 1] + burst_window, "burst")
    return None


def reserve_guess(keypad: Keypad, *, now: datetime) -> KeypadGuess | Lockout:
    """Count one guess before evaluating it: a pending ledger row, or the lockout in force."""
    with transaction.atomic():
        Keypad.objects.select_for_update().filter(pk=keypad.pk).values_list("pk", flat=True).first()
        KeypadGuess.objects.filter(keypad=keypad, at__lte=now - 2 * HOUR).delete()
        lockout = _lockout(_wrong(keypad, now - HOUR), now)
        if lockout is not None:
            return lockout
        return KeypadGuess.objects.create(keypad=keypad, at=now, granted=None)


def settle_guess(guess: KeypadGuess, *, granted: bool) -> Lockout | None:
    """Record how the guess went; a wrong one may start a lockout (returned, for the audit log)."""
    KeypadGuess.objects.filter(pk=guess.pk).update(granted=granted)
    if granted:
        return None
    return _lockout(_wrong(guess.keypad, guess.at - HOUR), guess.at)


def keypad_lockout(keypad: Keypad, *, now: datetime) -> Lockout | None:
    return _lockout(_wrong(keypad, now - HOUR), now)


@dataclass(frozen=True)
class KeypadAlert:
    keypad: Keypad
    wrong_last_hour: int
    locked_until: datetime | None


def keypads_under_attack(lot: Lot, *, now: datetime) -> list[KeypadAlert]:
    """The lot's keypads with many wrong codes in the last hour (the control room's alert)."""
    keypads = (
        Keypad.objects.filter(gate__lot=lot)
        .select_related("gate")
        .annotate(
            wrong=Count(
                "guesses", filter=Q(guesses__at__gt=now - HOUR) & ~Q(guesses__granted=True), distinct=True
            )
        )
        .filter(wrong__gte=settings.KEYPAD_ALERT_WRONG_PER_HOUR)
        .order_by("gate__name", "name")
    )
    alerts = []
    for keypad in keypads:
        lockout = keypad_lockout(keypad, now=now)
        alerts.append(KeypadAlert(keypad, keypad.wrong, lockout.until if lockout else None))
    return alerts
