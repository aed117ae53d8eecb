"""Calendar (.ics) attachments for confirmation and cancellation e-mails."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from parkgate.access.models import Reservation


def reservation_uid(reservation: Reservation) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "parkgate"
    return f"reservation-{reservation.pk}@{host}"


def reservations_ics(
    reservations: Sequence[Reservation],
    *,
    summary: str,
    description: str = "",
    cancelled: bool = False,
    now: datetime | None = None,
) -> bytes:
    """One VEVENT per reservation, times with the lot's TZID, and the VTIMEZONE they need."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Parkgate//Visitor booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    for reservation in reservations:
        zone = reservation.lot.zone
        event = Event()
        event.add("uid", reservation_uid(reservation))
        event.add("dtstamp", now)
        event.add("dtstart", reservation.start.astimezone(zone))
        event.add("dtend", reservation.end.astimezone(zone))
        event.add("summary", summary)
        event.add("location", f"{reservation.lot.name}, {' '.join(reservation.lot.address.split())}")
        if description:
            event.add("description", description)
        event.add("sequence", 1 if cancelled else 0)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        calendar.add_component(event)
    # The VTIMEZONE covers the years of these reservations, not icalendar's default of 1970-2038:
    # 5 transitions instead of 123 for Brussels (computing and writing them out was a quarter of
    # the e-mail worker's time; a quarter of the attachment's size; docs/benchmarks.md).
    local = [r.start.astimezone(r.lot.zone) for r in reservations] + [
        r.end.astimezone(r.lot.zone) for r in reservations
    ]
    first, last = date(min(local).year, 1, 1), date(max(local).year + 2, 1, 1)
    for index, tzid in enumerate(sorted(calendar.get_missing_tzids())):
        calendar.subcomponents.insert(index, _vtimezone(tzid, first, last))
    return calendar.to_ical()


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """The VTIMEZONE of ``tzid`` over those years, computed once per process (the e-mail worker
    writes one per confirmation: computing it was a third of the .ics). Only ever serialised,
    never changed, so every calendar may hold the same one."""
    return Timezone.from_tzid(tzid, first_date=first, last_date=last)
